use std::os::fd::BorrowedFd;
use std::path::Path;

use nix::errno::Errno;
use nix::fcntl::{OFlag, openat};
use nix::mount::{MsFlags, mount};
use nix::sys::stat::{FchmodatFlags, Mode, SFlag, fchmodat, makedev, mkdirat, mknodat};
use nix::unistd::symlinkat;

use super::target::{Kind, Target};

/// The device files a container gets, as runc gives them: name, major and
/// minor number.
pub const DEVICES: &[(&str, u64, u64)] = &[
    ("null", 1, 3),
    ("zero", 1, 5),
    ("full", 1, 7),
    ("random", 1, 8),
    ("urandom", 1, 9),
    ("tty", 5, 0),
];

/// Fills the fresh tmpfs at `dev` (a descriptor of the new root's `/dev`):
/// the device files, a private `/dev/pts`, `/dev/shm`, `/dev/mqueue` and the
/// usual links. Everything is made relative to `dev`, never by path.
///
/// Devices are made with `mknod`, as runc does when it is root. In a user
/// namespace `mknod` is not allowed, and the host's nodes are bind mounted
/// instead (runc's rootless way): the same devices either way. `/dev/ptmx`
/// is a link to the container's own `pts/ptmx`, so that terminals opened in
/// the container are the container's; `/dev/console` exists only for a
/// container with a terminal (runc binds it then), and ours have none.
pub fn populate_dev(dev: BorrowedFd) -> nix::Result<()> {
    for (name, major, minor) in DEVICES {
        let mode = Mode::from_bits_truncate(0o666);
        match mknodat(dev, *name, SFlag::S_IFCHR, mode, makedev(*major, *minor)) {
            // The umask may have taken bits away.
            Ok(()) => fchmodat(dev, *name, mode, FchmodatFlags::FollowSymlink)?,
            Err(Errno::EPERM) => {
                let flags = OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_WRONLY | OFlag::O_CLOEXEC;
                drop(openat(dev, *name, flags, Mode::from_bits_truncate(0o666))?);
                let node = subdirectory_or_file(dev, name, Kind::File)?;
                mount(
                    Some(&Path::new("/dev").join(name)),
                    node.proc_path().as_str(),
                    None::<&str>,
                    MsFlags::MS_BIND,
                    None::<&str>,
                )?;
            }
            Err(error) => return Err(error),
        }
    }
    mkdirat(dev, "pts", Mode::from_bits_truncate(0o755))?;
    let pts = subdirectory_or_file(dev, "pts", Kind::Directory)?;
    // A new instance: the container's terminals are its own, not the host's.
    // Group 5 (tty) owns them, as in runc's default; a user namespace that
    // does not map group 5 cannot have that.
    let flags = MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC;
    let options = "newinstance,ptmxmode=0666,mode=0620";
    pts.mount_fs("devpts", "devpts", flags, Some(&format!("{options},gid=5")))
        .or_else(|_| pts.mount_fs("devpts", "devpts", flags, Some(options)))?;
    symlinkat("pts/ptmx", dev, "ptmx")?;
    mkdirat(dev, "shm", Mode::from_bits_truncate(0o755))?;
    subdirectory_or_file(dev, "shm", Kind::Directory)?.mount_fs(
        "shm",
        "tmpfs",
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
        Some("mode=1777,size=65536k"),
    )?;
    mkdirat(dev, "mqueue", Mode::from_bits_truncate(0o755))?;
    // POSIX message queues of the container's IPC namespace; not every
    // kernel has them, and nothing needs them to start.
    let _ = subdirectory_or_file(dev, "mqueue", Kind::Directory)?.mount_fs(
        "mqueue",
        "mqueue",
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
        None,
    );
    for (link, target) in [
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
        ("core", "/proc/kcore"),
    ] {
        symlinkat(target, dev, link)?;
    }
    Ok(())
}

/// `name` in `dev`, opened as a mount target (`dev` is a fresh tmpfs that
/// only this process has seen: nothing in it can have been swapped).
fn subdirectory_or_file(dev: BorrowedFd, name: &str, kind: Kind) -> nix::Result<Target> {
    Target::open(dev, Path::new(name), kind)
}
