//! Watchers: a bounded queue each, filled by the writer, drained by the
//! watch's reader. A full queue means the reader is too slow: the writer
//! drops the watcher instead of waiting for it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::mpsc;

use super::Change;

pub(crate) struct WatcherSender {
    prefix: String,
    sender: mpsc::Sender<Change>,
    lagged: Arc<AtomicBool>,
}

impl WatcherSender {
    /// Queues the change if it is under the watcher's prefix; false when the
    /// watcher is gone or too far behind (it is then dropped).
    pub fn offer(&self, change: &Change) -> bool {
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
    pub(crate) fn new(prefix: &str, buffer: usize) -> (WatcherSender, Watcher) {
        let (sender, receiver) = mpsc::channel(buffer);
        let lagged = Arc::new(AtomicBool::new(false));
        (
            WatcherSender {
                prefix: prefix.to_string(),
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
