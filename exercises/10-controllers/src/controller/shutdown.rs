// Generated from solutions/10-controllers/src/controller/shutdown.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
//! The stop signal every loop of this chapter listens to, as mini-redis's
//! `Shutdown`: one [`Stopper`] says stop, any number of [`Shutdown`]
//! clones hear it (a `watch` channel, so a late listener still hears a
//! stop that came before it looked). Dropping the `Stopper` counts as a
//! stop, so a task never outlives the component that owns it.

use tokio::sync::watch;

/// The sending side: [`Stopper::stop`] (or dropping it) stops every
/// [`Shutdown`] made from it.
#[derive(Debug)]
pub struct Stopper(watch::Sender<bool>);

/// The listening side: cheap to clone, one per task.
#[derive(Debug, Clone)]
pub struct Shutdown(watch::Receiver<bool>);

impl Shutdown {
    /// A new signal, not given yet.
    pub fn channel() -> (Stopper, Shutdown) {
        let (sender, receiver) = watch::channel(false);
        (Stopper(sender), Shutdown(receiver))
    }

    /// Whether the stop was given.
    pub fn is_stopping(&self) -> bool {
        *self.0.borrow() || self.0.has_changed().is_err()
    }

    /// Returns once the stop is given (at once if it already was).
    pub async fn wait(&mut self) {
        // An error means the Stopper is gone: that is a stop too.
        let _ = self.0.wait_for(|stop| *stop).await;
    }
}

impl Stopper {
    pub fn stop(&self) {
        self.0.send_replace(true);
    }

    /// Another listener.
    pub fn subscribe(&self) -> Shutdown {
        Shutdown(self.0.subscribe())
    }
}
