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
    // exercise 4: reap every child that has exited, without blocking, and report what was reaped
    // hint: One SIGCHLD may stand for many exits: keep collecting until there is nothing left to collect right now. nix's `waitpid` with the WNOHANG flag never blocks.
    // hint: `waitpid(None, Some(WaitPidFlag::WNOHANG))` waits for any child. Ok(StillAlive): nobody else has exited yet, stop. Exited and Signaled: one child reaped (if its pid is `main`, remember its ExitStatus). Err(ECHILD): no children left at all. Retry on EINTR.
    // hint: Start with ReapResult { reaped: 0, main: None, no_children: false } and loop: match waitpid: StillAlive → return; Exited(pid, code) → (pid, ExitStatus::Code(code)); Signaled(pid, signal, _) → (pid, ExitStatus::Signal(signal as i32)); other Ok → continue; Err(ECHILD) → set no_children, return; Err(EINTR) → continue; other Err → return. Count the reaped one and record main's status.
    let mut result = ReapResult {
        reaped: 0,
        main: None,
        no_children: false,
    };
    loop {
        let (pid, status) = match waitpid(None, Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::StillAlive) => return result,
            Ok(WaitStatus::Exited(pid, code)) => (pid, ExitStatus::Code(code)),
            Ok(WaitStatus::Signaled(pid, signal, _)) => (pid, ExitStatus::Signal(signal as i32)),
            Ok(_) => continue,
            Err(Errno::ECHILD) => {
                result.no_children = true;
                return result;
            }
            Err(Errno::EINTR) => continue,
            Err(_) => return result,
        };
        result.reaped += 1;
        if pid == main {
            result.main = Some(status);
        }
    }
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
