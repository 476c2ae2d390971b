// Generated from solutions/03-filesystem/src/programs/pause.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
use std::io::Write;

use nix::errno::Errno;
use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, Signal, sigaction};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};

extern "C" fn ignore(_: libc::c_int) {}

// ANCHOR: pause
/// The pod's infra process: it does nothing, for as long as the pod
/// lives, so that the pod's namespaces have a process to belong to.
///
/// It waits for signals: SIGCHLD reaps whatever child has ended (as PID 1
/// of a pod's PID namespace it adopts orphans), SIGINT and SIGTERM end it
/// with status 0. One thread and `sigwait`, so no signal is lost between
/// two waits.
pub fn main() -> ! {
    let mut signals = SigSet::empty();
    for signal in [Signal::SIGCHLD, Signal::SIGINT, Signal::SIGTERM] {
        signals.add(signal);
        // A handler, though it never runs: the kernel drops a signal that
        // is sent to the init of a PID namespace and has the default
        // disposition.
        let action = SigAction::new(
            SigHandler::Handler(ignore),
            SaFlags::SA_RESTART,
            SigSet::empty(),
        );
        // SAFETY: the handler does nothing, so it is async-signal-safe.
        let _ = unsafe { sigaction(signal, &action) };
    }
    if let Err(error) = signals.thread_block() {
        let _ = writeln!(std::io::stderr(), "pause: cannot block signals: {error}");
        std::process::exit(1);
    }
    // Children that ended before the signals were blocked sent their
    // SIGCHLD to nobody.
    reap();
    loop {
        match signals.wait() {
            Ok(Signal::SIGCHLD) | Err(_) => reap(),
            Ok(signal) => {
                let _ = writeln!(std::io::stderr(), "pause: got {signal}, shutting down");
                std::process::exit(0);
            }
        }
    }
}
// ANCHOR_END: pause

/// Reaps every child that has ended, without waiting for the others.
fn reap() {
    loop {
        match waitpid(None, Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::StillAlive) | Err(Errno::ECHILD) => return,
            Ok(_) | Err(Errno::EINTR) => {}
            Err(_) => return,
        }
    }
}
