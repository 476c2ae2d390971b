// Generated from solutions/10-controllers/src/manager.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
//! The controller-manager: every controller in one process, acting only
//! while it leads (kube-controller-manager's `Run`).
//!
//! Controllers are registered as functions that run one controller for
//! one term of leadership, given a [`Context`] (the client, informers
//! shared between the controllers of the term, the settings) and a
//! [`Shutdown`]. On becoming the leader the manager starts them all; on a
//! graceful stop it stops them (reconciles running may finish within the
//! limit) and then releases the lease, so the next leader never overlaps
//! with this one. Leadership lost (no renewal within the renew deadline:
//! another may lead already) aborts them at once and ends the manager, as
//! kube-controller-manager exits: a fresh process starts again as a
//! follower, with fresh caches.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use apiserver::client::{Client, ClientError, Informer, ListParams};
use futures::future::BoxFuture;
use objects::{Namespace, Resource};
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};
use tracing::{error, info, warn};

use crate::controller::{RunError, Settings, Shutdown, Stopper};
use crate::leader::{self, LeaderElection, Leadership};

/// How long the lease release may take after the controllers stopped.
const RELEASE_LIMIT: Duration = Duration::from_secs(2);

/// Informers shared by the controllers of one term: one list and one
/// watch per kind, however many controllers read it (client-go's
/// `SharedInformerFactory`). Cheap to clone.
#[derive(Clone)]
pub struct SharedInformers {
    client: Client,
    informers: Arc<Mutex<HashMap<TypeId, Arc<dyn Any + Send + Sync>>>>,
}

impl SharedInformers {
    pub fn new(client: Client) -> SharedInformers {
        SharedInformers {
            client,
            informers: Arc::default(),
        }
    }

    /// The informer on every object of kind `K` (all namespaces), started
    /// on first use (within a tokio runtime).
    pub fn get<K: Resource>(&self) -> Arc<Informer<K>> {
        // A panic while holding the lock leaves the map whole (one insert).
        let mut informers = self.informers.lock().unwrap_or_else(|e| e.into_inner());
        let informer = informers.entry(TypeId::of::<K>()).or_insert_with(|| {
            Arc::new(Informer::<K>::new(
                self.client.api(None),
                ListParams::default(),
            ))
        });
        Arc::clone(informer)
            .downcast::<Informer<K>>()
            .expect("stored under its own TypeId")
    }

    pub fn client(&self) -> &Client {
        &self.client
    }
}

/// What a controller gets for one term of leadership.
#[derive(Clone)]
pub struct Context {
    pub client: Client,
    pub informers: SharedInformers,
    pub settings: Settings,
}

type RunFn = dyn Fn(Context, Shutdown) -> BoxFuture<'static, Result<(), RunError>> + Send + Sync;

/// A controller the manager runs: a name and a function that runs it for
/// one term, until its [`Shutdown`]. Typically:
///
/// ```text
/// Registration::new("replicaset", |context: Context, shutdown| async move {
///     let replica_sets = context.informers.get::<ReplicaSet>();
///     let pods = context.informers.get::<Pod>();
///     let reconciler = ReplicaSetController::new(context.client.clone(), &replica_sets, &pods);
///     Controller::new("replicaset", reconciler, &replica_sets)
///         .owns(&pods, "ReplicaSet")
///         .settings(context.settings)
///         .run(shutdown)
///         .await
/// })
/// ```
pub struct Registration {
    pub name: &'static str,
    run: Arc<RunFn>,
}

impl Registration {
    pub fn new<F, Fut>(name: &'static str, run: F) -> Registration
    where
        F: Fn(Context, Shutdown) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), RunError>> + Send + 'static,
    {
        Registration {
            name,
            run: Arc::new(move |context, shutdown| Box::pin(run(context, shutdown))),
        }
    }
}

/// What the controllers of `k8s-mini controller-manager` are tuned by
/// (kube-controller-manager's flags of the same names).
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    pub node_lifecycle: crate::nodelifecycle::NodeLifecycleConfig,
}

/// The controllers `k8s-mini controller-manager` runs, in start order.
pub fn default_controllers(options: &Options) -> Vec<Registration> {
    vec![
        crate::replicaset::registration(crate::replicaset::Config::default()),
        crate::deployment::registration(),
        crate::nodelifecycle::registration(options.node_lifecycle),
        crate::gc::registration(crate::gc::Config::default()),
    ]
}

