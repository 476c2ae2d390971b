// Generated from solutions/05-pods/src/probe/exec.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
//! Exec probes: a command run inside the container. Entering the container
//! is the pod layer's business, behind the [`Exec`] trait; this module
//! decides what the exit code means and keeps a stuck command from
//! outliving its timeout.

use std::future::Future;
use std::io;
use std::os::fd::OwnedFd;
use std::pin::Pin;
use std::process::Stdio;
use std::time::Duration;

use nix::fcntl::OFlag;
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::io::AsyncReadExt;
use tokio::process::Command;

use super::outcome::Outcome;

/// The most of a command's output kept, as the kubelet keeps (10 KiB):
/// enough for an event message, not enough to fill the node's memory.
pub const MAX_OUTPUT: usize = 10 * 1024;

/// A boxed future, so that [`Exec`] can be used as a trait object.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What a finished command left behind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecOutput {
    /// The exit code; 128 + the signal number for a command killed by one.
    pub exit_code: i32,
    /// Standard output and standard error together, at most [`MAX_OUTPUT`]
    /// bytes.
    pub output: String,
}

/// Runs a command inside a container, as the container runtime's ExecSync
/// does for the kubelet.
pub trait Exec: Send + Sync {
    /// Runs `command` (the program and its arguments) and waits for it.
    ///
    /// When `timeout` runs out, the command (with everything it started)
    /// must be killed and the answer is an error of kind
    /// [`io::ErrorKind::TimedOut`]. Dropping the future must kill it too.
    /// [`run_command`] does both for a command of the host.
    fn run<'a>(
        &'a self,
        command: &'a [String],
        timeout: Duration,
    ) -> BoxFuture<'a, io::Result<ExecOutput>>;
}

/// Runs `command` with a time limit: in its own process group, so that a
/// timeout kills the shell and whatever the shell started, with standard
/// output and standard error in one pipe (the kubelet shows them mixed).
///
/// A command that outlives `timeout` is killed and reaped, and the answer
/// is an error of kind [`io::ErrorKind::TimedOut`].
pub async fn run_command(mut command: Command, timeout: Duration) -> io::Result<ExecOutput> {
    let (reader, writer) = nix::unistd::pipe2(OFlag::O_CLOEXEC)?;
    command
        .stdin(Stdio::null())
        .stdout(Stdio::from(writer.try_clone()?))
        .stderr(Stdio::from(writer))
        .process_group(0)
        .kill_on_drop(true);
    let mut child = command.spawn()?;
    // The Command still holds the pipe's write end: without this drop the
    // read below would never see the end of the output.
    drop(command);
    let mut group = GroupGuard(child.id().map(|id| Pid::from_raw(id as i32)));

    let mut output = Vec::new();
    let finished = tokio::time::timeout(timeout, async {
        let (status, read) = tokio::join!(child.wait(), read_limited(reader, &mut output));
        read?;
        status
    })
    .await;
    match finished {
        Ok(Ok(status)) => {
            // Reaped: the group id may be reused from now on.
            group.0 = None;
            Ok(ExecOutput {
                exit_code: exit_code(status),
                output: String::from_utf8_lossy(&output).into_owned(),
            })
        }
        // The guard kills whatever may be left of the group.
        Ok(Err(error)) => Err(error),
        Err(_) => {
            group.kill();
            child.wait().await?;
            Err(io::Error::new(io::ErrorKind::TimedOut, "command timed out"))
        }
    }
}

/// Kills a command's process group unless the command has finished; on
/// drop too, so that a cancelled probe leaves nothing running.
struct GroupGuard(Option<Pid>);

impl GroupGuard {
    fn kill(&mut self) {
        if let Some(group) = self.0.take() {
            // ESRCH: everything in it is gone already.
            let _ = killpg(group, Signal::SIGKILL);
        }
    }
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Reads the pipe to its end, keeping the first [`MAX_OUTPUT`] bytes.
async fn read_limited(reader: OwnedFd, kept: &mut Vec<u8>) -> io::Result<()> {
    let mut reader = tokio::net::unix::pipe::Receiver::from_owned_fd(reader)?;
    let mut buffer = [0u8; 4096];
    loop {
        let read = reader.read(&mut buffer).await?;
        if read == 0 {
            return Ok(());
        }
        let room = MAX_OUTPUT.saturating_sub(kept.len());
        kept.extend_from_slice(&buffer[..read.min(room)]);
    }
}

fn exit_code(status: std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status
        .code()
        .or_else(|| status.signal().map(|signal| 128 + signal))
        .unwrap_or(-1)
}

/// How much longer than its timeout an [`Exec`] may take before the probe
/// stops waiting for it: a backstop for implementations that do not keep
/// their own time.
const EXEC_GRACE: Duration = Duration::from_secs(1);

// ANCHOR: probe
/// Runs one exec probe: exit code 0 is success; any other is failure with
/// the command's output as the message, as in the kubelet's events; a
/// timeout is failure too; a command that could not be run at all is an
/// error (not counted).
pub async fn probe(exec: &dyn Exec, command: &[String], timeout: Duration) -> Outcome {
    let timed_out = || Outcome::Failure(format!("command {:?} timed out", command.join(" ")));
    match tokio::time::timeout(timeout + EXEC_GRACE, exec.run(command, timeout)).await {
        Err(_) => timed_out(),
        Ok(Err(error)) if error.kind() == io::ErrorKind::TimedOut => timed_out(),
        Ok(Err(error)) => Outcome::Error(error.to_string()),
        Ok(Ok(ExecOutput { exit_code: 0, .. })) => Outcome::Success,
        // The event is one line; the command's last line break adds nothing.
        Ok(Ok(ExecOutput { output, .. })) => Outcome::Failure(output.trim_end().to_string()),
    }
}
// ANCHOR_END: probe
