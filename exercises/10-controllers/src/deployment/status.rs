// Generated from solutions/10-controllers/src/deployment/status.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
//! The deployment's status: its ReplicaSets' counts summed up, and the
//! conditions that say whether the rollout moves (`Progressing`) and
//! whether enough pods serve (`Available`). Pure: `now` is passed in.
//!
//! `kubectl rollout status` reads exactly this: it waits until
//! `observedGeneration` reaches `metadata.generation` (the controller has
//! seen the latest spec), then until `updatedReplicas` (pods of the new
//! template), `replicas` and `availableReplicas` all reach the desired
//! count, and gives up when `Progressing` has the reason
//! `ProgressDeadlineExceeded`. A rollout that makes no progress for
//! `progressDeadlineSeconds` gets that reason; any progress (a pod more
//! updated, ready or available, a pod fewer of the old template) renews
//! the condition's `lastUpdateTime` and so the deadline.
//!
//! Kubernetes: progress.go, `calculateStatus` and `checkPausedConditions`
//! (sync.go), the condition helpers of util/deployment_util.go.

use std::time::Duration;

use objects::apps::{DeploymentCondition, DeploymentStatus};
use objects::{Deployment, ReplicaSet, Time};

use super::counts::{desired, total_actual, total_available, total_ready};
use super::rolling::max_unavailable;

pub const AVAILABLE: &str = "Available";
pub const PROGRESSING: &str = "Progressing";
pub const REPLICA_FAILURE: &str = "ReplicaFailure";

/// Progressing: the new ReplicaSet was created.
pub const NEW_REPLICA_SET_CREATED: &str = "NewReplicaSetCreated";
/// Progressing: the new ReplicaSet exists (found rather than created).
pub const FOUND_NEW_REPLICA_SET: &str = "FoundNewReplicaSet";
/// Progressing: a ReplicaSet was scaled, pods moved.
pub const REPLICA_SET_UPDATED: &str = "ReplicaSetUpdated";
/// Progressing: the rollout is complete.
pub const NEW_REPLICA_SET_AVAILABLE: &str = "NewReplicaSetAvailable";
/// Progressing (False): no progress within `progressDeadlineSeconds`.
pub const PROGRESS_DEADLINE_EXCEEDED: &str = "ProgressDeadlineExceeded";
/// Progressing (Unknown): `spec.paused`.
pub const DEPLOYMENT_PAUSED: &str = "DeploymentPaused";
/// Progressing (Unknown): resumed after a pause.
pub const DEPLOYMENT_RESUMED: &str = "DeploymentResumed";
/// Progressing (False): the new ReplicaSet could not be created.
pub const REPLICA_SET_CREATE_ERROR: &str = "ReplicaSetCreateError";
pub const MINIMUM_REPLICAS_AVAILABLE: &str = "MinimumReplicasAvailable";
pub const MINIMUM_REPLICAS_UNAVAILABLE: &str = "MinimumReplicasUnavailable";

/// The condition of type `condition_type`, if any.
pub fn get_condition<'a>(
    status: &'a DeploymentStatus,
    condition_type: &str,
) -> Option<&'a DeploymentCondition> {
    status
        .conditions
        .iter()
        .find(|c| c.condition_type == condition_type)
}

/// A condition that changed (or appeared) at `now`.
pub fn new_condition(
    condition_type: &str,
    status: &str,
    reason: &str,
    message: String,
    now: Time,
) -> DeploymentCondition {
    DeploymentCondition {
        condition_type: condition_type.into(),
        status: status.into(),
        last_update_time: Some(now),
        last_transition_time: Some(now),
        reason: Some(reason.into()),
        message: Some(message),
    }
}

/// Puts `condition` in place of the one of its type, unless that one has
/// the same status and reason already; keeps the transition time when
/// only the reason changes (`SetDeploymentCondition`).
pub fn set_condition(status: &mut DeploymentStatus, mut condition: DeploymentCondition) {
    if let Some(current) = get_condition(status, &condition.condition_type) {
        if current.status == condition.status && current.reason == condition.reason {
            return;
        }
        if current.status == condition.status {
            condition.last_transition_time = current.last_transition_time;
        }
    }
    remove_condition(status, &condition.condition_type);
    status.conditions.push(condition);
}

pub fn remove_condition(status: &mut DeploymentStatus, condition_type: &str) {
    status
        .conditions
        .retain(|c| c.condition_type != condition_type);
}

