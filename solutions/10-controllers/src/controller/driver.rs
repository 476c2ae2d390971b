//! The loop at the heart of a running controller: one task owns the
//! [`WorkQueue`] and moves keys through it — from the informers' triggers
//! and the resync in, to at most `workers` reconcile tasks out, and back
//! in as each result asks (client-go's `processNextWorkItem`: `Forget` on
//! success, `AddRateLimited` on error, `Done` in any case).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use apiserver::client::ObjectKey;
use tokio::sync::mpsc;
use tokio::task::{Id, JoinError, JoinSet};
use tokio::time::Instant;
use tracing::{Instrument, debug, warn};

use super::queue::{WorkQueue, error_delay};
use super::shutdown::Shutdown;
use super::{Action, Reconciler};

/// The loop that owns the queue.
pub(super) struct Driver<R: Reconciler> {
    pub(super) name: String,
    pub(super) reconciler: Arc<R>,
    pub(super) workers: usize,
    pub(super) queue: WorkQueue<ObjectKey>,
    pub(super) running: JoinSet<Result<Action, R::Error>>,
    /// The key each reconcile task works on.
    pub(super) running_keys: HashMap<Id, ObjectKey>,
}

impl<R: Reconciler> Driver<R> {
    pub(super) async fn run(
        mut self,
        mut keys: mpsc::UnboundedReceiver<ObjectKey>,
        all_keys: Box<dyn Fn() -> Vec<ObjectKey> + Send>,
        resync: Option<Duration>,
        mut shutdown: Shutdown,
    ) {
        let mut resync = resync.filter(|every| !every.is_zero()).map(|every| {
            let mut interval = tokio::time::interval_at(Instant::now() + every, every);
            interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            interval
        });
        let mut keys_open = true;
        loop {
            self.start_due();
            // With every worker busy, a due key waits for one to finish.
            let wake = (self.running.len() < self.workers)
                .then(|| self.queue.next_due())
                .flatten()
                .map(Instant::from_std);
            tokio::select! {
                _ = shutdown.wait() => break,
                key = keys.recv(), if keys_open => match key {
                    Some(key) => {
                        let now = Instant::now().into_std();
                        self.queue.add(key, now);
                        while let Ok(key) = keys.try_recv() {
                            self.queue.add(key, now);
                        }
                    }
                    None => keys_open = false,
                },
                Some(finished) = self.running.join_next_with_id(), if !self.running.is_empty() => {
                    self.finished(finished);
                }
                _ = sleep_until(wake), if wake.is_some() => {}
                _ = tick(&mut resync), if resync.is_some() => {
                    let now = Instant::now().into_std();
                    for key in all_keys() {
                        self.queue.add(key, now);
                    }
                }
            }
        }
        // Graceful stop: no new key; the reconciles running finish.
        self.queue.shut_down();
        while let Some(finished) = self.running.join_next_with_id().await {
            self.finished(finished);
        }
    }

    /// Hands due keys to free workers.
    fn start_due(&mut self) {
        while self.running.len() < self.workers {
            let Some(key) = self.queue.pop(Instant::now().into_std()) else {
                return;
            };
            let span = tracing::info_span!("reconcile", controller = %self.name, key = %key);
            let reconciler = Arc::clone(&self.reconciler);
            let task_key = key.clone();
            let task = self
                .running
                .spawn(async move { reconciler.reconcile(&task_key).await }.instrument(span));
            self.running_keys.insert(task.id(), key);
        }
    }

    /// A reconcile ended: forget or count the failure, requeue as asked,
    /// release the key.
    fn finished(&mut self, finished: Result<(Id, Result<Action, R::Error>), JoinError>) {
        let (id, outcome) = match finished {
            Ok((id, outcome)) => (id, Ok(outcome)),
            Err(error) => (error.id(), Err(error)),
        };
        let Some(key) = self.running_keys.remove(&id) else {
            return;
        };
        let requeue = match outcome {
            Ok(Ok(action)) => {
                self.queue.forget(&key);
                debug!(controller = %self.name, %key, requeue_after = ?action.requeue_after, "reconciled");
                action.requeue_after
            }
            Ok(Err(error)) => {
                let failures = self.queue.failed(&key);
                let action = self.reconciler.error_policy(&key, &error, failures);
                warn!(controller = %self.name, %key, failures, retry_in = ?action.requeue_after, "reconcile failed: {error}");
                action.requeue_after
            }
            Err(error) if error.is_cancelled() => None,
            Err(error) => {
                // A panic (a learner's todo!()): retried as a failure.
                let failures = self.queue.failed(&key);
                let delay = error_delay(failures, false);
                warn!(controller = %self.name, %key, failures, retry_in = ?delay, "reconcile panicked: {error}");
                Some(delay)
            }
        };
        // A delay too long to add to the clock is "never".
        if let Some(at) = requeue.and_then(|delay| Instant::now().into_std().checked_add(delay)) {
            self.queue.add(key.clone(), at);
        }
        self.queue.done(&key);
    }
}

async fn sleep_until(wake: Option<Instant>) {
    match wake {
        Some(wake) => tokio::time::sleep_until(wake).await,
        None => std::future::pending().await,
    }
}

async fn tick(interval: &mut Option<tokio::time::Interval>) {
    match interval {
        Some(interval) => {
            interval.tick().await;
        }
        None => std::future::pending().await,
    }
}
