// Generated from solutions/08-kubelet/src/node.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
//! The Node this agent registers and keeps current: what the machine has
//! (capacity), what pods may use (allocatable), where it is (addresses),
//! what it runs (nodeInfo), and how it is doing (conditions). Kubernetes:
//! `pkg/kubelet/nodestatus`.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::Path;

use objects::node::{
    DaemonEndpoint, NodeAddress, NodeCondition, NodeDaemonEndpoints, NodeSystemInfo,
};
use objects::{Node, Quantity, Resource, Time};

use crate::resources::Allocatable;

/// The version this agent reports, in the kubelet's form.
pub const KUBELET_VERSION: &str = "v1.32.0-k8s-mini";

/// What stands for the container runtime in `nodeInfo`.
pub const RUNTIME_VERSION: &str = concat!("k8s-mini://", env!("CARGO_PKG_VERSION"));

/// The kubelet's default `maxPods`.
pub const DEFAULT_MAX_PODS: u64 = 110;

/// The node's description, as registration needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeFacts {
    pub name: String,
    pub address: IpAddr,
    pub hostname: String,
    /// The pod addresses of this node (`spec.podCIDR`).
    pub pod_cidr: Option<String>,
    pub capacity: Allocatable,
    /// The port of the node's server for logs and exec.
    pub port: u16,
    pub info: NodeSystemInfo,
}

fn read_trimmed(path: &str) -> String {
    std::fs::read_to_string(path)
        .map(|text| text.trim().to_string())
        .unwrap_or_default()
}

/// Go's name of this architecture, as Kubernetes writes it.
pub fn go_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "powerpc64" => "ppc64le",
        other => other,
    }
}

/// One field of `/proc/meminfo`, in bytes.
pub fn meminfo(field: &str) -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text
        .lines()
        .find(|line| line.starts_with(&format!("{field}:")))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// The machine's own figures: online cpus and total memory.
pub fn machine_capacity() -> Allocatable {
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get() as u64);
    Allocatable {
        cpu_millis: cpus * 1000,
        memory_bytes: meminfo("MemTotal").unwrap_or(0),
        pods: DEFAULT_MAX_PODS,
    }
}

/// `nodeInfo`: all ten fields, from the running machine.
pub fn system_info() -> NodeSystemInfo {
    let uname = nix::sys::utsname::uname().ok();
    let kernel = uname
        .as_ref()
        .map(|u| u.release().to_string_lossy().into_owned())
        .unwrap_or_default();
    let os_release = std::fs::read_to_string("/etc/os-release").unwrap_or_default();
    let os_image = os_release
        .lines()
        .find_map(|line| line.strip_prefix("PRETTY_NAME="))
        .map(|name| name.trim_matches('"').to_string())
        .unwrap_or_else(|| "Linux".to_string());
    NodeSystemInfo {
        machine_id: read_trimmed("/etc/machine-id"),
        system_uuid: read_trimmed("/sys/class/dmi/id/product_uuid"),
        boot_id: read_trimmed("/proc/sys/kernel/random/boot_id"),
        kernel_version: kernel,
        os_image,
        container_runtime_version: RUNTIME_VERSION.to_string(),
        kubelet_version: KUBELET_VERSION.to_string(),
        kube_proxy_version: String::new(),
        operating_system: "linux".to_string(),
        architecture: go_arch().to_string(),
    }
}

/// Cpu as Kubernetes writes it: whole cores as a number, else millicores.
fn cpu_text(millis: u64) -> String {
    if millis.is_multiple_of(1000) {
        (millis / 1000).to_string()
    } else {
        format!("{millis}m")
    }
}

fn quantities(resources: Allocatable) -> BTreeMap<String, Quantity> {
    BTreeMap::from([
        ("cpu".to_string(), Quantity(cpu_text(resources.cpu_millis))),
        (
            "memory".to_string(),
            Quantity(format!("{}Ki", resources.memory_bytes / 1024)),
        ),
        ("pods".to_string(), Quantity(resources.pods.to_string())),
    ])
}

