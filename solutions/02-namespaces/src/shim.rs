//! The shim: the container's first process, made independent of the agent
//! that started it, as containerd-shim and conmon are.
//!
//! Without it, the application's output goes through pipes that the agent
//! reads, and its exit status reaches only the agent (its child's
//! `waitpid`): once the agent dies, the application writes into a pipe
//! nobody reads, and its end is told to nobody. With it, the first process
//! holds the application's stdout and stderr itself, writes them into the
//! container's CRI log file, and writes the application's exit status into
//! a file when it ends; it runs in a session of its own and no signal ties
//! it to the agent's death. A new agent can then adopt the container: the
//! log file goes on growing, and the exit file tells how it ended.
//!
//! It stays single-threaded: one `poll` loop over the two pipes and a
//! signalfd, which turns the blocked signals (SIGCHLD, those to forward)
//! into readable data.

use std::io::Write;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::Utc;
use nix::errno::Errno;
use nix::sys::signal::SigSet;
use nix::unistd::Pid;
use serde::{Deserialize, Serialize};

use process::{ExitStatus, MAX_LOG_LINE, Stream, format_log_line};

use crate::init::{forward, reap_children};

/// Where the shim writes what it holds for the agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shim {
    /// The CRI log file the application's stdout and stderr go to
    /// (appended to: the agent may write the init program's own errors
    /// there too).
    pub log_path: PathBuf,
    /// Written (atomically) with the application's status when it ends:
    /// `code N` or `signal N`, as [`read_exit_file`] reads it.
    pub exit_file: PathBuf,
}

/// How long the shim goes on copying output after the application ended:
/// its PID namespace is gone by then, so the pipes close at once, unless a
/// process outside it holds them.
const DRAIN: Duration = Duration::from_secs(1);

/// The text of an exit file (also the status pipe's format).
pub(crate) fn status_text(status: ExitStatus) -> String {
    match status {
        ExitStatus::Code(code) => format!("code {code}"),
        ExitStatus::Signal(signal) => format!("signal {signal}"),
    }
}

/// Reads [`status_text`] back.
pub(crate) fn parse_status(text: &str) -> Option<ExitStatus> {
    let (kind, number) = text.trim().split_once(' ')?;
    let number = number.parse().ok()?;
    match kind {
        "code" => Some(ExitStatus::Code(number)),
        "signal" => Some(ExitStatus::Signal(number)),
        _ => None,
    }
}

/// The status a shim wrote into `path`, or `None` while there is none (the
/// application still runs, or the shim was killed before it could write).
pub fn read_exit_file(path: &Path) -> Option<ExitStatus> {
    parse_status(&std::fs::read_to_string(path).ok()?)
}

/// The shim's files, opened first thing, while this process still sees the
/// host's filesystem: once PID 1 calls `pivot_root` in the mount namespace
/// they share, host paths would name files in the container.
pub(crate) struct ShimFiles {
    log: Option<std::fs::File>,
    exit_dir: OwnedFd,
    exit_name: std::ffi::CString,
}

impl ShimFiles {
    pub(crate) fn open(shim: &Shim) -> std::io::Result<ShimFiles> {
        use std::os::unix::ffi::OsStrExt;
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&shim.log_path)
            .ok();
        let dir = shim
            .exit_file
            .parent()
            .filter(|dir| !dir.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let name = shim
            .exit_file
            .file_name()
            .ok_or_else(|| std::io::Error::other("the exit file has no name"))?;
        let exit_dir = std::fs::File::open(dir)?.into();
        let exit_name = std::ffi::CString::new(name.as_bytes())
            .map_err(|_| std::io::Error::other("the exit file's name holds a NUL byte"))?;
        Ok(ShimFiles {
            log,
            exit_dir,
            exit_name,
        })
    }

    /// Writes the exit file atomically (a temporary file renamed over it,
    /// so a reader sees the whole status or no file), in the directory
    /// opened before.
    pub(crate) fn write_exit(&self, status: ExitStatus) -> std::io::Result<()> {
        let mut temporary = self.exit_name.as_bytes().to_vec();
        temporary.extend_from_slice(b".tmp");
        let temporary = std::ffi::CString::new(temporary).expect("no NUL byte");
        let dir = self.exit_dir.as_raw_fd();
        // SAFETY: a valid directory descriptor and NUL-terminated names.
        let fd = unsafe {
            libc::openat(
                dir,
                temporary.as_ptr(),
                libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC | libc::O_CLOEXEC,
                0o644,
            )
        };
        let fd = Errno::result(fd).map_err(std::io::Error::from)?;
        // SAFETY: just opened, ours.
        let mut file = std::fs::File::from(unsafe { OwnedFd::from_raw_fd(fd) });
        file.write_all(status_text(status).as_bytes())?;
        file.sync_all()?;
        // SAFETY: as above.
        let renamed =
            unsafe { libc::renameat(dir, temporary.as_ptr(), dir, self.exit_name.as_ptr()) };
        Errno::result(renamed)
            .map(drop)
            .map_err(std::io::Error::from)
    }
}

