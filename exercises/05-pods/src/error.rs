// Generated from solutions/05-pods/src/error.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
use std::path::{Path, PathBuf};

/// What can stop a pod from being made or run on this node.
#[derive(Debug, thiserror::Error)]
pub enum PodError {
    #[error(
        "pods need root (network namespaces, veth pairs, cgroups and mounts of other users' files): run as root"
    )]
    NotRoot,
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("volume {volume:?}: {message}")]
    Volume { volume: String, message: String },
    #[error(transparent)]
    Filesystem(#[from] filesystem::FsError),
    #[error(transparent)]
    Cgroup(#[from] cgroups::CgroupError),
    #[error(transparent)]
    Network(#[from] crate::network::NetworkError),
    #[error("cannot start {what}: {message}")]
    Start { what: String, message: String },
    #[error("exec in container {container}: {source}")]
    Exec {
        container: String,
        source: std::io::Error,
    },
    #[error("no container {0:?} is running in this pod")]
    NotRunning(String),
}

impl PodError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> PodError {
        PodError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}
