use std::os::fd::{AsFd, BorrowedFd};
use std::path::Path;

use namespaces::InitError;
use nix::fcntl::OFlag;
use nix::mount::{MsFlags, mount};

use super::devices::populate_dev;
use super::masks::{make_read_only, remount_read_only};
use super::target::{Attributes, Kind, Target, open_in_root, open_root};
use super::{Layer, MASKED_PATHS, READ_ONLY_PATHS, RootfsPlan, bind, mask_path, pivot_into};

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

    // Every target is opened inside the root and mounted through its
    // descriptor: the image's symlinks (or a racing neighbour) cannot send
    // a mount outside.
    let root_fd = open_root(&root).map_err(step("open the new root"))?;
    let root_fd = root_fd.as_fd();
    target(root_fd, "/proc", Kind::Directory)?
        .mount_fs(
            "proc",
            "proc",
            MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
            None,
        )
        .map_err(step("mount /proc"))?;

    // Not nodev: the device nodes live here.
    target(root_fd, "/dev", Kind::Directory)?
        .mount_fs(
            "tmpfs",
            "tmpfs",
            MsFlags::MS_NOSUID | MsFlags::MS_STRICTATIME,
            Some("mode=755,size=65536k"),
        )
        .map_err(step("mount /dev"))?;
    // The descriptor still names the directory under the new tmpfs; a
    // fresh lookup finds the tmpfs itself.
    let dev = open_in_root(
        root_fd,
        Path::new("/dev"),
        OFlag::O_PATH | OFlag::O_DIRECTORY,
    )
    .map_err(step("open /dev"))?;
    populate_dev(dev.as_fd()).map_err(step("populate /dev"))?;

    mount_sys(target(root_fd, "/sys", Kind::Directory)?)?;

    for name in ETC_FILES {
        let source = plan.dir.join("etc").join(name);
        if source.exists() {
            let path = Path::new("/etc").join(name);
            target(root_fd, &path, Kind::File)?
                .bind(&source, Attributes::VOLUME)
                .map_err(step(format!("mount /etc/{name}")))?;
        }
    }

    for volume in &plan.volumes {
        let kind = if volume.source.is_dir() {
            Kind::Directory
        } else {
            Kind::File
        };
        let what = format!(
            "mount volume {} at {}",
            volume.source.display(),
            volume.target.display()
        );
        let attributes = Attributes {
            read_only: volume.read_only,
            ..Attributes::VOLUME
        };
        target(root_fd, &volume.target, kind)?
            .bind(&volume.source, attributes)
            .map_err(step(what))?;
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
/// network), the host's is bound read-only instead, with every mount below
/// it read-only too.
fn mount_sys(sys: Target) -> Result<(), InitError> {
    let flags = MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC | MsFlags::MS_RDONLY;
    if sys.mount_fs("sysfs", "sysfs", flags, None).is_ok() {
        return Ok(());
    }
    let attributes = Attributes {
        read_only: true,
        nosuid: true,
        nodev: true,
        noexec: true,
    };
    sys.bind(Path::new("/sys"), attributes)
        .map_err(step("mount /sys"))
}

/// `path` inside `root` opened as a mount target of `kind`, created if
/// missing, never outside `root` whatever symlinks the image holds.
fn target(root: BorrowedFd, path: impl AsRef<Path>, kind: Kind) -> Result<Target, InitError> {
    let path = path.as_ref();
    Target::open(root, path, kind).map_err(step(format!("open the mount point {}", path.display())))
}
