//! The API server's storage: keys to JSON values, a revision counter shared
//! by every key (Kubernetes' resourceVersion), conditional writes
//! (optimistic concurrency), and watches that replay recent history.
//!
//! Every write goes through one writer thread, in batches: check each
//! write's precondition, give it the next revision, make the batch durable
//! (one fsync for the whole batch: group commit), and only then apply it to
//! the in-memory state, wake the watchers and answer the writers. A reader
//! never sees a write that a crash could take back.
//!
//! On disk (see `recovery` for the layout): a log of framed, checksummed
//! records, and now and then a snapshot of every key, after which the
//! older log goes. Opening a directory reads the snapshot and the log
//! after it; a last batch torn by a crash (never acknowledged) is cut off
//! and kept aside, while damage to acknowledged writes stops the start and
//! changes nothing.

mod record;
mod recovery;
mod snapshot;
mod state;
mod wal;
mod watch;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

pub use wal::{LogFile, LogLayer};
pub use watch::Watcher;

use state::State;
use writer::{Counters, Disk, Request, Write, Writer};

/// The revision of a write: one counter for the whole store, so that "every
/// change after N" means the same thing for every key.
pub type Revision = u64;

/// A stored value and the revisions that made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The object, serialized as JSON.
    pub value: Arc<[u8]>,
    /// The write that created the key.
    pub create_revision: Revision,
    /// The last write to the key (for a deletion: the deletion's).
    pub mod_revision: Revision,
}

/// What must hold for a write to go ahead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precondition {
    /// Nothing: create or overwrite.
    None,
    /// The key must not exist (create).
    Absent,
    /// The key must exist (any revision).
    Present,
    /// The key must exist with this mod revision (update of what was read).
    Revision(Revision),
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the key already exists")]
    AlreadyExists,
    #[error("the key does not exist")]
    NotFound,
    #[error("the key was modified: it is at revision {current}")]
    Conflict { current: Revision },
    #[error("revision {requested} is too old: history starts after {oldest}")]
    Expired {
        requested: Revision,
        oldest: Revision,
    },
    // The message is in the text; no `source`, or error chains would print
    // it twice.
    #[error("storage failed: {0}")]
    Io(std::io::Error),
    #[error("the store is closed")]
    Closed,
}

impl From<std::io::Error> for StoreError {
    fn from(error: std::io::Error) -> StoreError {
        StoreError::Io(error)
    }
}

/// A change, as watchers see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub kind: ChangeKind,
    pub key: String,
    /// The new value; for a deletion, the last value before it, with the
    /// deletion's revision as `mod_revision`.
    pub entry: Entry,
    /// The value before the change (none for a creation): a watcher with a
    /// selector needs both to tell whether the object entered, stayed in
    /// or left what it watches.
    pub prev: Option<Entry>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    Created,
    Updated,
    Deleted,
}

/// How the store keeps its promises.
#[derive(Debug, Clone)]
pub struct Options {
    /// How many recent changes a watch can start from.
    pub history: usize,
    /// How many changes a watcher may fall behind before it is dropped: a
    /// slow watcher must never slow the writers down.
    pub watcher_buffer: usize,
    /// Make each batch durable before acknowledging it (fsync). Off only
    /// for throwaway stores.
    pub durable: bool,
    /// Write a snapshot (and start the log afresh) once the log holds this
    /// many bytes: bounds both recovery time and disk use. 0: never.
    pub snapshot_after: u64,
    /// A layer between the log and its files (tests: a simulated power
    /// cut that forgets whatever was not synced). None: the files.
    pub log_layer: Option<LogLayer>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            history: 10_000,
            watcher_buffer: 10_000,
            durable: true,
            snapshot_after: 64 << 20,
            log_layer: None,
        }
    }
}

/// What the store holds and what it has done since it was opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stats {
    pub revision: Revision,
    pub keys: usize,
    /// Writes made durable (and applied).
    pub writes: u64,
    /// Batches written: with group commit, far fewer than writes.
    pub batches: u64,
    /// fsyncs of the log (one per batch when durable).
    pub syncs: u64,
    /// Snapshots written.
    pub snapshots: u64,
    /// Bytes in the log since the last snapshot.
    pub log_bytes: u64,
}

/// The store. Cheap to clone: clones share everything.
#[derive(Clone)]
pub struct Store {
    state: Arc<Mutex<State>>,
    /// The revision of the last applied batch, for those who wait for one.
    applied: tokio::sync::watch::Receiver<Revision>,
    writer: Arc<Writer>,
    counters: Arc<Counters>,
    dir: Option<PathBuf>,
}

