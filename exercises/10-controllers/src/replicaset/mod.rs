// Generated from solutions/10-controllers/src/replicaset/mod.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
//! The ReplicaSet controller: keeps `spec.replicas` pods of a template
//! running. Kubernetes: `pkg/controller/replicaset/replica_set.go`.
//!
//! One reconcile of a ReplicaSet, from its informer caches:
//! 1. claim the active pods of its namespace ([`claim`]): count those it
//!    controls and its selector matches, adopt matching orphans, release
//!    its pods that no longer match;
//! 2. unless it still waits for its own earlier writes to show up in the
//!    cache ([`expectations`]), create the missing pods in slow-start
//!    batches ([`batch`]) or delete the least valuable extra ones
//!    ([`ranking`]), at most [`Config::burst_replicas`] per round;
//! 3. write the status when it changed ([`status`]).
//!
//! Every create and delete records an Event on the ReplicaSet.
//! [`triggers`] says which keys a change of a pod or ReplicaSet concerns;
//! [`observe`] lowers the expectations as the controller's writes arrive.

pub mod batch;
pub mod claim;
pub mod expectations;
pub mod observe;
pub mod ranking;
pub mod status;
pub mod triggers;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use apiserver::client::{
    Api, Cache, Changes, Client, ClientError, DeleteParams, Informer, ObjectKey, Patch,
    Preconditions,
};
use objects::{Pod, ReplicaSet, Selector};

use crate::controller::{Action, Controller, Reconciler};
use crate::events::Recorder;
use crate::manager::{Context, Registration};
use claim::Claim;
use expectations::Expectations;

/// The component name on its Events, as in Kubernetes.
pub const COMPONENT: &str = "replicaset-controller";

/// Tunables; the defaults are Kubernetes'.
#[derive(Debug, Clone)]
pub struct Config {
    /// At most this many creations or deletions per reconcile
    /// (Kubernetes' `BurstReplicas`).
    pub burst_replicas: usize,
    /// How long expectations may stay unmet before they are presumed
    /// lost (Kubernetes' `ExpectationsTimeout`).
    pub expectations_timeout: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            burst_replicas: 500,
            expectations_timeout: expectations::EXPECTATIONS_TIMEOUT,
        }
    }
}

/// The ReplicaSet controller (a [`Reconciler`] of ReplicaSet keys).
pub struct ReplicaSetController {
    client: Client,
    replicasets: Cache<ReplicaSet>,
    pods: Cache<Pod>,
    /// Pod changes not yet applied to the expectations.
    pod_changes: Arc<Mutex<Changes<Pod>>>,
    expectations: Arc<Mutex<Expectations>>,
    recorder: Recorder,
    config: Config,
}

impl ReplicaSetController {
    /// A controller reading the caches of `replicasets` and `pods` (both
    /// informers over all namespaces, or the same namespace), writing
    /// through `client`. It subscribes to the pod informer to see its own
    /// creations and deletions arrive. Must be called within a tokio
    /// runtime.
    pub fn new(
        client: &Client,
        replicasets: &Informer<ReplicaSet>,
        pods: &Informer<Pod>,
        config: Config,
    ) -> ReplicaSetController {
        let pod_changes = Arc::new(Mutex::new(pods.subscribe()));
        let expectations = Arc::new(Mutex::new(Expectations::new(config.expectations_timeout)));
        tokio::spawn(observe::observe_periodically(
            Arc::downgrade(&pod_changes),
            Arc::downgrade(&expectations),
        ));
        ReplicaSetController {
            client: client.clone(),
            replicasets: replicasets.cache(),
            pods: pods.cache(),
            pod_changes,
            expectations,
            recorder: Recorder::new(client, COMPONENT),
            config,
        }
    }

    /// What `key` still waits to see: (creations, deletions).
    pub fn pending_expectations(&self, key: &ObjectKey) -> (u32, usize) {
        observe::observe(&self.pod_changes, &self.expectations);
        lock(&self.expectations).pending(key)
    }

