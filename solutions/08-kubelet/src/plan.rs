//! The sync decision for one pod: what the API says it should be (desired)
//! against whether this node runs it (actual). Kubernetes: the kubelet's
//! `syncPod` / `syncTerminatingPod` / `syncTerminatedPod` split, reduced to
//! one pure function so that it can be tested without root or a server.

use std::time::Duration;

use objects::Pod;

/// The grace period when neither the delete nor the pod says one, as the
/// API server defaults `terminationGracePeriodSeconds`.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(30);

/// What to do about one pod now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Wanted here and not running: admit it, then start it.
    Start,
    /// Wanted and running: keep it, report its status.
    Report,
    /// Running but no longer wanted: stop it within `grace`; when
    /// `then_remove`, the API object is deleted for good afterwards (the
    /// pod was being deleted gracefully).
    Stop { grace: Duration, then_remove: bool },
    /// Being deleted and not running here (any more): remove the API
    /// object.
    Remove,
    /// Nothing to do: gone everywhere, or finished (a pod that Succeeded or
    /// Failed never runs again).
    Nothing,
}

/// The grace period a deleted pod gets: what the delete asked
/// (`metadata.deletionGracePeriodSeconds`), else the pod's own.
pub fn grace_period(pod: &Pod) -> Duration {
    let seconds = pod
        .metadata
        .deletion_grace_period_seconds
        .or(pod.spec.termination_grace_period_seconds);
    seconds.map_or(DEFAULT_GRACE, |s| Duration::from_secs(s.max(0) as u64))
}

/// Whether the API reports the pod finished: it will not run again.
pub fn is_terminal(pod: &Pod) -> bool {
    matches!(
        pod.status.phase.as_deref(),
        Some("Succeeded") | Some("Failed")
    )
}

// ANCHOR: plan
/// The step for one pod: `pod` is the API's object (`None` once deleted
/// from the API), `running` whether this node has it in its pod table.
pub fn plan(pod: Option<&Pod>, running: bool) -> Step {
    // exercise 4: the Step for one pod, from the API's object (None when gone from the API) and whether this node runs it
    // hint: Four situations: gone from the API, being deleted (`metadata.deletion_timestamp` is set), finished (`is_terminal`), or wanted. Each splits on `running`.
    // hint: Gone: stop it if running (nothing to remove: the object is gone), else Nothing. Being deleted: Stop with `grace_period(pod)` and `then_remove: true` if running, else Remove. Wanted: Report if running; if not, Start unless it is terminal.
    // hint: `match (pod, running) { (None, true) => Step::Stop { grace: DEFAULT_GRACE, then_remove: false }, (None, false) => Step::Nothing, (Some(p), true) if p.metadata.deletion_timestamp.is_some() => Step::Stop { grace: grace_period(p), then_remove: true }, (Some(p), false) if p.metadata.deletion_timestamp.is_some() => Step::Remove, (Some(_), true) => Step::Report, (Some(p), false) if is_terminal(p) => Step::Nothing, (Some(_), false) => Step::Start }`.
    match (pod, running) {
        (None, true) => Step::Stop {
            grace: DEFAULT_GRACE,
            then_remove: false,
        },
        (None, false) => Step::Nothing,
        (Some(pod), true) if pod.metadata.deletion_timestamp.is_some() => Step::Stop {
            grace: grace_period(pod),
            then_remove: true,
        },
        (Some(pod), false) if pod.metadata.deletion_timestamp.is_some() => Step::Remove,
        (Some(_), true) => Step::Report,
        (Some(pod), false) if is_terminal(pod) => Step::Nothing,
        (Some(_), false) => Step::Start,
    }
}
// ANCHOR_END: plan
