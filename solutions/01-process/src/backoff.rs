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
        // exercise 3: the wait before the next restart: `initial` doubled once per earlier restart, capped at `max`
        // hint: The delay grows as `initial × 2^restarts`, and `max` caps it. What happens to that product after a week of crashes?
        // hint: `2u32.pow(40)` overflows, and so does a huge Duration product: the checked_* methods of u32 and Duration return None instead of panicking, and None here means "more than max".
        // hint: `2u32.checked_pow(restarts)`, then `.and_then(|factor| self.initial.checked_mul(factor))`, then `.map_or(self.max, |delay| delay.min(self.max))`.
        2u32.checked_pow(restarts)
            .and_then(|factor| self.initial.checked_mul(factor))
            .map_or(self.max, |delay| delay.min(self.max))
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
        // exercise 4: return the wait before this restart and count the restart; a long enough run ends the crash loop
        // hint: CrashLoop keeps a count of restarts in a row; Backoff::delay (hole 3) turns a count into a wait.
        // hint: A process that ran for at least `reset_after` was healthy: its crash loop is over and the count starts again from zero. The first restart of a loop waits `initial`, that is delay(0).
        // hint: If `ran_for >= self.backoff.reset_after`, set `self.restarts = 0`; take `self.backoff.delay(self.restarts)`; then `self.restarts = self.restarts.saturating_add(1)`; return the delay.
        if ran_for >= self.backoff.reset_after {
            self.restarts = 0;
        }
        let delay = self.backoff.delay(self.restarts);
        self.restarts = self.restarts.saturating_add(1);
        delay
    }
    // ANCHOR_END: next_delay
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initial_above_max_is_capped() {
        let backoff = Backoff {
            initial: Duration::from_secs(9),
            max: Duration::from_secs(5),
            reset_after: Duration::from_secs(60),
        };
        assert_eq!(backoff.delay(0), Duration::from_secs(5));
    }

    #[test]
    fn reset_counts_from_zero() {
        let mut crash_loop = CrashLoop::new(Backoff::KUBERNETES);
        crash_loop.next_delay(Duration::ZERO);
        crash_loop.next_delay(Duration::ZERO);
        assert_eq!(crash_loop.restarts(), 2);
        crash_loop.next_delay(Duration::from_secs(600));
        assert_eq!(crash_loop.restarts(), 1);
    }
}
