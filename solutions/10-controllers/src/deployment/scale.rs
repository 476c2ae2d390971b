//! Scaling a deployment that is between two templates, and the steps of a
//! Recreate rollout. Pure, like [`super::rolling`].
//!
//! A user who scales a deployment in the middle of a rollout (or while it
//! is paused) must not hasten the rollout: growing only the new
//! ReplicaSet would put more pods on a template nobody has seen work yet.
//! So the change is spread over the active ReplicaSets in proportion to
//! their sizes, and each ReplicaSet records the deployment size it was
//! scaled for (`desired-replicas`, `max-replicas`), which is how the next
//! sync recognizes a scaling event at all.
//!
//! Kubernetes: `scale`, `isScalingEvent` (sync.go), `FindActiveOrLatest`,
//! `IsSaturated`, `GetProportion` (util/deployment_util.go) and
//! recreate.go.

use objects::{Deployment, Pod, ReplicaSet};

use super::counts::{
    Scaling, Strategy, active, available, desired, replicas, sort_oldest_first, strategy,
    total_actual, total_replicas,
};
use super::revision::{desired_replicas_annotation, max_replicas_annotation};
use super::rolling::max_surge;

/// Whether the deployment's size changed since its active ReplicaSets
/// were last scaled for it (their `desired-replicas` annotation).
pub fn is_scaling_event(
    deployment: &Deployment,
    new_rs: Option<&ReplicaSet>,
    old_rss: &[ReplicaSet],
) -> bool {
    let desired = desired(deployment);
    active(old_rss.iter().chain(new_rs))
        .into_iter()
        .filter_map(desired_replicas_annotation)
        .any(|annotated| annotated != desired)
}

/// The only active ReplicaSet; with none active, the new one, or else the
/// newest old one; `None` when several are active.
pub fn find_active_or_latest<'a>(
    new_rs: Option<&'a ReplicaSet>,
    old_rss: &'a [ReplicaSet],
) -> Option<&'a ReplicaSet> {
    let all = active(old_rss.iter().chain(new_rs));
    match all.as_slice() {
        [] => new_rs.or_else(|| {
            let mut old: Vec<&ReplicaSet> = old_rss.iter().collect();
            sort_oldest_first(&mut old);
            old.last().copied()
        }),
        [only] => Some(only),
        _ => None,
    }
}

/// The new ReplicaSet has the whole deployment, scaled for its current
/// size, and all of it is available: the old ones can go at once.
pub fn is_saturated(deployment: &Deployment, new_rs: &ReplicaSet) -> bool {
    let desired = desired(deployment);
    replicas(new_rs) == desired
        && desired_replicas_annotation(new_rs) == Some(desired)
        && available(new_rs) == desired
}

/// Sizes after a scaling event (`scale` in sync.go). Each entry may keep
/// its size: the executor then only refreshes its annotations.
pub fn plan_scale(
    deployment: &Deployment,
    new_rs: Option<&ReplicaSet>,
    old_rss: &[ReplicaSet],
) -> Vec<Scaling> {
    let desired = desired(deployment);
    if let Some(only) = find_active_or_latest(new_rs, old_rss) {
        if replicas(only) == desired {
            return Vec::new();
        }
        return vec![Scaling::new(only, desired)];
    }
    if new_rs.is_some_and(|rs| is_saturated(deployment, rs)) {
        let mut old = active(old_rss);
        sort_oldest_first(&mut old);
        return old.into_iter().map(|rs| Scaling::new(rs, 0)).collect();
    }
    if strategy(deployment) != Strategy::RollingUpdate {
        return Vec::new();
    }
    proportional(deployment, active(old_rss.iter().chain(new_rs)))
}

