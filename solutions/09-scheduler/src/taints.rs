//! Taints repel pods; tolerations let a pod past them (kube-scheduler's
//! TaintToleration and NodeUnschedulable plugins).
//!
//! Kubernetes expresses node states as taints too: the node lifecycle
//! controller taints a node whose Ready condition is False with
//! `node.kubernetes.io/not-ready` and one whose condition is Unknown with
//! `node.kubernetes.io/unreachable`, so a pod that tolerates them (a
//! DaemonSet's) may still go there. k8s-mini has no such controller yet,
//! so [`effective_taints`] adds those taints itself from the conditions.

use objects::Node;
use objects::node::Taint;
use objects::pod::Toleration;

pub const NOT_READY: &str = "node.kubernetes.io/not-ready";
pub const UNREACHABLE: &str = "node.kubernetes.io/unreachable";
pub const UNSCHEDULABLE: &str = "node.kubernetes.io/unschedulable";

pub const NO_SCHEDULE: &str = "NoSchedule";
pub const NO_EXECUTE: &str = "NoExecute";
pub const PREFER_NO_SCHEDULE: &str = "PreferNoSchedule";

// ANCHOR: tolerates
/// Whether `toleration` lets a pod past `taint` (Kubernetes'
/// `ToleratesTaint`).
pub fn tolerates(toleration: &Toleration, taint: &Taint) -> bool {
    // exercise 2: say whether the toleration tolerates the taint, by effect, key, operator and value
    // hint: An empty field in a toleration is a wildcard: an empty effect matches every effect, an empty key every key. Then the operator decides how values compare.
    // hint: Refuse when the toleration has an effect that is not the taint's, or a key that is not the taint's. Operator `Exists` tolerates any value; `Equal` (also when the operator is empty) needs the same value (a missing value is the empty string); any other operator tolerates nothing.
    // hint: let effect = toleration.effect.as_deref().unwrap_or(""); if !effect.is_empty() && effect != taint.effect → false; the same with the key against taint.key; then match toleration.operator.as_deref().unwrap_or("") { "" | "Equal" → toleration.value.as_deref().unwrap_or("") == taint.value.as_deref().unwrap_or(""), "Exists" → true, _ → false }.
    let effect = toleration.effect.as_deref().unwrap_or("");
    if !effect.is_empty() && effect != taint.effect {
        return false;
    }
    let key = toleration.key.as_deref().unwrap_or("");
    if !key.is_empty() && key != taint.key {
        return false;
    }
    match toleration.operator.as_deref().unwrap_or("") {
        "" | "Equal" => {
            toleration.value.as_deref().unwrap_or("") == taint.value.as_deref().unwrap_or("")
        }
        "Exists" => true,
        _ => false,
    }
}
// ANCHOR_END: tolerates

/// Whether any of `tolerations` tolerates `taint`.
pub fn tolerated(tolerations: &[Toleration], taint: &Taint) -> bool {
    tolerations.iter().any(|t| tolerates(t, taint))
}

fn taint(key: &str, effect: &str) -> Taint {
    Taint {
        key: key.to_string(),
        effect: effect.to_string(),
        ..Default::default()
    }
}

/// The node's taints, plus the not-ready or unreachable taint its Ready
/// condition implies (a node that reports no Ready condition is not
/// ready: it has not said it is).
pub fn effective_taints(node: &Node) -> Vec<Taint> {
    let mut taints = node.spec.taints.clone();
    let ready = node
        .status
        .conditions
        .iter()
        .find(|c| c.condition_type == "Ready")
        .map(|c| c.status.as_str());
    let implied = match ready {
        Some("True") => None,
        Some("Unknown") => Some(UNREACHABLE),
        _ => Some(NOT_READY),
    };
    if let Some(key) = implied
        && !taints
            .iter()
            .any(|t| t.key == key && t.effect == NO_SCHEDULE)
    {
        taints.push(taint(key, NO_SCHEDULE));
    }
    taints
}

/// Whether a cordoned node (`spec.unschedulable`) refuses the pod: unless
/// it tolerates `node.kubernetes.io/unschedulable:NoSchedule`, as
/// DaemonSet pods do.
pub fn refused_as_unschedulable(node: &Node, tolerations: &[Toleration]) -> bool {
    node.spec.unschedulable && !tolerated(tolerations, &taint(UNSCHEDULABLE, NO_SCHEDULE))
}

/// The first NoSchedule or NoExecute taint the pod does not tolerate.
pub fn first_untolerated<'a>(taints: &'a [Taint], tolerations: &[Toleration]) -> Option<&'a Taint> {
    taints
        .iter()
        .filter(|t| t.effect == NO_SCHEDULE || t.effect == NO_EXECUTE)
        .find(|t| !tolerated(tolerations, t))
}

/// How many PreferNoSchedule taints the pod does not tolerate (only
/// tolerations with no effect or PreferNoSchedule count here).
pub fn untolerated_preferences(taints: &[Taint], tolerations: &[Toleration]) -> usize {
    // No Vec of the relevant tolerations: this runs for every node, and
    // most nodes have no PreferNoSchedule taint at all.
    let relevant = |t: &&Toleration| {
        matches!(
            t.effect.as_deref(),
            None | Some("") | Some(PREFER_NO_SCHEDULE)
        )
    };
    taints
        .iter()
        .filter(|t| t.effect == PREFER_NO_SCHEDULE)
        .filter(|t| {
            !tolerations
                .iter()
                .filter(relevant)
                .any(|tol| tolerates(tol, t))
        })
        .count()
}