/// How the manager runs.
pub struct Config {
    /// `None`: no election, the controllers run at once (a single
    /// controller-manager, or a test).
    pub leader_election: Option<leader::Config>,
    pub settings: Settings,
    pub controllers: Vec<Registration>,
}

/// Why the manager ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ended {
    /// [`ControllerManager::stop`] was called.
    Stopped,
    /// It could not renew its lease in time: another may lead now.
    LostLeadership,
    /// A controller failed (its caches did not sync, it panicked).
    Failed(String),
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("{0}")]
    Config(String),
    #[error("cannot reach the API server: {0}")]
    Unreachable(#[source] ClientError),
}

/// A running controller-manager; dropping it aborts it (without releasing
/// the lease).
pub struct ControllerManager {
    leadership: watch::Receiver<Leadership>,
    stop: watch::Sender<Option<Duration>>,
    task: Option<JoinHandle<Ended>>,
    ended: Option<Ended>,
}

impl ControllerManager {
    /// Checks the configuration and that the API server answers, then
    /// campaigns for leadership (or starts the controllers at once
    /// without election).
    pub async fn start(client: Client, config: Config) -> Result<ControllerManager, StartError> {
        let namespace = config
            .leader_election
            .as_ref()
            .map_or(leader::LEASE_NAMESPACE, |election| {
                election.namespace.as_str()
            });
        client
            .api::<Namespace>(None)
            .get_opt(namespace)
            .await
            .map_err(StartError::Unreachable)?;
        let election = match config.leader_election {
            Some(election) => {
                Some(LeaderElection::start(&client, election).map_err(StartError::Config)?)
            }
            None => None,
        };
        let (state, leadership) = watch::channel(Leadership::Candidate);
        let (stop, stopping) = watch::channel(None);
        let term = Term {
            client,
            settings: config.settings,
            controllers: config.controllers,
        };
        Ok(ControllerManager {
            leadership,
            stop,
            task: Some(tokio::spawn(run(term, election, state, stopping))),
            ended: None,
        })
    }

    /// Where it stands, and each change: `Leading` while its controllers
    /// run.
    pub fn leadership(&self) -> watch::Receiver<Leadership> {
        self.leadership.clone()
    }

    /// Waits until it ends on its own (leadership lost, a controller
    /// failed); pending until then.
    pub async fn ended(&mut self) -> Ended {
        if let Some(ended) = &self.ended {
            return ended.clone();
        }
        let Some(task) = self.task.as_mut() else {
            return Ended::Stopped;
        };
        let ended = task
            .await
            .unwrap_or_else(|error| Ended::Failed(format!("the manager's task failed: {error}")));
        self.task = None;
        self.ended = Some(ended.clone());
        ended
    }

    /// Stops the controllers (reconciles running may finish within
    /// `limit`), then releases the lease.
    pub async fn stop(mut self, limit: Duration) -> Ended {
        if let Some(ended) = self.ended.take() {
            return ended;
        }
        self.stop.send_replace(Some(limit));
        let Some(mut task) = self.task.take() else {
            return Ended::Stopped;
        };
        match tokio::time::timeout(limit + RELEASE_LIMIT * 2, &mut task).await {
            Ok(joined) => joined.unwrap_or_else(|error| Ended::Failed(error.to_string())),
            Err(_) => {
                task.abort();
                let _ = task.await;
                Ended::Stopped
            }
        }
    }
}

