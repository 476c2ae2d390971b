//! Watchers: a bounded queue each, filled by the writer, drained by the
//! watch's reader. A full queue means the reader is too slow: the writer
//! drops the watcher instead of waiting for it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::mpsc;

use super::{Change, Revision};

pub(crate) struct WatcherSender {
    prefix: String,
    /// Changes up to this revision are not for this watcher: it asked for
    /// what comes after a revision the store had not reached yet.
    after: Revision,
    sender: mpsc::Sender<Change>,
    lagged: Arc<AtomicBool>,
}

impl WatcherSender {
    /// Queues the change if it is under the watcher's prefix; false when the
    /// watcher is gone or too far behind (it is then dropped).
    pub fn offer(&self, change: &Change) -> bool {
        if change.entry.mod_revision <= self.after {
            return !self.sender.is_closed();
        }
        self.replay(change)
    }

    /// Queues a change from the history (the caller picked it), like
    /// [`WatcherSender::offer`] without the revision check.
    pub fn replay(&self, change: &Change) -> bool {
        if !change.key.starts_with(&self.prefix) {
            return !self.sender.is_closed();
        }
        match self.sender.try_send(change.clone()) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.lagged.store(true, Ordering::SeqCst);
                false
            }
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        }
    }
}

/// The changes under one prefix, in revision order.
pub struct Watcher {
    receiver: mpsc::Receiver<Change>,
    lagged: Arc<AtomicBool>,
}

impl Watcher {
    /// A watcher of the changes under `prefix` with revisions above
    /// `after`.
    pub(crate) fn new(prefix: &str, after: Revision, buffer: usize) -> (WatcherSender, Watcher) {
        let (sender, receiver) = mpsc::channel(buffer);
        let lagged = Arc::new(AtomicBool::new(false));
        (
            WatcherSender {
                prefix: prefix.to_string(),
                after,
                sender,
                lagged: lagged.clone(),
            },
            Watcher { receiver, lagged },
        )
    }

    /// The next change; `None` once the watch has ended (the store closed,
    /// or this watcher fell too far behind: see [`Watcher::lagged`]).
    pub async fn next(&mut self) -> Option<Change> {
        self.receiver.recv().await
    }

    /// Whether the watch ended because its reader was too slow. The reader
    /// should start a new watch from the last revision it saw.
    pub fn lagged(&self) -> bool {
        self.lagged.load(Ordering::SeqCst)
    }
}
