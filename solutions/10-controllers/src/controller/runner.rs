//! The controller's driver: informers in, reconciles out.
//!
//! client-go's `controller.Run` (wait for the caches, start the workers,
//! `processNextWorkItem` with `Forget` on success and `AddRateLimited` on
//! error) and kube-runtime's `Controller::run`, around the pure
//! [`WorkQueue`]. One task owns the queue, so the queue needs no lock:
//! it turns changes into keys through each informer's trigger, hands due
//! keys to at most `workers` reconcile tasks at once, and reads their
//! results back to requeue as each [`Action`] (or the error policy) says.
//!
//! ```text
//!  informer ─change─▶ trigger ─keys─┐
//!  informer ─change─▶ trigger ─keys─┼─▶ WorkQueue ─pop─▶ reconcile (≤ workers)
//!        resync: every primary key ─┘        ▲                 │
//!                                            └── requeue ◀─────┘ Action / error_policy
//! ```
//!
//! Nothing is reconciled before every informer has listed once: an empty
//! cache before that means "not known yet", and a ReplicaSet reconciled
//! then would create every pod it already has.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use apiserver::client::{Change, Informer, ObjectKey};
use futures::future::BoxFuture;
use objects::Resource;
use tokio::sync::mpsc;
use tokio::task::{JoinHandle, JoinSet};
use tracing::{info, warn};

use super::driver::Driver;
use super::queue::WorkQueue;
use super::shutdown::{Shutdown, Stopper};
use super::{Reconciler, trigger};

/// How a controller runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// Reconciles at once (of different keys: never two of one key).
    pub workers: usize,
    /// How often every object of the primary kind is queued again, even
    /// without a change: a safety net for a change missed or an outside
    /// state that moved (`None`: never).
    pub resync: Option<Duration>,
    /// How long to wait for every informer's first list.
    pub sync_timeout: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            workers: 1,
            resync: Some(Duration::from_secs(30)),
            sync_timeout: Duration::from_secs(30),
        }
    }
}

/// Why a controller stopped on its own.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(
        "controller {controller}: the {kind} informer did not sync within {timeout:?}: {last_error}"
    )]
    Sync {
        controller: String,
        kind: &'static str,
        timeout: Duration,
        last_error: String,
    },
    #[error("controller {controller}: {message}")]
    Failed { controller: String, message: String },
}

/// What the driver needs of an informer, whatever its kind.
trait Synced: Send + Sync {
    fn kind(&self) -> &'static str;
    fn wait_for_sync(&self) -> BoxFuture<'_, bool>;
    fn last_error(&self) -> Option<String>;
}

impl<K: Resource> Synced for Informer<K> {
    fn kind(&self) -> &'static str {
        K::INFO.kind
    }

    fn wait_for_sync(&self) -> BoxFuture<'_, bool> {
        Box::pin(Informer::wait_for_sync(self))
    }

    fn last_error(&self) -> Option<String> {
        Informer::last_error(self)
    }
}

/// One watched informer: its sync, and the task turning its changes into
/// keys.
struct Source {
    informer: Arc<dyn Synced>,
    forward: BoxFuture<'static, ()>,
}

/// A controller being put together: a reconciler, the informers whose
/// changes queue keys, and its [`Settings`]. [`Controller::run`] or
/// [`Controller::start`] runs it.
pub struct Controller<R: Reconciler> {
    name: String,
    reconciler: Arc<R>,
    settings: Settings,
    sources: Vec<Source>,
    sender: mpsc::UnboundedSender<ObjectKey>,
    keys: mpsc::UnboundedReceiver<ObjectKey>,
    /// Every key of the primary kind, for the resync.
    all_keys: Box<dyn Fn() -> Vec<ObjectKey> + Send>,
}

impl<R: Reconciler> Controller<R> {
    /// A controller named `name` (for logs) whose reconciles are keys of
    /// `primary`'s kind: each change of a primary object queues it, and
    /// the resync queues them all. The informer may be shared.
    pub fn new<K: Resource>(
        name: impl Into<String>,
        reconciler: R,
        primary: &Arc<Informer<K>>,
    ) -> Controller<R> {
        let cache = primary.cache();
        let all_keys = move || {
            cache
                .list()
                .iter()
                .map(|object| ObjectKey::of(object.as_ref()))
                .collect()
        };
        Controller::from_keys(name, reconciler, all_keys).watches(primary, trigger::itself)
    }

    /// A controller fed by no informer yet: keys come from
    /// [`Controller::watches`], [`Controller::queue_sender`], and the
    /// resync, which queues every key `all_keys` lists (a periodic check,
    /// or a test driving the queue by hand).
    pub fn from_keys(
        name: impl Into<String>,
        reconciler: R,
        all_keys: impl Fn() -> Vec<ObjectKey> + Send + 'static,
    ) -> Controller<R> {
        let (sender, keys) = mpsc::unbounded_channel();
        Controller {
            name: name.into(),
            reconciler: Arc::new(reconciler),
            settings: Settings::default(),
            sources: Vec::new(),
            sender,
            keys,
            all_keys: Box::new(all_keys),
        }
    }