impl Drop for ControllerManager {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// What a term of leadership runs.
struct Term {
    client: Client,
    settings: Settings,
    controllers: Vec<Registration>,
}

/// Waits for the stop, and returns its limit.
async fn stop_given(stopping: &mut watch::Receiver<Option<Duration>>) -> Duration {
    match stopping.wait_for(Option::is_some).await {
        Ok(limit) => limit.unwrap_or_default(),
        // The handle is gone (it aborts the task anyway).
        Err(_) => Duration::ZERO,
    }
}

/// Waits until `leadership` is `Leading` (`true`) or over (`false`).
async fn elected(leadership: &mut watch::Receiver<Leadership>) -> bool {
    match leadership
        .wait_for(|state| !matches!(state, Leadership::Candidate))
        .await
    {
        Ok(state) => *state == Leadership::Leading,
        Err(_) => false,
    }
}

// ANCHOR: manager_run
async fn run(
    term: Term,
    election: Option<LeaderElection>,
    state: watch::Sender<Leadership>,
    mut stopping: watch::Receiver<Option<Duration>>,
) -> Ended {
    let Some(election) = election else {
        state.send_replace(Leadership::Leading);
        let (_, ended) = term.run(None, &mut stopping).await;
        state.send_replace(Leadership::Stopped);
        return ended;
    };
    let mut leadership = election.leadership();
    let leading = tokio::select! {
        _ = stop_given(&mut stopping) => false,
        leading = elected(&mut leadership) => leading,
    };
    if !leading {
        election.stop(RELEASE_LIMIT).await;
        state.send_replace(Leadership::Stopped);
        return Ended::Stopped;
    }
    state.send_replace(Leadership::Leading);
    let (lost, ended) = term.run(Some(leadership), &mut stopping).await;
    if lost {
        // No release: the lease is no longer ours to give.
        drop(election);
        state.send_replace(Leadership::Lost);
    } else {
        election.stop(RELEASE_LIMIT).await;
        state.send_replace(Leadership::Stopped);
    }
    ended
}
// ANCHOR_END: manager_run

impl Term {
    /// Runs every controller until the stop, a loss of `leadership`, or a
    /// controller's failure. Says whether leadership was lost.
    async fn run(
        self,
        mut leadership: Option<watch::Receiver<Leadership>>,
        stopping: &mut watch::Receiver<Option<Duration>>,
    ) -> (bool, Ended) {
        let context = Context {
            informers: SharedInformers::new(self.client.clone()),
            client: self.client,
            settings: self.settings,
        };
        let (stopper, shutdown) = Shutdown::channel();
        let mut running = JoinSet::new();
        for registration in &self.controllers {
            let name = registration.name;
            info!(controller = name, "starting");
            let controller = (registration.run)(context.clone(), shutdown.clone());
            running.spawn(async move { (name, controller.await) });
        }
        drop(context);
        tokio::select! {
            limit = stop_given(stopping) => {
                wind_down(stopper, &mut running, limit).await;
                (false, Ended::Stopped)
            }
            _ = lost(&mut leadership) => {
                error!("leadership lost: stopping every controller at once");
                running.shutdown().await;
                (true, Ended::LostLeadership)
            }
            Some(joined) = running.join_next() => {
                let message = match joined {
                    Ok((name, Err(error))) => format!("controller {name} failed: {error}"),
                    Ok((name, Ok(()))) => format!("controller {name} ended on its own"),
                    Err(error) => format!("a controller's task failed: {error}"),
                };
                error!("{message}");
                let limit = stop_given_now(stopping).unwrap_or(Duration::from_secs(5));
                wind_down(stopper, &mut running, limit).await;
                (false, Ended::Failed(message))
            }
        }
    }
}

/// The stop limit, if a stop was given already.
fn stop_given_now(stopping: &watch::Receiver<Option<Duration>>) -> Option<Duration> {
    *stopping.borrow()
}

/// Resolves when `leadership` is no longer `Leading` (never without an
/// election).
async fn lost(leadership: &mut Option<watch::Receiver<Leadership>>) {
    match leadership {
        Some(leadership) => {
            let _ = leadership
                .wait_for(|state| *state != Leadership::Leading)
                .await;
        }
        None => std::future::pending().await,
    }
}

/// Graceful stop of the controllers: reconciles running may finish within
/// `limit`, then whatever is left is aborted.
async fn wind_down(
    stopper: Stopper,
    running: &mut JoinSet<(&'static str, Result<(), RunError>)>,
    limit: Duration,
) {
    stopper.stop();
    let drained = tokio::time::timeout(limit, async {
        while let Some(joined) = running.join_next().await {
            if let Ok((name, Err(error))) = joined {
                warn!(controller = name, "stopped with an error: {error}");
            }
        }
    })
    .await;
    if drained.is_err() {
        warn!(
            ?limit,
            "controllers still running after the stop limit: aborted"
        );
        running.shutdown().await;
    }
}
