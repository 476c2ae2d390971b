//! Streaming exec: a process in a running container whose standard
//! streams the caller holds while it runs (`kubectl exec -i`, `-it`),
//! through pipes or through a pseudo-terminal that can be resized.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::pin::Pin;
use std::process::Stdio;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use nix::fcntl::{FcntlArg, OFlag, fcntl};
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use process::ExitStatus;
use tokio::io::unix::AsyncFd;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::process::{Child, Command};

/// Which streams an exec'd process gets, as `kubectl exec` asks for them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExecStreams {
    /// The caller writes the process's standard input.
    pub stdin: bool,
    /// The caller reads its standard output.
    pub stdout: bool,
    /// The caller reads its standard error (never with a TTY: a terminal
    /// has one output).
    pub stderr: bool,
    /// Standard input, output and error are one pseudo-terminal, the
    /// process's controlling terminal.
    pub tty: bool,
}

/// A writer of the process's standard input.
pub type ExecWriter = Pin<Box<dyn AsyncWrite + Send>>;
/// A reader of one of its outputs.
pub type ExecReader = Pin<Box<dyn AsyncRead + Send>>;

/// A process started by [`crate::PodIo::exec_session`]. Take the streams
/// out, drive them, and [`wait`](ExecSession::wait) for the exit status.
/// Dropped before it was waited for, it kills the process's group.
pub struct ExecSession {
    pub stdin: Option<ExecWriter>,
    pub stdout: Option<ExecReader>,
    pub stderr: Option<ExecReader>,
    terminal: Option<Arc<AsyncFd<OwnedFd>>>,
    child: Child,
    /// The process group to kill if the session is abandoned; `None` once
    /// reaped (the id may be reused from then on).
    group: Option<Pid>,
}

impl ExecSession {
    /// Starts `command` (the init program of chapter 02, told to enter the
    /// container) with the streams asked for.
    pub(crate) fn spawn(mut command: Command, streams: ExecStreams) -> io::Result<ExecSession> {
        let mut terminal = None;
        if streams.tty {
            let pty = nix::pty::openpty(None, None).map_err(io::Error::from)?;
            // Close-on-exec for the master: only this process keeps it.
            fcntl(
                &pty.master,
                FcntlArg::F_SETFD(nix::fcntl::FdFlag::FD_CLOEXEC),
            )?;
            command
                .stdin(Stdio::from(pty.slave.try_clone()?))
                .stdout(Stdio::from(pty.slave.try_clone()?))
                .stderr(Stdio::from(pty.slave));
            // SAFETY: setsid and ioctl are async-signal-safe; nothing is
            // allocated between fork and exec.
            unsafe {
                command.pre_exec(|| {
                    // A new session whose controlling terminal is the pty:
                    // the init stages and the application stay in it (and
                    // in its foreground group), so ^C reaches them.
                    nix::unistd::setsid()?;
                    if libc::ioctl(0, libc::TIOCSCTTY, 0) != 0 {
                        return Err(io::Error::last_os_error());
                    }
                    Ok(())
                });
            }
            let flags = fcntl(&pty.master, FcntlArg::F_GETFL)?;
            fcntl(
                &pty.master,
                FcntlArg::F_SETFL(OFlag::from_bits_truncate(flags) | OFlag::O_NONBLOCK),
            )?;
            // SAFETY: an OwnedFd keeps its one descriptor open until it is
            // dropped, which only the AsyncFd that owns it does.
            let master = unsafe { AsyncFd::register(pty.master) }?;
            terminal = Some(Arc::new(master));
        } else {
            let piped = |wanted: bool| match wanted {
                true => Stdio::piped(),
                false => Stdio::null(),
            };
            command
                .stdin(piped(streams.stdin))
                .stdout(piped(streams.stdout))
                .stderr(piped(streams.stderr))
                .process_group(0);
        }
        let mut child = command.spawn()?;
        // The command holds the slave's descriptors: without this drop, the
        // master would never read the end of the output.
        drop(command);
        let group = child.id().map(|id| Pid::from_raw(id as i32));
        let (stdin, stdout, stderr): (Option<ExecWriter>, Option<ExecReader>, Option<ExecReader>) =
            match &terminal {
                Some(master) => (
                    streams
                        .stdin
                        .then(|| Box::pin(Terminal(master.clone())) as ExecWriter),
                    Some(Box::pin(Terminal(master.clone())) as ExecReader),
                    None,
                ),
                None => (
                    child.stdin.take().map(|s| Box::pin(s) as ExecWriter),
                    child.stdout.take().map(|s| Box::pin(s) as ExecReader),
                    child.stderr.take().map(|s| Box::pin(s) as ExecReader),
                ),
            };
        Ok(ExecSession {
            stdin,
            stdout,
            stderr,
            terminal,
            child,
            group,
        })
    }

