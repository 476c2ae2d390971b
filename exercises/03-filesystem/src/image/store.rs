// Generated from solutions/03-filesystem/src/image/store.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
use std::fs::File;
use std::path::{Path, PathBuf};

use nix::fcntl::{Flock, FlockArg};

use super::record::Record;
use super::staging::{REMOVING_PREFIX, is_abandoned, unique_path};
use super::{ImageConfig, ImageError, ImageName};

/// The longest directory name most filesystems accept.
const NAME_MAX: usize = 255;

/// An image: a root filesystem and how to run it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    /// The full name, with its tag: `busybox:latest`.
    pub name: String,
    /// The image's root filesystem. Containers never write to it: each gets
    /// a copy-on-write layer on top.
    pub rootfs: PathBuf,
    pub config: ImageConfig,
}

/// One line of `k8s-mini image ls`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageSummary {
    pub name: String,
    /// Bytes of the regular files.
    pub size: u64,
    /// Entries other than directories.
    pub files: u64,
    /// RFC 3339, UTC.
    pub imported_at: String,
}

/// The local image store: one directory per image, each holding the
/// image's `rootfs/` and its `image.json`.
///
/// Images appear and disappear whole: they are built in a staging
/// directory inside the store and renamed into place, and removed by
/// renaming them out of the way first.
#[derive(Debug, Clone)]
pub struct ImageStore {
    dir: PathBuf,
}

impl ImageStore {
    /// Opens the store in `dir` (k8s-mini uses `<data-dir>/images`),
    /// creating it if needed, and clears what crashed imports left.
    pub fn open(dir: &Path) -> Result<ImageStore, ImageError> {
        std::fs::create_dir_all(dir).map_err(ImageError::io("create", dir))?;
        let store = ImageStore {
            dir: dir.to_path_buf(),
        };
        for entry in std::fs::read_dir(dir).map_err(ImageError::io("read", dir))? {
            let entry = entry.map_err(ImageError::io("read", dir))?;
            if entry.file_name().to_str().is_some_and(is_abandoned) {
                let _ = crate::remove_tree(&entry.path());
            }
        }
        Ok(store)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The directory an image of this name has (or would have) in the
    /// store.
    pub fn image_dir(&self, name: &str) -> Result<PathBuf, ImageError> {
        let dir_name = ImageName::parse(name)?.dir_name();
        if dir_name.len() > NAME_MAX {
            return Err(ImageError::InvalidName {
                name: name.to_string(),
                reason: format!(
                    "it is too long for the store ({NAME_MAX} bytes at most once escaped)"
                ),
            });
        }
        Ok(self.dir.join(dir_name))
    }

    /// The image called `name` (`busybox` means `busybox:latest`).
    pub fn get(&self, name: &str) -> Result<Image, ImageError> {
        let dir = self.image_dir(name)?;
        let record = Record::read(name, &dir)?;
        let rootfs = dir.join("rootfs");
        if !rootfs.is_dir() {
            return Err(ImageError::Damaged {
                name: name.to_string(),
                path: rootfs,
                reason: "the root filesystem is missing".to_string(),
            });
        }
        Ok(Image {
            name: record.name,
            rootfs,
            config: record.config,
        })
    }

    /// Every image, sorted by name. Directories that are not images
    /// (imports in progress, damaged leftovers) are left out.
    pub fn list(&self) -> Result<Vec<ImageSummary>, ImageError> {
        let mut images = Vec::new();
        for entry in std::fs::read_dir(&self.dir).map_err(ImageError::io("read", &self.dir))? {
            let entry = entry.map_err(ImageError::io("read", &self.dir))?;
            let file_name = entry.file_name();
            if file_name.to_string_lossy().starts_with('.') {
                continue;
            }
            if let Ok(record) = Record::read(&file_name.to_string_lossy(), &entry.path()) {
                images.push(ImageSummary {
                    name: record.name,
                    size: record.size,
                    files: record.files,
                    imported_at: record.imported_at,
                });
            }
        }
        images.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(images)
    }

    /// Removes the image called `name`. Containers already running on it
    /// should be stopped first: their layer sits on top of its rootfs.
    pub fn remove(&self, name: &str) -> Result<(), ImageError> {
        let dir = self.image_dir(name)?;
        let _lock = self.lock()?;
        if !dir.join(super::record::RECORD_FILE).exists() {
            return Err(ImageError::NothingToRemove {
                name: name.to_string(),
            });
        }
        // Gone from view in one step; the deletion can then take its time.
        let aside = unique_path(&self.dir, REMOVING_PREFIX);
        std::fs::rename(&dir, &aside).map_err(ImageError::io("remove", &dir))?;
        crate::remove_tree(&aside).map_err(ImageError::io("remove", aside))
    }

    /// Serialises the changes to the store, between threads and between
    /// processes (two tests, or two k8s-mini commands, on one store).
    pub(crate) fn lock(&self) -> Result<Flock<File>, ImageError> {
        let path = self.dir.join(".lock");
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(ImageError::io("open", &path))?;
        Flock::lock(file, FlockArg::LockExclusive)
            .map_err(|(_, errno)| ImageError::io("lock", path)(errno.into()))
    }
}