    /// Claims the active pods of `rs`'s namespace; returns those it owns
    /// after adoptions and releases.
    async fn claim_pods(
        &self,
        rs: &ReplicaSet,
        selector: &Selector,
    ) -> Result<Vec<Arc<Pod>>, ClientError> {
        let namespace = rs.metadata.namespace();
        let pods: Api<Pod> = Api::namespaced(&self.client, namespace);
        let mut owned = Vec::new();
        let mut orphans = Vec::new();
        for pod in self.pods.list_namespace(namespace) {
            if !status::is_active(&pod) {
                continue;
            }
            match claim::claim(rs, selector, &pod) {
                Claim::Owned => owned.push(pod),
                Claim::Adopt => orphans.push(pod),
                Claim::Release => {
                    let patch = Patch::Merge(claim::release_patch(rs, &pod));
                    match pods.patch(pod.metadata.name(), &patch).await {
                        Ok(_) => {}
                        Err(error) if error.is_not_found() => {}
                        Err(error) => return Err(error),
                    }
                }
                Claim::Ignore => {}
            }
        }
        if orphans.is_empty() || !self.may_adopt(rs).await? {
            return Ok(owned);
        }
        for pod in orphans {
            let patch = Patch::Merge(claim::adopt_patch(rs, &pod));
            match pods.patch(pod.metadata.name(), &patch).await {
                Ok(adopted) => owned.push(Arc::new(adopted)),
                Err(error) if error.is_not_found() => {}
                Err(error) => return Err(error),
            }
        }
        Ok(owned)
    }

    /// Adopting needs a fresh look at the ReplicaSet, not the cache: one
    /// deleted (or being deleted) meanwhile must not take pods that its
    /// successor, or the garbage collector, would then fight over.
    async fn may_adopt(&self, rs: &ReplicaSet) -> Result<bool, ClientError> {
        let replicasets: Api<ReplicaSet> = Api::namespaced(&self.client, rs.metadata.namespace());
        let fresh = replicasets.get_opt(rs.metadata.name()).await?;
        Ok(fresh.is_some_and(|fresh| {
            fresh.metadata.uid == rs.metadata.uid && fresh.metadata.deletion_timestamp.is_none()
        }))
    }

    /// Creates or deletes pods to reach `spec.replicas`; the first error.
    async fn manage_replicas(
        &self,
        key: &ObjectKey,
        rs: &ReplicaSet,
        owned: &[Arc<Pod>],
    ) -> Option<ClientError> {
        let desired = usize::try_from(rs.spec.replicas.unwrap_or(1)).unwrap_or(0);
        if owned.len() < desired {
            let count = (desired - owned.len()).min(self.config.burst_replicas);
            self.create_pods(key, rs, count).await
        } else if owned.len() > desired {
            let count = (owned.len() - desired).min(self.config.burst_replicas);
            self.delete_pods(key, rs, owned, count).await
        } else {
            None
        }
    }

    async fn create_pods(
        &self,
        key: &ObjectKey,
        rs: &ReplicaSet,
        count: usize,
    ) -> Option<ClientError> {
        let pods: Api<Pod> = Api::namespaced(&self.client, rs.metadata.namespace());
        let template = claim::pod_from_template(rs);
        lock(&self.expectations).expect_creations(key, count as u32, Instant::now());
        let (created, error) = batch::slow_start(count, batch::INITIAL_BATCH, |_| {
            let pods = pods.clone();
            let template = template.clone();
            async move {
                let result = pods.create(&template).await;
                match &result {
                    Ok(pod) => {
                        let message = format!("Created pod: {}", pod.metadata.name());
                        self.recorder.normal(rs, "SuccessfulCreate", &message).await;
                    }
                    Err(error) => {
                        let message = format!("Error creating: {error}");
                        self.recorder.warning(rs, "FailedCreate", &message).await;
                    }
                }
                result
            }
        })
        .await;
        // The failed and the never attempted will not be seen.
        let mut expectations = lock(&self.expectations);
        for _ in created.len()..count {
            expectations.creation_observed(key);
        }
        error
    }

