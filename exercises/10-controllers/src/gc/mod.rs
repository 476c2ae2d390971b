// Generated from solutions/10-controllers/src/gc/mod.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
//! The garbage collector: dependents go with their owners.
//! Kubernetes: `pkg/controller/garbagecollector`.
//!
//! An object names its owners in `metadata.ownerReferences` (a pod its
//! ReplicaSet, a ReplicaSet its Deployment). Deleting an owner says what
//! happens to its dependents through the delete's `propagationPolicy`,
//! which the API server turns into the object's finalizers:
//! - Background (the default; `kubectl delete`): the owner goes at once,
//!   and the collector then deletes the dependents whose owners are all
//!   gone;
//! - Foreground (`--cascade=foreground`): the owner stays, with a
//!   deletionTimestamp and the `foregroundDeletion` finalizer, until the
//!   collector has deleted the dependents that block it;
//! - Orphan (`--cascade=orphan`): the owner stays, with the `orphan`
//!   finalizer, until the collector has removed the references to it from
//!   its dependents, which live on.
//!
//! The collector watches the kinds that own and are owned (pods, replica
//! sets and deployments by default; [`GarbageCollector::watch`] adds
//! more), decides from its caches ([`graph::plan`], pure) and writes
//! through the API. Before deleting a dependent because its owner is
//! missing from the caches, it asks the API: an owner may be created just
//! before its dependent and show up in the cache after it.

pub mod graph;
pub mod kinds;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use apiserver::client::{Client, ClientError, Informer};
use futures::StreamExt;
use objects::{Deployment, Pod, ReplicaSet, Resource};
use serde_json::json;
use tokio::sync::Notify;

use crate::controller::{RunError, Shutdown};
use crate::manager::{Context, Registration};
use graph::{Decision, Node, Step};
use kinds::{Kind, Watched};

/// The name the collector goes by in logs and errors (Kubernetes':
/// `garbagecollector`).
pub const NAME: &str = "garbagecollector";

/// Tunables.
#[derive(Debug, Clone)]
pub struct Config {
    /// A full pass at least this often, even without changes.
    pub resync: Duration,
    /// Writes in flight at once.
    pub concurrency: usize,
    /// How long [`GarbageCollector::run`] waits for its informers' first list.
    pub sync_timeout: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            resync: Duration::from_secs(30),
            concurrency: 16,
            sync_timeout: Duration::from_secs(60),
        }
    }
}

/// What one pass did.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Report {
    /// The writes made, described (`delete Pod default/web-x2x8k (Background)`).
    pub done: Vec<String>,
    /// The writes that failed; the next pass tries again.
    pub errors: Vec<String>,
}

/// The garbage collector (see the module documentation).
pub struct GarbageCollector {
    client: Client,
    kinds: Vec<Box<dyn Watched>>,
    notify: Arc<Notify>,
    /// The steps already taken, by (uid, step), with the resourceVersion
    /// they were taken on: not repeated while the cache still shows that
    /// version (it lags the collector's own writes).
    taken: Mutex<HashMap<(String, String), String>>,
    config: Config,
}

impl GarbageCollector {
    /// A collector of pods, replica sets and deployments in every
    /// namespace, writing through `client`. Starts its informers (must be
    /// called within a tokio runtime).
    pub fn new(client: &Client, config: Config) -> GarbageCollector {
        GarbageCollector::watching_nothing(client, config)
            .watch::<Pod>()
            .watch::<ReplicaSet>()
            .watch::<Deployment>()
    }

    /// A collector that watches no kind yet: add them with
    /// [`GarbageCollector::watch`] or [`GarbageCollector::watch_shared`].
    pub fn watching_nothing(client: &Client, config: Config) -> GarbageCollector {
        GarbageCollector {
            client: client.clone(),
            kinds: Vec::new(),
            notify: Arc::new(Notify::new()),
            taken: Mutex::default(),
            config,
        }
    }

    /// Also watches kind `K` (as owner and as dependent), with an
    /// informer of its own.
    pub fn watch<K: Resource>(mut self) -> GarbageCollector {
        if !self.watches(K::INFO.kind) {
            let kind = Kind::<K>::start(&self.client, Arc::clone(&self.notify));
            self.kinds.push(Box::new(kind));
        }
        self
    }

