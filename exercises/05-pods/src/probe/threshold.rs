// Generated from solutions/05-pods/src/probe/threshold.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
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
        todo!(
            "exercise 2: count one probe run; return the new status when the published status changes, else None"
        )
    }
    // ANCHOR_END: observe
}
