//! The write-ahead log: framed records (see [`super::record`]) appended to
//! segment files `wal-<first revision>`, each batch synced before any of it
//! is acknowledged. A snapshot starts a new segment, so that the old ones
//! can be deleted once the snapshot is durable.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use super::Revision;
use super::record::Record;

const PREFIX: &str = "wal-";

/// The file name of the segment whose first record has revision `start`.
pub fn segment_name(start: Revision) -> String {
    format!("{PREFIX}{start:020}")
}

/// The first revision of a segment, from its file name.
pub fn segment_start(name: &str) -> Option<Revision> {
    name.strip_prefix(PREFIX)?.parse().ok()
}

/// The segment being appended to.
pub(crate) struct Wal {
    dir: PathBuf,
    file: File,
    /// Bytes in the segment that hold whole records.
    len: u64,
    durable: bool,
}

impl Wal {
    /// Continues the segment `file` after its `len` good bytes.
    pub fn resume(dir: &Path, file: File, len: u64, durable: bool) -> Wal {
        Wal {
            dir: dir.to_path_buf(),
            file,
            len,
            durable,
        }
    }

    /// Starts the segment for revisions from `start` on.
    pub fn create(dir: &Path, start: Revision, durable: bool) -> io::Result<Wal> {
        // Append mode: after a failed write is cut back, the next one lands
        // right after the good bytes, not after a hole.
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join(segment_name(start)))?;
        file.set_len(0)?;
        if durable {
            file.sync_all()?;
            sync_dir(dir)?;
        }
        Ok(Wal::resume(dir, file, 0, durable))
    }

    pub fn len(&self) -> u64 {
        self.len
    }

    /// Appends a batch and makes it durable: one write, one fdatasync.
    /// After an error the segment is cut back to where it was, so that no
    /// half of a failed batch can be replayed; the caller must still stop
    /// writing (after a failed fsync the kernel may have dropped pages it
    /// claims are clean).
    pub fn append(&mut self, records: &[Record]) -> io::Result<()> {
        let mut bytes = Vec::new();
        for record in records {
            record.encode(&mut bytes);
        }
        let written = self.write_and_sync(&bytes);
        if written.is_err() {
            let _ = self.file.set_len(self.len);
        } else {
            self.len += bytes.len() as u64;
        }
        written
    }

    fn write_and_sync(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.file.write_all(bytes)?;
        if self.durable {
            self.file.sync_data()?;
        }
        Ok(())
    }

    /// Closes this segment and starts the next one at `start`; keeps the
    /// current one when the new one cannot be made, or when the current
    /// one is still empty (its records are all to come anyway).
    pub fn rotate(&mut self, start: Revision) -> io::Result<()> {
        if self.len == 0 {
            return Ok(());
        }
        *self = Wal::create(&self.dir, start, self.durable)?;
        Ok(())
    }
}

/// Makes the creation, renaming or removal of files in `dir` durable.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}