    /// Also watches kind `K` through `informer` (over all namespaces),
    /// shared with other controllers.
    pub fn watch_shared<K: Resource>(mut self, informer: Arc<Informer<K>>) -> GarbageCollector {
        if !self.watches(K::INFO.kind) {
            let kind = Kind::shared(&self.client, informer, Arc::clone(&self.notify));
            self.kinds.push(Box::new(kind));
        }
        self
    }

    fn watches(&self, kind: &str) -> bool {
        self.kinds.iter().any(|watched| watched.kind() == kind)
    }

    /// Waits until every informer has listed once.
    pub async fn wait_for_sync(&self) -> bool {
        for kind in &self.kinds {
            if !kind.wait_for_sync().await {
                return false;
            }
        }
        true
    }

    /// Runs passes until `shutdown`: after changes, after `resync`
    /// without any, and after a back-off when writes failed. A pass under
    /// way finishes before it returns. Fails if the informers do not sync
    /// within `sync_timeout`.
    pub async fn run(&self, mut shutdown: Shutdown) -> Result<(), RunError> {
        let synced = tokio::select! {
            synced = tokio::time::timeout(self.config.sync_timeout, self.wait_for_sync()) => synced,
            _ = shutdown.wait() => return Ok(()),
        };
        if synced != Ok(true) {
            return Err(RunError::Failed {
                controller: NAME.to_string(),
                message: format!(
                    "the informers did not sync within {:?}",
                    self.config.sync_timeout
                ),
            });
        }
        let mut retry = Duration::from_secs(1);
        while !shutdown.is_stopping() {
            let report = self.sync_once().await;
            for error in &report.errors {
                tracing::warn!(%error, "garbage collection");
            }
            let wait = if report.errors.is_empty() {
                retry = Duration::from_secs(1);
                self.config.resync
            } else {
                retry = (retry * 2).min(self.config.resync);
                retry
            };
            tokio::select! {
                _ = self.notify.notified() => {}
                _ = tokio::time::sleep(wait) => {}
                _ = shutdown.wait() => {}
            }
        }
        Ok(())
    }

    /// One pass over the caches: plans, then makes the writes. Nothing
    /// happens before every informer has synced (a partial view would
    /// take owners for gone).
    pub async fn sync_once(&self) -> Report {
        if !self.kinds.iter().all(|kind| kind.has_synced()) {
            return Report::default();
        }
        let nodes: Vec<Node> = self.kinds.iter().flat_map(|kind| kind.nodes()).collect();
        self.forget_taken(&nodes);
        let decisions: Vec<Decision> = graph::plan(&nodes)
            .into_iter()
            .filter(|decision| !self.was_taken(decision))
            .collect();
        self.apply(decisions).await
    }

    /// Makes the writes of `decisions` (after confirming through the API
    /// that the owners they take for gone are gone).
    pub async fn apply(&self, decisions: Vec<Decision>) -> Report {
        let outcomes: Vec<(Decision, Result<bool, ClientError>)> = futures::stream::iter(decisions)
            .map(|decision| async move {
                let outcome = self.execute(&decision).await;
                (decision, outcome)
            })
            .buffer_unordered(self.config.concurrency.max(1))
            .collect()
            .await;
        let mut report = Report::default();
        for (decision, outcome) in outcomes {
            let what = describe(&decision);
            match outcome {
                Ok(true) => {
                    self.mark_taken(&decision);
                    report.done.push(what);
                }
                Ok(false) => {}
                Err(error) => report.errors.push(format!("{what}: {error}")),
            }
        }
        report.done.sort();
        report
    }

    fn kind_of(&self, kind: &str, api_version: &str) -> Option<&dyn Watched> {
        let group = |version: &str| version.rsplit_once('/').map(|(g, _)| g.to_string());
        self.kinds
            .iter()
            .find(|watched| {
                watched.kind() == kind && group(&watched.api_version()) == group(api_version)
            })
            .map(|watched| watched.as_ref())
    }

