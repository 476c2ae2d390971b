// Generated from solutions/03-filesystem/src/rootfs/target.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
//! Mount targets held as descriptors, never as path strings.
//!
//! Before `pivot_root`, the container's root is a host directory, and a
//! path into it names whatever it names *when the kernel resolves it*. A
//! runtime that checks a target (with [`secure_join`](crate::secure_join),
//! say) and then mounts on the path string can be raced: a container that
//! shares a volume with the one being set up swaps a directory for a
//! symlink between check and use, and the mount lands outside the root
//! (runc's CVE-2021-30465). So every target is opened once, inside the root
//! (`openat2` with `RESOLVE_IN_ROOT`: symlinks and `..` resolved as if the
//! root were `/`; `RESOLVE_NO_MAGICLINKS`: no escape through
//! `/proc/<pid>/root`), missing pieces are created relative to descriptors
//! already opened that way, and the mount goes onto the descriptor:
//! `/proc/self/fd/N` for mount(2), the descriptor itself for move_mount(2).

use std::ffi::{CStr, CString};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{OFlag, openat, readlinkat};
use nix::mount::{MsFlags, mount};
use nix::sys::stat::{Mode, SFlag, fstat, mkdirat};

use crate::secure_join;

/// How many symlinks the creation of a target may follow, as the kernel
/// allows for a lookup.
const MAX_LINKS: usize = 40;

/// What a mount target must be: bind a directory onto a directory, a file
/// onto a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Directory,
    File,
}

/// Mount attributes (`MOUNT_ATTR_*`), set on a mount and everything below
/// it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Attributes {
    pub read_only: bool,
    pub nosuid: bool,
    pub nodev: bool,
    pub noexec: bool,
}

impl Attributes {
    /// What volumes get (Podman's default for bind mounts): set-user-id
    /// bits and device files from the host mean nothing inside.
    pub const VOLUME: Attributes = Attributes {
        read_only: false,
        nosuid: true,
        nodev: true,
        noexec: false,
    };

    fn mount_attr(self) -> u64 {
        let mut bits = 0;
        for (on, bit) in [
            (self.read_only, libc::MOUNT_ATTR_RDONLY),
            (self.nosuid, libc::MOUNT_ATTR_NOSUID),
            (self.nodev, libc::MOUNT_ATTR_NODEV),
            (self.noexec, libc::MOUNT_ATTR_NOEXEC),
        ] {
            if on {
                bits |= bit;
            }
        }
        bits
    }

    fn ms_flags(self) -> MsFlags {
        let mut flags = MsFlags::empty();
        for (on, flag) in [
            (self.read_only, MsFlags::MS_RDONLY),
            (self.nosuid, MsFlags::MS_NOSUID),
            (self.nodev, MsFlags::MS_NODEV),
            (self.noexec, MsFlags::MS_NOEXEC),
        ] {
            if on {
                flags |= flag;
            }
        }
        flags
    }
}

