//! The writer thread: batches of writes, checked, logged, synced once,
//! applied, acknowledged; and, when the log has grown, a snapshot.
//!
//! ```text
//!  put/delete ──► channel ──► writer thread
//!  (async tasks)               │ 1. take every queued request (a batch)
//!                              │ 2. check preconditions, give revisions    (state lock, no I/O)
//!                              │ 3. append the batch to the log, fdatasync (no lock)
//!                              │ 4. apply: map, history, watchers          (state lock, no I/O)
//!                              │ 5. answer every writer of the batch
//!                              └ 6. log too long? new segment, snapshot in the background
//! ```
//!
//! While one batch is being synced the next one queues up, so the more
//! writers wait, the more each fsync carries: group commit.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::thread::JoinHandle;

use tokio::sync::oneshot;

use super::record::Record;
use super::recovery::remove_obsolete;
use super::state::State;
use super::wal::Wal;
use super::{Change, ChangeKind, Entry, Options, Precondition, StoreError, snapshot};

/// How many requests one batch takes at most.
const BATCH: usize = 1024;

pub(crate) enum Request {
    Write(Write),
    /// Take a snapshot now; answered once it is durable.
    Snapshot {
        reply: oneshot::Sender<Result<(), StoreError>>,
    },
}

/// A put (with a value) or a delete (without).
pub(crate) struct Write {
    pub key: String,
    pub value: Option<Arc<[u8]>>,
    pub precondition: Precondition,
    pub reply: Reply,
}

/// What the writer has done so far (for [`super::Stats`]).
#[derive(Default)]
pub(crate) struct Counters {
    pub writes: AtomicU64,
    pub batches: AtomicU64,
    pub syncs: AtomicU64,
    pub snapshots: AtomicU64,
    pub log_bytes: AtomicU64,
}

/// A store's files: where they are, the log being appended to, and the
/// directory's lock, held until the writer stops.
pub(crate) struct Disk {
    pub dir: PathBuf,
    pub wal: Wal,
    /// Never read: holding it open keeps the directory's flock.
    #[allow(dead_code)]
    pub lock: File,
}

pub(crate) struct Writer {
    requests: Mutex<Option<mpsc::Sender<Request>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Writer {
    pub fn start(
        state: Arc<Mutex<State>>,
        disk: Option<Disk>,
        options: Options,
        counters: Arc<Counters>,
        applied: tokio::sync::watch::Sender<super::Revision>,
    ) -> Writer {
        let (sender, receiver) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("store-writer".into())
            .spawn(move || {
                let mut writer = Thread {
                    state,
                    disk,
                    options,
                    counters,
                    applied,
                    failed: None,
                    snapshot: None,
                };
                writer.run(receiver);
            })
            .expect("the store's writer thread starts");
        Writer {
            requests: Mutex::new(Some(sender)),
            thread: Mutex::new(Some(thread)),
        }
    }

    pub fn send(&self, request: Request) -> Result<(), StoreError> {
        self.requests
            .lock()
            .unwrap()
            .as_ref()
            .ok_or(StoreError::Closed)?
            .send(request)
            .map_err(|_| StoreError::Closed)
    }
}

impl Drop for Writer {
    /// Lets the thread finish what is queued, then waits for it (and for a
    /// snapshot in progress), so that the directory is free once the last
    /// clone of the store is gone.
    fn drop(&mut self) {
        self.requests.lock().unwrap().take();
        if let Some(thread) = self.thread.lock().unwrap().take() {
            let _ = thread.join();
        }
    }
}

/// The writer thread's own state.
struct Thread {
    state: Arc<Mutex<State>>,
    disk: Option<Disk>,
    options: Options,
    counters: Arc<Counters>,
    /// Told the revision after each applied batch.
    applied: tokio::sync::watch::Sender<super::Revision>,
    /// Why the log can no longer be written, once it cannot: every later
    /// write fails with it (reopen the store to recover).
    failed: Option<String>,
    snapshot: Option<JoinHandle<()>>,
}

impl Thread {
    fn run(&mut self, requests: mpsc::Receiver<Request>) {
        while let Ok(first) = requests.recv() {
            let mut batch = vec![first];
            while batch.len() < BATCH {
                match requests.try_recv() {
                    Ok(request) => batch.push(request),
                    Err(_) => break,
                }
            }
            let mut writes = Vec::with_capacity(batch.len());
            for request in batch {
                match request {
                    Request::Snapshot { reply } => self.start_snapshot(Some(reply)),
                    Request::Write(write) => writes.push(write),
                }
            }
            if !writes.is_empty() {
                self.write(writes);
            }
            let long = self.disk.as_ref().is_some_and(|disk| {
                disk.wal.len() >= self.options.snapshot_after && self.options.snapshot_after > 0
            });
            if long && self.snapshot.as_ref().is_none_or(|s| s.is_finished()) {
                self.start_snapshot(None);
            }
        }
        if let Some(snapshot) = self.snapshot.take() {
            let _ = snapshot.join();
        }
    }

