// Generated from solutions/02-namespaces/src/init.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
use nix::errno::Errno;
use nix::sys::signal::{SigSet, Signal};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::Pid;

use process::ExitStatus;

use crate::signals::{is_forwarded, wait_for};

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
        "exercise 4: reap every child that has exited, without blocking, and report what was reaped"
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
        match wait_for(signals) {
            Ok(libc::SIGCHLD) | Err(_) => {}
            Ok(number) => forward(child, number),
        }
    }
}

/// Passes signal `number` on to `child` if it is one to forward. A
/// real-time signal (no nix `Signal` has its number) always is: none is a
/// fault, all are messages from someone to the application.
pub(crate) fn forward(child: Pid, number: libc::c_int) {
    let forwarded = Signal::try_from(number).map_or(true, is_forwarded);
    if forwarded {
        // SAFETY: kill only sends a signal.
        unsafe { libc::kill(child.as_raw(), number) };
    }
}
// ANCHOR_END: wait_and_forward
