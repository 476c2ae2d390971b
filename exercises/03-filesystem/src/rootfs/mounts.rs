// Generated from solutions/03-filesystem/src/rootfs/mounts.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
use std::path::{Path, PathBuf};

use namespaces::InitError;
use nix::mount::{MsFlags, mount};

use super::devices::{io_errno, populate_dev};
use super::masks::{make_read_only, remount_read_only};
use super::{Layer, MASKED_PATHS, READ_ONLY_PATHS, RootfsPlan, bind, mask_path, pivot_into};
use crate::secure_join;

fn step(what: impl Into<String>) -> impl FnOnce(nix::Error) -> InitError {
    let what = what.into();
    move |source| InitError::Setup { what, source }
}

/// The files of `<dir>/etc/` that are mounted over the image's, so that
/// each container gets its own without changing the image.
const ETC_FILES: &[&str] = &["hostname", "hosts", "resolv.conf"];

// ANCHOR: mount_root
/// Builds the container's root filesystem and moves into it. Runs in PID 1,
/// in the container's new mount namespace, whose mounts are already private.
///
/// The order matters: everything is mounted under the new root while the
/// host's paths (the image, `/dev/null`, volume sources) are still
/// reachable; then `pivot_root` cuts the host away; then the paths under the
/// new `/proc` are masked; and last, the root goes read-only if asked, once
/// nothing needs to be created in it any more.
pub fn mount_root(plan: &RootfsPlan) -> Result<(), InitError> {
    let root = plan.merged();
    match plan.layer {
        Layer::Overlay => {
            let options = format!(
                "lowerdir={},upperdir={},workdir={}",
                plan.image.display(),
                plan.dir.join("upper").display(),
                plan.dir.join("work").display()
            );
            mount(
                Some("overlay"),
                &root,
                Some("overlay"),
                MsFlags::empty(),
                Some(options.as_str()),
            )
            .map_err(step("mount the overlay root filesystem"))?;
        }
        Layer::Copy => {
            // pivot_root needs a mount point: bind the copy onto the new root.
            let copy = plan.dir.join("copy");
            bind(&copy, &root, true).map_err(step("bind the root filesystem copy"))?;
        }
    }

    let proc = directory_in(&root, "/proc")?;
    mount(
        Some("proc"),
        &proc,
        Some("proc"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
        None::<&str>,
    )
    .map_err(step("mount /proc"))?;

    let dev = directory_in(&root, "/dev")?;
    mount(
        Some("tmpfs"),
        &dev,
        Some("tmpfs"),
        MsFlags::MS_NOSUID | MsFlags::MS_STRICTATIME,
        Some("mode=755,size=65536k"),
    )
    .map_err(step("mount /dev"))?;
    populate_dev(&dev).map_err(step("populate /dev"))?;

    let sys = directory_in(&root, "/sys")?;
    mount_sys(&sys)?;

    for name in ETC_FILES {
        let source = plan.dir.join("etc").join(name);
        if source.exists() {
            let target = file_in(&root, &Path::new("/etc").join(name))?;
            bind(&source, &target, false).map_err(step(format!("mount /etc/{name}")))?;
        }
    }

    for volume in &plan.volumes {
        let target = if volume.source.is_dir() {
            directory_in(&root, &volume.target)?
        } else {
            file_in(&root, &volume.target)?
        };
        let what = format!(
            "mount volume {} at {}",
            volume.source.display(),
            volume.target.display()
        );
        bind(&volume.source, &target, true).map_err(step(what.clone()))?;
        if volume.read_only {
            remount_read_only(&target).map_err(step(what))?;
        }
    }

    pivot_into(&root).map_err(step("pivot_root into the new root"))?;

    for path in MASKED_PATHS {
        mask_path(Path::new(path)).map_err(step(format!("mask {path}")))?;
    }
    for path in READ_ONLY_PATHS {
        make_read_only(Path::new(path)).map_err(step(format!("make {path} read-only")))?;
    }
    if plan.read_only {
        remount_read_only(Path::new("/")).map_err(step("make the root filesystem read-only"))?;
    }
    Ok(())
}
// ANCHOR_END: mount_root

/// A read-only `/sys`. A new sysfs shows the container's own network
/// devices; where the kernel refuses one (a user namespace without its own
/// network), the host's is bound read-only instead.
fn mount_sys(sys: &Path) -> Result<(), InitError> {
    let flags = MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC | MsFlags::MS_RDONLY;
    if mount(Some("sysfs"), sys, Some("sysfs"), flags, None::<&str>).is_ok() {
        return Ok(());
    }
    bind("/sys", sys, true)
        .and_then(|()| remount_read_only(sys))
        .map_err(step("mount /sys"))
}

/// The directory `path` inside `root`, created if missing, never outside
/// `root` whatever symlinks the image holds.
fn directory_in(root: &Path, path: impl AsRef<Path>) -> Result<PathBuf, InitError> {
    let path = path.as_ref();
    let target = secure_join(root, path).map_err(step(format!("resolve {}", path.display())))?;
    std::fs::create_dir_all(&target)
        .map_err(|error| step(format!("create {}", path.display()))(io_errno(error)))?;
    Ok(target)
}

/// The file `path` inside `root`, created empty if missing (a bind mount
/// needs something to mount over).
fn file_in(root: &Path, path: &Path) -> Result<PathBuf, InitError> {
    let target = secure_join(root, path).map_err(step(format!("resolve {}", path.display())))?;
    if let Some(parent) = target.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|error| step(format!("create {}", path.display()))(io_errno(error)))?;
    }
    if !target.exists() {
        std::fs::File::create(&target)
            .map_err(|error| step(format!("create {}", path.display()))(io_errno(error)))?;
    }
    Ok(target)
}
