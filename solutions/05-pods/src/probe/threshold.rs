use std::fmt;

use super::spec::{Probe, ProbeKind};

/// The result of a probe as the kubelet publishes it: not the last run,
/// but what the thresholds make of the runs so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Nothing decided yet.
    Unknown,
    /// The probe passes.
    Success,
    /// The probe fails.
    Failure,
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Status::Unknown => "unknown",
            Status::Success => "success",
            Status::Failure => "failure",
        })
    }
}

// ANCHOR: initial
impl ProbeKind {
    /// The status before the first run has been counted.
    ///
    /// Each kind starts where being wrong costs least: a container is not
    /// sent traffic before it has shown it can take it, is not killed before
    /// it has shown it is broken, and is neither started nor failed before
    /// its startup probe has said so.
    pub fn initial_status(self) -> Status {
        match self {
            ProbeKind::Readiness => Status::Failure,
            ProbeKind::Liveness => Status::Success,
            ProbeKind::Startup => Status::Unknown,
        }
    }
}
// ANCHOR_END: initial

/// Turns single probe runs into a published [`Status`], as the kubelet's
/// prober worker does: the status changes only after `success_threshold`
/// successes in a row, or `failure_threshold` failures in a row.
///
/// One slow answer or one dropped connection should not restart a
/// container or pull it out of a Service; a run of them should.
#[derive(Debug, Clone)]
pub struct Tracker {
    success_threshold: u32,
    failure_threshold: u32,
    status: Status,
    /// The last run's result, and how many runs in a row gave it.
    last: Option<bool>,
    run: u32,
}

impl Tracker {
    /// A tracker for one probe of the given kind, at the kind's initial
    /// status.
    pub fn new(kind: ProbeKind, probe: &Probe) -> Tracker {
        Tracker {
            success_threshold: probe.success_threshold,
            failure_threshold: probe.failure_threshold,
            status: kind.initial_status(),
            last: None,
            run: 0,
        }
    }

    /// The status published so far.
    pub fn status(&self) -> Status {
        self.status
    }

    // ANCHOR: observe
    /// Counts one probe run (`passed` or not). Returns the new status when
    /// the published status changes, `None` when it stays as it was.
    pub fn observe(&mut self, passed: bool) -> Option<Status> {
        // exercise 2: count one probe run; return the new status when the published status changes, else None
        // hint: A probe's status flips only after several results in a row agree (success_threshold passes, failure_threshold failures): keep a run length, as a run-length encoder does.
        // hint: `self.last` remembers the previous result and `self.run` how many in a row: the same result lengthens the run, a different one starts a new run of 1. A run that reaches its threshold sets the status (Success for passes, Failure for failures), and that is news only if the status was something else.
        // hint: if self.last == Some(passed) { self.run = self.run.saturating_add(1) } else { self.last = Some(passed); self.run = 1 }; (threshold, reached) = if passed { (success_threshold, Status::Success) } else { (failure_threshold, Status::Failure) }; if self.run < threshold || self.status == reached { return None }; self.status = reached; Some(reached).
        if self.last == Some(passed) {
            self.run = self.run.saturating_add(1);
        } else {
            self.last = Some(passed);
            self.run = 1;
        }
        let (threshold, reached) = if passed {
            (self.success_threshold, Status::Success)
        } else {
            (self.failure_threshold, Status::Failure)
        };
        if self.run < threshold || self.status == reached {
            return None;
        }
        self.status = reached;
        Some(reached)
    }
    // ANCHOR_END: observe
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::Action;

    fn tracker(kind: ProbeKind, success: u32, failure: u32) -> Tracker {
        let mut probe = Probe::new(Action::tcp_socket(80));
        probe.success_threshold = success;
        probe.failure_threshold = failure;
        Tracker::new(kind, &probe)
    }

    #[test]
    fn a_broken_run_starts_counting_again() {
        let mut liveness = tracker(ProbeKind::Liveness, 1, 3);
        assert_eq!(liveness.observe(false), None);
        assert_eq!(liveness.observe(false), None);
        assert_eq!(liveness.observe(true), None);
        assert_eq!(liveness.observe(false), None);
        assert_eq!(liveness.observe(false), None);
        assert_eq!(liveness.observe(false), Some(Status::Failure));
    }

    #[test]
    fn startup_leaves_unknown_on_the_first_success() {
        let mut startup = tracker(ProbeKind::Startup, 1, 3);
        assert_eq!(startup.status(), Status::Unknown);
        assert_eq!(startup.observe(true), Some(Status::Success));
        assert_eq!(startup.observe(true), None);
    }
}