/// The application's output pipes, made before PID 1 is forked.
pub(crate) struct ShimPipes {
    stdout: (OwnedFd, OwnedFd),
    stderr: (OwnedFd, OwnedFd),
}

impl ShimPipes {
    pub(crate) fn new() -> nix::Result<ShimPipes> {
        let pipe = || nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC);
        Ok(ShimPipes {
            stdout: pipe()?,
            stderr: pipe()?,
        })
    }

    /// In PID 1: the write ends become stdout and stderr (inherited by the
    /// application); the read ends are the shim's alone.
    pub(crate) fn install_in_child(self) -> nix::Result<()> {
        // SAFETY: dup2 onto the standard descriptors of this
        // single-threaded process; the new descriptors lose O_CLOEXEC.
        unsafe {
            Errno::result(libc::dup2(self.stdout.1.as_raw_fd(), 1))?;
            Errno::result(libc::dup2(self.stderr.1.as_raw_fd(), 2))?;
        }
        Ok(())
    }

    /// In the shim: keeps the read ends.
    pub(crate) fn into_readers(self) -> [OwnedFd; 2] {
        [self.stdout.0, self.stderr.0]
    }
}

/// Detaches the first process from the agent: its own session (a SIGHUP
/// or a signal to the agent's process group does not reach it), and
/// stdin, stdout and stderr on /dev/null (the agent's pipes would fail
/// once the agent is gone).
pub(crate) fn detach() {
    // Already a session leader when the supervisor made it one: EPERM.
    let _ = nix::unistd::setsid();
    if let Ok(null) = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")
    {
        for target in 0..=2 {
            // SAFETY: dup2 onto this process's own standard descriptors.
            unsafe { libc::dup2(null.as_raw_fd(), target) };
        }
    }
}

/// One stream's bytes on their way to log entries.
struct LineSplitter {
    stream: Stream,
    pending: Vec<u8>,
}

impl LineSplitter {
    /// The entries for `bytes`: one per complete line, a partial (`P`) one
    /// per MAX_LOG_LINE bytes without a newline.
    fn feed(&mut self, bytes: &[u8], out: &mut Vec<u8>) {
        self.pending.extend_from_slice(bytes);
        let mut start = 0;
        loop {
            let rest = &self.pending[start..];
            match rest.iter().position(|&byte| byte == b'\n') {
                Some(end) if end <= MAX_LOG_LINE => {
                    out.extend(format_log_line(
                        Utc::now(),
                        self.stream,
                        false,
                        &rest[..end],
                    ));
                    start += end + 1;
                }
                _ if rest.len() >= MAX_LOG_LINE => {
                    out.extend(format_log_line(
                        Utc::now(),
                        self.stream,
                        true,
                        &rest[..MAX_LOG_LINE],
                    ));
                    start += MAX_LOG_LINE;
                }
                _ => break,
            }
        }
        self.pending.drain(..start);
    }

    /// At end of file: a last line without a newline is still a line.
    fn finish(&mut self, out: &mut Vec<u8>) {
        if !self.pending.is_empty() {
            out.extend(format_log_line(
                Utc::now(),
                self.stream,
                false,
                &self.pending,
            ));
            self.pending.clear();
        }
    }
}