/// Spreads the difference between the allowed size (desired + surge) and
/// the current total over `all`, in proportion to each one's share of the
/// size it was last scaled for; rounding leftovers go to the first (the
/// largest: newest first when growing, oldest first when shrinking).
fn proportional(deployment: &Deployment, mut all: Vec<&ReplicaSet>) -> Vec<Scaling> {
    let desired = desired(deployment);
    let allowed = if desired > 0 {
        desired + max_surge(deployment)
    } else {
        0
    };
    let to_add = allowed - total_replicas(all.iter().copied());
    sort_oldest_first(&mut all);
    if to_add > 0 {
        // Largest first; among equals, newest first.
        all.reverse();
        all.sort_by_key(|rs| std::cmp::Reverse(replicas(rs)));
    } else if to_add < 0 {
        // Largest first; among equals, oldest first.
        all.sort_by_key(|rs| std::cmp::Reverse(replicas(rs)));
    }
    let mut added = 0;
    let mut sizes: Vec<i32> = Vec::with_capacity(all.len());
    for rs in &all {
        let proportion = if to_add == 0 {
            0
        } else {
            proportion(rs, deployment, to_add, added)
        };
        sizes.push(replicas(rs) + proportion);
        added += proportion;
    }
    if let Some(first) = sizes.first_mut()
        && to_add != 0
    {
        *first = (*first + to_add - added).max(0);
    }
    all.iter()
        .zip(sizes)
        .map(|(rs, size)| Scaling::new(rs, size))
        .collect()
}

/// This ReplicaSet's share of `to_add` (`GetProportion`), never more (in
/// absolute value) than what is left to add.
fn proportion(rs: &ReplicaSet, deployment: &Deployment, to_add: i32, added: i32) -> i32 {
    if replicas(rs) == 0 || to_add == added {
        return 0;
    }
    let fraction = fraction(rs, deployment);
    let allowed = to_add - added;
    if to_add > 0 {
        fraction.min(allowed)
    } else {
        fraction.max(allowed)
    }
}

/// How many pods this ReplicaSet gains or loses if it keeps its share of
/// the deployment (`getReplicaSetFraction`): its size times the new
/// allowed total over the total it was scaled for, rounded half away from
/// zero as Go's `math.Round`.
fn fraction(rs: &ReplicaSet, deployment: &Deployment) -> i32 {
    let desired = desired(deployment);
    if desired == 0 {
        return -replicas(rs);
    }
    let deployment_replicas = desired + max_surge(deployment);
    let annotated =
        max_replicas_annotation(rs).unwrap_or_else(|| deployment.status.replicas.unwrap_or(0));
    if annotated <= 0 {
        // Kubernetes divides by zero here (an undefined conversion in Go);
        // no share is the safe answer.
        return 0;
    }
    let size = f64::from(replicas(rs)) * f64::from(deployment_replicas) / f64::from(annotated);
    size.round() as i32 - replicas(rs)
}

/// What a Recreate rollout does next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecreateStep {
    /// Scale these old ReplicaSets to 0.
    ScaleDownOld(Vec<Scaling>),
    /// Old pods are still there: wait until they are gone.
    WaitForOldPods,
    /// Create the new ReplicaSet if needed and scale it to the desired count.
    ScaleUpNew,
}

/// Recreate's next step: first every old ReplicaSet to 0, then, once no
/// old pod runs, the new one up (recreate.go).
pub fn plan_recreate(old_rss: &[ReplicaSet], old_pods_running: bool) -> RecreateStep {
    let mut old = active(old_rss);
    if !old.is_empty() {
        sort_oldest_first(&mut old);
        return RecreateStep::ScaleDownOld(old.into_iter().map(|rs| Scaling::new(rs, 0)).collect());
    }
    if old_pods_running {
        return RecreateStep::WaitForOldPods;
    }
    RecreateStep::ScaleUpNew
}

/// Whether pods of the old templates still exist (`oldPodsRunning`): the
/// old ReplicaSets still report some, or a pod that one of them owns
/// (`pods` are the deployment's pods) is not finished yet.
pub fn old_pods_running(
    new_rs: Option<&ReplicaSet>,
    old_rss: &[ReplicaSet],
    pods: &[&Pod],
) -> bool {
    if total_actual(old_rss) > 0 {
        return true;
    }
    let new_uid = new_rs.and_then(|rs| rs.metadata.uid.as_deref());
    pods.iter().any(|pod| {
        let owner =
            crate::controller::trigger::controller_ref(&pod.metadata).map(|r| r.uid.as_str());
        let finished = matches!(pod.status.phase.as_deref(), Some("Succeeded" | "Failed"));
        owner.is_some() && owner != new_uid && !finished
    })
}
