//! The container's root filesystem, built by PID 1 inside the container's
//! mount namespace (see [`mount_root`]), from a plan prepared on the host
//! ([`RootfsPlan`]).

mod devices;
mod masks;
mod mounts;
mod pivot;
mod target;

pub use devices::{DEVICES, populate_dev};
pub use masks::{MASKED_PATHS, READ_ONLY_PATHS, mask_path};
pub use mounts::mount_root;
pub use pivot::pivot_into;
pub use target::{
    Attributes, Kind, Target, open_by_secure_join, open_in_root, open_root, remount_each,
    set_recursively,
};

use std::path::{Path, PathBuf};

use nix::mount::{MsFlags, mount};
use serde::{Deserialize, Serialize};

/// Mounts what is at `source` again at `target` (with what is mounted below
/// it, when `recursive`): the container's device nodes, `/etc` files and
/// volumes are all bind mounts.
pub(crate) fn bind(
    source: impl AsRef<Path>,
    target: impl AsRef<Path>,
    recursive: bool,
) -> nix::Result<()> {
    let flags = if recursive {
        MsFlags::MS_BIND | MsFlags::MS_REC
    } else {
        MsFlags::MS_BIND
    };
    mount(
        Some(source.as_ref()),
        target.as_ref(),
        None::<&str>,
        flags,
        None::<&str>,
    )
}

/// How the container's writable layer is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Layer {
    /// overlayfs: the image is the read-only lower layer, the container's
    /// changes go to an upper directory of its own. Nothing is copied.
    Overlay,
    /// A full copy of the image, for kernels or filesystems without
    /// overlayfs: slower to start, same behaviour.
    Copy,
}

/// A host path mounted into the container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Volume {
    /// On the host.
    pub source: PathBuf,
    /// Inside the container (absolute).
    pub target: PathBuf,
    pub read_only: bool,
}

/// Everything PID 1 needs to build the root filesystem. Prepared on the
/// host by [`prepare`](crate::prepare), carried in the container's
/// configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RootfsPlan {
    pub layer: Layer,
    /// The image's root filesystem (overlay's lower layer).
    pub image: PathBuf,
    /// The container's own directory: `upper/` and `work/` for overlay, or
    /// `copy/`; `merged/` is where the root is assembled; `etc/` holds the
    /// hostname, hosts and resolv.conf files that are mounted in.
    pub dir: PathBuf,
    pub read_only: bool,
    pub volumes: Vec<Volume>,
}

impl RootfsPlan {
    /// Where the new root is assembled before `pivot_root`.
    pub fn merged(&self) -> PathBuf {
        self.dir.join("merged")
    }
}
