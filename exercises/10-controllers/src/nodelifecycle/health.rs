// Generated from solutions/10-controllers/src/nodelifecycle/health.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
//! What the node lifecycle controller decides about a node, pure: whether
//! its agent still reports, the conditions of a node that stopped
//! reporting, and the taints its Ready condition calls for. Kubernetes:
//! `pkg/controller/nodelifecycle/node_lifecycle_controller.go`
//! (`tryUpdateNodeHealth`, `doNoExecuteTaintingPass`).

use std::time::{Duration, Instant};

use objects::node::{NodeCondition, Taint};
use objects::{Lease, Node, Time};

pub const NOT_READY: &str = "node.kubernetes.io/not-ready";
pub const UNREACHABLE: &str = "node.kubernetes.io/unreachable";
pub const NO_EXECUTE: &str = "NoExecute";
pub const NO_SCHEDULE: &str = "NoSchedule";

/// The conditions a node agent reports; all go Unknown when it stops.
pub const REPORTED: [&str; 4] = ["Ready", "MemoryPressure", "DiskPressure", "PIDPressure"];

/// When this controller last saw a node's agent do something: a new lease
/// renewal or a new Ready heartbeat. It goes by its own clock (when it
/// *saw* the change), not by the times the agent wrote, so a skewed clock
/// on the node cannot make it look alive or dead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heartbeat {
    marker: String,
    seen: Instant,
}

impl Heartbeat {
    /// Notes what the node shows now; a change since `last` is a sign of
    /// life at `now`. A node seen for the first time gets a full grace
    /// period (the controller may have just started).
    pub fn observe(
        last: Option<&Heartbeat>,
        node: &Node,
        lease: Option<&Lease>,
        now: Instant,
    ) -> Heartbeat {
        let renewed = lease
            .and_then(|lease| lease.spec.renew_time.as_ref())
            .map(|time| time.0.to_rfc3339())
            .unwrap_or_default();
        let ready = condition(node, "Ready")
            .and_then(|ready| ready.last_heartbeat_time.as_ref())
            .map(|time| time.0.to_rfc3339())
            .unwrap_or_default();
        let marker = format!("{renewed} {ready}");
        match last {
            Some(last) if last.marker == marker => last.clone(),
            _ => Heartbeat { marker, seen: now },
        }
    }

    /// How long until the node counts as gone silent; zero once it has.
    pub fn left(&self, grace: Duration, now: Instant) -> Duration {
        (self.seen + grace).saturating_duration_since(now)
    }
}

pub fn condition<'a>(node: &'a Node, kind: &str) -> Option<&'a NodeCondition> {
    node.status
        .conditions
        .iter()
        .find(|condition| condition.condition_type == kind)
}

/// The conditions of a node whose agent stopped reporting: each reported
/// condition becomes Unknown (changing its transition time if it was not
/// Unknown already), and one never reported is added as Unknown.
pub fn unknown_conditions(conditions: &[NodeCondition], now: &Time) -> Vec<NodeCondition> {
    let mut result: Vec<NodeCondition> = conditions.to_vec();
    for kind in REPORTED {
        match result.iter_mut().find(|c| c.condition_type == kind) {
            Some(condition) if condition.status == "Unknown" => {}
            Some(condition) => {
                condition.status = "Unknown".into();
                condition.reason = Some("NodeStatusUnknown".into());
                condition.message = Some("Kubelet stopped posting node status.".into());
                condition.last_transition_time = Some(*now);
            }
            None => result.push(NodeCondition {
                condition_type: kind.into(),
                status: "Unknown".into(),
                last_heartbeat_time: Some(*now),
                last_transition_time: Some(*now),
                reason: Some("NodeStatusNeverUpdated".into()),
                message: Some("Kubelet never posted node status.".into()),
            }),
        }
    }
    result
}

// ANCHOR: wanted_taints
/// The node's taints as its Ready condition calls for: `unreachable` when
/// Unknown, `not-ready` when False (or missing), neither when True; each
/// with both effects (NoSchedule keeps new pods away, NoExecute evicts).
/// Other taints are kept, and so is the `timeAdded` of one already there:
/// evictions count from it.
pub fn wanted_taints(node: &Node, now: &Time) -> Vec<Taint> {
    let wanted = match condition(node, "Ready").map(|ready| ready.status.as_str()) {
        Some("True") => None,
        Some("Unknown") => Some(UNREACHABLE),
        _ => Some(NOT_READY),
    };
    let ours = |taint: &Taint| taint.key == NOT_READY || taint.key == UNREACHABLE;
    let mut taints: Vec<Taint> = node
        .spec
        .taints
        .iter()
        .filter(|taint| !ours(taint) || Some(taint.key.as_str()) == wanted)
        .cloned()
        .collect();
    if let Some(key) = wanted {
        for effect in [NO_SCHEDULE, NO_EXECUTE] {
            if !taints.iter().any(|t| t.key == key && t.effect == effect) {
                taints.push(Taint {
                    key: key.into(),
                    value: None,
                    effect: effect.into(),
                    time_added: (effect == NO_EXECUTE).then_some(*now),
                });
            }
        }
    }
    taints
}
// ANCHOR_END: wanted_taints
