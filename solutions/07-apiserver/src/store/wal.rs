//! The write-ahead log: framed records (see [`super::record`]) appended to
//! segment files `wal-<first revision>`, each batch synced before any of it
//! is acknowledged. A snapshot starts a new segment, so that the old ones
//! can be deleted once the snapshot is durable.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

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

/// What the log does with a segment's file: append, fdatasync, cut back.
/// The real file does it; a test can put a layer in between (through
/// [`LogLayer`]) that sees every write and every sync, for instance to
/// forget what was not synced, as a power cut would.
pub trait LogFile: Send {
    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()>;
    fn sync_data(&mut self) -> io::Result<()>;
    fn set_len(&mut self, len: u64) -> io::Result<()>;
}

impl LogFile for File {
    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        Write::write_all(self, bytes)
    }

    fn sync_data(&mut self) -> io::Result<()> {
        File::sync_data(self)
    }

    fn set_len(&mut self, len: u64) -> io::Result<()> {
        File::set_len(self, len)
    }
}

/// Wraps every log segment the store writes to: called with the segment's
/// path, its file (opened for appending) and the bytes it already holds.
#[derive(Clone)]
pub struct LogLayer(pub Arc<WrapLogFile>);

/// What a [`LogLayer`] calls for each segment.
pub type WrapLogFile = dyn Fn(&Path, File, u64) -> Box<dyn LogFile> + Send + Sync;

impl std::fmt::Debug for LogLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LogLayer(..)")
    }
}

/// The segment being appended to.
pub(crate) struct Wal {
    dir: PathBuf,
    file: Box<dyn LogFile>,
    /// Bytes in the segment that hold whole records.
    len: u64,
    durable: bool,
    layer: Option<LogLayer>,
}

impl Wal {
    /// Continues the segment `file` (at `path`) after its `len` good bytes.
    pub fn resume(
        path: &Path,
        file: File,
        len: u64,
        durable: bool,
        layer: Option<LogLayer>,
    ) -> Wal {
        let file: Box<dyn LogFile> = match &layer {
            Some(layer) => (layer.0)(path, file, len),
            None => Box::new(file),
        };
        Wal {
            dir: path.parent().map(Path::to_path_buf).unwrap_or_default(),
            file,
            len,
            durable,
            layer,
        }
    }

    /// Starts the segment for revisions from `start` on. It must not exist
    /// yet: a file of that name is someone's data, never ours to empty.
    /// When the new segment cannot be made durable it is removed again, so
    /// that no half-made segment is left to confuse the next start.
    pub fn create(
        dir: &Path,
        start: Revision,
        durable: bool,
        layer: Option<LogLayer>,
    ) -> io::Result<Wal> {
        let path = dir.join(segment_name(start));
        // Append mode: after a failed write is cut back, the next one lands
        // right after the good bytes, not after a hole.
        let file = OpenOptions::new()
            .create_new(true)
            .append(true)
            .open(&path)?;
        let made = if durable {
            file.sync_all().and_then(|()| sync_dir(dir))
        } else {
            Ok(())
        };
        if let Err(error) = made {
            drop(file);
            if std::fs::remove_file(&path).is_ok() && durable {
                let _ = sync_dir(dir);
            }
            return Err(error);
        }
        Ok(Wal::resume(&path, file, 0, durable, layer))
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
        // Every record names its batch: recovery tells a torn last batch
        // (never acknowledged) from damage to an acknowledged one by it.
        let batch = records.first().map_or(0, |record| record.revision);
        for record in records {
            record.encode_logged(batch, &mut bytes);
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
        *self = Wal::create(&self.dir, start, self.durable, self.layer.clone())?;
        Ok(())
    }
}

/// Makes the creation, renaming or removal of files in `dir` durable.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}
