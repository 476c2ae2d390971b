use std::path::Path;

use nix::mount::{MsFlags, mount};

use super::bind;
use super::target::{Attributes, set_recursively};

/// Paths runc hides: kernel memory, key rings, timers and firmware that a
/// container has no business reading (some leak host information, some
/// allow attacks on the host kernel).
pub const MASKED_PATHS: &[&str] = &[
    "/proc/acpi",
    "/proc/asound",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
];

/// Paths runc leaves visible but read-only: writing there would change the
/// host kernel's settings.
pub const READ_ONLY_PATHS: &[&str] = &[
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
    "/proc/sys",
    "/proc/sysrq-trigger",
];

// ANCHOR: mask_path
/// Hides `path`: a file gets `/dev/null` mounted over it (it reads as
/// empty), a directory an empty read-only tmpfs. A path that does not exist
/// on this kernel needs no hiding.
pub fn mask_path(path: &Path) -> nix::Result<()> {
    // exercise 5: hide `path` from the container: a file reads as empty, a directory as an empty read-only one
    // hint: Hiding is done with mounts over the path: something empty mounted on top makes what is below unreachable. What is always empty as a file? And as a directory?
    // hint: `std::fs::metadata` tells a missing path (nothing to hide), a directory, or something else. A directory gets a fresh tmpfs mounted read-only; a file gets a bind mount of /dev/null. nix's `mount(source, target, fstype, flags, data)` does both.
    // hint: Missing → Ok(()). Directory → mount(Some("tmpfs"), path, Some("tmpfs"), MsFlags::MS_RDONLY, None::<&str>). Otherwise → mount(Some("/dev/null"), path, None::<&str>, MsFlags::MS_BIND, None::<&str>).
    let Ok(metadata) = std::fs::metadata(path) else {
        return Ok(());
    };
    if metadata.is_dir() {
        mount(
            Some("tmpfs"),
            path,
            Some("tmpfs"),
            MsFlags::MS_RDONLY,
            None::<&str>,
        )
    } else {
        mount(
            Some("/dev/null"),
            path,
            None::<&str>,
            MsFlags::MS_BIND,
            None::<&str>,
        )
    }
}
// ANCHOR_END: mask_path

/// Makes `path` read-only (it stays visible): bind it onto itself, then
/// make that bind read-only, with every mount below it (a bind mount
/// cannot be made read-only in the same call that creates it).
pub(crate) fn make_read_only(path: &Path) -> nix::Result<()> {
    if !path.exists() {
        return Ok(());
    }
    bind(path, path, true)?;
    let read_only = Attributes {
        read_only: true,
        ..Attributes::default()
    };
    set_recursively(path, read_only)
}

/// Remounts one existing mount read-only (not the mounts below it),
/// keeping the flags that the kernel would otherwise refuse to drop in a
/// user namespace.
pub(crate) fn remount_read_only(path: &Path) -> nix::Result<()> {
    let locked = locked_flags(path);
    mount(
        None::<&str>,
        path,
        None::<&str>,
        MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY | locked,
        None::<&str>,
    )
}

/// nosuid, nodev and noexec of a mount, which a remount must repeat: in a
/// user namespace, clearing them is refused with EPERM.
pub(crate) fn locked_flags(path: &Path) -> MsFlags {
    let Ok(stat) = nix::sys::statvfs::statvfs(path) else {
        return MsFlags::empty();
    };
    let flags = stat.flags();
    let mut locked = MsFlags::empty();
    if flags.contains(nix::sys::statvfs::FsFlags::ST_NOSUID) {
        locked |= MsFlags::MS_NOSUID;
    }
    if flags.contains(nix::sys::statvfs::FsFlags::ST_NODEV) {
        locked |= MsFlags::MS_NODEV;
    }
    if flags.contains(nix::sys::statvfs::FsFlags::ST_NOEXEC) {
        locked |= MsFlags::MS_NOEXEC;
    }
    locked
}
