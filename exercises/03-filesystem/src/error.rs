// Generated from solutions/03-filesystem/src/error.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
use std::path::PathBuf;

use crate::image::ImageError;

/// Why a container's filesystem could not be prepared. Each names what is
/// wrong; nothing is left behind on the host when one is returned.
#[derive(Debug, thiserror::Error)]
pub enum FsError {
    /// An image store problem (an unknown image, say).
    #[error(transparent)]
    Image(#[from] ImageError),
    #[error(
        "container {container:?} has nothing to run: image {image} has no entrypoint or cmd, and the container gives no command"
    )]
    NoCommand { container: String, image: String },
    #[error("volume source {} does not exist", path.display())]
    MissingVolumeSource { path: PathBuf },
    #[error("volume target {} must be an absolute path without `..`", path.display())]
    BadVolumeTarget { path: PathBuf },
    #[error("container {0:?} already exists")]
    Exists(String),
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}
