//! Which pods a ReplicaSet with too many deletes first: the least
//! valuable, as Kubernetes' `controller.ActivePods` ordering ranks them
//! (`pkg/controller/controller_utils.go`). A pod not yet on a node, not
//! running, or not ready serves nobody, so losing it costs the least; among
//! ready pods the one ready for the shortest time (maybe still warming up),
//! then the one that crashes most, then the youngest goes first.

use std::cmp::Ordering;

use objects::Pod;
use objects::pod::PodCondition;

use super::status::ready_condition;

/// Pending before Unknown before Running; other phases (none for an
/// active pod) count as Pending, as Kubernetes' `podPhaseToOrdinal`.
fn phase_ordinal(pod: &Pod) -> u8 {
    match pod.status.phase.as_deref() {
        Some("Unknown") => 1,
        Some("Running") => 2,
        _ => 0,
    }
}

/// The highest restart count among the pod's containers.
fn max_restarts(pod: &Pod) -> i32 {
    pod.status
        .container_statuses
        .iter()
        .map(|status| status.restart_count)
        .max()
        .unwrap_or(0)
}

/// Since when the pod is ready: its Ready condition's last transition.
fn ready_since(pod: &Pod) -> Option<chrono::DateTime<chrono::Utc>> {
    ready_condition(pod)
        .filter(|condition: &&PodCondition| condition.status == "True")
        .and_then(|condition| condition.last_transition_time)
        .map(|time| time.0)
}

/// `a` is "later" than `b`, a missing time counting as the latest of all
/// (Kubernetes' `afterOrZero`): used for both "ready for a shorter time"
/// and "newer".
fn later_or_missing<T: Ord>(a: Option<T>, b: Option<T>) -> Ordering {
    match (a, b) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        // The later one comes first.
        (Some(a), Some(b)) => b.cmp(&a),
    }
}

// ANCHOR: deletion_order
/// Orders two active pods by how little they are worth: `Less` means `a`
/// should be deleted before `b`. In order of precedence: unassigned before
/// assigned; Pending before Unknown before Running; not ready before ready;
/// ready for a shorter time before longer (both ready); more restarts
/// before fewer; newer before older (a missing time counts as newest).
pub fn deletion_order(a: &Pod, b: &Pod) -> Ordering {
    // exercise 4: order two pods so that the one to delete first (the least valuable, by the doc comment's rules) comes first
    // hint: Compare rule by rule and go to the next rule only on a tie: `Ordering::then_with` chains them. `false < true`, so comparing "is assigned" puts unassigned pods first.
    // hint: The helpers are here: is the pod assigned (spec.nodeName), `phase_ordinal`, `super::status::is_ready`, `ready_since`, `max_restarts`, `later_or_missing` (later or missing first). More restarts first means comparing b with a.
    // hint: assigned(a).cmp(&assigned(b)).then_with(|| phase_ordinal(a).cmp(&phase_ordinal(b))).then_with(|| ready(a).cmp(&ready(b))).then_with(|| if both ready { later_or_missing(ready_since(a), ready_since(b)) } else { Equal }).then_with(|| max_restarts(b).cmp(&max_restarts(a))).then_with(|| later_or_missing(creation times of a and b))
    let assigned = |pod: &Pod| pod.spec.node_name.as_deref().is_some_and(|n| !n.is_empty());
    let ready = super::status::is_ready;
    assigned(a)
        .cmp(&assigned(b))
        .then_with(|| phase_ordinal(a).cmp(&phase_ordinal(b)))
        .then_with(|| ready(a).cmp(&ready(b)))
        .then_with(|| {
            if ready(a) && ready(b) {
                later_or_missing(ready_since(a), ready_since(b))
            } else {
                Ordering::Equal
            }
        })
        .then_with(|| max_restarts(b).cmp(&max_restarts(a)))
        .then_with(|| {
            later_or_missing(
                a.metadata.creation_timestamp.map(|t| t.0),
                b.metadata.creation_timestamp.map(|t| t.0),
            )
        })
}
// ANCHOR_END: deletion_order

/// The `count` pods to delete among `pods`: the least valuable first. The
/// sort is stable, so equally ranked pods go in the order given.
pub fn pods_to_delete<'a>(pods: &[&'a Pod], count: usize) -> Vec<&'a Pod> {
    let mut ranked = pods.to_vec();
    ranked.sort_by(|a, b| deletion_order(a, b));
    ranked.truncate(count);
    ranked
}
