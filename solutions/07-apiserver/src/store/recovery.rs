//! Opening a store directory: the newest snapshot, then every log record
//! after it, in revision order.
//!
//! ```text
//! dir/LOCK                        held (flock) while a store has the directory open
//! dir/FORMAT                      which on-disk format the directory holds
//! dir/snap-<revision>             every live key at <revision>
//! dir/wal-<first revision>        the log, one segment per snapshot interval
//! dir/wal-<first>.torn-<offset>   a torn last batch cut off at <offset>, kept for a look
//! ```
//!
//! Revisions have no gaps: every write takes the next one. So recovery
//! knows exactly which record must come next, and a record that is torn,
//! garbled or out of sequence is where the good log ends. What follows may
//! be cut off only if it is the batch that a crash interrupted: that batch
//! was never acknowledged (the answers wait for its fdatasync). Everything
//! else refuses the start, naming the file and the byte, and changes
//! nothing on disk:
//!
//! - damage in an older segment (it was whole and synced before the next
//!   one began);
//! - damage in the last segment followed by an intact record of a *later*
//!   batch (each log record names the first revision of its batch): that
//!   later batch was written after the damaged one had been synced and
//!   acknowledged. Intact records of the *same* batch after the damage are
//!   still a torn write: the disk may have written its sectors in any
//!   order (etcd's WAL reasons the same way about torn entries);
//! - a segment that starts after a gap in the revisions.
//!
//! The bytes cut off are kept aside in `wal-<first>.torn-<offset>`, with a
//! warning, so that nothing vanishes silently. An empty segment left by a
//! rotation that did not finish holds nothing and is removed.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use super::record::{self, Record};
use super::snapshot::{self, TEMP_SUFFIX, snapshot_revision};
use super::wal::{LogLayer, Wal, segment_name, segment_start, sync_dir};
use super::{Entry, Revision, StoreError};

/// What a directory holds once recovered.
pub(crate) struct Recovered {
    pub entries: BTreeMap<String, Entry>,
    pub revision: Revision,
    pub wal: Wal,
    /// Held for as long as the store is open.
    pub lock: File,
}

pub(crate) fn recover(
    dir: &Path,
    durable: bool,
    layer: Option<LogLayer>,
) -> Result<Recovered, StoreError> {
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
    check_format(dir, &files, durable)?;
    for temp in &files.temporary {
        std::fs::remove_file(temp)?;
    }

    let (mut revision, mut entries) = match files.snapshots.last() {
        Some((_, path)) => snapshot::read(path)?,
        None => (0, BTreeMap::new()),
    };
    let snapshot_revision = revision;

    // Read everything first and decide; touch the files only once the
    // whole log is known to be sound.
    let mut sizes = Vec::with_capacity(files.segments.len());
    for (_, path) in &files.segments {
        sizes.push(std::fs::metadata(path)?.len());
    }
    let last_written = sizes.iter().rposition(|size| *size > 0);
    let mut empty = Vec::new();
    // The segment to go on appending to: its start, path and good length.
    let mut active: Option<(Revision, PathBuf, u64)> = None;
    let mut torn: Option<(Revision, PathBuf, u64, Vec<u8>)> = None;
    for (index, (start, path)) in files.segments.iter().enumerate() {
        if sizes[index] == 0 {
            empty.push((*start, path.clone()));
            continue;
        }
        // Each segment starts where the log before it ends (the first may
        // also start inside what the snapshot holds).
        let misplaced = match active {
            None => *start > revision + 1,
            Some(_) => *start != revision + 1,
        };
        if misplaced {
            return Err(misplaced_segment(path, *start, revision));
        }
        let bytes = std::fs::read(path)?;
        let mut good = 0;
        let mut batch = None;
        while let Some((payload, len)) = record::unframe(&bytes[good..]) {
            let Some((record_batch, record)) = Record::decode_logged(payload) else {
                break;
            };
            if revision == snapshot_revision && record.revision <= snapshot_revision {
                batch = Some(record_batch);
                good += len; // already in the snapshot
                continue;
            }
            // In sequence, and in a batch that starts at its first record.
            let next_batch = record_batch == record.revision || Some(record_batch) == batch;
            if record.revision != revision + 1 || !next_batch {
                break;
            }
            batch = Some(record_batch);
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
        if good < bytes.len() {
            let damaged = |why: String| -> StoreError {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "log segment {} is damaged at byte {good} (the record after revision {revision}): {why}; the store refuses to start and has changed nothing",
                        path.display()
                    ),
                )
                .into()
            };
            if Some(index) != last_written {
                return Err(damaged(
                    "a later segment follows, so this one was whole and acknowledged".into(),
                ));
            }
            if let Some((at, later)) = later_batch(&bytes[good..], revision + 1) {
                return Err(damaged(format!(
                    "an intact record of a later batch (from revision {later}) follows at byte {}, so the damaged writes were acknowledged",
                    good + at
                )));
            }
            torn = Some((*start, path.clone(), good as u64, bytes[good..].to_vec()));
        }
        active = Some((*start, path.clone(), good as u64));
    }
    // After the last written segment: at most the one a finished rotation
    // made for the next revision; older names are leftovers of a rotation
    // that failed; a later name means revisions are missing.
    for (start, path) in &empty {
        if *start > revision + 1 {
            return Err(misplaced_segment(path, *start, revision));
        }
        if *start == revision + 1 && last_written.is_none_or(|i| files.segments[i].0 < *start) {
            active = Some((*start, path.clone(), 0));
        }
    }

    // Sound: now cut the torn batch (kept aside) and drop empty leftovers.
    if let Some((start, path, good, cut)) = torn {
        let aside = keep_aside(dir, start, good, &cut, durable)?;
        let file = OpenOptions::new().write(true).open(&path)?;
        file.set_len(good)?;
        if durable {
            file.sync_all()?;
        }
        eprintln!(
            "store: {}: cut {} bytes of a torn last batch at byte {good} (a crash during its write; never acknowledged); kept in {}",
            path.display(),
            cut.len(),
            aside.display(),
        );
    }
    for (_, path) in &empty {
        if active.as_ref().is_none_or(|(_, active, _)| active != path) {
            std::fs::remove_file(path)?;
        }
    }
    if durable && !empty.is_empty() {
        sync_dir(dir)?;
    }
    let wal = match active {
        Some((_, path, good)) => {
            let file = OpenOptions::new().append(true).open(&path)?;
            Wal::resume(&path, file, good, durable, layer)
        }
        None => Wal::create(dir, revision + 1, durable, layer)?,
    };
    remove_obsolete(dir, snapshot_revision)?;
    Ok(Recovered {
        entries,
        revision,
        wal,
        lock,
    })
}

