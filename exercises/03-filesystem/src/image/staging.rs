// Generated from solutions/03-filesystem/src/image/staging.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use nix::errno::Errno;
use nix::fcntl::{AT_FDCWD, RenameFlags, renameat2};

use super::ImageError;

/// The prefix of an image being built; the store ignores such entries and
/// removes those whose process has died.
pub(crate) const STAGING_PREFIX: &str = ".import-";
/// The prefix of an image being removed.
pub(crate) const REMOVING_PREFIX: &str = ".remove-";

/// An image under construction: a directory inside the store, named after
/// this process so a crashed import can be told from a running one.
///
/// It is removed when dropped, unless it was committed: a failed import
/// (error or panic) leaves nothing behind.
#[derive(Debug)]
pub(crate) struct Staging {
    path: PathBuf,
    committed: bool,
}

impl Staging {
    /// Creates `<store>/.import-<pid>-<n>/rootfs`.
    pub fn new(store: &Path) -> Result<Staging, ImageError> {
        let path = unique_path(store, STAGING_PREFIX);
        std::fs::create_dir(&path).map_err(ImageError::io("create", &path))?;
        let staging = Staging {
            path,
            committed: false,
        };
        let rootfs = staging.rootfs();
        std::fs::create_dir(&rootfs).map_err(ImageError::io("create", rootfs))?;
        Ok(staging)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn rootfs(&self) -> PathBuf {
        self.path.join("rootfs")
    }

    // ANCHOR: commit
    /// Moves the finished image to `target` in one step: readers see the
    /// old image or the new one, never half of either. The caller holds
    /// the store's lock.
    ///
    /// A new name is a plain rename. For an existing image, the kernel
    /// swaps the two directories (`RENAME_EXCHANGE`), and the old one, now
    /// here, is deleted with the staging directory.
    pub fn commit(mut self, target: &Path) -> Result<(), ImageError> {
        let rename = |flags| renameat2(AT_FDCWD, &self.path, AT_FDCWD, target, flags);
        match rename(RenameFlags::RENAME_NOREPLACE) {
            Ok(()) => self.committed = true,
            Err(Errno::EEXIST | Errno::ENOTEMPTY) => {
                rename(RenameFlags::RENAME_EXCHANGE).map_err(io_error("replace", target))?
            }
            // A filesystem without renameat2's flags: move the old image
            // aside first. Readers may find no image for that moment.
            Err(Errno::EINVAL | Errno::ENOSYS) => {
                if target.exists() {
                    let aside = unique_path(parent(target), REMOVING_PREFIX);
                    std::fs::rename(target, &aside).map_err(ImageError::io("move", target))?;
                    let _ = crate::remove_tree(&aside);
                }
                std::fs::rename(&self.path, target).map_err(ImageError::io("create", target))?;
                self.committed = true;
            }
            Err(errno) => return Err(io_error("create", target)(errno)),
        }
        Ok(())
    }
    // ANCHOR_END: commit
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.committed {
            let _ = crate::remove_tree(&self.path);
        }
    }
}

/// `<dir>/<prefix><pid>-<n>`: unique among this process's threads, and
/// tells other processes whose it is.
pub(crate) fn unique_path(dir: &Path, prefix: &str) -> PathBuf {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    dir.join(format!("{prefix}{}-{n}", std::process::id()))
}

/// Whether a staging or removal entry belongs to a process that is gone.
pub(crate) fn is_abandoned(file_name: &str) -> bool {
    let Some(rest) = file_name
        .strip_prefix(STAGING_PREFIX)
        .or_else(|| file_name.strip_prefix(REMOVING_PREFIX))
    else {
        return false;
    };
    match rest
        .split('-')
        .next()
        .and_then(|pid| pid.parse::<u32>().ok())
    {
        Some(pid) => !Path::new(&format!("/proc/{pid}")).exists(),
        None => false,
    }
}

fn parent(path: &Path) -> &Path {
    path.parent().unwrap_or(Path::new("."))
}

fn io_error(action: &'static str, path: &Path) -> impl FnOnce(Errno) -> ImageError {
    let path = path.to_path_buf();
    move |errno| ImageError::Io {
        action,
        path,
        source: std::io::Error::from(errno),
    }
}
