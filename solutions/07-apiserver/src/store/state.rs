//! The store's in-memory state: the current value of every key, the recent
//! changes, and the watchers to tell about new ones.

use std::collections::{BTreeMap, VecDeque};

use super::watch::{Watcher, WatcherSender};
use super::{Change, ChangeKind, Entry, Options, Revision, StoreError};

pub(crate) struct State {
    entries: BTreeMap<String, Entry>,
    revision: Revision,
    history: VecDeque<Change>,
    /// Every change after this revision is in `history`.
    history_start: Revision,
    history_limit: usize,
    watchers: Vec<WatcherSender>,
    watcher_buffer: usize,
}

impl State {
    pub fn new(options: &Options) -> State {
        State {
            entries: BTreeMap::new(),
            revision: 0,
            history: VecDeque::new(),
            history_start: 0,
            history_limit: options.history.max(1),
            watchers: Vec::new(),
            watcher_buffer: options.watcher_buffer.max(1),
        }
    }

    pub fn revision(&self) -> Revision {
        self.revision
    }

    pub fn entries(&self) -> &BTreeMap<String, Entry> {
        &self.entries
    }

    pub fn get(&self, key: &str) -> Option<Entry> {
        self.entries.get(key).cloned()
    }

    pub fn list(&self, prefix: &str) -> (Vec<(String, Entry)>, Revision) {
        let items = self
            .entries
            .range(prefix.to_string()..)
            .take_while(|(key, _)| key.starts_with(prefix))
            .map(|(key, entry)| (key.clone(), entry.clone()))
            .collect();
        (items, self.revision)
    }

    /// Restores a recovered state (no watcher can exist yet).
    pub fn restore(&mut self, entries: BTreeMap<String, Entry>, revision: Revision) {
        self.entries = entries;
        self.revision = revision;
        self.history.clear();
        // What happened before the restart is not known change by change.
        self.history_start = revision;
    }

    /// Applies a durable change: the map, the history, the watchers. A
    /// watcher that cannot take the change is dropped.
    pub fn apply(&mut self, change: Change) {
        self.revision = self.revision.max(change.entry.mod_revision);
        match change.kind {
            ChangeKind::Deleted => {
                self.entries.remove(&change.key);
            }
            _ => {
                self.entries
                    .insert(change.key.clone(), change.entry.clone());
            }
        }
        self.watchers.retain(|watcher| watcher.offer(&change));
        if self.history.len() == self.history_limit
            && let Some(dropped) = self.history.pop_front()
        {
            self.history_start = dropped.entry.mod_revision;
        }
        self.history.push_back(change);
    }

    pub fn watch(&mut self, prefix: &str, after: Revision) -> Result<Watcher, StoreError> {
        if after < self.history_start {
            return Err(StoreError::Expired {
                requested: after,
                oldest: self.history_start,
            });
        }
        // A revision the store has not reached yet: nothing to replay, and
        // the changes up to it are skipped as they come (Kubernetes' watch
        // cache sends only events newer than the requested version).
        let (sender, watcher) = Watcher::new(prefix, after, self.watcher_buffer);
        // Under the same lock as `apply`: no change can slip in between the
        // replay and the registration, so there is neither gap nor double.
        for change in self.history.range(replay_start(&self.history, after)..) {
            if !sender.replay(change) {
                return Ok(watcher);
            }
        }
        self.watchers.push(sender);
        Ok(watcher)
    }

    /// Checks a write against the current state plus the writes already
    /// accepted in the same batch (`pending`).
    pub fn current<'a>(
        &'a self,
        pending: &'a BTreeMap<String, Option<Entry>>,
        key: &str,
    ) -> Option<&'a Entry> {
        match pending.get(key) {
            Some(pending) => pending.as_ref(),
            None => self.entries.get(key),
        }
    }
}

// ANCHOR: replay_start
/// Where the changes after revision `after` start in the history (which is
/// in revision order): the index of the first change with a greater
/// revision, or the history's length when there is none.
fn replay_start(history: &VecDeque<Change>, after: Revision) -> usize {
    // exercise 2: the index in the history of the first change after revision `after` (the history's length if none)
    // hint: The history is sorted by revision: a sorted sequence invites a binary search rather than a scan.
    // hint: VecDeque (like slices) has `partition_point`, which takes a predicate that is true for a first part of the sequence and false for the rest, and returns where the rest starts.
    // hint: history.partition_point(|change| change.entry.mod_revision <= after).
    history.partition_point(|change| change.entry.mod_revision <= after)
}
// ANCHOR_END: replay_start