/// Opens the directory `root` (the container's root, still a host path) to
/// resolve targets in.
pub fn open_root(root: &Path) -> nix::Result<OwnedFd> {
    nix::fcntl::open(
        root,
        OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
}

/// A mount target inside the root, held open (`O_PATH`).
#[derive(Debug)]
pub struct Target {
    fd: OwnedFd,
}

impl AsFd for Target {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl Target {
    /// Opens `path` inside `root` as a mount target of `kind`, creating it
    /// (and missing directories on the way) inside `root` if need be.
    pub fn open(root: BorrowedFd, path: &Path, kind: Kind) -> nix::Result<Target> {
        let fd = open_or_create(root, path, kind, 0)?;
        let is_dir = SFlag::from_bits_truncate(fstat(&fd)?.st_mode).contains(SFlag::S_IFDIR);
        match (kind, is_dir) {
            (Kind::Directory, false) => Err(Errno::ENOTDIR),
            (Kind::File, true) => Err(Errno::EISDIR),
            _ => Ok(Target { fd }),
        }
    }

    /// The path through which mount(2) reaches the opened file: the kernel
    /// follows this "magic" link to the file itself, whatever has become of
    /// the path it was opened by.
    pub fn proc_path(&self) -> String {
        format!("/proc/self/fd/{}", self.fd.as_raw_fd())
    }

    /// Mounts a new filesystem (proc, tmpfs, sysfs...) on the target.
    pub fn mount_fs(
        &self,
        source: &str,
        fstype: &str,
        flags: MsFlags,
        data: Option<&str>,
    ) -> nix::Result<()> {
        mount(
            Some(source),
            self.proc_path().as_str(),
            Some(fstype),
            flags,
            data,
        )
    }

    /// Bind-mounts `source` (a host path), with everything mounted below it,
    /// on the target, with `attributes` on every one of those mounts.
    ///
    /// The copy of the mount tree is made detached (open_tree), given its
    /// attributes while nobody can use it yet (mount_setattr, recursive),
    /// then attached to the target's descriptor (move_mount). Kernels
    /// before 5.12 lack a piece of that: then the bind goes through
    /// `/proc/self/fd/N`, and each mount of the copy is remounted with the
    /// attributes.
    pub fn bind(&self, source: &Path, attributes: Attributes) -> nix::Result<()> {
        let tree = match open_tree(source) {
            Ok(tree) => tree,
            Err(Errno::ENOSYS) => {
                mount(
                    Some(source),
                    self.proc_path().as_str(),
                    None::<&str>,
                    MsFlags::MS_BIND | MsFlags::MS_REC,
                    None::<&str>,
                )?;
                return remount_each(&self.mounted_path()?, attributes);
            }
            Err(error) => return Err(error),
        };
        let set_later = match set_attributes(tree.as_fd(), c"", libc::AT_EMPTY_PATH, attributes) {
            Ok(()) => false,
            Err(Errno::ENOSYS) => true,
            Err(error) => return Err(error),
        };
        move_mount(tree.as_fd(), self.fd.as_fd())?;
        if set_later {
            remount_each(&self.mounted_path()?, attributes)?;
        }
        Ok(())
    }

    /// Where the target is, as a path (only for the fallbacks, which have
    /// nothing better).
    fn mounted_path(&self) -> nix::Result<PathBuf> {
        fd_path(self.fd.as_fd())
    }
}

/// Sets `attributes` on the mount at `path` and on every mount below it:
/// mount_setattr(2) with AT_RECURSIVE, or one remount per mount where the
/// kernel has no mount_setattr.
pub fn set_recursively(path: &Path, attributes: Attributes) -> nix::Result<()> {
    let c_path = c_path(path)?;
    match set_attributes(cwd(), &c_path, 0, attributes) {
        Err(Errno::ENOSYS) => remount_each(path, attributes),
        other => other,
    }
}

fn cwd() -> BorrowedFd<'static> {
    // SAFETY: AT_FDCWD is a valid "descriptor" for every *at call.
    unsafe { BorrowedFd::borrow_raw(libc::AT_FDCWD) }
}

fn c_path(path: &Path) -> nix::Result<CString> {
    CString::new(path.as_os_str().as_bytes()).map_err(|_| Errno::EINVAL)
}

/// What `fd` refers to, as a path of this mount namespace.
fn fd_path(fd: BorrowedFd) -> nix::Result<PathBuf> {
    std::fs::read_link(format!("/proc/self/fd/{}", fd.as_raw_fd()))
        .map_err(|error| Errno::from_raw(error.raw_os_error().unwrap_or(libc::EIO)))
}

/// Opens `path` inside `root`, resolving it as if `root` were `/`.
pub fn open_in_root(root: BorrowedFd, path: &Path, flags: OFlag) -> nix::Result<OwnedFd> {
    // SAFETY: open_how is plain old data; all zeroes is valid.
    let mut how: libc::open_how = unsafe { std::mem::zeroed() };
    how.flags = (flags | OFlag::O_CLOEXEC).bits() as u64;
    how.resolve = libc::RESOLVE_IN_ROOT | libc::RESOLVE_NO_MAGICLINKS;
    let c_path = c_path(path)?;
    // SAFETY: valid pointers and the size of the struct they point to; the
    // kernel returns a new descriptor, which we own.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_openat2,
            root.as_raw_fd(),
            c_path.as_ptr(),
            &how,
            std::mem::size_of::<libc::open_how>(),
        )
    };
    match Errno::result(fd) {
        // SAFETY: a descriptor the kernel just gave us.
        Ok(fd) => Ok(unsafe { OwnedFd::from_raw_fd(fd as libc::c_int) }),
        // Before Linux 5.6: resolve in user space, then make sure.
        Err(Errno::ENOSYS) => open_by_secure_join(root, path, flags),
        Err(error) => Err(error),
    }
}

/// The fallback of [`open_in_root`] for kernels without openat2: resolve
/// with [`secure_join`], open the result without following a last symlink,
/// and refuse the descriptor unless it really is inside the root. A race
/// can still make the open fail, but not land outside.
pub fn open_by_secure_join(root: BorrowedFd, path: &Path, flags: OFlag) -> nix::Result<OwnedFd> {
    let root_path = fd_path(root)?;
    let joined = secure_join(&root_path, path)?;
    let fd = nix::fcntl::open(
        &joined,
        flags | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::empty(),
    )?;
    if fd_path(fd.as_fd())?.starts_with(&root_path) {
        Ok(fd)
    } else {
        Err(Errno::EXDEV)
    }
}

