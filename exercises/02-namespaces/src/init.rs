// Generated from solutions/02-namespaces/src/init.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
use nix::errno::Errno;
use nix::sys::signal::{SigSet, Signal, kill};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::Pid;

use process::ExitStatus;

use crate::signals::is_forwarded;

/// What one round of reaping found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReapResult {
    /// How many children were reaped (the application included).
    pub reaped: usize,
    /// The application's status, if it was among them.
    pub main: Option<ExitStatus>,
    /// True when no child is left at all.
    pub no_children: bool,
}

// ANCHOR: reap_children
/// Collects every child that has exited, without blocking.
///
/// PID 1 adopts every orphan in its namespace, so besides the application
/// (`main`) it must reap whatever else ends: a process nobody waits for stays
/// a zombie, holding its pid, forever. One SIGCHLD may stand for many exits,
/// so keep reaping until nothing is left to reap.
pub fn reap_children(main: Pid) -> ReapResult {
    todo!(
        "Loop on waitpid(None, Some(WaitPidFlag::WNOHANG)): StillAlive means stop for now; Exited(pid, code) and Signaled(pid, signal, _) are reaped children (note main's ExitStatus); Err(ECHILD) means no children are left; ignore other statuses."
    )
}
// ANCHOR_END: reap_children

// ANCHOR: wait_and_forward
/// The loop of an init: wait for signals; pass the forwarded ones to
/// `child`; reap on SIGCHLD; return once `child` has exited.
///
/// `signals` must already be blocked (see `signals::take_over`), so that
/// none is lost between two waits.
pub(crate) fn wait_and_forward(child: Pid, signals: &SigSet) -> ExitStatus {
    loop {
        // Reap first: the child may have exited before we started waiting.
        let reaped = reap_children(child);
        if let Some(status) = reaped.main {
            return status;
        }
        if reaped.no_children {
            // Cannot happen while `child` lives; do not wait forever if it does.
            return ExitStatus::Code(125);
        }
        match signals.wait() {
            Ok(Signal::SIGCHLD) | Err(_) => {}
            Ok(signal) if is_forwarded(signal) => {
                let _ = kill(child, signal);
            }
            Ok(_) => {}
        }
    }
}
// ANCHOR_END: wait_and_forward
