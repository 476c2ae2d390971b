// Generated from solutions/04-cgroups/src/join.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
use std::ffi::CString;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

/// A cgroup's `cgroup.procs` paths, prepared so that a process can join the
/// cgroup between `fork` and `exec`.
///
/// After `fork` in a multi-threaded program, the child may only make
/// async-signal-safe calls: another thread may have held the allocator's
/// lock at the moment of the fork, and nobody will ever release it in the
/// child. So the paths become C strings here, before the fork, and
/// [`JoinFiles::join_self`] does nothing but open, write and close.
#[derive(Debug, Clone)]
pub struct JoinFiles {
    paths: Vec<CString>,
}

impl JoinFiles {
    pub(crate) fn new(paths: &[PathBuf]) -> JoinFiles {
        let paths = paths
            .iter()
            // A path from a CgroupName and a mount point has no NUL byte.
            .filter_map(|path| CString::new(path.as_os_str().as_bytes()).ok())
            .collect();
        JoinFiles { paths }
    }

    // ANCHOR: join_self
    /// Moves the calling process into the cgroup by writing `0` into each
    /// `cgroup.procs`. Async-signal-safe: no allocation, no locks.
    pub fn join_self(&self) -> io::Result<()> {
        for path in &self.paths {
            // SAFETY: a valid NUL-terminated path; the descriptor is ours
            // and closed on every path out.
            unsafe {
                let fd = libc::open(path.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
                if fd < 0 {
                    return Err(io::Error::last_os_error());
                }
                let written = libc::write(fd, b"0".as_ptr().cast(), 1);
                let error = io::Error::last_os_error();
                libc::close(fd);
                if written != 1 {
                    return Err(error);
                }
            }
        }
        Ok(())
    }
    // ANCHOR_END: join_self
}