    /// Whether the process has a terminal.
    pub fn tty(&self) -> bool {
        self.terminal.is_some()
    }

    /// What resizes the terminal while the session is waited for.
    pub fn resizer(&self) -> Resizer {
        Resizer(self.terminal.clone())
    }

    /// Waits for the process to end and says how it ended.
    pub async fn wait(&mut self) -> io::Result<ExitStatus> {
        let status = self.child.wait().await?;
        self.group = None;
        use std::os::unix::process::ExitStatusExt;
        Ok(match (status.code(), status.signal()) {
            (Some(code), _) => ExitStatus::Code(code),
            (None, Some(signal)) => ExitStatus::Signal(signal),
            (None, None) => ExitStatus::Code(125),
        })
    }

    /// Ends the process and whatever it started in its group, at once.
    pub fn kill(&mut self) {
        if let Some(group) = self.group {
            let _ = killpg(group, Signal::SIGKILL);
        }
    }
}

impl Drop for ExecSession {
    fn drop(&mut self) {
        // Not reaped yet: the group id is still ours.
        if matches!(self.child.try_wait(), Ok(None)) {
            self.kill();
        }
    }
}

/// Resizes the session's terminal, if it has one.
#[derive(Clone)]
pub struct Resizer(Option<Arc<AsyncFd<OwnedFd>>>);

impl Resizer {
    /// Gives the terminal a new size (columns, rows); the process gets
    /// SIGWINCH. Without a terminal there is nothing to resize.
    pub fn resize(&self, width: u16, height: u16) -> io::Result<()> {
        let Some(master) = &self.0 else {
            return Ok(());
        };
        let size = libc::winsize {
            ws_row: height,
            ws_col: width,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        // SAFETY: TIOCSWINSZ reads one winsize from the pointer.
        let done = unsafe { libc::ioctl(master.get_ref().as_raw_fd(), libc::TIOCSWINSZ, &size) };
        if done != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }
}

/// The master side of the pseudo-terminal, read and written without
/// blocking a thread.
struct Terminal(Arc<AsyncFd<OwnedFd>>);

impl AsyncRead for Terminal {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        loop {
            let mut guard = ready!(self.0.poll_read_ready(cx))?;
            let unfilled = buf.initialize_unfilled();
            match guard
                .try_io(|fd| nix::unistd::read(fd.get_ref(), unfilled).map_err(io::Error::from))
            {
                Ok(Ok(read)) => {
                    buf.advance(read);
                    return Poll::Ready(Ok(()));
                }
                // Every slave descriptor is closed: the process is gone.
                // That is the end of the output, not an error.
                Ok(Err(error)) if error.raw_os_error() == Some(libc::EIO) => {
                    return Poll::Ready(Ok(()));
                }
                Ok(Err(error)) => return Poll::Ready(Err(error)),
                Err(_would_block) => continue,
            }
        }
    }
}

impl AsyncWrite for Terminal {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        loop {
            let mut guard = ready!(self.0.poll_write_ready(cx))?;
            match guard.try_io(|fd| nix::unistd::write(fd.get_ref(), data).map_err(io::Error::from))
            {
                Ok(result) => return Poll::Ready(result),
                Err(_would_block) => continue,
            }
        }
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    /// The end of input on a terminal is ^D (EOF) at the start of a line:
    /// closing the master would hang the process up instead.
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_write(cx, &[4]).map_ok(|_| ())
    }
}
