// Generated from solutions/09-scheduler/src/resources.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
//! What a pod asks for: its requests of cpu and memory, as the scheduler
//! counts them (kube-scheduler's `computePodResourceRequest`).
//!
//! Containers run side by side, so their requests add up; init containers
//! run one at a time before them, so the pod needs the largest of them
//! only, and only if it is larger than the sum of the regular containers.

use objects::pod::{Container, PodSpec};

/// cpu in millicores, memory in bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Resources {
    pub milli_cpu: u64,
    pub memory: u64,
}

/// What scoring assumes a container without a cpu request uses
/// (kube-scheduler's `DefaultMilliCPURequest`): otherwise a thousand
/// BestEffort pods would all "fit" on the same empty-looking node.
pub const DEFAULT_MILLI_CPU: u64 = 100;
/// Likewise for memory (`DefaultMemoryRequest`, 200 MiB).
pub const DEFAULT_MEMORY: u64 = 200 * 1024 * 1024;

impl Resources {
    pub fn add(&mut self, other: Resources) {
        self.milli_cpu = self.milli_cpu.saturating_add(other.milli_cpu);
        self.memory = self.memory.saturating_add(other.memory);
    }

    pub fn sub(&mut self, other: Resources) {
        self.milli_cpu = self.milli_cpu.saturating_sub(other.milli_cpu);
        self.memory = self.memory.saturating_sub(other.memory);
    }

    fn max(self, other: Resources) -> Resources {
        Resources {
            milli_cpu: self.milli_cpu.max(other.milli_cpu),
            memory: self.memory.max(other.memory),
        }
    }

    pub fn is_zero(&self) -> bool {
        self.milli_cpu == 0 && self.memory == 0
    }
}

/// A container's requests. A resource with a limit and no request counts
/// its limit, as the API server's defaulting would have set it.
/// Malformed quantities count as zero (validation refuses them upstream).
pub fn container_requests(container: &Container) -> Resources {
    let Some(resources) = &container.resources else {
        return Resources::default();
    };
    let pick = |name: &str| {
        resources
            .requests
            .get(name)
            .or_else(|| resources.limits.get(name))
    };
    Resources {
        milli_cpu: pick("cpu").and_then(|q| q.to_millis()).unwrap_or(0),
        memory: pick("memory").and_then(|q| q.to_bytes()).unwrap_or(0),
    }
}

/// The pod's requests: the sum over its containers, or the largest init
/// container's if that is larger, resource by resource.
pub fn pod_requests(spec: &PodSpec) -> Resources {
    pod_requests_with(spec, container_requests)
}

/// [`pod_requests`] with each container's zero requests replaced by the
/// defaults above: what the scores count, never the filters.
pub fn non_zero_requests(spec: &PodSpec) -> Resources {
    pod_requests_with(spec, |container| {
        let requests = container_requests(container);
        Resources {
            milli_cpu: if requests.milli_cpu == 0 {
                DEFAULT_MILLI_CPU
            } else {
                requests.milli_cpu
            },
            memory: if requests.memory == 0 {
                DEFAULT_MEMORY
            } else {
                requests.memory
            },
        }
    })
}

fn pod_requests_with(spec: &PodSpec, each: impl Fn(&Container) -> Resources) -> Resources {
    let mut sum = Resources::default();
    for container in &spec.containers {
        sum.add(each(container));
    }
    spec.init_containers
        .iter()
        .map(&each)
        .fold(sum, Resources::max)
}
