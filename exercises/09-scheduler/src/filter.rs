// Generated from solutions/09-scheduler/src/filter.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
//! Filters: can this node run this pod, and if not, why not.
//!
//! They run in kube-scheduler's default order, and a node's first failing
//! filter gives its reasons (as the framework's `RunFilterPlugins` stops
//! there): NodeUnschedulable, TaintToleration, NodeAffinity, NodePorts,
//! NodeResourcesFit. The reasons' texts are Kubernetes' own, because users
//! search for them.

use std::fmt;

use objects::Pod;

use crate::affinity::{self, NodeSelector};
use crate::node_info::{NodeInfo, PodInfo};
use crate::taints;

/// Why a node cannot run a pod; `Display` is Kubernetes' reason text.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Unfit {
    /// Cordoned (`spec.unschedulable`), and the pod does not tolerate it.
    Unschedulable,
    UntoleratedTaint {
        key: String,
        value: String,
    },
    NodeAffinity,
    HostPorts,
    /// Not enough of `cpu` or `memory` left.
    Insufficient(&'static str),
    TooManyPods,
}

impl fmt::Display for Unfit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unfit::Unschedulable => f.write_str("node(s) were unschedulable"),
            Unfit::UntoleratedTaint { key, value } => {
                write!(f, "node(s) had untolerated taint {{{key}: {value}}}")
            }
            Unfit::NodeAffinity => f.write_str("node(s) didn't match Pod's node affinity/selector"),
            Unfit::HostPorts => {
                f.write_str("node(s) didn't have free ports for the requested pod ports")
            }
            Unfit::Insufficient(resource) => write!(f, "Insufficient {resource}"),
            Unfit::TooManyPods => f.write_str("Too many pods"),
        }
    }
}

/// A pod being scheduled, with what the filters and scores need computed
/// once per cycle rather than once per node.
#[derive(Debug)]
pub struct Candidate<'a> {
    pub pod: &'a Pod,
    pub info: PodInfo,
    /// The required node affinity; `Err` if the pod's affinity is not
    /// readable, which no node matches.
    pub required: Result<Option<NodeSelector>, String>,
}

impl<'a> Candidate<'a> {
    pub fn new(pod: &'a Pod) -> Candidate<'a> {
        Candidate {
            pod,
            info: PodInfo::of(pod),
            required: affinity::required_affinity(pod),
        }
    }
}

// ANCHOR: insufficient
/// NodeResourcesFit: what the node lacks for the pod, in Kubernetes' order
/// (pod slots, cpu, memory); empty when it fits. The node has its
/// allocatable minus the requests of the pods already placed on it.
pub fn insufficient(request: &PodInfo, node: &NodeInfo) -> Vec<Unfit> {
    todo!(
        "exercise 4: list what the node lacks to run a pod with these requests: too many pods, cpu, memory"
    )
}
// ANCHOR_END: insufficient

// ANCHOR: filter
/// Every filter in order; the first that fails gives the node's reasons.
pub fn filter(candidate: &Candidate, node: &NodeInfo) -> Result<(), Vec<Unfit>> {
    let spec = &candidate.pod.spec;
    if taints::refused_as_unschedulable(&node.node, &spec.tolerations) {
        return Err(vec![Unfit::Unschedulable]);
    }
    if let Some(taint) = taints::first_untolerated(&node.taints, &spec.tolerations) {
        return Err(vec![Unfit::UntoleratedTaint {
            key: taint.key.clone(),
            value: taint.value.clone().unwrap_or_default(),
        }]);
    }
    let matches = match &candidate.required {
        Ok(required) => affinity::matches_node(
            &spec.node_selector,
            required.as_ref(),
            &node.node.metadata.labels,
            node.name(),
        ),
        Err(_) => false,
    };
    if !matches {
        return Err(vec![Unfit::NodeAffinity]);
    }
    if candidate
        .info
        .host_ports
        .iter()
        .any(|wanted| node.host_ports.iter().any(|used| wanted.conflicts(used)))
    {
        return Err(vec![Unfit::HostPorts]);
    }
    let lacking = insufficient(&candidate.info, node);
    if lacking.is_empty() {
        Ok(())
    } else {
        Err(lacking)
    }
}
// ANCHOR_END: filter
