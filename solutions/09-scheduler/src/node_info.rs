//! The scheduler's picture of the cluster: every node with what the pods
//! placed on it already take (kube-scheduler's `NodeInfo` and its cache).
//!
//! It is kept up to date incrementally, from the informers' changes and
//! from the scheduler's own decisions: a pod counts against its node from
//! the moment the scheduler *assumes* it there, before the binding is
//! written and long before the watch shows it, or the next pod would be
//! placed on resources already promised. A scheduling cycle reads it
//! without anything changing underneath: the driver applies changes only
//! between cycles, so the [`Snapshot`] a cycle sees is the state at its
//! start.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use objects::node::Taint;
use objects::{Node, Pod};

use crate::resources::{Resources, non_zero_requests, pod_requests};
use crate::taints;

/// What the scheduler needs to know about a pod, computed once.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PodInfo {
    pub requests: Resources,
    pub non_zero_requests: Resources,
    /// `(protocol, hostIP, hostPort)` of each port with a host port.
    pub host_ports: Vec<HostPort>,
    /// Which pods count as siblings for spreading (see [`spread_group`]).
    pub group: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HostPort {
    pub protocol: String,
    pub ip: String,
    pub port: i32,
}

impl HostPort {
    /// Two host ports clash when protocol and port are the same and
    /// either address is the wildcard or both are the same address.
    pub fn conflicts(&self, other: &HostPort) -> bool {
        let wildcard = |ip: &str| ip.is_empty() || ip == "0.0.0.0" || ip == "::";
        self.protocol == other.protocol
            && self.port == other.port
            && (wildcard(&self.ip) || wildcard(&other.ip) || self.ip == other.ip)
    }
}

impl PodInfo {
    pub fn of(pod: &Pod) -> PodInfo {
        let host_ports = pod
            .spec
            .containers
            .iter()
            .flat_map(|c| &c.ports)
            .filter_map(|p| {
                let port = p.host_port.filter(|port| *port > 0)?;
                Some(HostPort {
                    protocol: p.protocol.clone().unwrap_or_else(|| "TCP".into()),
                    ip: p.host_ip.clone().unwrap_or_default(),
                    port,
                })
            })
            .collect();
        PodInfo {
            requests: pod_requests(&pod.spec),
            non_zero_requests: non_zero_requests(&pod.spec),
            host_ports,
            group: spread_group(pod),
        }
    }
}

/// The pods spread together: those of the same controller (the
/// ownerReference with `controller: true`, by uid), or, for a pod without
/// one, those in its namespace with exactly its labels (what SelectorSpread
/// found through the Services and ReplicaSets selecting them). A pod with
/// neither is spread with nothing.
pub fn spread_group(pod: &Pod) -> Option<String> {
    let meta = &pod.metadata;
    if let Some(owner) = meta
        .owner_references
        .iter()
        .find(|o| o.controller == Some(true))
    {
        return Some(format!("owner:{}", owner.uid));
    }
    if meta.labels.is_empty() {
        return None;
    }
    let labels: Vec<String> = meta
        .labels
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    Some(format!("labels:{}:{}", meta.namespace(), labels.join(",")))
}

/// One node and what is placed on it.
#[derive(Debug, Clone)]
pub struct NodeInfo {
    pub node: Arc<Node>,
    /// Read from the node once per change, not once per pod and filter:
    /// parsing quantities for every node in every cycle was most of a
    /// cycle's time.
    allocatable: Resources,
    allowed_pods: u64,
    /// The node's taints with those its conditions imply
    /// ([`taints::effective_taints`]).
    pub taints: Vec<Taint>,
    /// Sum of the requests of the pods on the node (the filters' view).
    pub requested: Resources,
    /// The same with default requests for pods that ask for nothing (the
    /// scores' view).
    pub non_zero_requested: Resources,
    pub pod_count: u64,
    pub host_ports: Vec<HostPort>,
    /// Pods on this node per spread group.
    pub groups: HashMap<String, u32>,
}

impl NodeInfo {
    pub fn new(node: Arc<Node>) -> NodeInfo {
        let mut info = NodeInfo {
            node,
            allocatable: Resources::default(),
            allowed_pods: 0,
            taints: Vec::new(),
            requested: Resources::default(),
            non_zero_requested: Resources::default(),
            pod_count: 0,
            host_ports: Vec::new(),
            groups: HashMap::new(),
        };
        info.refresh();
        info
    }

    /// Replaces the node object (a status or spec change), keeping the pods.
    pub fn set_node(&mut self, node: Arc<Node>) {
        self.node = node;
        self.refresh();
    }

