use std::fmt;

use crate::ExitStatus;

/// Why a container terminated, in the words of the Pod API
/// (`status.containerStatuses[].state.terminated.reason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TerminationReason {
    /// Exit code 0.
    Completed,
    /// Any other exit, by code or by signal.
    Error,
    /// The kernel killed a process of the container for going over its
    /// memory limit.
    OOMKilled,
}

impl fmt::Display for TerminationReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TerminationReason::Completed => "Completed",
            TerminationReason::Error => "Error",
            TerminationReason::OOMKilled => "OOMKilled",
        })
    }
}

/// What `kubectl describe pod` shows for a terminated container.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Termination {
    /// The exit code, or 128 + the signal for a killed process.
    pub exit_code: i32,
    pub reason: TerminationReason,
}

impl fmt::Display for Termination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (exit code {})", self.reason, self.exit_code)
    }
}

// ANCHOR: termination
/// The Kubernetes view of a container whose main process ended with
/// `status`, where `oom_killed` says whether the kernel OOM-killed anything
/// in its cgroup. An OOM kill wins over the exit status, as in containerd:
/// the process that died may have been a child, and the main process then
/// exited with whatever it made of that.
pub fn termination(status: ExitStatus, oom_killed: bool) -> Termination {
    // exercise 3: how Kubernetes reports a container that ended with `status`: its exit code and reason
    // hint: Two separate questions: which number is the exit code, and which TerminationReason applies? The doc comment says which fact wins.
    // hint: A death by signal is reported with the shell's convention, 128 + the signal. The reason: an OOM kill wins over everything; otherwise exit code 0 is Completed and anything else is Error.
    // hint: exit_code = match status { Code(code) => code, Signal(signal) => 128 + signal }; reason = if oom_killed { OOMKilled } else if status.success() { Completed } else { Error }; return Termination { exit_code, reason }.
    let exit_code = match status {
        ExitStatus::Code(code) => code,
        ExitStatus::Signal(signal) => 128 + signal,
    };
    let reason = if oom_killed {
        TerminationReason::OOMKilled
    } else if status.success() {
        TerminationReason::Completed
    } else {
        TerminationReason::Error
    };
    Termination { exit_code, reason }
}
// ANCHOR_END: termination