/// The Node to register: name, labels, pod CIDR, capacity (allocatable is
/// the same: this agent reserves nothing for the system), addresses,
/// endpoint and info. Conditions come from [`conditions`].
pub fn build_node(facts: &NodeFacts) -> Node {
    let mut node = Node::new(&facts.name, None);
    node.metadata.labels = BTreeMap::from([
        ("kubernetes.io/arch".to_string(), go_arch().to_string()),
        ("kubernetes.io/hostname".to_string(), facts.hostname.clone()),
        ("kubernetes.io/os".to_string(), "linux".to_string()),
    ]);
    if let Some(cidr) = &facts.pod_cidr {
        node.spec.pod_cidr = Some(cidr.clone());
        node.spec.pod_cidrs = vec![cidr.clone()];
    }
    let status = &mut node.status;
    status.capacity = quantities(facts.capacity);
    status.allocatable = quantities(facts.capacity);
    status.addresses = vec![
        NodeAddress {
            address_type: "InternalIP".into(),
            address: facts.address.to_string(),
        },
        NodeAddress {
            address_type: "Hostname".into(),
            address: facts.hostname.clone(),
        },
    ];
    status.daemon_endpoints = Some(NodeDaemonEndpoints {
        kubelet_endpoint: DaemonEndpoint {
            port: i32::from(facts.port),
        },
    });
    status.node_info = Some(facts.info.clone());
    node
}

/// What the agent observes of the machine's health.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pressure {
    pub memory: bool,
    pub disk: bool,
    pub pid: bool,
}

/// The kubelet's default hard eviction thresholds: memory.available below
/// 100Mi, nodefs.available below 10%, and (ours) processes above 90% of
/// `pid_max`.
pub fn observe_pressure(data_dir: &Path) -> Pressure {
    let memory = meminfo("MemAvailable").is_some_and(|bytes| bytes < 100 << 20);
    let disk = nix::sys::statvfs::statvfs(data_dir).is_ok_and(|stat| {
        let total = stat.blocks() as u128;
        total > 0 && (stat.blocks_available() as u128) * 10 < total
    });
    let pid_max: u64 = read_trimmed("/proc/sys/kernel/pid_max")
        .parse()
        .unwrap_or(0);
    let processes = std::fs::read_dir("/proc").map_or(0, |entries| {
        entries
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().parse::<u32>().is_ok())
            .count() as u64
    });
    Pressure {
        memory,
        disk,
        pid: pid_max > 0 && processes * 10 > pid_max * 9,
    }
}

/// The four conditions with Kubernetes' reasons and messages, in its
/// order. A condition whose status is unchanged keeps its
/// `lastTransitionTime` from `old`; every one gets `now` as heartbeat.
pub fn conditions(old: &[NodeCondition], pressure: Pressure, now: Time) -> Vec<NodeCondition> {
    let table = [
        (
            "MemoryPressure",
            pressure.memory,
            (
                "KubeletHasInsufficientMemory",
                "kubelet has insufficient memory available",
            ),
            (
                "KubeletHasSufficientMemory",
                "kubelet has sufficient memory available",
            ),
        ),
        (
            "DiskPressure",
            pressure.disk,
            ("KubeletHasDiskPressure", "kubelet has disk pressure"),
            ("KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
        ),
        (
            "PIDPressure",
            pressure.pid,
            (
                "KubeletHasInsufficientPID",
                "kubelet has insufficient PID available",
            ),
            (
                "KubeletHasSufficientPID",
                "kubelet has sufficient PID available",
            ),
        ),
        (
            "Ready",
            true,
            ("KubeletReady", "kubelet is posting ready status"),
            ("KubeletNotReady", "kubelet is not ready"),
        ),
    ];
    table
        .into_iter()
        .map(|(kind, value, when_true, when_false)| {
            let status = if value { "True" } else { "False" };
            let (reason, message) = if value { when_true } else { when_false };
            let transition = old
                .iter()
                .find(|c| c.condition_type == kind && c.status == status)
                .and_then(|c| c.last_transition_time)
                .unwrap_or(now);
            NodeCondition {
                condition_type: kind.to_string(),
                status: status.to_string(),
                last_heartbeat_time: Some(now),
                last_transition_time: Some(transition),
                reason: Some(reason.to_string()),
                message: Some(message.to_string()),
            }
        })
        .collect()
}

/// Whether two node statuses differ in more than their heartbeat times:
/// a change is written at once, a heartbeat only when due.
pub fn status_changed(old: &Node, new: &Node) -> bool {
    let strip = |node: &Node| {
        let mut status = node.status.clone();
        for condition in &mut status.conditions {
            condition.last_heartbeat_time = None;
        }
        (status, node.spec.clone(), node.metadata.labels.clone())
    };
    strip(old) != strip(new)
}
