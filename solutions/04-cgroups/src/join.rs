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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joining_writes_zero_into_every_file() {
        let dir = tempfile::tempdir().unwrap();
        let paths = [dir.path().join("a"), dir.path().join("b")];
        for path in &paths {
            std::fs::write(path, "").unwrap();
        }
        JoinFiles::new(&paths).join_self().unwrap();
        for path in &paths {
            assert_eq!(std::fs::read_to_string(path).unwrap(), "0");
        }
        let missing = JoinFiles::new(&[dir.path().join("missing")]).join_self();
        assert_eq!(missing.unwrap_err().kind(), io::ErrorKind::NotFound);
    }
}