/// The name of the file that says which on-disk format a directory holds.
const FORMAT_FILE: &str = "FORMAT";
/// Format 2: every log record names the first revision of its batch.
/// Format 1 (no `FORMAT` file) had no batches and cannot be read safely.
const FORMAT: &str = "k8s-mini store 2\n";

/// A directory with a log or snapshot must say it holds this format; an
/// empty one is marked as holding it. A directory of an older k8s-mini is
/// refused with what to do, not mistaken for a damaged log.
fn check_format(dir: &Path, files: &Files, durable: bool) -> Result<(), StoreError> {
    let path = dir.join(FORMAT_FILE);
    let has_data = !files.segments.is_empty() || !files.snapshots.is_empty();
    match std::fs::read_to_string(&path) {
        Ok(found) if found == FORMAT => Ok(()),
        Ok(found) => Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "{} says {:?}, but this k8s-mini reads {:?}; the store refuses to start and has changed nothing",
                path.display(),
                found.trim(),
                FORMAT.trim()
            ),
        )
        .into()),
        Err(error) if error.kind() == io::ErrorKind::NotFound && has_data => Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "{} holds a store written by an older k8s-mini (its log records have no batches, and no {FORMAT_FILE} file): \
                 move the directory aside and start with an empty one; the store has changed nothing",
                dir.display()
            ),
        )
        .into()),
        Err(error) if error.kind() == io::ErrorKind::NotFound => {
            let mut file = OpenOptions::new().write(true).create_new(true).open(&path)?;
            file.write_all(FORMAT.as_bytes())?;
            if durable {
                file.sync_all()?;
                sync_dir(dir)?;
            }
            Ok(())
        }
        Err(error) => Err(error.into()),
    }
}

fn misplaced_segment(path: &Path, start: Revision, revision: Revision) -> StoreError {
    let what = if start > revision + 1 {
        "the revisions between are missing"
    } else {
        "it overlaps the log before it"
    };
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!(
            "log segment {} starts at revision {start}, but the log before it ends at revision {revision}: {what}; the store refuses to start and has changed nothing",
            path.display()
        ),
    )
    .into()
}

/// The first intact log frame in `tail` (at any byte: the damage may have
/// garbled a length) that belongs to a batch after the one holding
/// revision `expected`: its offset and its batch.
fn later_batch(tail: &[u8], expected: Revision) -> Option<(usize, Revision)> {
    (0..tail.len()).find_map(|at| {
        record::logged_batch(&tail[at..])
            .filter(|batch| *batch > expected)
            .map(|batch| (at, batch))
    })
}

