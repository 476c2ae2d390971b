// Generated from solutions/10-controllers/src/deployment/rolling.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
//! RollingUpdate's arithmetic: how far above the desired count the
//! rollout may go (maxSurge), how far below (maxUnavailable), and so how
//! many pods of the new template to add, and of the old ones to remove,
//! at each step. Pure: the controller executes what these decide.
//!
//! One step scales the new ReplicaSet up *or* the old ones down, never
//! both: after either, the controller waits for the ReplicaSets to report
//! their pods (a status change brings it back). Adding first keeps the
//! count of available pods up; removing waits for new pods to be
//! available, so a template whose pods never become ready stops the
//! rollout with the old pods still serving.
//!
//! Kubernetes: pkg/controller/deployment/rolling.go and
//! `ResolveFenceposts`, `MaxSurge`, `MaxUnavailable`, `NewRSNewReplicas`
//! in pkg/controller/deployment/util/deployment_util.go.

use objects::{Deployment, IntOrString, ReplicaSet};

use super::counts::{
    Scaling, Strategy, active, available, desired, replicas, sort_oldest_first, strategy,
    total_available, total_replicas,
};

// ANCHOR: resolve_fenceposts
/// maxSurge and maxUnavailable as pod counts for `desired` replicas.
///
/// A percentage of surge rounds up and one of unavailability rounds down,
/// so that a small deployment can still make progress without going below
/// what was asked. Both at zero could never move: unavailability then
/// becomes 1. Unset values count as 0.
pub fn resolve_fenceposts(
    max_surge: Option<&IntOrString>,
    max_unavailable: Option<&IntOrString>,
    desired: i32,
) -> Result<(i32, i32), String> {
    todo!(
        "exercise 5: maxSurge and maxUnavailable as pod counts for `desired` replicas: surge percentages round up, unavailable ones down, never both zero"
    )
}
// ANCHOR_END: resolve_fenceposts

/// The rolling parameters as written, or Kubernetes' defaults (25% each)
/// for a deployment built by hand without them.
fn rolling_parameters(deployment: &Deployment) -> (IntOrString, IntOrString) {
    let quarter = || IntOrString::from("25%");
    let rolling = deployment
        .spec
        .strategy
        .as_ref()
        .and_then(|s| s.rolling_update.as_ref());
    match rolling {
        Some(rolling) => (
            rolling.max_surge.clone().unwrap_or_else(quarter),
            rolling.max_unavailable.clone().unwrap_or_else(quarter),
        ),
        None => (quarter(), quarter()),
    }
}

/// [`resolve_fenceposts`] for `deployment`. Validation refuses values that
/// do not resolve, so an error here means a hand-made object: it reads as
/// the safest setting, one pod unavailable and no surge.
fn fenceposts(deployment: &Deployment) -> (i32, i32) {
    let (surge, unavailable) = rolling_parameters(deployment);
    resolve_fenceposts(Some(&surge), Some(&unavailable), desired(deployment)).unwrap_or((0, 1))
}

/// Pods the rollout may add above the desired count (0 for Recreate).
pub fn max_surge(deployment: &Deployment) -> i32 {
    match strategy(deployment) {
        Strategy::RollingUpdate => fenceposts(deployment).0,
        Strategy::Recreate => 0,
    }
}

/// Pods the rollout may have unavailable below the desired count (0 for
/// Recreate and for a deployment of 0), never more than the desired count.
pub fn max_unavailable(deployment: &Deployment) -> i32 {
    let desired = desired(deployment);
    if strategy(deployment) == Strategy::Recreate || desired == 0 {
        return 0;
    }
    fenceposts(deployment).1.min(desired)
}

// ANCHOR: new_replicas_rolling
/// The new ReplicaSet's size for a RollingUpdate step: as many more pods
/// as the surge allows above `desired` in all (`all_replicas` counts every
/// ReplicaSet's `spec.replicas`, the new one's included), never more than
/// `desired` for the new ReplicaSet itself; unchanged when the surge is
/// used up.
pub fn new_replicas_rolling(
    desired: i32,
    max_surge: i32,
    all_replicas: i32,
    new_replicas: i32,
) -> i32 {
    todo!(
        "exercise 6: the new ReplicaSet's size for one RollingUpdate step: grow it as far as the surge allows, never past `desired`"
    )
}
// ANCHOR_END: new_replicas_rolling

