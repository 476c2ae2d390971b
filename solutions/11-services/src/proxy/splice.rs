//! Copying a proxied TCP connection both ways. Small messages (requests
//! and answers) go through a buffer: one read and one write each. Once a
//! read fills the buffer the direction is a bulk transfer, and it moves on
//! to splice(2) where the kernel allows: bytes go from one socket into a
//! pipe and from the pipe into the other socket without ever being copied
//! to the proxy's memory. (Splicing a small message costs three system
//! calls where the buffer costs two; HAProxy switches the same way.) Each
//! direction ends on its own: the end of one side's data is passed on as a
//! half-close (`shutdown(SHUT_WR)`) and the other direction goes on, as a
//! TCP connection between the two ends would.
//!
//! Kubernetes: the userspace kube-proxy's `ProxySocket` copied with two
//! `io.Copy` goroutines; Go's `io.Copy` between TCP sockets uses splice
//! since Go 1.21. Where splice fails (EINVAL: a kernel or socket that does
//! not support it), the buffer carries the bulk too.

use std::io;
use std::os::fd::{AsFd, OwnedFd};

use nix::errno::Errno;
use nix::fcntl::{OFlag, SpliceFFlags, splice};
use tokio::io::Interest;
use tokio::net::TcpStream;

/// The pipe's capacity asked for: fewer, larger splices (the default
/// 64 KiB pipe took three times the system calls for a bulk transfer).
const PIPE_SIZE: usize = 1024 * 1024;
/// The buffer small messages go through; a read that fills it makes the
/// direction a bulk transfer.
const CHUNK: usize = 64 * 1024;

/// Bytes moved each way: (a → b, b → a).
pub type Moved = (u64, u64);

/// Copies `a` to `b` and `b` to `a` until both directions have ended.
/// On an error in one direction both connections are reset (SO_LINGER 0
/// as they close), so that each end learns the other failed.
pub async fn copy_bidirectional(a: &TcpStream, b: &TcpStream) -> io::Result<Moved> {
    let result = tokio::try_join!(one_way(a, b), one_way(b, a));
    if result.is_err() {
        for stream in [a, b] {
            let _ = socket2::SockRef::from(stream).set_linger(Some(std::time::Duration::ZERO));
        }
    }
    result
}

// ANCHOR: one_way
/// Copies `from` to `to` until `from` ends, then half-closes `to`.
async fn one_way(from: &TcpStream, to: &TcpStream) -> io::Result<u64> {
    let mut buffer = vec![0u8; CHUNK];
    let mut moved = 0u64;
    let bulk = loop {
        let read = read_some(from, &mut buffer).await?;
        if read == 0 {
            break false;
        }
        write_all(to, &buffer[..read]).await?;
        moved += read as u64;
        if read == buffer.len() {
            break true;
        }
    };
    if bulk {
        drop(buffer);
        moved += match Pipe::new() {
            Ok(pipe) => match spliced(from, to, &pipe).await? {
                Spliced::Done(spliced) => spliced,
                Spliced::Unsupported => copied(from, to).await?,
            },
            Err(_) => copied(from, to).await?,
        };
    }
    // The other side may be gone already (it reset): nothing to tell it.
    let _ = socket2::SockRef::from(to).shutdown(std::net::Shutdown::Write);
    Ok(moved)
}
// ANCHOR_END: one_way

/// How a spliced copy ended.
enum Spliced {
    Done(u64),
    /// splice is not possible here; nothing was moved (it fails on the
    /// first call if at all).
    Unsupported,
}

struct Pipe {
    read: OwnedFd,
    write: OwnedFd,
    /// Bytes asked of one splice: the pipe's capacity, so that a pipe
    /// emptied before each read never blocks the read.
    size: usize,
}

