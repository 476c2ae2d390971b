//! The Deployment controller: rolls a Deployment's pods from one template
//! to the next through ReplicaSets, one per template it has had.
//!
//! A Deployment never manages pods itself. It keeps one ReplicaSet per
//! pod template (named after the template's hash), and rolls out a new
//! template by growing the new ReplicaSet and shrinking the old ones, a
//! few pods at a time (RollingUpdate: within `maxSurge` above and
//! `maxUnavailable` below the desired count) or all at once (Recreate:
//! the old ones to zero, then the new one up). The old ReplicaSets stay,
//! scaled to zero, as the revisions `kubectl rollout undo` goes back to.
//!
//! ```text
//!  Deployment web (replicas 4, maxSurge 1, maxUnavailable 1, template v2)
//!   ├── ReplicaSet web-<hash v1>  revision 1  replicas 4 → 3 → 1 → 0
//!   └── ReplicaSet web-<hash v2>  revision 2  replicas 0 → 1 → 2 → 4
//!                                   └── pods (the ReplicaSet controller's job)
//! ```
//!
//! Each reconcile (`syncDeployment`) reads the deployment and its
//! ReplicaSets from the caches, takes one step, writes the status, and
//! waits for the ReplicaSets to report their pods before the next step.
//! The decisions are pure functions of what it read:
//! - [`counts`]: what the planners read from the objects;
//! - [`hash`]: the pod-template hash that names each ReplicaSet;
//! - [`rolling`]: RollingUpdate's arithmetic;
//! - [`scale`]: proportional scaling, and Recreate's steps;
//! - [`revision`]: revisions, annotations, history cleanup;
//! - [`status`]: the status and the Progressing and Available conditions;
//! - [`claim`]: which ReplicaSets the deployment owns, adopts, releases;
//! - [`triggers`]: which deployment a change concerns;
//!
//! and the writes are in `replica_sets` (claiming them), `sync` (creating,
//! scaling, deleting ReplicaSets, the deployment's revision and status)
//! and `rollout` (each path of a sync). Kubernetes: pkg/controller/deployment.

pub mod claim;
pub mod counts;
pub mod hash;
mod replica_sets;
pub mod revision;
pub mod rolling;
mod rollout;
pub mod scale;
pub mod status;
mod sync;
pub mod triggers;

use apiserver::client::{Cache, Client, ClientError, ObjectKey};
use objects::{Deployment, LabelSelector, Pod, ReplicaSet, Selector};
use tracing::Instrument;

use crate::controller::{Action, Controller, Reconciler, RunError, Shutdown};
use crate::events::Recorder;
use crate::manager::{Context, Registration};

/// The label that keeps the pods of each template apart.
pub const POD_TEMPLATE_HASH: &str = "pod-template-hash";

/// The component named in the Events it records.
pub const COMPONENT: &str = "deployment-controller";

/// Why a reconcile failed (it is retried with back-off).
#[derive(Debug, thiserror::Error)]
pub enum DeploymentError {
    /// A request failed; a Conflict (the cache was behind) retries at once.
    #[error("{0}")]
    Api(#[from] ClientError),
    /// A selector that does not parse (validation should have refused it).
    #[error("deployment {key}: invalid selector: {message}")]
    Selector { key: ObjectKey, message: String },
}

/// The Deployment controller: reads deployments, ReplicaSets and pods
/// from informer caches (pods only for Recreate, which waits for the old
/// ones to be gone), writes through `client`.
pub struct DeploymentController {
    client: Client,
    deployments: Cache<Deployment>,
    replica_sets: Cache<ReplicaSet>,
    pods: Cache<Pod>,
    events: Recorder,
}

impl DeploymentController {
    /// A controller over these caches (of every namespace: informers on
    /// `client.api(None)`), writing through `client`.
    pub fn new(
        client: Client,
        deployments: Cache<Deployment>,
        replica_sets: Cache<ReplicaSet>,
        pods: Cache<Pod>,
    ) -> DeploymentController {
        let events = Recorder::new(&client, COMPONENT);
        DeploymentController {
            client,
            deployments,
            replica_sets,
            pods,
            events,
        }
    }

