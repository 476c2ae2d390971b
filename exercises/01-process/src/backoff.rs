// Generated from solutions/01-process/src/backoff.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
use std::time::Duration;

/// The figures of the restart back-off.
///
/// A process that crashes at once would otherwise be restarted thousands of
/// times a second; waiting longer after each crash gives the machine (and the
/// thing the process depends on) room to recover.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The wait before the first restart of a crash loop.
    pub initial: Duration,
    /// The wait never grows beyond this.
    pub max: Duration,
    /// A run at least this long ends the crash loop: the next wait is
    /// `initial` again.
    pub reset_after: Duration,
}

impl Backoff {
    /// The kubelet's figures: 10 s doubling to 300 s, reset after 10 minutes.
    pub const KUBERNETES: Backoff = Backoff {
        initial: Duration::from_secs(10),
        max: Duration::from_secs(300),
        reset_after: Duration::from_secs(600),
    };

    // ANCHOR: delay
    /// The wait before a restart, when `restarts` restarts of this crash loop
    /// have already happened: `initial` doubled `restarts` times, capped at
    /// `max`.
    pub fn delay(&self, restarts: u32) -> Duration {
        todo!(
            "exercise 3: the wait before the next restart: `initial` doubled once per earlier restart, capped at `max`"
        )
    }
    // ANCHOR_END: delay
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff::KUBERNETES
    }
}

/// The state of one process's crash loop: how many restarts in a row.
#[derive(Debug, Clone)]
pub struct CrashLoop {
    backoff: Backoff,
    restarts: u32,
}

impl CrashLoop {
    /// A crash loop that has not started yet.
    pub fn new(backoff: Backoff) -> CrashLoop {
        CrashLoop {
            backoff,
            restarts: 0,
        }
    }

    /// Restarts counted in the current loop (0 after a reset).
    pub fn restarts(&self) -> u32 {
        self.restarts
    }

    // ANCHOR: next_delay
    /// Called when a process that ran for `ran_for` is about to be restarted:
    /// returns how long to wait first, and counts the restart.
    pub fn next_delay(&mut self, ran_for: Duration) -> Duration {
        todo!(
            "exercise 4: return the wait before this restart and count the restart; a long enough run ends the crash loop"
        )
    }
    // ANCHOR_END: next_delay
}
