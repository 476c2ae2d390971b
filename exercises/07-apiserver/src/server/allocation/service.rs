// Generated from solutions/07-apiserver/src/server/allocation/service.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
//! What a Service needs from the ranges, by type, and how an update keeps
//! what the stored version was given: Kubernetes' `svcStrategy`
//! (`patchAllocatedValues`, `NormalizeClusterIPs`,
//! `dropTypeDependentFields`), which run before validation.

use std::collections::BTreeSet;

use objects::service::{Service, ServiceSpec};

/// The ClusterIP of a headless Service.
pub const NONE: &str = "None";

fn service_type(spec: &ServiceSpec) -> &str {
    spec.service_type.as_deref().unwrap_or("ClusterIP")
}

/// Every type but ExternalName (a DNS alias) has a ClusterIP, or is headless.
pub fn needs_cluster_ip(spec: &ServiceSpec) -> bool {
    service_type(spec) != "ExternalName"
}

/// NodePort Services, and LoadBalancers unless they opt out
/// (`allocateLoadBalancerNodePorts: false`), open a port on every node.
pub fn needs_node_ports(spec: &ServiceSpec) -> bool {
    match service_type(spec) {
        "NodePort" => true,
        "LoadBalancer" => spec.allocate_load_balancer_node_ports != Some(false),
        _ => false,
    }
}

/// The ClusterIP a Service asks for: `None` when it wants one allocated
/// (or is headless, or needs none).
pub fn requested_ip(spec: &ServiceSpec) -> Option<&str> {
    spec.cluster_ip
        .as_deref()
        .filter(|ip| !ip.is_empty() && *ip != NONE && needs_cluster_ip(spec))
}

/// Whether the ClusterIP is left for the server to choose.
pub fn wants_allocated_ip(spec: &ServiceSpec) -> bool {
    needs_cluster_ip(spec) && spec.cluster_ip.as_deref().is_none_or(str::is_empty)
}

/// The node ports a Service holds, each number once (two ports of one
/// Service may share a number when their protocols differ).
pub fn node_ports(spec: &ServiceSpec) -> BTreeSet<i32> {
    if !needs_node_ports(spec) {
        return BTreeSet::new();
    }
    spec.ports
        .iter()
        .filter_map(|port| port.node_port.filter(|p| *p != 0))
        .collect()
}

/// An update that leaves out what the server allocated keeps it: a client
/// that read the Service before it had its ClusterIP, or that sends its
/// manifest again, must not lose the address (or the node port of a port
/// of the same name).
pub fn patch_allocated_values(new: &mut Service, old: &Service) {
    if needs_cluster_ip(&old.spec) && needs_cluster_ip(&new.spec) {
        if new.spec.cluster_ip.as_deref().is_none_or(str::is_empty) {
            new.spec.cluster_ip.clone_from(&old.spec.cluster_ip);
        }
        if new.spec.cluster_ips.is_empty() {
            new.spec.cluster_ips.clone_from(&old.spec.cluster_ips);
        }
    }
    if needs_node_ports(&old.spec) && needs_node_ports(&new.spec) {
        // A number the new version already gives some port is not handed
        // to a second one.
        let used: BTreeSet<i32> = node_ports(&old.spec)
            .intersection(&node_ports(&new.spec))
            .copied()
            .collect();
        for port in &mut new.spec.ports {
            if port.node_port.unwrap_or(0) != 0 {
                continue;
            }
            let before = old
                .spec
                .ports
                .iter()
                .find(|p| p.name == port.name)
                .and_then(|p| p.node_port)
                .filter(|p| *p != 0 && !used.contains(p));
            if before.is_some() {
                port.node_port = before;
            }
        }
    }
}

/// What a type change leaves behind goes, when the client did not change
/// it: ClusterIP → ExternalName drops the address, NodePort → ClusterIP
/// drops the node ports (else validation would refuse the update).
pub fn drop_type_dependent_fields(new: &mut Service, old: &Service) {
    if needs_cluster_ip(&old.spec)
        && !needs_cluster_ip(&new.spec)
        && new.spec.cluster_ip == old.spec.cluster_ip
    {
        new.spec.cluster_ip = None;
        new.spec.cluster_ips.clear();
    }
    if needs_node_ports(&old.spec) && !needs_node_ports(&new.spec) {
        let same = new.spec.ports.iter().all(|port| {
            port.node_port.unwrap_or(0) == 0
                || old.spec.ports.iter().any(|p| p.node_port == port.node_port)
        });
        if same {
            for port in &mut new.spec.ports {
                port.node_port = None;
            }
        }
    }
}
