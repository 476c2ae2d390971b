// Generated from solutions/01-process/src/event.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
use std::fmt;
use std::time::Duration;

use crate::{ExitStatus, RestartPolicy};

/// One step in the life of a supervised process, in the order it happened.
///
/// The stream of events is how the rest of the system (and the tests) learn
/// what the supervisor did; the node agent turns them into container status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A new instance is running. `restart_count` is 0 for the first.
    Started { pid: u32, restart_count: u32 },
    /// The program could not be started (it was deleted, say); counted as a
    /// failure with exit code 128, as container runtimes report it.
    StartFailed { error: String },
    /// The instance ended.
    Exited { status: ExitStatus },
    /// Waiting this long before the next restart.
    BackOff { delay: Duration },
    /// SIGTERM sent; the process has `grace` to exit.
    Stopping { grace: Duration },
    /// The grace period ran out: SIGKILL sent.
    Killed,
    /// The supervisor is done; nothing runs any more.
    Finished { reason: FinishReason },
}

/// Why supervision ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FinishReason {
    /// Somebody asked for a stop.
    Stopped,
    /// The restart policy said not to restart after this exit.
    NotRestarted {
        policy: RestartPolicy,
        status: ExitStatus,
    },
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Event::Started { pid, restart_count } => {
                write!(f, "Started pid {pid} (restart {restart_count})")
            }
            Event::StartFailed { error } => write!(f, "StartFailed: {error}"),
            Event::Exited { status } => write!(f, "Exited with {status}"),
            Event::BackOff { delay } => write!(f, "BackOff {delay:?} before restarting"),
            Event::Stopping { grace } => {
                write!(f, "Stopping: SIGTERM sent, grace period {grace:?}")
            }
            Event::Killed => write!(f, "Killed: grace period over, SIGKILL sent"),
            Event::Finished { reason } => write!(f, "Finished: {reason}"),
        }
    }
}

impl fmt::Display for FinishReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FinishReason::Stopped => write!(f, "stopped on request"),
            FinishReason::NotRestarted { policy, status } => {
                write!(f, "restart policy {policy} does not restart after {status}")
            }
        }
    }
}
