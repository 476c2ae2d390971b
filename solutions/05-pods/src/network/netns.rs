//! Reaching into another network namespace without moving the caller.
//!
//! `setns` changes the namespace of the calling *thread*. Calling it on a
//! tokio worker would move every task that later runs on that worker into
//! the pod's network. Instead, a short-lived thread of our own enters the
//! namespace, opens a netlink socket there and hands it back: the socket
//! stays bound to that namespace for its whole life, whichever thread uses
//! it, and the thread ends without ever running anything else.

use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

use super::error::NetworkError;
use super::netlink::Socket;

/// An open network namespace: `/proc/<pid>/ns/net` of the process holding
/// it (a pod's pause process), or a bind mount of one. Keeping the file
/// open keeps the namespace alive while we work in it.
#[derive(Debug)]
pub struct Namespace {
    path: PathBuf,
    file: File,
}

impl Namespace {
    /// Opens the namespace at `path`. A process that has exited leaves no
    /// such file: that is [`NetworkError::NamespaceGone`].
    pub fn open(path: &Path) -> Result<Namespace, NetworkError> {
        match File::open(path) {
            Ok(file) => Ok(Namespace {
                path: path.to_path_buf(),
                file,
            }),
            Err(error)
                if error.kind() == io::ErrorKind::NotFound
                    || error.raw_os_error() == Some(libc::ESRCH) =>
            {
                Err(NetworkError::NamespaceGone {
                    path: path.to_path_buf(),
                })
            }
            Err(source) => Err(NetworkError::Namespace {
                path: path.to_path_buf(),
                source,
            }),
        }
    }

    /// The namespace of the process `pid`.
    pub fn of_process(pid: u32) -> Result<Namespace, NetworkError> {
        Namespace::open(Path::new(&format!("/proc/{pid}/ns/net")))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A netlink socket inside this namespace (see the module's
    /// documentation).
    pub fn socket(&self) -> Result<Socket, NetworkError> {
        self.run(Socket::open)?.map_err(|source| self.error(source))
    }

    // ANCHOR: run
    /// Runs `work` on a thread of its own inside this namespace and returns
    /// its result. Sockets it opens stay in the namespace: a TCP probe or a
    /// test can connect from a pod's network this way, from any thread.
    pub fn run<T: Send>(&self, work: impl FnOnce() -> T + Send) -> Result<T, NetworkError> {
        let file = &self.file;
        std::thread::scope(|scope| {
            let thread = std::thread::Builder::new()
                .name("netns".into())
                .spawn_scoped(scope, move || {
                    // SAFETY: plain system call on a file we hold open; it
                    // changes this thread only, which ends with `work`.
                    if unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
                        return Err(io::Error::last_os_error());
                    }
                    Ok(work())
                })
                .map_err(|source| self.error(source))?;
            match thread.join() {
                Ok(result) => result.map_err(|source| self.error(source)),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        })
    }
    // ANCHOR_END: run

    fn error(&self, source: io::Error) -> NetworkError {
        NetworkError::Namespace {
            path: self.path.clone(),
            source,
        }
    }
}

impl AsRawFd for Namespace {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.file.as_raw_fd()
    }
}
