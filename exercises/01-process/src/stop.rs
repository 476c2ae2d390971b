// Generated from solutions/01-process/src/stop.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
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
    todo!(
        "exercise 7: stop the child politely (SIGTERM, then at most `grace`, then SIGKILL) and report how it ended"
    )
}
// ANCHOR_END: stop_gracefully