/// The new ReplicaSet's next size (`NewRSNewReplicas`): a RollingUpdate
/// step, or, for Recreate, the desired count at once.
pub fn new_rs_replicas(deployment: &Deployment, all_replicas: i32, new_replicas: i32) -> i32 {
    match strategy(deployment) {
        Strategy::RollingUpdate => new_replicas_rolling(
            desired(deployment),
            max_surge(deployment),
            all_replicas,
            new_replicas,
        ),
        Strategy::Recreate => desired(deployment),
    }
}

/// One RollingUpdate step (`rolloutRolling`): scale the new ReplicaSet up
/// (or down, if it has more than desired) if it can move; otherwise scale
/// old ReplicaSets down as far as availability allows. Empty when the
/// step must wait for pods to become available, or the rollout is done.
pub fn plan_rolling(
    deployment: &Deployment,
    new_rs: &ReplicaSet,
    old_rss: &[ReplicaSet],
) -> Vec<Scaling> {
    let desired = desired(deployment);
    let current = replicas(new_rs);
    if current > desired {
        return vec![Scaling::new(new_rs, desired)];
    }
    if current < desired {
        let all = total_replicas(old_rss) + current;
        let target = new_rs_replicas(deployment, all, current);
        if target != current {
            return vec![Scaling::new(new_rs, target)];
        }
    }
    plan_old_scale_down(deployment, new_rs, old_rss)
}

/// The old ReplicaSets' new sizes (`reconcileOldReplicaSets`), oldest
/// first.
///
/// At most `all - minAvailable - newUnavailable` pods may go, where
/// `minAvailable` is `desired - maxUnavailable`: unavailable pods of the
/// new ReplicaSet count against the budget, so that a new template whose
/// pods crash does not eat the old pods. Old pods that are not available
/// anyway go first, within that budget (they cost no availability). Then
/// available old pods go, as many as the available pods exceed
/// `minAvailable`. Each ReplicaSet appears once, with its final size.
pub fn plan_old_scale_down(
    deployment: &Deployment,
    new_rs: &ReplicaSet,
    old_rss: &[ReplicaSet],
) -> Vec<Scaling> {
    let mut old = active(old_rss);
    let old_pods = total_replicas(old.iter().copied());
    if old_pods == 0 {
        return Vec::new();
    }
    sort_oldest_first(&mut old);
    let all_pods = old_pods + replicas(new_rs);
    let min_available = desired(deployment) - max_unavailable(deployment);
    let new_unavailable = replicas(new_rs) - available(new_rs);
    let max_scaled_down = all_pods - min_available - new_unavailable;
    if max_scaled_down <= 0 {
        return Vec::new();
    }
    let mut sizes: Vec<i32> = old.iter().map(|rs| replicas(rs)).collect();

    // Unhealthy pods first: removing them costs no availability.
    let mut cleaned = 0;
    for (size, rs) in sizes.iter_mut().zip(&old) {
        if cleaned >= max_scaled_down {
            break;
        }
        let unhealthy = *size - available(rs);
        if *size == 0 || unhealthy <= 0 {
            continue;
        }
        let count = unhealthy.min(max_scaled_down - cleaned);
        *size -= count;
        cleaned += count;
    }

    // Then available pods, down to minAvailable.
    let available_pods = available(new_rs) + total_available(old.iter().copied());
    let mut budget = (available_pods - min_available).max(0);
    for size in sizes.iter_mut() {
        if budget == 0 {
            break;
        }
        let count = (*size).min(budget);
        *size -= count;
        budget -= count;
    }

    old.iter()
        .zip(sizes)
        .filter(|(rs, size)| replicas(rs) != *size)
        .map(|(rs, size)| Scaling::new(rs, size))
        .collect()
}
