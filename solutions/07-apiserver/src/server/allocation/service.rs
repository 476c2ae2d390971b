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

#[cfg(test)]
mod tests {
    use super::*;
    use objects::Resource;
    use objects::service::ServicePort;

    fn service(service_type: &str, ip: Option<&str>, node_ports: &[(&str, i32)]) -> Service {
        let mut service = Service::new("web", Some("default"));
        service.spec.service_type = Some(service_type.into());
        service.spec.cluster_ip = ip.map(str::to_string);
        service.spec.cluster_ips = ip.map(str::to_string).into_iter().collect();
        for (i, (name, node_port)) in node_ports.iter().enumerate() {
            service.spec.ports.push(ServicePort {
                name: Some(name.to_string()),
                port: 80 + i as i32,
                node_port: Some(*node_port).filter(|p| *p != 0),
                ..ServicePort::default()
            });
        }
        service
    }

    #[test]
    fn an_update_without_the_allocated_values_keeps_them() {
        let old = service(
            "NodePort",
            Some("10.96.1.5"),
            &[("http", 30080), ("https", 30443)],
        );
        let mut new = service("NodePort", None, &[("http", 0), ("https", 0)]);
        patch_allocated_values(&mut new, &old);
        assert_eq!(new.spec.cluster_ip.as_deref(), Some("10.96.1.5"));
        assert_eq!(new.spec.cluster_ips, ["10.96.1.5"]);
        assert_eq!(node_ports(&new.spec), BTreeSet::from([30080, 30443]));
        // A number the new version gives another port is not reused.
        let mut new = service("NodePort", None, &[("http", 0), ("https", 30080)]);
        patch_allocated_values(&mut new, &old);
        assert_eq!(new.spec.ports[0].node_port, None);
    }

    #[test]
    fn a_type_change_drops_what_the_new_type_has_no_use_for() {
        let old = service("NodePort", Some("10.96.1.5"), &[("http", 30080)]);
        let mut new = old.clone();
        new.spec.service_type = Some("ClusterIP".into());
        drop_type_dependent_fields(&mut new, &old);
        assert_eq!(new.spec.ports[0].node_port, None);
        assert_eq!(new.spec.cluster_ip.as_deref(), Some("10.96.1.5"));
        new.spec.service_type = Some("ExternalName".into());
        drop_type_dependent_fields(&mut new, &old);
        assert_eq!((new.spec.cluster_ip, new.spec.cluster_ips.len()), (None, 0));
    }

    #[test]
    fn needs_follow_the_type() {
        let mut spec = service("LoadBalancer", None, &[("http", 30080)]).spec;
        assert!(needs_node_ports(&spec) && wants_allocated_ip(&spec));
        spec.allocate_load_balancer_node_ports = Some(false);
        assert!(node_ports(&spec).is_empty());
        spec.cluster_ip = Some(NONE.into());
        assert!(!wants_allocated_ip(&spec) && requested_ip(&spec).is_none());
        spec.service_type = Some("ExternalName".into());
        spec.cluster_ip = None;
        assert!(!needs_cluster_ip(&spec) && !wants_allocated_ip(&spec));
    }
}