/// Counts from the ReplicaSets, the Available condition from the counts,
/// the other conditions carried over (`calculateStatus`).
pub fn calculate_status(
    deployment: &Deployment,
    all: &[&ReplicaSet],
    new_rs: Option<&ReplicaSet>,
    now: Time,
) -> DeploymentStatus {
    let available = total_available(all.iter().copied());
    let total = super::counts::total_replicas(all.iter().copied());
    let mut status = DeploymentStatus {
        observed_generation: deployment.metadata.generation,
        replicas: Some(total_actual(all.iter().copied())),
        updated_replicas: Some(new_rs.map_or(0, |rs| rs.status.replicas)),
        ready_replicas: Some(total_ready(all.iter().copied())),
        available_replicas: Some(available),
        // Negative while scaling down, with more available than desired.
        unavailable_replicas: Some((total - available).max(0)),
        conditions: deployment.status.conditions.clone(),
        collision_count: deployment.status.collision_count,
    };
    let condition = if available >= desired(deployment) - max_unavailable(deployment) {
        new_condition(
            AVAILABLE,
            "True",
            MINIMUM_REPLICAS_AVAILABLE,
            "Deployment has minimum availability.".into(),
            now,
        )
    } else {
        new_condition(
            AVAILABLE,
            "False",
            MINIMUM_REPLICAS_UNAVAILABLE,
            "Deployment does not have minimum availability.".into(),
            now,
        )
    };
    set_condition(&mut status, condition);
    status
}

/// Every desired pod runs the new template and is available, and the
/// controller has seen the latest spec.
pub fn deployment_complete(deployment: &Deployment, status: &DeploymentStatus) -> bool {
    let desired = desired(deployment);
    status.updated_replicas.unwrap_or(0) == desired
        && status.replicas.unwrap_or(0) == desired
        && status.available_replicas.unwrap_or(0) == desired
        && status.observed_generation.unwrap_or(0) >= deployment.metadata.generation.unwrap_or(0)
}

/// Whether `new` shows progress since the deployment's recorded status:
/// more updated, ready or available pods, or fewer old ones.
pub fn deployment_progressing(deployment: &Deployment, new: &DeploymentStatus) -> bool {
    let old = &deployment.status;
    let count = |value: Option<i32>| value.unwrap_or(0);
    let old_old = count(old.replicas) - count(old.updated_replicas);
    let new_old = count(new.replicas) - count(new.updated_replicas);
    count(new.updated_replicas) > count(old.updated_replicas)
        || new_old < old_old
        || count(new.ready_replicas) > count(old.ready_replicas)
        || count(new.available_replicas) > count(old.available_replicas)
}

/// The progress deadline, if the deployment has one (Kubernetes treats
/// `i32::MAX` as none).
fn progress_deadline(deployment: &Deployment) -> Option<Duration> {
    deployment
        .spec
        .progress_deadline_seconds
        .filter(|s| *s != i32::MAX)
        .map(|s| Duration::from_secs(u64::try_from(s).unwrap_or(0)))
}

/// Whether the rollout recorded in `status` made no progress for longer
/// than the deadline.
pub fn deployment_timed_out(deployment: &Deployment, status: &DeploymentStatus, now: Time) -> bool {
    let Some(deadline) = progress_deadline(deployment) else {
        return false;
    };
    let Some(condition) = get_condition(status, PROGRESSING) else {
        return false;
    };
    match condition.reason.as_deref() {
        Some(NEW_REPLICA_SET_AVAILABLE) => false,
        Some(PROGRESS_DEADLINE_EXCEEDED) => true,
        _ => condition.last_update_time.is_some_and(|from| {
            let deadline = chrono::Duration::from_std(deadline).unwrap_or(chrono::Duration::MAX);
            from.0 + deadline < now.0
        }),
    }
}

