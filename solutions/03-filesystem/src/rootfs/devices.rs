use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::Path;

use nix::errno::Errno;
use nix::mount::{MsFlags, mount};

use super::bind;
use nix::sys::stat::{Mode, SFlag, makedev, mknod};

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

/// Fills the fresh tmpfs at `dev` (inside the new root): the device files,
/// a private `/dev/pts`, `/dev/shm`, `/dev/mqueue` and the usual links.
///
/// Devices are made with `mknod`, as runc does when it is root. In a user
/// namespace `mknod` is not allowed, and the host's nodes are bind mounted
/// instead (runc's rootless way): the same devices either way.
pub fn populate_dev(dev: &Path) -> nix::Result<()> {
    for (name, major, minor) in DEVICES {
        let target = dev.join(name);
        let mode = Mode::from_bits_truncate(0o666);
        match mknod(&target, SFlag::S_IFCHR, mode, makedev(*major, *minor)) {
            // The umask may have taken bits away.
            Ok(()) => {
                let permissions = std::fs::Permissions::from_mode(0o666);
                std::fs::set_permissions(&target, permissions).map_err(io_errno)?;
            }
            Err(Errno::EPERM) => {
                std::fs::File::create(&target).map_err(io_errno)?;
                let source = Path::new("/dev").join(name);
                bind(&source, &target, false)?;
            }
            Err(error) => return Err(error),
        }
    }
    let pts = dev.join("pts");
    std::fs::create_dir(&pts).map_err(io_errno)?;
    // A new instance: the container's terminals are its own, not the host's.
    mount(
        Some("devpts"),
        &pts,
        Some("devpts"),
        MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC,
        Some("newinstance,ptmxmode=0666,mode=0620"),
    )?;
    symlink("pts/ptmx", dev.join("ptmx")).map_err(io_errno)?;
    let shm = dev.join("shm");
    std::fs::create_dir(&shm).map_err(io_errno)?;
    mount(
        Some("shm"),
        &shm,
        Some("tmpfs"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
        Some("mode=1777,size=65536k"),
    )?;
    let mqueue = dev.join("mqueue");
    std::fs::create_dir(&mqueue).map_err(io_errno)?;
    // POSIX message queues of the container's IPC namespace; not every
    // kernel has them, and nothing needs them to start.
    let _ = mount(
        Some("mqueue"),
        &mqueue,
        Some("mqueue"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
        None::<&str>,
    );
    for (link, target) in [
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
        ("core", "/proc/kcore"),
    ] {
        symlink(target, dev.join(link)).map_err(io_errno)?;
    }
    Ok(())
}

pub(crate) fn io_errno(error: std::io::Error) -> nix::Error {
    nix::Error::from_raw(error.raw_os_error().unwrap_or(libc::EIO))
}