/// Writes the bytes cut off a segment to `wal-<start>.torn-<offset>` (or
/// that name with a number, if a file of that name is already there);
/// returns its path.
fn keep_aside(
    dir: &Path,
    start: Revision,
    offset: u64,
    bytes: &[u8],
    durable: bool,
) -> io::Result<PathBuf> {
    let name = format!("{}.torn-{offset}", segment_name(start));
    let mut candidate = name.clone();
    for n in 1.. {
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(dir.join(&candidate))
        {
            Ok(mut file) => {
                file.write_all(bytes)?;
                if durable {
                    file.sync_all()?;
                    sync_dir(dir)?;
                }
                return Ok(dir.join(candidate));
            }
            Err(error) if error.kind() == io::ErrorKind::AlreadyExists => {
                candidate = format!("{name}.{n}");
            }
            Err(error) => return Err(error),
        }
    }
    unreachable!("some name is free")
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A log segment holding `batches` (each a list of revisions, one put
    /// each), and where each record ends.
    fn segment(batches: &[&[Revision]]) -> (Vec<u8>, Vec<usize>) {
        let mut bytes = Vec::new();
        let mut ends = Vec::new();
        for batch in batches {
            for revision in *batch {
                let record = Record {
                    revision: *revision,
                    create_revision: *revision,
                    key: format!("/k/{revision}"),
                    value: Some(b"value".as_slice().into()),
                };
                record.encode_logged(batch[0], &mut bytes);
                ends.push(bytes.len());
            }
        }
        (bytes, ends)
    }

    /// A store directory of this format, with no log yet.
    fn store_dir() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(FORMAT_FILE), FORMAT).unwrap();
        dir
    }

    /// Opens `dir` holding `bytes` as its only segment, with the byte at
    /// `flip` garbled.
    fn open(bytes: &[u8], flip: usize) -> (tempfile::TempDir, Result<Revision, String>) {
        let dir = store_dir();
        let mut bytes = bytes.to_vec();
        bytes[flip] ^= 0x10;
        std::fs::write(dir.path().join(segment_name(1)), &bytes).unwrap();
        let result = recover(dir.path(), false, None)
            .map(|recovered| recovered.revision)
            .map_err(|error| error.to_string());
        (dir, result)
    }

    #[test]
    fn intact_records_of_the_same_batch_after_a_hole_are_still_a_torn_tail() {
        // The last batch is 2..=5; its third record has a hole, and its
        // last two reached the disk whole.
        let (bytes, ends) = segment(&[&[1], &[2, 3, 4, 5]]);
        let (dir, result) = open(&bytes, ends[1] + 20);
        assert_eq!(result, Ok(2));
        let aside = dir
            .path()
            .join(format!("{}.torn-{}", segment_name(1), ends[1]));
        assert_eq!(std::fs::read(aside).unwrap().len(), bytes.len() - ends[1]);
        // Its first record garbled: the whole batch goes.
        let (_, result) = open(&bytes, ends[0] + 20);
        assert_eq!(result, Ok(1));
    }

    #[test]
    fn a_segment_that_does_not_follow_the_one_before_is_refused() {
        for (second, why) in [(5, "missing"), (2, "overlaps")] {
            let dir = store_dir();
            std::fs::write(
                dir.path().join(segment_name(1)),
                segment(&[&[1], &[2, 3]]).0,
            )
            .unwrap();
            let (bytes, _) = segment(&[&[second]]);
            std::fs::write(dir.path().join(segment_name(second)), bytes).unwrap();
            let error = recover(dir.path(), false, None).err().expect("refused");
            assert!(error.to_string().contains(why), "{error}");
        }
    }

    #[test]
    fn an_intact_record_of_a_later_batch_after_a_hole_is_damage() {
        let (bytes, ends) = segment(&[&[1], &[2, 3], &[4, 5]]);
        for record in [1, 2] {
            let (dir, result) = open(&bytes, ends[record - 1] + 20);
            let error = result.expect_err("damage in an acknowledged batch is refused");
            assert!(
                error.contains(&format!("damaged at byte {}", ends[record - 1]))
                    && error.contains(&format!(
                        "later batch (from revision 4) follows at byte {}",
                        ends[2]
                    )),
                "{error}"
            );
            let names: Vec<_> = std::fs::read_dir(dir.path())
                .unwrap()
                .map(|item| item.unwrap().file_name())
                .collect();
            assert_eq!(
                names.len(),
                3,
                "only the segment, LOCK and FORMAT: {names:?}"
            );
        }
    }
}