/// The status a rollout step leaves (`syncRolloutStatus`): the counts,
/// then Progressing: complete, or progressing (renewing its
/// `lastUpdateTime`), or timed out; and the ReplicaSets' ReplicaFailure.
pub fn rollout_status(
    deployment: &Deployment,
    all: &[&ReplicaSet],
    new_rs: Option<&ReplicaSet>,
    now: Time,
) -> DeploymentStatus {
    let mut status = calculate_status(deployment, all, new_rs, now);
    let has_deadline = progress_deadline(deployment).is_some();
    if !has_deadline {
        remove_condition(&mut status, PROGRESSING);
    }
    let current = get_condition(&deployment.status, PROGRESSING);
    let complete_before = status.replicas == status.updated_replicas
        && current.is_some_and(|c| c.reason.as_deref() == Some(NEW_REPLICA_SET_AVAILABLE));
    if has_deadline && !complete_before {
        let subject = match new_rs {
            Some(rs) => format!("ReplicaSet \"{}\"", rs.metadata.name()),
            None => format!("Deployment \"{}\"", deployment.metadata.name()),
        };
        if deployment_complete(deployment, &status) {
            let message = format!("{subject} has successfully progressed.");
            let condition =
                new_condition(PROGRESSING, "True", NEW_REPLICA_SET_AVAILABLE, message, now);
            set_condition(&mut status, condition);
        } else if deployment_progressing(deployment, &status) {
            let message = format!("{subject} is progressing.");
            let mut condition =
                new_condition(PROGRESSING, "True", REPLICA_SET_UPDATED, message, now);
            // Progress renews lastUpdateTime even with the same reason,
            // which set_condition alone would not.
            if let Some(current) = current {
                if current.status == "True" {
                    condition.last_transition_time = current.last_transition_time;
                }
                remove_condition(&mut status, PROGRESSING);
            }
            set_condition(&mut status, condition);
        } else if deployment_timed_out(deployment, &status, now) {
            let message = format!("{subject} has timed out progressing.");
            let condition = new_condition(
                PROGRESSING,
                "False",
                PROGRESS_DEADLINE_EXCEEDED,
                message,
                now,
            );
            set_condition(&mut status, condition);
        }
    }
    match replica_failure(all, new_rs) {
        Some(failure) => set_condition(&mut status, failure),
        None => remove_condition(&mut status, REPLICA_FAILURE),
    }
    status
}

/// The new ReplicaSet's ReplicaFailure condition, or else an old one's.
fn replica_failure(
    all: &[&ReplicaSet],
    new_rs: Option<&ReplicaSet>,
) -> Option<DeploymentCondition> {
    let failure = |rs: &ReplicaSet| {
        rs.status
            .conditions
            .iter()
            .find(|c| c.condition_type == REPLICA_FAILURE)
            .map(|c| DeploymentCondition {
                last_update_time: c.last_transition_time,
                ..c.clone()
            })
    };
    new_rs
        .and_then(failure)
        .or_else(|| all.iter().find_map(|rs| failure(rs)))
}

/// When to look at the deployment again to check its deadline, if the
/// rollout is still under way (`requeueStuckDeployment`): when the
/// deadline passes, plus a second for clock skew.
pub fn requeue_after(
    deployment: &Deployment,
    status: &DeploymentStatus,
    now: Time,
) -> Option<Duration> {
    let deadline = progress_deadline(deployment)?;
    let current = get_condition(&deployment.status, PROGRESSING)?;
    if deployment_complete(deployment, status)
        || current.reason.as_deref() == Some(PROGRESS_DEADLINE_EXCEEDED)
    {
        return None;
    }
    let from = current.last_update_time?;
    let due = from.0 + chrono::Duration::from_std(deadline).ok()?;
    let left = (due - now.0).to_std().unwrap_or(Duration::ZERO);
    Some(left + Duration::from_secs(1))
}

/// The Progressing condition for a pause or a resume, if it must change
/// (`checkPausedConditions`): a paused deployment must not time out, and
/// a resumed one starts its deadline afresh. A timed-out rollout keeps
/// saying so.
pub fn paused_condition(deployment: &Deployment, now: Time) -> Option<DeploymentCondition> {
    progress_deadline(deployment)?;
    let current = get_condition(&deployment.status, PROGRESSING);
    let reason = current.and_then(|c| c.reason.as_deref());
    if reason == Some(PROGRESS_DEADLINE_EXCEEDED) {
        return None;
    }
    let paused_now = reason == Some(DEPLOYMENT_PAUSED);
    match (deployment.spec.paused, paused_now) {
        (true, false) => Some(new_condition(
            PROGRESSING,
            "Unknown",
            DEPLOYMENT_PAUSED,
            "Deployment is paused".into(),
            now,
        )),
        (false, true) => Some(new_condition(
            PROGRESSING,
            "Unknown",
            DEPLOYMENT_RESUMED,
            "Deployment is resumed".into(),
            now,
        )),
        _ => None,
    }
}
