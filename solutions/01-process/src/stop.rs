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
    // exercise: Send SIGTERM to the child's pid (nix's kill), wait for it at most `grace` (tokio::time::timeout); if time runs out, SIGKILL its process group (killpg) and wait again. Report the status and whether you had to kill.
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
