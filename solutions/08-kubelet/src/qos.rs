//! Quality of service classes: how much a pod is promised, from its
//! containers' requests and limits. The kubelet reports the class in
//! `status.qosClass` and uses it to pick victims under memory pressure
//! (BestEffort first, Guaranteed last). Kubernetes: `pkg/apis/core/helper/qos`.

use std::collections::BTreeMap;

use objects::Quantity;
use objects::pod::{Container, PodSpec};

/// The three classes, in the order the kubelet evicts them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QosClass {
    /// No container has any request or limit: it gets what is left over.
    BestEffort,
    /// Something is requested or limited, but not everything pinned.
    Burstable,
    /// Every container limits cpu and memory, and requests exactly that.
    Guaranteed,
}

impl QosClass {
    /// The name written in `status.qosClass`.
    pub fn as_str(self) -> &'static str {
        match self {
            QosClass::BestEffort => "BestEffort",
            QosClass::Burstable => "Burstable",
            QosClass::Guaranteed => "Guaranteed",
        }
    }
}

/// The resources QoS looks at; others (ephemeral storage, hugepages) do
/// not change the class.
pub const QOS_RESOURCES: [&str; 2] = ["cpu", "memory"];

/// A quantity in the unit the resource is counted in: millicores for cpu,
/// bytes for memory. `None` when malformed.
pub fn amount(resource: &str, quantity: &Quantity) -> Option<u64> {
    match resource {
        "cpu" => quantity.to_millis(),
        _ => quantity.to_bytes(),
    }
}

/// The container's (requests, limits) for cpu and memory, as numbers, with
/// zero amounts left out and a missing request taken from the limit, as
/// the API server defaults it.
pub fn requests_and_limits(
    container: &Container,
) -> (BTreeMap<&'static str, u64>, BTreeMap<&'static str, u64>) {
    let mut requests = BTreeMap::new();
    let mut limits = BTreeMap::new();
    let Some(resources) = &container.resources else {
        return (requests, limits);
    };
    for name in QOS_RESOURCES {
        let limit = resources.limits.get(name).and_then(|q| amount(name, q));
        let request = resources
            .requests
            .get(name)
            .and_then(|q| amount(name, q))
            .or(limit);
        if let Some(limit) = limit.filter(|l| *l > 0) {
            limits.insert(name, limit);
        }
        if let Some(request) = request.filter(|r| *r > 0) {
            requests.insert(name, request);
        }
    }
    (requests, limits)
}

// ANCHOR: qos_class
/// The pod's QoS class, over its init and app containers: BestEffort when
/// none requests or limits cpu or memory; Guaranteed when every one limits
/// both and requests exactly its limits; Burstable otherwise.
pub fn qos_class(spec: &PodSpec) -> QosClass {
    // exercise 1: the pod's class: BestEffort, Guaranteed or Burstable, from every container's requests and limits
    // hint: `requests_and_limits(container)` gives each container's numbers (a missing request is already its limit). Look at all containers, init ones included.
    // hint: Nothing requested or limited anywhere: BestEffort. A container missing a cpu or memory limit, or requesting something other than its limit, rules out Guaranteed.
    // hint: Loop over `spec.init_containers.iter().chain(&spec.containers)`; keep `any = false` and `guaranteed = true`; for each, `any |= !requests.is_empty() || !limits.is_empty()`; `guaranteed &= QOS_RESOURCES.iter().all(|r| limits.contains_key(r)) && requests == limits`. Then `!any` → BestEffort, `guaranteed` → Guaranteed, else Burstable.
    let mut any = false;
    let mut guaranteed = true;
    for container in spec.init_containers.iter().chain(&spec.containers) {
        let (requests, limits) = requests_and_limits(container);
        any |= !requests.is_empty() || !limits.is_empty();
        guaranteed &= QOS_RESOURCES.iter().all(|r| limits.contains_key(r)) && requests == limits;
    }
    if !any {
        QosClass::BestEffort
    } else if guaranteed {
        QosClass::Guaranteed
    } else {
        QosClass::Burstable
    }
}
// ANCHOR_END: qos_class
