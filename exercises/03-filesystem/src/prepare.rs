// Generated from solutions/03-filesystem/src/prepare.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
use std::path::{Component, Path, PathBuf};

use crate::error::FsError;
use crate::image::copy_tree;
use crate::rootfs::{Layer, RootfsPlan, Volume};
use crate::tree::remove_tree;

/// What a container's `/etc` files say.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EtcFiles {
    pub hostname: String,
    /// Lines added to `/etc/hosts` after localhost: (address, names).
    pub hosts: Vec<(String, String)>,
    /// The content of `/etc/resolv.conf`; the host's when `None`.
    pub resolv_conf: Option<String>,
}

/// A container's directory on the host, with its plan. Removing it removes
/// the container's writable layer: whatever the container wrote is gone.
#[derive(Debug)]
pub struct ContainerRoot {
    pub plan: RootfsPlan,
}

impl ContainerRoot {
    /// Deletes the container's directory (its layer, its `/etc` files).
    /// Call it once the container has exited.
    pub fn remove(&self) -> Result<(), FsError> {
        remove_tree(&self.plan.dir).map_err(|source| FsError::Io {
            path: self.plan.dir.clone(),
            source,
        })
    }
}

/// Whether this machine can put the writable layer on overlayfs in `dir`:
/// the kernel must know overlayfs, and `dir` must not itself be on
/// overlayfs (an upper directory on overlayfs is refused).
pub fn overlay_usable(dir: &Path) -> bool {
    const OVERLAYFS_MAGIC: i64 = 0x794c_7630;
    let known = std::fs::read_to_string("/proc/filesystems")
        .is_ok_and(|list| list.lines().any(|line| line.ends_with("\toverlay")));
    // The magic's integer type differs between architectures.
    #[allow(clippy::unnecessary_cast)]
    let nested = nix::sys::statfs::statfs(dir)
        .is_ok_and(|stat| stat.filesystem_type().0 as i64 == OVERLAYFS_MAGIC);
    known && !nested
}

/// Prepares the host side of a container's root filesystem in `dir` (which
/// must not exist yet): the layer's directories, the `/etc` files, checked
/// volumes. On error, nothing is left.
pub fn prepare_root(
    dir: &Path,
    image_rootfs: &Path,
    layer: Layer,
    read_only: bool,
    volumes: Vec<Volume>,
    etc: &EtcFiles,
) -> Result<ContainerRoot, FsError> {
    for volume in &volumes {
        check_volume(volume)?;
    }
    if dir.exists() {
        return Err(FsError::Exists(dir.display().to_string()));
    }
    let plan = RootfsPlan {
        layer,
        image: image_rootfs.to_path_buf(),
        dir: dir.to_path_buf(),
        read_only,
        volumes,
    };
    let root = ContainerRoot { plan };
    if let Err(error) = fill(dir, image_rootfs, layer, etc) {
        let _ = root.remove();
        return Err(error);
    }
    Ok(root)
}

fn fill(dir: &Path, image_rootfs: &Path, layer: Layer, etc: &EtcFiles) -> Result<(), FsError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| FsError::Io { path, source }
    };
    let mut dirs = vec![dir.join("merged"), dir.join("etc")];
    if layer == Layer::Overlay {
        dirs.extend([dir.join("upper"), dir.join("work")]);
    }
    for path in &dirs {
        std::fs::create_dir_all(path).map_err(io(path))?;
    }
    if layer == Layer::Copy {
        let copy = dir.join("copy");
        copy_tree(image_rootfs, &copy)?;
    }
    let mut hosts =
        String::from("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n");
    for (address, names) in &etc.hosts {
        hosts.push_str(&format!("{address}\t{names}\n"));
    }
    let resolv = match &etc.resolv_conf {
        Some(content) => content.clone(),
        None => std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default(),
    };
    for (name, content) in [
        ("hostname", format!("{}\n", etc.hostname)),
        ("hosts", hosts),
        ("resolv.conf", resolv),
    ] {
        let path = dir.join("etc").join(name);
        std::fs::write(&path, content).map_err(io(&path))?;
    }
    Ok(())
}

fn check_volume(volume: &Volume) -> Result<(), FsError> {
    let target_ok = volume.target.is_absolute()
        && volume
            .target
            .components()
            .all(|part| !matches!(part, Component::ParentDir));
    if !target_ok {
        return Err(FsError::BadVolumeTarget {
            path: volume.target.clone(),
        });
    }
    if !volume.source.exists() {
        return Err(FsError::MissingVolumeSource {
            path: volume.source.clone(),
        });
    }
    Ok(())
}

/// The directory of container `name` of cluster instance `instance` under
/// the state directory: instance first, so one cluster's leftovers are one
/// directory.
pub fn container_dir(state_dir: &Path, instance: &str, name: &str) -> PathBuf {
    state_dir.join(instance).join(name)
}
