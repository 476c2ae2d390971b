// Generated from solutions/10-controllers/src/replicaset/status.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
//! What a ReplicaSet reports (`status`): how many pods it has, how many
//! carry all the template's labels, are ready, and are available (ready
//! for at least `minReadySeconds`), the generation it acted on, and the
//! `ReplicaFailure` condition while creating or deleting pods fails.
//! Kubernetes: `calculateStatus` in `replica_set_utils.go` and
//! `IsPodReady`/`IsPodAvailable` in `pkg/api/v1/pod/util.go`.

use std::time::Duration;

use chrono::{DateTime, Utc};
use objects::apps::{DeploymentCondition, ReplicaSetStatus};
use objects::pod::PodCondition;
use objects::{Pod, ReplicaSet, Selector, Time};

/// The condition type a ReplicaSet reports failed creates or deletes with.
pub const REPLICA_FAILURE: &str = "ReplicaFailure";

/// The pod's `Ready` condition, if it has one.
pub fn ready_condition(pod: &Pod) -> Option<&PodCondition> {
    pod.status
        .conditions
        .iter()
        .find(|condition| condition.condition_type == "Ready")
}

/// Ready: its `Ready` condition is `True` (the node agent says every
/// container passes its readiness probe).
pub fn is_ready(pod: &Pod) -> bool {
    ready_condition(pod).is_some_and(|condition| condition.status == "True")
}

/// Active: it counts towards the replicas, neither finished (Succeeded or
/// Failed) nor on its way out (a deletionTimestamp).
pub fn is_active(pod: &Pod) -> bool {
    !matches!(pod.status.phase.as_deref(), Some("Succeeded" | "Failed"))
        && pod.metadata.deletion_timestamp.is_none()
}

/// How long until a ready pod counts as available (ready for more than
/// `min_ready_seconds`): zero when it already does, `None` when it is not
/// ready (or its condition has no time: it will never become available
/// by waiting).
pub fn available_after(pod: &Pod, min_ready_seconds: i32, now: DateTime<Utc>) -> Option<Duration> {
    if !is_ready(pod) {
        return None;
    }
    if min_ready_seconds <= 0 {
        return Some(Duration::ZERO);
    }
    let since = ready_condition(pod)?.last_transition_time?.0;
    let available_at = since + chrono::Duration::seconds(i64::from(min_ready_seconds));
    // Kubernetes: available once since + minReadySeconds is strictly before now.
    if available_at < now {
        Some(Duration::ZERO)
    } else {
        // Just past the instant, so that the check then succeeds.
        Some((available_at - now).to_std().unwrap_or_default() + Duration::from_millis(1))
    }
}

/// Available: ready for more than `min_ready_seconds`.
pub fn is_available(pod: &Pod, min_ready_seconds: i32, now: DateTime<Utc>) -> bool {
    available_after(pod, min_ready_seconds, now) == Some(Duration::ZERO)
}

// ANCHOR: calculate_status
/// The status of `rs` given the active pods it owns and the error of this
/// round's creates or deletes (its message), at `now`: the counts, the
/// generation seen, and the `ReplicaFailure` condition, set (reason
/// `FailedCreate` with too few pods, `FailedDelete` with too many) when an
/// error happened and none is set yet, removed once a round succeeds.
/// Other conditions are kept.
pub fn calculate_status(
    rs: &ReplicaSet,
    pods: &[&Pod],
    error: Option<&str>,
    now: DateTime<Utc>,
) -> ReplicaSetStatus {
    let template = Selector::from_map(&rs.spec.template.metadata.labels);
    let min_ready = rs.spec.min_ready_seconds.unwrap_or(0);
    let count = |keep: &dyn Fn(&Pod) -> bool| pods.iter().filter(|pod| keep(pod)).count() as i32;
    let mut status = rs.status.clone();
    status.replicas = pods.len() as i32;
    status.fully_labeled_replicas = Some(count(&|pod| template.matches(&pod.metadata.labels)));
    status.ready_replicas = Some(count(&is_ready));
    status.available_replicas = Some(count(&|pod| is_available(pod, min_ready, now)));
    status.observed_generation = rs.metadata.generation;
    let failing = status
        .conditions
        .iter()
        .any(|condition| condition.condition_type == REPLICA_FAILURE);
    match error {
        Some(message) if !failing => {
            let desired = rs.spec.replicas.unwrap_or(1);
            let reason = match (pods.len() as i32).cmp(&desired) {
                std::cmp::Ordering::Less => "FailedCreate",
                std::cmp::Ordering::Greater => "FailedDelete",
                std::cmp::Ordering::Equal => "",
            };
            status.conditions.push(DeploymentCondition {
                condition_type: REPLICA_FAILURE.to_string(),
                status: "True".to_string(),
                last_transition_time: Some(Time(now)),
                reason: Some(reason.to_string()).filter(|r| !r.is_empty()),
                message: Some(message.to_string()),
                ..DeploymentCondition::default()
            });
        }
        Some(_) => {}
        None => status
            .conditions
            .retain(|condition| condition.condition_type != REPLICA_FAILURE),
    }
    status
}
// ANCHOR_END: calculate_status

/// When to look again so that availability is noticed: the soonest time a
/// ready pod becomes available, if any pod is ready but not yet available.
pub fn next_availability_check(
    pods: &[&Pod],
    min_ready_seconds: i32,
    now: DateTime<Utc>,
) -> Option<Duration> {
    pods.iter()
        .filter_map(|pod| available_after(pod, min_ready_seconds, now))
        .filter(|wait| !wait.is_zero())
        .min()
}
