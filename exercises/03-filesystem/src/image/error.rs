// Generated from solutions/03-filesystem/src/image/error.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
use std::io;
use std::path::PathBuf;

/// What can go wrong with the image store. Every message names the image
/// or the path at fault, and says what to do where there is something to
/// do.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error("invalid image name {name:?}: {reason}")]
    InvalidName { name: String, reason: String },
    #[error(
        "image {name:?} is not in the image store; import it with `k8s-mini image import {name} PATH` (PATH: a directory or a tar archive)"
    )]
    NotFound { name: String },
    #[error("image {name:?} is not in the image store: there is nothing to remove")]
    NothingToRemove { name: String },
    #[error("cannot import {}: {reason}", path.display())]
    BadSource { path: PathBuf, reason: String },
    #[error("cannot import {}: unsafe entry {entry:?}: {reason}; nothing was imported", archive.display())]
    UnsafeEntry {
        archive: PathBuf,
        entry: String,
        reason: String,
    },
    #[error("cannot import {}: not a valid tar archive: {source}", archive.display())]
    Archive { archive: PathBuf, source: io::Error },
    #[error("cannot import {}: cannot unpack {entry:?}: {source}", archive.display())]
    Unpack {
        archive: PathBuf,
        entry: String,
        source: io::Error,
    },
    #[error("image {name:?} is damaged ({}: {reason}); import it again", path.display())]
    Damaged {
        name: String,
        path: PathBuf,
        reason: String,
    },
    #[error("cannot use {} for a built-in image: {reason}", path.display())]
    Program { path: PathBuf, reason: String },
    #[error(
        "busybox is not installed on this host (no `busybox` on PATH), so the busybox image is unavailable; install it with `apt-get install busybox-static`"
    )]
    NoBusybox,
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        source: io::Error,
    },
}

impl ImageError {
    /// A closure for `map_err` that wraps an I/O error with what was being
    /// done to which path.
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(io::Error) -> ImageError {
        let path = path.into();
        move |source| ImageError::Io {
            action,
            path,
            source,
        }
    }
}
