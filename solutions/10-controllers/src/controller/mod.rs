//! The controller pattern, as client-go's workqueue and controller-runtime
//! (kube-rs' `kube-runtime`) shape it:
//! - [`queue`]: the work queue of keys (pure: time is passed in);
//! - [`runner`]: a [`Controller`] put together from a reconciler and the
//!   informers that feed it, run until its [`Shutdown`];
//! - `driver`: the loop inside a running controller, which owns the queue
//!   and runs reconciles on workers;
//! - [`trigger`]: which keys a change of a watched object queues;
//! - [`shutdown`]: the stop signal the loops listen to;
//! - [`claim`]: which objects an owner manages (adopt, release).

pub mod claim;
mod driver;
pub mod queue;
pub mod runner;
pub mod shutdown;
pub mod trigger;

use apiserver::client::ClientError;
pub use apiserver::client::ObjectKey;
pub use queue::WorkQueue;
pub use runner::{Controller, ControllerHandle, RunError, Settings};
pub use shutdown::{Shutdown, Stopper};

/// What a reconcile asks for next. Named `controller::Action` (chapter 05
/// has a probe `Action`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub struct Action {
    /// Look at the key again after this long, even without a change.
    pub requeue_after: Option<std::time::Duration>,
}

impl Action {
    /// Reconcile again after `delay` (an expectation not met yet, a
    /// deadline to check).
    pub fn requeue(delay: std::time::Duration) -> Action {
        Action {
            requeue_after: Some(delay),
        }
    }

    /// Nothing to do until the object (or one it watches) changes.
    pub fn await_change() -> Action {
        Action {
            requeue_after: None,
        }
    }
}

/// One controller's logic: an idempotent reconcile of one key. `&self`
/// holds the caches it reads and the client it writes through. A key
/// whose object is gone from the cache means it was deleted.
pub trait Reconciler: Send + Sync + 'static {
    /// Wrap a [`ClientError`] as the error's *source* (`#[from]` or
    /// `#[source]` with thiserror), not `#[error(transparent)]`: the
    /// default [`Reconciler::error_policy`] finds a Conflict through the
    /// `source()` chain, which `transparent` skips.
    type Error: std::error::Error + Send + Sync + 'static;

    fn reconcile(
        &self,
        key: &ObjectKey,
    ) -> impl Future<Output = Result<Action, Self::Error>> + Send;

    /// What to do after a failed reconcile of `key`, the `failures`-th in
    /// a row (1 for the first since the last success). The default, as
    /// client-go's controllers do: retry after a per-key back-off (5 ms
    /// doubling to 1000 s), and at once after a 409 Conflict (the cache
    /// was behind: the next try reads the newer version).
    fn error_policy(&self, key: &ObjectKey, error: &Self::Error, failures: u32) -> Action {
        let _ = key;
        Action::requeue(queue::error_delay(failures, is_conflict(error)))
    }
}

/// Whether `error`, or an error in its `source()` chain, is the API
/// server's 409 Conflict.
pub fn is_conflict(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(error);
    while let Some(error) = current {
        if error
            .downcast_ref::<ClientError>()
            .is_some_and(ClientError::is_conflict)
        {
            return true;
        }
        current = error.source();
    }
    false
}
