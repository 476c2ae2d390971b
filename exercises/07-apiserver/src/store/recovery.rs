// Generated from solutions/07-apiserver/src/store/recovery.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
//! Opening a store directory: the newest snapshot, then every log record
//! after it, in revision order.
//!
//! ```text
//! dir/LOCK                     held (flock) while a store has the directory open
//! dir/snap-<revision>          every live key at <revision>
//! dir/wal-<first revision>     the log, one segment per snapshot interval
//! ```
//!
//! Revisions have no gaps: every write takes the next one. So recovery
//! knows exactly which record must come next, and a record that is torn,
//! garbled or out of sequence ends the log. In the last segment that is
//! the normal trace of a crash in the middle of an append (never
//! acknowledged): the tail is cut off. In an older segment, which was
//! whole and synced before the next one began, it is damage: the store
//! refuses to open rather than lose acknowledged writes silently.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

use super::record::{self, Record};
use super::snapshot::{self, TEMP_SUFFIX, snapshot_revision};
use super::wal::{Wal, segment_start, sync_dir};
use super::{Entry, Revision, StoreError};

/// What a directory holds once recovered.
pub(crate) struct Recovered {
    pub entries: BTreeMap<String, Entry>,
    pub revision: Revision,
    pub wal: Wal,
    /// Held for as long as the store is open.
    pub lock: File,
}

pub(crate) fn recover(dir: &Path, durable: bool) -> Result<Recovered, StoreError> {
    if !dir.exists() {
        std::fs::create_dir_all(dir)?;
        // The directory's own entry must survive a crash too.
        if durable && let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
            sync_dir(parent)?;
        }
    }
    let lock = File::create(dir.join("LOCK"))?;
    lock.try_lock().map_err(|_| {
        io::Error::new(
            io::ErrorKind::WouldBlock,
            format!("{} is in use by another store", dir.display()),
        )
    })?;
    let files = Files::list(dir)?;
    for temp in &files.temporary {
        std::fs::remove_file(temp)?;
    }

    let (mut revision, mut entries) = match files.snapshots.last() {
        Some((_, path)) => snapshot::read(path)?,
        None => (0, BTreeMap::new()),
    };
    let snapshot_revision = revision;

    let mut wal = None;
    for (index, (start, path)) in files.segments.iter().enumerate() {
        let last = index + 1 == files.segments.len();
        let bytes = std::fs::read(path)?;
        let mut good = 0;
        while let Some((payload, len)) = record::unframe(&bytes[good..]) {
            let Some(record) = Record::decode(payload) else {
                break;
            };
            if revision == snapshot_revision && record.revision <= snapshot_revision {
                good += len; // already in the snapshot
                continue;
            }
            if record.revision != revision + 1 {
                break;
            }
            revision = record.revision;
            match record.value {
                Some(value) => {
                    let entry = Entry {
                        value,
                        create_revision: record.create_revision,
                        mod_revision: record.revision,
                    };
                    entries.insert(record.key, entry);
                }
                None => {
                    entries.remove(&record.key);
                }
            }
            good += len;
        }
        if good < bytes.len() && !last {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "log segment {} (from revision {start}) is damaged at byte {good}",
                    path.display()
                ),
            )
            .into());
        }
        if last {
            let file = OpenOptions::new().append(true).open(path)?;
            if good < bytes.len() {
                file.set_len(good as u64)?;
                if durable {
                    file.sync_all()?;
                }
            }
            wal = Some(Wal::resume(dir, file, good as u64, durable));
        }
    }
    let wal = match wal {
        Some(wal) => wal,
        None => Wal::create(dir, revision + 1, durable)?,
    };
    remove_obsolete(dir, snapshot_revision)?;
    Ok(Recovered {
        entries,
        revision,
        wal,
        lock,
    })
}

/// Deletes what the snapshot at `revision` makes useless: older snapshots
/// and the segments whose every record it holds (those followed by a
/// segment that starts at or before `revision + 1`).
pub(crate) fn remove_obsolete(dir: &Path, revision: Revision) -> io::Result<()> {
    let files = Files::list(dir)?;
    for (older, path) in &files.snapshots {
        if *older < revision {
            std::fs::remove_file(path)?;
        }
    }
    for pair in files.segments.windows(2) {
        let (next_start, _) = &pair[1];
        if *next_start <= revision + 1 {
            std::fs::remove_file(&pair[0].1)?;
        }
    }
    Ok(())
}

/// The store's files in a directory, each kind sorted by revision.
struct Files {
    snapshots: Vec<(Revision, PathBuf)>,
    segments: Vec<(Revision, PathBuf)>,
    temporary: Vec<PathBuf>,
}

impl Files {
    fn list(dir: &Path) -> io::Result<Files> {
        let mut files = Files {
            snapshots: Vec::new(),
            segments: Vec::new(),
            temporary: Vec::new(),
        };
        for item in std::fs::read_dir(dir)? {
            let path = item?.path();
            let Some(name) = path.file_name().and_then(|name| name.to_str()) else {
                continue;
            };
            if name.ends_with(TEMP_SUFFIX) {
                files.temporary.push(path);
            } else if let Some(revision) = snapshot_revision(name) {
                files.snapshots.push((revision, path));
            } else if let Some(start) = segment_start(name) {
                files.segments.push((start, path));
            }
        }
        files.snapshots.sort();
        files.segments.sort();
        Ok(files)
    }
}