    /// `syncDeployment`: one step toward the deployment's spec.
    async fn sync_deployment(&self, key: &ObjectKey) -> Result<Action, DeploymentError> {
        let Some(cached) = self.deployments.get(&key.namespace, &key.name) else {
            // Deleted: the garbage collector removes its ReplicaSets.
            return Ok(Action::await_change());
        };
        let mut deployment = (*cached).clone();
        if deployment.spec.selector == LabelSelector::default() {
            self.selecting_all(&mut deployment).await?;
            return Ok(Action::await_change());
        }
        let selector =
            Selector::from_label_selector(&deployment.spec.selector).map_err(|error| {
                DeploymentError::Selector {
                    key: key.clone(),
                    message: error.to_string(),
                }
            })?;
        let replica_sets = self.claim_replica_sets(&deployment, &selector).await?;
        let mut rollout = replica_sets::Rollout::new(deployment, replica_sets);
        if rollout.deployment.metadata.deletion_timestamp.is_some() {
            return self.sync_status_only(&mut rollout).await;
        }
        self.check_paused_conditions(&mut rollout).await?;
        if rollout.deployment.spec.paused {
            return self.sync(&mut rollout).await;
        }
        if self.is_scaling_event(&mut rollout).await? {
            return self.sync(&mut rollout).await;
        }
        match counts::strategy(&rollout.deployment) {
            counts::Strategy::Recreate => self.rollout_recreate(&mut rollout, &selector).await,
            counts::Strategy::RollingUpdate => self.rollout_rolling(&mut rollout).await,
        }
    }

    /// An empty selector would select every pod of the namespace: refuse
    /// to act, say so, and mark the generation as seen.
    async fn selecting_all(&self, deployment: &mut Deployment) -> Result<(), DeploymentError> {
        let message = "This deployment is selecting all pods. A non-empty selector is required.";
        self.events
            .warning(deployment, "SelectingAll", message)
            .await;
        if deployment.status.observed_generation < deployment.metadata.generation {
            deployment.status.observed_generation = deployment.metadata.generation;
            self.write_status(deployment).await?;
        }
        Ok(())
    }

    /// The trigger for ReplicaSet changes, over this controller's cache
    /// of deployments (see [`triggers::for_replica_set`]).
    pub fn replica_set_trigger(
        &self,
    ) -> impl Fn(&apiserver::client::Change<ReplicaSet>) -> Vec<ObjectKey> + Send + 'static {
        let deployments = self.deployments.clone();
        move |change| triggers::for_replica_set(change, &deployments)
    }

    /// The trigger for Pod changes (see [`triggers::for_pod`]).
    pub fn pod_trigger(
        &self,
    ) -> impl Fn(&apiserver::client::Change<Pod>) -> Vec<ObjectKey> + Send + 'static {
        let deployments = self.deployments.clone();
        let replica_sets = self.replica_sets.clone();
        move |change| triggers::for_pod(change, &replica_sets, &deployments)
    }
}

impl Reconciler for DeploymentController {
    type Error = DeploymentError;

    async fn reconcile(&self, key: &ObjectKey) -> Result<Action, DeploymentError> {
        let span = tracing::info_span!("sync deployment", %key);
        self.sync_deployment(key).instrument(span).await
    }
}

/// The Deployment controller for the controller-manager: informers on
/// deployments (its keys), ReplicaSets and pods, shared with the other
/// controllers of the term.
pub fn registration() -> Registration {
    Registration::new("deployment", run)
}

async fn run(context: Context, shutdown: Shutdown) -> Result<(), RunError> {
    let deployments = context.informers.get::<Deployment>();
    let replica_sets = context.informers.get::<ReplicaSet>();
    let pods = context.informers.get::<Pod>();
    let reconciler = DeploymentController::new(
        context.client.clone(),
        deployments.cache(),
        replica_sets.cache(),
        pods.cache(),
    );
    let replica_set_trigger = reconciler.replica_set_trigger();
    let pod_trigger = reconciler.pod_trigger();
    Controller::new("deployment", reconciler, &deployments)
        .watches(&replica_sets, replica_set_trigger)
        .watches(&pods, pod_trigger)
        .settings(context.settings)
        .run(shutdown)
        .await
}
