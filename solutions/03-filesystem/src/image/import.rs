use std::fs::File;
use std::io::{BufReader, Read};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use chrono::{SecondsFormat, Utc};

use super::record::{Record, Stamp};
use super::staging::Staging;
use super::{Image, ImageConfig, ImageError, ImageName, ImageStore, archive, copy};

/// How far an import has got, for a progress display.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportProgress {
    /// Entries written so far (files, symlinks, directories).
    pub files: u64,
    /// Bytes of file content written so far.
    pub bytes: u64,
}

/// Counts an import's progress and passes it on.
pub(crate) struct Progress<'a> {
    done: ImportProgress,
    report: &'a mut dyn FnMut(ImportProgress),
}

impl<'a> Progress<'a> {
    pub fn new(report: &'a mut dyn FnMut(ImportProgress)) -> Progress<'a> {
        Progress {
            done: ImportProgress::default(),
            report,
        }
    }

    pub fn entry(&mut self, bytes: u64) {
        self.done.files += 1;
        self.done.bytes += bytes;
        (self.report)(self.done);
    }
}

/// What an import source is, told by its first bytes rather than its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    Directory,
    Tar,
    GzipTar,
}

/// An image built in the store's staging area, ready to be moved into
/// place.
pub(crate) struct Staged {
    staging: Staging,
    target: PathBuf,
    image: Image,
}

impl Staged {
    /// Makes the image visible, replacing any image of the same name. The
    /// caller holds the store's lock.
    pub fn commit(self) -> Result<Image, ImageError> {
        let rootfs = self.target.join("rootfs");
        self.staging.commit(&self.target)?;
        Ok(Image {
            rootfs,
            ..self.image
        })
    }
}

impl ImageStore {
    /// Imports `source` as image `name`: a directory (copied as it is,
    /// symlinks as symlinks) or a tar archive, plain or gzip-compressed.
    /// An image of that name is replaced, in one step; when the import
    /// fails, the store is as it was.
    pub fn import(
        &self,
        name: &str,
        source: &Path,
        config: ImageConfig,
    ) -> Result<Image, ImageError> {
        self.import_with_progress(name, source, config, &mut |_| {})
    }

    /// [`ImageStore::import`], calling `progress` after each entry written.
    pub fn import_with_progress(
        &self,
        name: &str,
        source: &Path,
        config: ImageConfig,
        progress: &mut dyn FnMut(ImportProgress),
    ) -> Result<Image, ImageError> {
        let kind = source_kind(source)?;
        let mut progress = Progress::new(progress);
        let staged = self.stage(name, config, None, |rootfs| match kind {
            Source::Directory => copy::copy_dir(source, rootfs, &self.dir_id(), &mut progress),
            Source::Tar => archive::unpack(source, open(source)?, rootfs, &mut progress),
            Source::GzipTar => {
                let gzip = flate2::read::MultiGzDecoder::new(open(source)?);
                archive::unpack(source, gzip, rootfs, &mut progress)
            }
        })?;
        let _lock = self.lock()?;
        staged.commit()
    }

    /// Builds image `name` in a staging directory: `fill` writes its
    /// rootfs, then the record is written beside it. Dropping the result
    /// without committing it removes it.
    pub(crate) fn stage(
        &self,
        name: &str,
        config: ImageConfig,
        origin: Option<Stamp>,
        fill: impl FnOnce(&Path) -> Result<(), ImageError>,
    ) -> Result<Staged, ImageError> {
        let target = self.image_dir(name)?;
        let full_name = ImageName::parse(name)?.to_string();
        let staging = Staging::new(self.dir())?;
        let rootfs = staging.rootfs();
        fill(&rootfs)?;
        let (size, files) = measure(&rootfs)?;
        let record = Record {
            name: full_name.clone(),
            config: config.clone(),
            imported_at: Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true),
            size,
            files,
            origin,
        };
        record.write(staging.path())?;
        Ok(Staged {
            staging,
            target,
            image: Image {
                name: full_name,
                rootfs: PathBuf::new(),
                config,
            },
        })
    }

    /// The store directory's device and inode, so that importing a tree
    /// that contains the store does not copy the store into itself.
    fn dir_id(&self) -> Option<(u64, u64)> {
        std::fs::metadata(self.dir())
            .ok()
            .map(|meta| (meta.dev(), meta.ino()))
    }
}

fn open(path: &Path) -> Result<BufReader<File>, ImageError> {
    File::open(path)
        .map(BufReader::new)
        .map_err(ImageError::io("open", path))
}

fn source_kind(path: &Path) -> Result<Source, ImageError> {
    let bad = |reason: &str| ImageError::BadSource {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    };
    let meta = match std::fs::metadata(path) {
        Ok(meta) => meta,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            return Err(bad("it does not exist"));
        }
        Err(error) => return Err(ImageError::io("read", path)(error)),
    };
    if meta.is_dir() {
        return Ok(Source::Directory);
    }
    if !meta.is_file() {
        return Err(bad("it is neither a directory nor a file"));
    }
    let mut head = Vec::with_capacity(512);
    open(path)?
        .take(512)
        .read_to_end(&mut head)
        .map_err(ImageError::io("read", path))?;
    match head.as_slice() {
        [0x1f, 0x8b, ..] => Ok(Source::GzipTar),
        [0xfd, b'7', b'z', b'X', b'Z', 0, ..] => Err(bad(
            "it is compressed with xz, which the store does not read; decompress it (unxz) or use gzip",
        )),
        [0x28, 0xb5, 0x2f, 0xfd, ..] => Err(bad(
            "it is compressed with zstd, which the store does not read; decompress it (unzstd) or use gzip",
        )),
        [b'B', b'Z', b'h', ..] => Err(bad(
            "it is compressed with bzip2, which the store does not read; decompress it (bunzip2) or use gzip",
        )),
        head if head.get(257..262) == Some(b"ustar") => Ok(Source::Tar),
        _ => Err(bad(
            "it is neither a directory nor a tar archive (plain or gzip)",
        )),
    }
}

/// The size of a root filesystem: bytes of its regular files, and how
/// many entries are not directories.
pub(crate) fn measure(root: &Path) -> Result<(u64, u64), ImageError> {
    let mut size = 0;
    let mut files = 0;
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).map_err(ImageError::io("read", &dir))? {
            let entry = entry.map_err(ImageError::io("read", &dir))?;
            let meta = entry
                .metadata()
                .map_err(ImageError::io("read", entry.path()))?;
            if meta.is_dir() {
                pending.push(entry.path());
            } else {
                files += 1;
                if meta.is_file() {
                    size += meta.len();
                }
            }
        }
    }
    Ok((size, files))
}