/// A signalfd for `signals` (which must be blocked).
fn signal_fd(signals: &SigSet) -> nix::Result<OwnedFd> {
    // SAFETY: a valid set; the descriptor returned is ours.
    let fd = Errno::result(unsafe {
        libc::signalfd(-1, signals.as_ref(), libc::SFD_CLOEXEC | libc::SFD_NONBLOCK)
    })?;
    // SAFETY: just created, owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// The signal numbers waiting in the signalfd.
fn read_signals(fd: RawFd) -> Vec<libc::c_int> {
    let mut numbers = Vec::new();
    loop {
        // SAFETY: an all-zero siginfo is valid; read fills it.
        let mut info: libc::signalfd_siginfo = unsafe { std::mem::zeroed() };
        let size = std::mem::size_of::<libc::signalfd_siginfo>();
        // SAFETY: reads at most `size` bytes into `info`.
        let read = unsafe { libc::read(fd, (&raw mut info).cast(), size) };
        if read != size as isize {
            return numbers;
        }
        numbers.push(info.ssi_signo as libc::c_int);
    }
}

// ANCHOR: shim_loop
/// The shim's loop: copies the application's output into the log, reaps
/// and forwards signals to `child` (PID 1), and returns PID 1's status once
/// it has exited and its output is drained.
pub(crate) fn run(
    child: Pid,
    signals: &SigSet,
    readers: [OwnedFd; 2],
    files: &mut ShimFiles,
) -> ExitStatus {
    let log = &mut files.log;
    let signal_fd = signal_fd(signals).ok();
    let mut readers: Vec<Option<OwnedFd>> = readers.into_iter().map(Some).collect();
    let mut splitters = [Stream::Stdout, Stream::Stderr].map(|stream| LineSplitter {
        stream,
        pending: Vec::new(),
    });
    let mut status = None;
    let mut deadline = None;
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        if status.is_none() {
            let reaped = reap_children(child);
            status = reaped
                .main
                .or(reaped.no_children.then_some(ExitStatus::Code(125)));
            if status.is_some() {
                deadline = Some(Instant::now() + DRAIN);
            }
        }
        let open = readers.iter().any(Option::is_some);
        let timeout = match deadline {
            Some(deadline) if !open || Instant::now() >= deadline => break,
            Some(deadline) => deadline
                .saturating_duration_since(Instant::now())
                .as_millis() as i32,
            // Without a signalfd, SIGCHLD cannot wake the poll: look again
            // now and then.
            None if signal_fd.is_none() => 100,
            None => -1,
        };
        let mut polled: Vec<libc::pollfd> = Vec::new();
        let mut sources = Vec::new();
        if let Some(fd) = &signal_fd {
            polled.push(pollfd(fd.as_raw_fd()));
            sources.push(None);
        }
        for (index, reader) in readers.iter().enumerate() {
            if let Some(reader) = reader {
                polled.push(pollfd(reader.as_raw_fd()));
                sources.push(Some(index));
            }
        }
        // SAFETY: `polled` is a valid array of pollfds.
        let ready =
            unsafe { libc::poll(polled.as_mut_ptr(), polled.len() as libc::nfds_t, timeout) };
        if ready <= 0 {
            continue;
        }
        let mut entries = Vec::new();
        for (poll, source) in polled.iter().zip(&sources) {
            if poll.revents == 0 {
                continue;
            }
            match source {
                None => {
                    for number in read_signals(poll.fd) {
                        if number != libc::SIGCHLD && status.is_none() {
                            forward(child, number);
                        }
                    }
                }
                Some(index) => {
                    // SAFETY: reads into our buffer from our descriptor.
                    let read =
                        unsafe { libc::read(poll.fd, buffer.as_mut_ptr().cast(), buffer.len()) };
                    if read > 0 {
                        splitters[*index].feed(&buffer[..read as usize], &mut entries);
                    } else if read == 0 || Errno::last() != Errno::EINTR {
                        splitters[*index].finish(&mut entries);
                        readers[*index] = None;
                    }
                }
            }
        }
        if let Some(log) = log
            && !entries.is_empty()
        {
            let _ = log.write_all(&entries);
        }
    }
    let mut entries = Vec::new();
    for splitter in &mut splitters {
        splitter.finish(&mut entries);
    }
    if let Some(log) = log {
        let _ = log.write_all(&entries);
    }
    status.unwrap_or(ExitStatus::Code(125))
}
// ANCHOR_END: shim_loop

fn pollfd(fd: RawFd) -> libc::pollfd {
    libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(stream: Stream, chunks: &[&[u8]]) -> Vec<String> {
        let mut splitter = LineSplitter {
            stream,
            pending: Vec::new(),
        };
        let mut out = Vec::new();
        for chunk in chunks {
            splitter.feed(chunk, &mut out);
        }
        splitter.finish(&mut out);
        String::from_utf8(out)
            .unwrap()
            .lines()
            // Drop the time: "<time> <stream> <tag> <content>".
            .map(|line| line.split_once(' ').unwrap().1.to_string())
            .collect()
    }

    #[test]
    fn lines_cut_across_reads_are_one_entry_each() {
        let lines = split(Stream::Stdout, &[b"hel", b"lo\nwor", b"ld\n", b"tail"]);
        assert_eq!(lines, ["stdout F hello", "stdout F world", "stdout F tail"]);
    }

    #[test]
    fn a_runaway_line_is_cut_into_partial_entries() {
        let long = vec![b'x'; MAX_LOG_LINE + 3];
        let lines = split(Stream::Stderr, &[&long, b"\n"]);
        assert_eq!(lines.len(), 2);
        assert!(lines[0].starts_with("stderr P xxx"));
        assert_eq!(lines[1], "stderr F xxx");
    }

    #[test]
    fn an_exit_file_is_written_whole_and_read_back() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("0.exit");
        let shim = Shim {
            log_path: tmp.path().join("0.log"),
            exit_file: path.clone(),
        };
        let files = ShimFiles::open(&shim).unwrap();
        assert_eq!(read_exit_file(&path), None);
        files.write_exit(ExitStatus::Signal(9)).unwrap();
        assert_eq!(read_exit_file(&path), Some(ExitStatus::Signal(9)));
        files.write_exit(ExitStatus::Code(3)).unwrap();
        assert_eq!(read_exit_file(&path), Some(ExitStatus::Code(3)));
        assert!(!tmp.path().join("0.exit.tmp").exists());
        assert!(shim.log_path.exists(), "the log is created up front");
    }
}
