// Generated from solutions/08-kubelet/src/resources.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
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
    todo!(
        "exercise 2: the container's cgroup Limits from its resources: memory limit in bytes, cpu limit and cpu request in millicores"
    )
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
    todo!(
        "exercise 3: Ok when one more pod, its cpu and its memory all fit in what allocatable leaves after `used`; otherwise the Rejection for the first that does not (pods, cpu, memory)"
    )
}
// ANCHOR_END: admit
