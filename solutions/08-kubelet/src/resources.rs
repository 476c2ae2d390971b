//! Requests and limits: what a container's cgroup enforces (chapter 04's
//! [`Limits`]), and whether a pod fits on this node at all. The kubelet
//! admits a pod only if its requests fit in what the node's allocatable
//! leaves after the pods already admitted (Kubernetes: the
//! `NodeResourcesFit` admission check, failing with `OutOfcpu`,
//! `OutOfmemory` or `OutOfpods`).

use cgroups::Limits;
use objects::pod::{Container, PodSpec};

use crate::qos::{amount, requests_and_limits};

// ANCHOR: container_limits
/// The cgroup limits of one container: its memory limit in bytes, its cpu
/// limit (a CFS quota) and cpu request (a weight) in millicores, the
/// request falling back to the limit.
pub fn container_limits(container: &Container) -> Limits {
    // exercise 2: the container's cgroup Limits from its resources: memory limit in bytes, cpu limit and cpu request in millicores
    // hint: `container.resources` may be `None`: then nothing is limited. `qos::amount("cpu", q)` and `amount("memory", q)` convert a Quantity.
    // hint: Read `resources.limits["memory"]`, `resources.limits["cpu"]` and `resources.requests["cpu"]`; a missing cpu request takes the cpu limit, as the API server defaults it.
    // hint: `let Some(r) = &container.resources else { return Limits::default() };` then `let get = |map: &BTreeMap<String, Quantity>, name| map.get(name).and_then(|q| amount(name, q));` and fill `memory_bytes`, `cpu_limit_millis`, `cpu_request_millis: get(&r.requests, "cpu").or(cpu_limit)` (as i64), `..Limits::default()`.
    let Some(resources) = &container.resources else {
        return Limits::default();
    };
    let get = |map: &std::collections::BTreeMap<String, objects::Quantity>, name: &str| {
        map.get(name).and_then(|q| amount(name, q))
    };
    let cpu_limit = get(&resources.limits, "cpu").map(|m| m as i64);
    Limits {
        memory_bytes: get(&resources.limits, "memory"),
        cpu_limit_millis: cpu_limit,
        cpu_request_millis: get(&resources.requests, "cpu")
            .map(|m| m as i64)
            .or(cpu_limit),
        ..Limits::default()
    }
}
// ANCHOR_END: container_limits

/// What a pod requests of its node: cpu in millicores, memory in bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Requests {
    pub cpu_millis: u64,
    pub memory_bytes: u64,
}

/// What the node offers pods (its allocatable): cpu, memory, and how many
/// pods.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Allocatable {
    pub cpu_millis: u64,
    pub memory_bytes: u64,
    pub pods: u64,
}

/// A pod's requests as the scheduler and the kubelet count them: the sum
/// over its app containers, or the largest init container's if more (init
/// containers run one at a time, before the others).
pub fn pod_requests(spec: &PodSpec) -> Requests {
    let of = |container: &Container| {
        let (requests, _) = requests_and_limits(container);
        Requests {
            cpu_millis: requests.get("cpu").copied().unwrap_or(0),
            memory_bytes: requests.get("memory").copied().unwrap_or(0),
        }
    };
    let mut total = Requests::default();
    for container in &spec.containers {
        let one = of(container);
        total.cpu_millis += one.cpu_millis;
        total.memory_bytes += one.memory_bytes;
    }
    for container in &spec.init_containers {
        let one = of(container);
        total.cpu_millis = total.cpu_millis.max(one.cpu_millis);
        total.memory_bytes = total.memory_bytes.max(one.memory_bytes);
    }
    total
}

/// Why the kubelet refused a pod: the pod's `status.reason` and
/// `status.message` (it is Failed at once).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// `OutOfcpu`, `OutOfmemory` or `OutOfpods`, as Kubernetes spells them.
    pub reason: String,
    pub message: String,
}

impl Rejection {
    fn new(resource: &str, requested: u64, used: u64, capacity: u64) -> Rejection {
        Rejection {
            reason: format!("OutOf{resource}"),
            message: format!(
                "Pod was rejected: Node didn't have enough resource: {resource}, requested: {requested}, used: {used}, capacity: {capacity}"
            ),
        }
    }
}

// ANCHOR: admit
/// Whether a pod requesting `wanted` fits beside the pods already admitted
/// (`used`, and `running` of them) within `allocatable`; checked in
/// Kubernetes' order: pods, then cpu, then memory.
pub fn admit(
    wanted: Requests,
    used: Requests,
    running: u64,
    allocatable: Allocatable,
) -> Result<(), Rejection> {
    // exercise 3: Ok when one more pod, its cpu and its memory all fit in what allocatable leaves after `used`; otherwise the Rejection for the first that does not (pods, cpu, memory)
    // hint: Three checks, each "used + wanted > allocatable?". A pod counts as 1 against `allocatable.pods`.
    // hint: `Rejection::new(resource, requested, used, capacity)` words the message; the resources are named "pods", "cpu" and "memory" (the reason becomes OutOfpods, OutOfcpu, OutOfmemory).
    // hint: `if running + 1 > allocatable.pods { return Err(Rejection::new("pods", 1, running, allocatable.pods)) }`, then the same with `wanted.cpu_millis`, `used.cpu_millis`, `allocatable.cpu_millis`, then memory; finally `Ok(())`.
    if running + 1 > allocatable.pods {
        return Err(Rejection::new("pods", 1, running, allocatable.pods));
    }
    if used.cpu_millis + wanted.cpu_millis > allocatable.cpu_millis {
        return Err(Rejection::new(
            "cpu",
            wanted.cpu_millis,
            used.cpu_millis,
            allocatable.cpu_millis,
        ));
    }
    if used.memory_bytes + wanted.memory_bytes > allocatable.memory_bytes {
        return Err(Rejection::new(
            "memory",
            wanted.memory_bytes,
            used.memory_bytes,
            allocatable.memory_bytes,
        ));
    }
    Ok(())
}
// ANCHOR_END: admit