    /// Makes one decision's write; `Ok(false)` when it turned out not to
    /// be needed (an owner exists after all, the target changed).
    async fn execute(&self, decision: &Decision) -> Result<bool, ClientError> {
        let target = &decision.target;
        for reference in &decision.confirm_absent {
            // An owner of a kind not watched cannot be checked: keep.
            let Some(kind) = self.kind_of(&reference.kind, &reference.api_version) else {
                return Ok(false);
            };
            let namespace = if kind.namespaced() {
                target.namespace.as_str()
            } else {
                ""
            };
            let live = kind.live_uid(namespace, &reference.name).await?;
            if live.as_deref() == Some(reference.uid.as_str()) {
                return Ok(false);
            }
        }
        let Some(kind) = self.kind_of(&target.kind, &target.api_version) else {
            return Ok(false);
        };
        let result = match &decision.step {
            Step::Delete(policy) => kind.delete(target, *policy).await,
            Step::RemoveOwners(uids) => {
                let owners: Vec<_> = target
                    .owners
                    .iter()
                    .filter(|owner| !uids.contains(&owner.uid))
                    .collect();
                let patch = json!({"metadata": {
                    "resourceVersion": target.resource_version,
                    "ownerReferences": owners,
                }});
                kind.patch(target, patch).await
            }
            Step::RemoveFinalizer(finalizer) => {
                let finalizers: Vec<_> = target
                    .finalizers
                    .iter()
                    .filter(|f| f.as_str() != *finalizer)
                    .collect();
                let patch = json!({"metadata": {
                    "resourceVersion": target.resource_version,
                    "finalizers": finalizers,
                }});
                kind.patch(target, patch).await
            }
        };
        match result {
            Ok(()) => Ok(true),
            // Gone, replaced, or changed since the cache showed it: the
            // next pass sees the new state.
            Err(error) if error.is_not_found() || error.is_conflict() => Ok(false),
            Err(error) => Err(error),
        }
    }

    fn taken_key(decision: &Decision) -> (String, String) {
        (decision.target.uid.clone(), format!("{:?}", decision.step))
    }

    fn was_taken(&self, decision: &Decision) -> bool {
        let taken = self.taken.lock().unwrap_or_else(|e| e.into_inner());
        taken.get(&Self::taken_key(decision)) == Some(&decision.target.resource_version)
    }

    fn mark_taken(&self, decision: &Decision) {
        let mut taken = self.taken.lock().unwrap_or_else(|e| e.into_inner());
        taken.insert(
            Self::taken_key(decision),
            decision.target.resource_version.clone(),
        );
    }

    /// Forgets the steps on objects that are gone or changed.
    fn forget_taken(&self, nodes: &[Node]) {
        let current: HashSet<(&str, &str)> = nodes
            .iter()
            .map(|node| (node.uid.as_str(), node.resource_version.as_str()))
            .collect();
        let mut taken = self.taken.lock().unwrap_or_else(|e| e.into_inner());
        taken.retain(|(uid, _), version| current.contains(&(uid.as_str(), version.as_str())));
    }
}

/// The collector as the controller-manager runs it: on the shared
/// informers of pods, replica sets and deployments.
pub fn registration(config: Config) -> Registration {
    Registration::new(NAME, move |context: Context, shutdown| {
        let config = config.clone();
        async move {
            GarbageCollector::watching_nothing(&context.client, config)
                .watch_shared(context.informers.get::<Pod>())
                .watch_shared(context.informers.get::<ReplicaSet>())
                .watch_shared(context.informers.get::<Deployment>())
                .run(shutdown)
                .await
        }
    })
}

/// `delete Pod default/web-x2x8k (Background)` and the like.
pub fn describe(decision: &Decision) -> String {
    let target = decision.target.describe();
    match &decision.step {
        Step::Delete(policy) => format!("delete {target} ({policy:?})"),
        Step::RemoveOwners(_) => format!("orphan {target}"),
        Step::RemoveFinalizer(finalizer) => format!("remove finalizer {finalizer} from {target}"),
    }
}