    async fn delete_pods(
        &self,
        key: &ObjectKey,
        rs: &ReplicaSet,
        owned: &[Arc<Pod>],
        count: usize,
    ) -> Option<ClientError> {
        let pods: Api<Pod> = Api::namespaced(&self.client, rs.metadata.namespace());
        let owned: Vec<&Pod> = owned.iter().map(Arc::as_ref).collect();
        let victims = ranking::pods_to_delete(&owned, count);
        let uids = victims
            .iter()
            .map(|pod| pod.metadata.uid.clone().unwrap_or_default())
            .collect();
        lock(&self.expectations).expect_deletions(key, uids, Instant::now());
        // As Kubernetes: all at once (slow start is for creations).
        let results = futures::future::join_all(victims.iter().map(|pod| {
            let pods = pods.clone();
            async move {
                let uid = pod.metadata.uid.clone().unwrap_or_default();
                let params = DeleteParams {
                    preconditions: Some(Preconditions {
                        uid: Some(uid.clone()),
                        resource_version: None,
                    }),
                    ..DeleteParams::default()
                };
                let name = pod.metadata.name();
                match pods.delete(name, &params).await {
                    Ok(_) => {
                        let message = format!("Deleted pod: {name}");
                        self.recorder.normal(rs, "SuccessfulDelete", &message).await;
                        None
                    }
                    Err(error) => {
                        lock(&self.expectations).deletion_observed(key, &uid);
                        // Gone already (or replaced): what we wanted.
                        if error.is_not_found() || error.is_conflict() {
                            return None;
                        }
                        let message = format!("Error deleting: {error}");
                        self.recorder.warning(rs, "FailedDelete", &message).await;
                        Some(error)
                    }
                }
            }
        }))
        .await;
        results.into_iter().flatten().next()
    }
}

/// The ReplicaSet controller as the controller-manager runs it: on the
/// shared informers of ReplicaSets and pods, each pod change queueing the
/// ReplicaSets it concerns ([`triggers::pod_keys`]: its controller, or
/// those that may adopt an orphan).
pub fn registration(config: Config) -> Registration {
    Registration::new("replicaset", move |context: Context, shutdown| {
        let config = config.clone();
        async move {
            let replicasets = context.informers.get::<ReplicaSet>();
            let pods = context.informers.get::<Pod>();
            let reconciler =
                ReplicaSetController::new(&context.client, &replicasets, &pods, config);
            let cache = replicasets.cache();
            Controller::new("replicaset", reconciler, &replicasets)
                .watches(&pods, move |change| triggers::pod_keys(change, &cache))
                .settings(context.settings)
                .run(shutdown)
                .await
        }
    })
}

impl Reconciler for ReplicaSetController {
    type Error = ClientError;

    async fn reconcile(&self, key: &ObjectKey) -> Result<Action, ClientError> {
        observe::observe(&self.pod_changes, &self.expectations);
        let Some(rs) = self.replicasets.get(&key.namespace, &key.name) else {
            lock(&self.expectations).forget(key);
            return Ok(Action::await_change());
        };
        let needs_sync = lock(&self.expectations).satisfied(key, Instant::now());
        let selector = match Selector::from_label_selector(&rs.spec.selector) {
            Ok(selector) if !selector.is_everything() => selector,
            // Validation refuses these; nothing to do until it changes.
            _ => {
                tracing::warn!(%key, "replica set with an empty or invalid selector");
                return Ok(Action::await_change());
            }
        };
        let owned = self.claim_pods(&rs, &selector).await?;
        let error = if needs_sync && rs.metadata.deletion_timestamp.is_none() {
            self.manage_replicas(key, &rs, &owned).await
        } else {
            None
        };
        let now = chrono::Utc::now();
        let message = error.as_ref().map(ToString::to_string);
        let owned: Vec<&Pod> = owned.iter().map(Arc::as_ref).collect();
        let new_status = status::calculate_status(&rs, &owned, message.as_deref(), now);
        if new_status != rs.status {
            let mut updated = (*rs).clone();
            updated.status = new_status;
            let replicasets: Api<ReplicaSet> = Api::namespaced(&self.client, &key.namespace);
            replicasets.replace_status(&updated).await?;
        }
        if let Some(error) = error {
            return Err(error);
        }
        let min_ready = rs.spec.min_ready_seconds.unwrap_or(0);
        let waits = lock(&self.expectations).remaining(key, Instant::now());
        let available = status::next_availability_check(&owned, min_ready, now);
        Ok(match (waits.is_zero(), available) {
            (true, None) => Action::await_change(),
            (true, Some(after)) => Action::requeue(after),
            (false, None) => Action::requeue(waits),
            (false, Some(after)) => Action::requeue(after.min(waits)),
        })
    }
}

pub(crate) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}