    /// One batch of writes: decide, log, apply, answer.
    fn write(&mut self, batch: Vec<Write>) {
        if let Some(why) = &self.failed {
            for write in batch {
                let _ = write.reply.send(Err(io_error(why)));
            }
            return;
        }
        let decided = decide(&self.state, batch);
        let records: Vec<Record> = decided
            .iter()
            .filter_map(|(outcome, _)| outcome.as_ref().ok().map(Record::of))
            .collect();
        if let Some(disk) = &mut self.disk
            && !records.is_empty()
        {
            let before = disk.wal.len();
            if let Err(error) = disk.wal.append(&records) {
                // Nothing of this batch is applied: every writer hears why.
                let why = format!("the log could not be written: {error}");
                for (_, reply) in decided {
                    let _ = reply.send(Err(io_error(&why)));
                }
                self.failed = Some(why);
                return;
            }
            self.counters
                .log_bytes
                .fetch_add(disk.wal.len() - before, Ordering::Relaxed);
            if self.options.durable {
                self.counters.syncs.fetch_add(1, Ordering::Relaxed);
            }
        }
        if !records.is_empty() {
            self.counters.batches.fetch_add(1, Ordering::Relaxed);
        }
        self.counters
            .writes
            .fetch_add(records.len() as u64, Ordering::Relaxed);
        let mut state = self.state.lock().unwrap();
        for (outcome, reply) in decided {
            let answer = outcome.map(|change| {
                let entry = change.entry.clone();
                state.apply(change);
                entry
            });
            let _ = reply.send(answer);
        }
        self.applied.send_replace(state.revision());
    }