impl Store {
    /// Opens (or creates) the store in `dir`, recovering what was
    /// acknowledged before the last stop, clean or not. One store at a
    /// time may have a directory open (an error otherwise).
    ///
    /// Blocking file I/O: from async code, call it in `spawn_blocking` or
    /// before the server starts.
    pub fn open(dir: &Path, options: Options) -> Result<Store, StoreError> {
        let recovered = recovery::recover(dir, options.durable, options.log_layer.clone())?;
        let mut state = State::new(&options);
        state.restore(recovered.entries, recovered.revision);
        let disk = Disk {
            dir: dir.to_path_buf(),
            wal: recovered.wal,
            lock: recovered.lock,
        };
        let counters = Arc::new(Counters::default());
        counters.log_bytes.store(disk.wal.len(), Ordering::Relaxed);
        Ok(Store::start(state, Some(disk), options, counters))
    }

    /// A store that keeps nothing on disk (tests, benchmarks of the rest).
    pub fn in_memory(options: Options) -> Store {
        let state = State::new(&options);
        Store::start(state, None, options, Arc::default())
    }

    fn start(state: State, disk: Option<Disk>, options: Options, counters: Arc<Counters>) -> Store {
        let dir = disk.as_ref().map(|disk| disk.dir.clone());
        let (applied_sender, applied) = tokio::sync::watch::channel(state.revision());
        let state = Arc::new(Mutex::new(state));
        let writer = Writer::start(
            state.clone(),
            disk,
            options,
            counters.clone(),
            applied_sender,
        );
        Store {
            state,
            applied,
            writer: Arc::new(writer),
            counters,
            dir,
        }
    }

    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// The revision of the last write.
    pub fn revision(&self) -> Revision {
        self.state.lock().unwrap().revision()
    }

    pub fn get(&self, key: &str) -> Option<Entry> {
        self.state.lock().unwrap().get(key)
    }

    /// Every key under `prefix`, in key order, and the revision they are
    /// consistent with (a watch from there misses nothing).
    pub fn list(&self, prefix: &str) -> (Vec<(String, Entry)>, Revision) {
        self.state.lock().unwrap().list(prefix)
    }

    /// Writes `value` at `key` if `precondition` holds; returns the new
    /// entry once it is durable (and visible to `get`, `list` and watches).
    /// If the log cannot be written, this write and every later one fail
    /// with `Io` until the store is reopened: after a failed fsync, what
    /// the kernel still holds cannot be trusted.
    pub async fn put(
        &self,
        key: &str,
        value: Vec<u8>,
        precondition: Precondition,
    ) -> Result<Entry, StoreError> {
        self.write(key, Some(value.into()), precondition).await
    }

    /// Deletes `key` if `precondition` holds; returns its last value, with
    /// the deletion's revision.
    pub async fn delete(&self, key: &str, precondition: Precondition) -> Result<Entry, StoreError> {
        self.write(key, None, precondition).await
    }

    async fn write(
        &self,
        key: &str,
        value: Option<Arc<[u8]>>,
        precondition: Precondition,
    ) -> Result<Entry, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.writer.send(Request::Write(Write {
            key: key.to_string(),
            value,
            precondition,
            reply,
        }))?;
        answer.await.map_err(|_| StoreError::Closed)?
    }

    /// Writes a snapshot now (and starts the log afresh); returns once it
    /// is durable. The store also does this by itself whenever the log
    /// grows past [`Options::snapshot_after`].
    pub async fn compact(&self) -> Result<(), StoreError> {
        let (reply, answer) = oneshot::channel();
        self.writer.send(Request::Snapshot { reply })?;
        answer.await.map_err(|_| StoreError::Closed)?
    }

    pub fn stats(&self) -> Stats {
        let (revision, keys) = {
            let state = self.state.lock().unwrap();
            (state.revision(), state.entries().len())
        };
        let counter = |counter: &std::sync::atomic::AtomicU64| counter.load(Ordering::Relaxed);
        Stats {
            revision,
            keys,
            writes: counter(&self.counters.writes),
            batches: counter(&self.counters.batches),
            syncs: counter(&self.counters.syncs),
            snapshots: counter(&self.counters.snapshots),
            log_bytes: counter(&self.counters.log_bytes),
        }
    }

    /// Waits until the store has reached `revision`, for at most `limit`;
    /// returns the current revision, reached or not. Kubernetes makes a
    /// read "not older than" a version it has not reached yet wait like
    /// this, then gives up with a timeout.
    pub async fn wait_for(&self, revision: Revision, limit: std::time::Duration) -> Revision {
        let mut applied = self.applied.clone();
        let _ = tokio::time::timeout(limit, applied.wait_for(|now| *now >= revision)).await;
        self.revision()
    }

    /// Every change under `prefix` after revision `after`: first those
    /// still in the history, then new ones as they happen. `Expired` when
    /// the history no longer reaches back to `after`.
    pub fn watch(&self, prefix: &str, after: Revision) -> Result<Watcher, StoreError> {
        self.state.lock().unwrap().watch(prefix, after)
    }
}
