use std::time::Duration;

use nix::sys::signal::{Signal, kill, killpg};
use nix::unistd::Pid;
use tokio::process::Child;

use crate::ExitStatus;

/// How a graceful stop ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StopOutcome {
    /// How the process ended.
    pub status: ExitStatus,
    /// True when the grace period ran out and the process was killed.
    pub killed: bool,
}

// ANCHOR: stop_gracefully
/// Stops a process the way the kubelet stops a container: SIGTERM, then up to
/// `grace` for it to finish its work and exit, then SIGKILL.
///
/// The child must lead its own process group (the supervisor spawns it so):
/// SIGTERM goes to the process alone, which may pass it on, but SIGKILL goes
/// to the whole group, so that nothing it started lingers. The process is
/// always reaped before this returns: no zombie is left behind.
pub async fn stop_gracefully(child: &mut Child, grace: Duration) -> std::io::Result<StopOutcome> {
    // exercise 7: stop the child politely (SIGTERM, then at most `grace`, then SIGKILL) and report how it ended
    // hint: Signals come from the nix crate (`nix::sys::signal`); tokio can put a time limit on any future.
    // hint: `child.id()` is the pid (None once reaped). `kill(Pid::from_raw(pid), Signal::SIGTERM)` asks; `tokio::time::timeout(grace, child.wait())` waits at most `grace`; `killpg` sends SIGKILL to the whole process group, whose id is the child's pid. Always end with a wait, so no zombie is left.
    // hint: No pid: wait and return killed: false. Else send SIGTERM (ignore ESRCH); if the timeout gives Ok(status), return it with killed: false; otherwise `killpg(pid, Signal::SIGKILL)`, `child.wait().await?`, and return that status (ExitStatus::from_std) with killed: true.
    let Some(pid) = child.id() else {
        // Already reaped: there is nothing left to signal.
        let status = child.wait().await?;
        return Ok(StopOutcome {
            status: ExitStatus::from_std(status),
            killed: false,
        });
    };
    let pid = Pid::from_raw(pid as i32);
    // ESRCH means it exited on its own meanwhile; `wait` collects it.
    let _ = kill(pid, Signal::SIGTERM);
    if let Ok(status) = tokio::time::timeout(grace, child.wait()).await {
        return Ok(StopOutcome {
            status: ExitStatus::from_std(status?),
            killed: false,
        });
    }
    // Not reaped yet, so the group id cannot have been reused.
    let _ = killpg(pid, Signal::SIGKILL);
    let status = child.wait().await?;
    Ok(StopOutcome {
        status: ExitStatus::from_std(status),
        killed: true,
    })
}
// ANCHOR_END: stop_gracefully