    /// Starts a new log segment and writes a snapshot of everything before
    /// it in the background; once the snapshot is durable, the older
    /// segments go. Writes go on meanwhile, into the new segment.
    fn start_snapshot(&mut self, reply: Option<oneshot::Sender<Result<(), StoreError>>>) {
        let Some(disk) = &mut self.disk else {
            if let Some(reply) = reply {
                let _ = reply.send(Ok(()));
            }
            return;
        };
        // One at a time: an explicit request waits for the one in progress.
        if let Some(previous) = self.snapshot.take() {
            let _ = previous.join();
        }
        // Copying the map is no I/O, and its values are shared, not copied.
        let (entries, revision) = {
            let state = self.state.lock().unwrap();
            (state.entries().clone(), state.revision())
        };
        if let Err(error) = disk.wal.rotate(revision + 1) {
            if let Some(reply) = reply {
                let _ = reply.send(Err(error.into()));
            }
            return;
        }
        self.counters.log_bytes.store(0, Ordering::Relaxed);
        let dir = disk.dir.clone();
        let durable = self.options.durable;
        let counters = self.counters.clone();
        let thread = std::thread::Builder::new()
            .name("store-snapshot".into())
            .spawn(move || {
                let written = snapshot::write(&dir, revision, &entries, durable)
                    .and_then(|()| remove_obsolete(&dir, revision));
                if written.is_ok() {
                    counters.snapshots.fetch_add(1, Ordering::Relaxed);
                }
                match reply {
                    Some(reply) => {
                        let _ = reply.send(written.map_err(StoreError::from));
                    }
                    // The log keeps everything: the next snapshot tries again.
                    None => {
                        if let Err(error) = written {
                            eprintln!("store: snapshot at revision {revision} failed: {error}");
                        }
                    }
                }
            });
        match thread {
            Ok(thread) => self.snapshot = Some(thread),
            Err(error) => eprintln!("store: cannot start a snapshot: {error}"),
        }
    }
}

fn io_error(why: &str) -> StoreError {
    StoreError::Io(std::io::Error::other(why.to_string()))
}

type Reply = oneshot::Sender<Result<Entry, StoreError>>;

/// Checks every request of the batch, in order, against the state and the
/// requests before it; gives each accepted one its revision.
fn decide(state: &Mutex<State>, batch: Vec<Write>) -> Vec<(Result<Change, StoreError>, Reply)> {
    let state = state.lock().unwrap();
    let mut revision = state.revision();
    let mut pending: BTreeMap<String, Option<Entry>> = BTreeMap::new();
    let mut decided = Vec::with_capacity(batch.len());
    for write in batch {
        let Write {
            key,
            value,
            precondition,
            reply,
        } = write;
        let current = state.current(&pending, &key).cloned();
        let outcome = check(current.as_ref(), precondition, value.is_none()).map(|()| {
            revision += 1;
            let (kind, entry) = match (value, &current) {
                (Some(value), None) => (
                    ChangeKind::Created,
                    Entry {
                        value,
                        create_revision: revision,
                        mod_revision: revision,
                    },
                ),
                (Some(value), Some(old)) => (
                    ChangeKind::Updated,
                    Entry {
                        value,
                        create_revision: old.create_revision,
                        mod_revision: revision,
                    },
                ),
                (None, Some(old)) => (
                    ChangeKind::Deleted,
                    Entry {
                        mod_revision: revision,
                        ..old.clone()
                    },
                ),
                (None, None) => unreachable!("check refuses deleting what is not there"),
            };
            pending.insert(
                key.clone(),
                (kind != ChangeKind::Deleted).then(|| entry.clone()),
            );
            Change {
                kind,
                key,
                entry,
                prev: current.clone(),
            }
        });
        decided.push((outcome, reply));
    }
    decided
}

// ANCHOR: check
/// Whether a write may go ahead, given the key's current entry: optimistic
/// concurrency, the heart of every update in Kubernetes.
fn check(
    current: Option<&Entry>,
    precondition: Precondition,
    delete: bool,
) -> Result<(), StoreError> {
    // exercise 1: whether a write with this precondition may go ahead, given the key's current entry
    // hint: This is optimistic concurrency: a write says what it expects to find (nothing, something, or a given revision) and fails if the store holds something else. Each StoreError variant names one way the expectation fails.
    // hint: Deleting a missing key is NotFound. A create (Absent) fails with AlreadyExists when the key is there. Present and Revision(_) need the key (NotFound without it), and Revision(r) needs its mod_revision to be r, else Conflict with the current revision. Everything else goes ahead.
    // hint: match (precondition, current) { (_, None) if delete → NotFound; (Absent, Some(_)) → AlreadyExists; (Present | Revision(_), None) → NotFound; (Revision(expected), Some(entry)) if entry.mod_revision != expected → Conflict { current: entry.mod_revision }; _ → Ok(()) }.
    match (precondition, current) {
        (_, None) if delete => Err(StoreError::NotFound),
        (Precondition::Absent, Some(_)) => Err(StoreError::AlreadyExists),
        (Precondition::Present | Precondition::Revision(_), None) => Err(StoreError::NotFound),
        (Precondition::Revision(expected), Some(entry)) if entry.mod_revision != expected => {
            Err(StoreError::Conflict {
                current: entry.mod_revision,
            })
        }
        _ => Ok(()),
    }
}
// ANCHOR_END: check