/// Opens `path` inside `root`, creating what is missing, always relative to
/// descriptors opened inside `root`. A dangling symlink on the way is
/// followed, inside `root`, to what it names, which is created.
fn open_or_create(root: BorrowedFd, path: &Path, kind: Kind, links: usize) -> nix::Result<OwnedFd> {
    let flags = match kind {
        Kind::Directory => OFlag::O_PATH | OFlag::O_DIRECTORY,
        Kind::File => OFlag::O_PATH,
    };
    match open_in_root(root, path, flags) {
        Err(Errno::ENOENT) => {}
        other => return other,
    }
    let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else {
        return Err(Errno::ENOENT);
    };
    let dir = open_or_create(root, parent, Kind::Directory, links)?;
    let made = match kind {
        Kind::Directory => mkdirat(&dir, name, Mode::from_bits_truncate(0o755)),
        Kind::File => openat(
            &dir,
            name,
            OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_WRONLY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
            Mode::from_bits_truncate(0o644),
        )
        .map(drop),
    };
    match made {
        Ok(()) => {}
        Err(Errno::EEXIST) => {
            // Not something made meanwhile by someone else: a symlink to
            // nowhere (yet).
            if let Ok(link) = readlinkat(&dir, name) {
                if links >= MAX_LINKS {
                    return Err(Errno::ELOOP);
                }
                let link = PathBuf::from(link);
                let next = if link.is_absolute() {
                    link
                } else {
                    parent.join(link)
                };
                return open_or_create(root, &next, kind, links + 1);
            }
        }
        Err(error) => return Err(error),
    }
    open_in_root(root, path, flags)
}

/// open_tree(2): a detached copy of the mount tree at `source`.
fn open_tree(source: &Path) -> nix::Result<OwnedFd> {
    let c_source = c_path(source)?;
    // SAFETY: a valid path; the kernel returns a new descriptor.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_open_tree,
            libc::AT_FDCWD,
            c_source.as_ptr(),
            libc::OPEN_TREE_CLONE | libc::OPEN_TREE_CLOEXEC | libc::AT_RECURSIVE as libc::c_uint,
        )
    };
    // SAFETY: a descriptor the kernel just gave us.
    Errno::result(fd).map(|fd| unsafe { OwnedFd::from_raw_fd(fd as libc::c_int) })
}

/// mount_setattr(2), recursive: `attributes` on the mount at `dir`/`path`
/// and every mount below it.
fn set_attributes(
    dir: BorrowedFd,
    path: &CStr,
    flags: libc::c_int,
    attributes: Attributes,
) -> nix::Result<()> {
    // SAFETY: mount_attr is plain old data; all zeroes is valid.
    let mut attr: libc::mount_attr = unsafe { std::mem::zeroed() };
    attr.attr_set = attributes.mount_attr();
    // SAFETY: valid pointers and the size of the struct.
    let result = unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            dir.as_raw_fd(),
            path.as_ptr(),
            (flags | libc::AT_RECURSIVE) as libc::c_uint,
            &attr,
            std::mem::size_of::<libc::mount_attr>(),
        )
    };
    Errno::result(result).map(drop)
}

/// move_mount(2): attaches the detached tree `from` on `to`.
fn move_mount(from: BorrowedFd, to: BorrowedFd) -> nix::Result<()> {
    // SAFETY: valid descriptors and empty paths.
    let result = unsafe {
        libc::syscall(
            libc::SYS_move_mount,
            from.as_raw_fd(),
            c"".as_ptr(),
            to.as_raw_fd(),
            c"".as_ptr(),
            libc::MOVE_MOUNT_F_EMPTY_PATH | libc::MOVE_MOUNT_T_EMPTY_PATH,
        )
    };
    Errno::result(result).map(drop)
}

/// The fallback of the recursive attributes: remounts the mount at `path`
/// and each one below it (from `/proc/self/mountinfo`) with `attributes`
/// and the flags it already has that may not be dropped.
pub fn remount_each(path: &Path, attributes: Attributes) -> nix::Result<()> {
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo")
        .map_err(|error| Errno::from_raw(error.raw_os_error().unwrap_or(libc::EIO)))?;
    for mount_point in mount_points(&mountinfo) {
        if mount_point == path || mount_point.starts_with(path) {
            let flags = MsFlags::MS_BIND
                | MsFlags::MS_REMOUNT
                | attributes.ms_flags()
                | super::masks::locked_flags(&mount_point);
            mount(
                None::<&str>,
                &mount_point,
                None::<&str>,
                flags,
                None::<&str>,
            )?;
        }
    }
    Ok(())
}

/// The mount points of a mountinfo text, with its octal escapes (`\040` for
/// a space) undone.
fn mount_points(mountinfo: &str) -> Vec<PathBuf> {
    mountinfo
        .lines()
        .filter_map(|line| line.split(' ').nth(4))
        .map(|field| {
            let bytes = field.as_bytes();
            let mut out = Vec::with_capacity(bytes.len());
            let mut i = 0;
            while i < bytes.len() {
                let octal = bytes.get(i + 1..i + 4).and_then(|digits| {
                    std::str::from_utf8(digits)
                        .ok()
                        .and_then(|digits| u8::from_str_radix(digits, 8).ok())
                });
                match (bytes[i], octal) {
                    (b'\\', Some(byte)) => {
                        out.push(byte);
                        i += 4;
                    }
                    (byte, _) => {
                        out.push(byte);
                        i += 1;
                    }
                }
            }
            PathBuf::from(std::ffi::OsStr::from_bytes(&out))
        })
        .collect()
}
