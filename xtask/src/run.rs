//! Running child processes: captured line by line (with an optional time
//! limit), or streamed straight to the terminal.

use anyhow::{Context, Result};
use nix::sys::signal::{self, SaFlags, SigAction, SigHandler, SigSet, Signal};
use nix::unistd::Pid;
use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

/// What a captured run printed (stdout and stderr interleaved as they came).
pub struct Captured {
    pub output: String,
    /// `None` when the time limit killed it.
    pub status: Option<ExitStatus>,
}

impl Captured {
    pub fn success(&self) -> bool {
        self.status.is_some_and(|s| s.success())
    }
}

/// How long to keep reading once the child exited but something it started
/// still holds the pipe open.
const LINGER: Duration = Duration::from_secs(2);

/// The process group a time-limited run lives in, for the Ctrl-C handler.
static RUNNING_GROUP: AtomicI32 = AtomicI32::new(0);

/// Run `command`, calling `on_line` for every line of its output. With a
/// `limit`, it runs in its own process group, so that a run past the limit
/// (cargo and the test binaries under it) can be killed as a whole.
pub fn capture(
    mut command: Command,
    limit: Option<Duration>,
    mut on_line: impl FnMut(&str),
) -> Result<Captured> {
    // One pipe for both streams keeps cargo's "Running ..." lines in order
    // with the test output that follows them.
    let (reader, writer) = nix::unistd::pipe().context("creating a pipe")?;
    let writer_too = writer.try_clone().context("duplicating a pipe")?;
    command
        .stdin(Stdio::null())
        .stdout(Stdio::from(writer))
        .stderr(Stdio::from(writer_too));
    if limit.is_some() {
        command.process_group(0);
        forward_interrupts();
    }
    let start = Instant::now();
    let mut child = command
        .spawn()
        .with_context(|| format!("starting {:?}", command.get_program()))?;
    let group = child.id() as i32;
    if limit.is_some() {
        RUNNING_GROUP.store(group, Ordering::SeqCst);
    }
    // Our copies of the write end must go, or the reader never sees the end.
    drop(command);

    let (lines, received) = mpsc::channel();
    std::thread::spawn(move || {
        let reader = BufReader::new(std::fs::File::from(reader));
        for line in reader.split(b'\n') {
            let Ok(line) = line else { break };
            if lines
                .send(String::from_utf8_lossy(&line).into_owned())
                .is_err()
            {
                break;
            }
        }
    });

    let mut output = String::new();
    let mut exited: Option<(ExitStatus, Instant)> = None;
    let mut timed_out = false;
    loop {
        match received.recv_timeout(Duration::from_millis(100)) {
            Ok(line) => {
                on_line(&line);
                output.push_str(&line);
                output.push('\n');
            }
            Err(RecvTimeoutError::Disconnected) => break,
            Err(RecvTimeoutError::Timeout) => {}
        }
        if exited.is_none() {
            if let Some(status) = child.try_wait().context("waiting for a child")? {
                exited = Some((status, Instant::now()));
            } else if limit.is_some_and(|limit| start.elapsed() > limit) {
                let _ = signal::killpg(Pid::from_raw(group), Signal::SIGKILL);
                let status = child.wait().context("waiting for a killed child")?;
                exited = Some((status, Instant::now()));
                timed_out = true;
            }
        }
        if exited.is_some_and(|(_, at)| at.elapsed() > LINGER) {
            break;
        }
    }
    let status = match exited {
        Some((status, _)) => status,
        None => child.wait().context("waiting for a child")?,
    };
    RUNNING_GROUP.store(0, Ordering::SeqCst);
    Ok(Captured {
        output,
        status: (!timed_out).then_some(status),
    })
}

/// Run `command` with the terminal as its output; its exit status.
pub fn stream(mut command: Command) -> Result<ExitStatus> {
    command
        .status()
        .with_context(|| format!("starting {:?}", command.get_program()))
}

/// While set, Ctrl-C does not end this process at once: it kills the
/// running child and sets [`INTERRUPTED`], so that the code that holds
/// something to undo (verify's mutated solution file) can undo it first.
static DEFER_EXIT: AtomicBool = AtomicBool::new(false);

/// An interrupt came while [`DEFER_EXIT`] was set.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Until [`exit_on_interrupt`], Ctrl-C (or SIGTERM, SIGHUP) kills the running
/// child and is remembered, for [`interrupted`] to report, instead of ending
/// this process on the spot.
pub fn defer_interrupts() {
    DEFER_EXIT.store(true, Ordering::SeqCst);
    forward_interrupts();
}

/// Ctrl-C ends this process again; `true` if one came while deferred.
pub fn exit_on_interrupt() -> bool {
    DEFER_EXIT.store(false, Ordering::SeqCst);
    INTERRUPTED.load(Ordering::SeqCst)
}

/// An interrupt came while interrupts were deferred.
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// A time-limited child has its own process group, which Ctrl-C does not
/// reach; take it down with us.
fn forward_interrupts() {
    extern "C" fn on_interrupt(_: nix::libc::c_int) {
        let group = RUNNING_GROUP.load(Ordering::SeqCst);
        if group > 0 {
            let _ = signal::killpg(Pid::from_raw(group), Signal::SIGKILL);
        }
        if DEFER_EXIT.load(Ordering::SeqCst) {
            INTERRUPTED.store(true, Ordering::SeqCst);
            return;
        }
        // SAFETY: _exit is async-signal-safe, unlike std::process::exit.
        unsafe { nix::libc::_exit(130) }
    }
    let action = SigAction::new(
        SigHandler::Handler(on_interrupt),
        SaFlags::empty(),
        SigSet::empty(),
    );
    for interrupt in [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP] {
        // SAFETY: the handler only makes async-signal-safe calls (atomic
        // loads and stores, kill, _exit).
        let _ = unsafe { signal::sigaction(interrupt, &action) };
    }
}