impl Pipe {
    fn new() -> nix::Result<Pipe> {
        let (read, write) = nix::unistd::pipe2(OFlag::O_NONBLOCK | OFlag::O_CLOEXEC)?;
        // Past /proc/sys/fs/pipe-max-size (or the user's pipe budget) the
        // pipe keeps its size, which F_GETPIPE_SZ tells.
        let _ = nix::fcntl::fcntl(&write, nix::fcntl::FcntlArg::F_SETPIPE_SZ(PIPE_SIZE as i32));
        let size = nix::fcntl::fcntl(&write, nix::fcntl::FcntlArg::F_GETPIPE_SZ)?;
        Ok(Pipe {
            read,
            write,
            size: usize::try_from(size).unwrap_or(CHUNK).max(4096),
        })
    }
}

async fn spliced(from: &TcpStream, to: &TcpStream, pipe: &Pipe) -> io::Result<Spliced> {
    let flags = SpliceFFlags::SPLICE_F_MOVE | SpliceFFlags::SPLICE_F_NONBLOCK;
    let mut total = 0u64;
    loop {
        // Socket → pipe. The pipe is empty here, so EAGAIN is the socket's.
        let filled = loop {
            from.readable().await?;
            let result = from.try_io(Interest::READABLE, || {
                splice(
                    from.as_fd(),
                    None,
                    pipe.write.as_fd(),
                    None,
                    pipe.size,
                    flags,
                )
                .map_err(io::Error::from)
            });
            match result {
                Ok(count) => break count,
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => continue,
                Err(error) if total == 0 && unsupported(&error) => {
                    return Ok(Spliced::Unsupported);
                }
                Err(error) => return Err(error),
            }
        };
        if filled == 0 {
            return Ok(Spliced::Done(total));
        }
        // Pipe → socket, until the pipe is empty again.
        let mut left = filled;
        while left > 0 {
            to.writable().await?;
            let result = to.try_io(Interest::WRITABLE, || {
                splice(pipe.read.as_fd(), None, to.as_fd(), None, left, flags)
                    .map_err(io::Error::from)
            });
            match result {
                Ok(count) => left -= count,
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => continue,
                Err(error) => return Err(error),
            }
        }
        total += filled as u64;
    }
}

fn unsupported(error: &io::Error) -> bool {
    matches!(
        error.raw_os_error().map(Errno::from_raw),
        Some(Errno::EINVAL | Errno::ENOSYS | Errno::EOPNOTSUPP)
    )
}

/// The fallback for a bulk transfer: through a buffer in the proxy's
/// memory.
async fn copied(from: &TcpStream, to: &TcpStream) -> io::Result<u64> {
    let mut buffer = vec![0u8; CHUNK];
    let mut total = 0u64;
    loop {
        let read = read_some(from, &mut buffer).await?;
        if read == 0 {
            return Ok(total);
        }
        write_all(to, &buffer[..read]).await?;
        total += read as u64;
    }
}

/// Reads what `from` has, at most `buffer.len()` bytes; 0 at its end.
///
/// A read shorter than the buffer emptied the socket: its readiness is
/// cleared then (the closure reports "would block" after it kept the
/// count), so the next read waits for the kernel's next edge instead of
/// costing a system call that finds nothing. tokio's own `poll_read` does
/// the same; `try_read` does not.
async fn read_some(from: &TcpStream, buffer: &mut [u8]) -> io::Result<usize> {
    loop {
        from.readable().await?;
        let mut short = None;
        let result = from.try_io(Interest::READABLE, || {
            let read = nix::unistd::read(from.as_fd(), buffer).map_err(io::Error::from)?;
            if read > 0 && read < buffer.len() {
                short = Some(read);
                return Err(io::ErrorKind::WouldBlock.into());
            }
            Ok(read)
        });
        match (result, short) {
            (_, Some(read)) => return Ok(read),
            (Ok(read), None) => return Ok(read),
            (Err(error), None) if error.kind() == io::ErrorKind::WouldBlock => continue,
            (Err(error), None) => return Err(error),
        }
    }
}

async fn write_all(to: &TcpStream, mut bytes: &[u8]) -> io::Result<()> {
    while !bytes.is_empty() {
        to.writable().await?;
        match to.try_write(bytes) {
            Ok(written) => bytes = &bytes[written..],
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => continue,
            Err(error) => return Err(error),
        }
    }
    Ok(())
}