    fn refresh(&mut self) {
        let allocatable = &self.node.status.allocatable;
        self.allocatable = Resources {
            milli_cpu: allocatable
                .get("cpu")
                .and_then(|q| q.to_millis())
                .unwrap_or(0),
            memory: allocatable
                .get("memory")
                .and_then(|q| q.to_bytes())
                .unwrap_or(0),
        };
        self.allowed_pods = allocatable
            .get("pods")
            .and_then(|q| q.0.trim().parse().ok())
            .unwrap_or(0);
        self.taints = taints::effective_taints(&self.node);
    }

    pub fn name(&self) -> &str {
        self.node.metadata.name()
    }

    /// cpu and memory the node offers pods (`status.allocatable`); a
    /// missing or malformed value is zero, as Kubernetes reads it.
    pub fn allocatable(&self) -> Resources {
        self.allocatable
    }

    /// How many pods the node takes (`allocatable.pods`; none when unset).
    pub fn allowed_pods(&self) -> u64 {
        self.allowed_pods
    }

    pub fn add(&mut self, pod: &PodInfo) {
        self.requested.add(pod.requests);
        self.non_zero_requested.add(pod.non_zero_requests);
        self.pod_count += 1;
        self.host_ports.extend(pod.host_ports.iter().cloned());
        if let Some(group) = &pod.group {
            *self.groups.entry(group.clone()).or_default() += 1;
        }
    }

    pub fn remove(&mut self, pod: &PodInfo) {
        self.requested.sub(pod.requests);
        self.non_zero_requested.sub(pod.non_zero_requests);
        self.pod_count = self.pod_count.saturating_sub(1);
        for port in &pod.host_ports {
            if let Some(at) = self.host_ports.iter().position(|p| p == port) {
                self.host_ports.swap_remove(at);
            }
        }
        if let Some(group) = &pod.group
            && let Some(count) = self.groups.get_mut(group)
        {
            *count -= 1;
            if *count == 0 {
                self.groups.remove(group);
            }
        }
    }
}

/// The pod keys of the cluster state: `namespace/name`.
pub type PodKey = String;

/// Every node, and where every placed pod is.
#[derive(Debug, Default)]
pub struct Snapshot {
    nodes: BTreeMap<String, NodeInfo>,
    /// Placed pods (bound or assumed): their node and what they take.
    /// A pod may name a node not (yet) known: it is kept here, and counted
    /// when that node appears.
    pods: HashMap<PodKey, (String, PodInfo)>,
}

impl Snapshot {
    pub fn new() -> Snapshot {
        Snapshot::default()
    }

    pub fn nodes(&self) -> impl Iterator<Item = &NodeInfo> {
        self.nodes.values()
    }

    pub fn node(&self, name: &str) -> Option<&NodeInfo> {
        self.nodes.get(name)
    }

    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// The node a pod is placed on, if any.
    pub fn placement(&self, key: &str) -> Option<&str> {
        self.pods.get(key).map(|(node, _)| node.as_str())
    }

    /// Adds or replaces a node, keeping the pods counted against it.
    pub fn set_node(&mut self, node: Arc<Node>) {
        let name = node.metadata.name().to_string();
        match self.nodes.get_mut(&name) {
            Some(info) => info.set_node(node),
            None => {
                let mut info = NodeInfo::new(node);
                for (on, pod) in self.pods.values() {
                    if *on == name {
                        info.add(pod);
                    }
                }
                self.nodes.insert(name, info);
            }
        }
    }

    pub fn remove_node(&mut self, name: &str) {
        self.nodes.remove(name);
    }

    /// Places (or moves) the pod `key` on `node`.
    pub fn place(&mut self, key: &str, node: &str, pod: PodInfo) {
        self.forget(key);
        if let Some(info) = self.nodes.get_mut(node) {
            info.add(&pod);
        }
        self.pods.insert(key.to_string(), (node.to_string(), pod));
    }

    /// Removes the pod `key` from wherever it is placed.
    pub fn forget(&mut self, key: &str) {
        if let Some((node, pod)) = self.pods.remove(key)
            && let Some(info) = self.nodes.get_mut(&node)
        {
            info.remove(&pod);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pod_placed_before_its_node_is_known_counts_once_the_node_appears() {
        let mut snapshot = Snapshot::new();
        let pod = PodInfo {
            requests: Resources {
                milli_cpu: 500,
                memory: 0,
            },
            ..Default::default()
        };
        snapshot.place("default/a", "n1", pod);
        let mut node = Node::default();
        node.metadata.name = Some("n1".into());
        snapshot.set_node(Arc::new(node.clone()));
        assert_eq!(snapshot.node("n1").unwrap().requested.milli_cpu, 500);
        snapshot.set_node(Arc::new(node));
        assert_eq!(snapshot.node("n1").unwrap().pod_count, 1);
        snapshot.forget("default/a");
        assert_eq!(snapshot.node("n1").unwrap().requested.milli_cpu, 0);
    }
}