    /// Also queue the keys `trigger` maps each change of `informer` to.
    /// It subscribes now, so no change from here on is missed.
    pub fn watches<K: Resource>(
        mut self,
        informer: &Arc<Informer<K>>,
        trigger: impl Fn(&Change<K>) -> Vec<ObjectKey> + Send + 'static,
    ) -> Controller<R> {
        let mut changes = informer.subscribe();
        let sender = self.sender.clone();
        let forward = Box::pin(async move {
            while let Some(change) = changes.recv().await {
                for key in trigger(&change) {
                    if sender.send(key).is_err() {
                        return;
                    }
                }
            }
        });
        let informer: Arc<dyn Synced> = informer.clone();
        self.sources.push(Source { informer, forward });
        self
    }

    /// Also queue the controller owner of kind `owner_kind` of each
    /// changed object ([`trigger::controller_owner`]).
    pub fn owns<K: Resource>(self, informer: &Arc<Informer<K>>, owner_kind: &str) -> Controller<R> {
        self.watches(informer, trigger::controller_owner::<K>(owner_kind))
    }

    pub fn settings(mut self, settings: Settings) -> Controller<R> {
        self.settings = settings;
        self
    }

    pub fn workers(mut self, workers: usize) -> Controller<R> {
        self.settings.workers = workers;
        self
    }

    pub fn resync(mut self, every: Option<Duration>) -> Controller<R> {
        self.settings.resync = every;
        self
    }

    pub fn sync_timeout(mut self, timeout: Duration) -> Controller<R> {
        self.settings.sync_timeout = timeout;
        self
    }

    /// A sender that queues keys directly (for something other than an
    /// informer that wants a key looked at now).
    pub fn queue_sender(&self) -> mpsc::UnboundedSender<ObjectKey> {
        self.sender.clone()
    }

    /// The reconciler, shared with the running controller.
    pub fn reconciler(&self) -> Arc<R> {
        Arc::clone(&self.reconciler)
    }

    /// Runs the controller in a task of its own (within a tokio runtime).
    pub fn start(self) -> ControllerHandle {
        let (stopper, shutdown) = Shutdown::channel();
        let name = self.name.clone();
        ControllerHandle {
            name,
            stopper,
            task: Some(tokio::spawn(self.run(shutdown))),
        }
    }

    // ANCHOR: run
    /// Waits for every informer's first list (or fails after the sync
    /// timeout), then reconciles until `shutdown`: then takes no new key
    /// and returns once the reconciles running have finished. (Whoever
    /// holds it bounds that wait: see [`ControllerHandle::stop`].)
    pub async fn run(self, mut shutdown: Shutdown) -> Result<(), RunError> {
        let Controller {
            name,
            reconciler,
            settings,
            sources,
            sender,
            keys,
            all_keys,
        } = self;
        // Only the forwarders send from here on: when every informer is
        // gone, the channel closes.
        drop(sender);
        // Dropped (and so aborted) when this returns.
        let mut forwarders = JoinSet::new();
        let mut informers = Vec::new();
        for source in sources {
            forwarders.spawn(source.forward);
            informers.push(source.informer);
        }
        for informer in &informers {
            let synced = tokio::select! {
                _ = shutdown.wait() => return Ok(()),
                synced = tokio::time::timeout(settings.sync_timeout, informer.wait_for_sync()) => synced,
            };
            if !matches!(synced, Ok(true)) {
                return Err(RunError::Sync {
                    controller: name,
                    kind: informer.kind(),
                    timeout: settings.sync_timeout,
                    last_error: informer.last_error().unwrap_or_else(|| "no answer".into()),
                });
            }
        }
        info!(controller = %name, workers = settings.workers, "caches synced, reconciling");
        let driver = Driver {
            name,
            reconciler,
            workers: settings.workers.max(1),
            queue: WorkQueue::new(),
            running: JoinSet::new(),
            running_keys: HashMap::new(),
        };
        driver.run(keys, all_keys, settings.resync, shutdown).await;
        Ok(())
    }
    // ANCHOR_END: run
}

/// A running controller; dropping it aborts it.
pub struct ControllerHandle {
    name: String,
    stopper: Stopper,
    task: Option<JoinHandle<Result<(), RunError>>>,
}

impl ControllerHandle {
    /// Whether it ended on its own (a sync timeout).
    pub fn is_finished(&self) -> bool {
        self.task.as_ref().is_none_or(JoinHandle::is_finished)
    }

    /// Stops it: no new key is taken, the reconciles running may finish
    /// within `limit`, after which they are aborted. Returns the error it
    /// ended with, if it ended on its own.
    pub async fn stop(mut self, limit: Duration) -> Result<(), RunError> {
        self.stopper.stop();
        let Some(mut task) = self.task.take() else {
            return Ok(());
        };
        match tokio::time::timeout(limit, &mut task).await {
            Ok(joined) => joined.unwrap_or_else(|error| {
                Err(RunError::Failed {
                    controller: self.name.clone(),
                    message: format!("its task failed: {error}"),
                })
            }),
            Err(_) => {
                warn!(controller = %self.name, ?limit, "reconciles still running after the stop limit: aborted");
                task.abort();
                let _ = task.await;
                Ok(())
            }
        }
    }
}

impl Drop for ControllerHandle {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}
