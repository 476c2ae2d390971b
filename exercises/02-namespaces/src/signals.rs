// Generated from solutions/02-namespaces/src/signals.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, Signal, sigaction};

use process::ExitStatus;

// ANCHOR: is_forwarded
/// Whether PID 1 passes this signal on to the application.
///
/// Everything a person or a supervisor might send to ask something of the
/// application is; not SIGCHLD (that one is for PID 1 itself), not SIGKILL
/// and SIGSTOP (they cannot be caught, so never reach us), and not the
/// signals the kernel sends a process about its own faults.
pub fn is_forwarded(signal: Signal) -> bool {
    todo!(
        "Forward every signal except SIGCHLD, SIGKILL, SIGSTOP and the synchronous fault signals (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS)."
    )
}
// ANCHOR_END: is_forwarded

/// The signals the init stages wait for: SIGCHLD and every forwarded one.
pub(crate) fn waited_signals() -> SigSet {
    let mut set = SigSet::empty();
    for signal in Signal::iterator() {
        if signal == Signal::SIGCHLD || is_forwarded(signal) {
            set.add(signal);
        }
    }
    set
}

extern "C" fn ignore(_: libc::c_int) {}

/// Blocks the waited signals and gives each a handler.
///
/// The handler never runs (the signals are blocked and taken with
/// `sigwait`), but it must exist: the kernel drops a signal sent to the init
/// of a PID namespace when its disposition is the default one.
pub(crate) fn take_over(set: &SigSet) -> nix::Result<()> {
    let action = SigAction::new(
        SigHandler::Handler(ignore),
        SaFlags::SA_RESTART,
        SigSet::empty(),
    );
    for signal in set.iter() {
        // SAFETY: the handler does nothing, so it is async-signal-safe.
        unsafe { sigaction(signal, &action)? };
    }
    set.thread_block()
}

/// Undoes [`take_over`] in a child, before it execs the application.
pub(crate) fn restore(set: &SigSet) -> nix::Result<()> {
    let default = SigAction::new(SigHandler::SigDfl, SaFlags::empty(), SigSet::empty());
    for signal in set.iter() {
        // SAFETY: restoring the default disposition.
        unsafe { sigaction(signal, &default)? };
    }
    set.thread_unblock()
}

// ANCHOR: exit_like
/// Ends this process the way the application ended, so that whoever waits
/// for us (the supervisor) sees the application's status: the same exit
/// code, or death by the same signal.
pub fn exit_like(status: ExitStatus) -> ! {
    todo!(
        "For Code(c), exit with c. For Signal(s): restore s's default disposition, unblock it, send it to yourself with kill(getpid(), s); if you are still alive (s is one whose default is to be ignored), exit with 128 + s."
    )
}
// ANCHOR_END: exit_like
