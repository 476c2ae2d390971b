// Generated from solutions/08-kubelet/src/service_env.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
//! The Service environment variables of a container ("service links"):
//! for every Service of the pod's namespace that exists when the container
//! starts, its address and ports as `WEB_SERVICE_HOST`, `WEB_SERVICE_PORT`
//! and the Docker-link forms (`WEB_PORT_80_TCP_ADDR`...). The first way
//! Kubernetes offered to find a Service, before the cluster DNS; it still
//! does it, unless the pod says `enableServiceLinks: false`. Kubernetes:
//! `pkg/kubelet/envvars` and the kubelet's `getServiceEnvVarMap`.

use std::collections::BTreeMap;
use std::sync::Arc;

use objects::Service;

/// The Services whose variables a pod in `namespace` gets: those of its
/// namespace when `enable_service_links`, and always the API server's
/// `default/kubernetes` (unless the namespace has its own `kubernetes`).
/// Only Services with a ClusterIP count; by name, for a stable order.
pub fn linked_services(
    namespace: &str,
    enable_service_links: bool,
    services: &[Arc<Service>],
) -> Vec<Arc<Service>> {
    let mut by_name: BTreeMap<&str, &Arc<Service>> = BTreeMap::new();
    for service in services.iter().filter(|s| has_cluster_ip(s)) {
        let name = service.metadata.name();
        let in_namespace = service.metadata.namespace() == namespace;
        if in_namespace && enable_service_links {
            by_name.insert(name, service);
        } else if service.metadata.namespace() == "default" && name == "kubernetes" {
            by_name.entry(name).or_insert(service);
        }
    }
    by_name.into_values().cloned().collect()
}

fn has_cluster_ip(service: &Service) -> bool {
    !matches!(
        service.spec.cluster_ip.as_deref(),
        None | Some("") | Some("None")
    )
}

/// `my-web` → `MY_WEB`: a Service name as a variable name.
fn variable_name(name: &str) -> String {
    name.replace('-', "_").to_ascii_uppercase()
}

/// The variables for `services`, in Kubernetes' order: for each Service
/// `{SVC}_SERVICE_HOST`, `{SVC}_SERVICE_PORT` (the first port),
/// `{SVC}_SERVICE_PORT_{NAME}` for each named port, then the Docker-link
/// forms `{SVC}_PORT` (the first port) and, for each port,
/// `{SVC}_PORT_{PORT}_{PROTO}` with its `_PROTO`, `_PORT` and `_ADDR`.
/// Services without a ClusterIP or without ports are skipped.
pub fn service_env(services: &[Arc<Service>]) -> Vec<(String, String)> {
    let mut env = Vec::new();
    for service in services {
        let Some(ip) = service
            .spec
            .cluster_ip
            .as_deref()
            .filter(|_| has_cluster_ip(service))
        else {
            continue;
        };
        let Some(first) = service.spec.ports.first() else {
            continue;
        };
        let prefix = variable_name(service.metadata.name());
        env.push((format!("{prefix}_SERVICE_HOST"), ip.to_string()));
        env.push((format!("{prefix}_SERVICE_PORT"), first.port.to_string()));
        for port in &service.spec.ports {
            if let Some(name) = port.name.as_deref().filter(|n| !n.is_empty()) {
                let key = format!("{prefix}_SERVICE_PORT_{}", variable_name(name));
                env.push((key, port.port.to_string()));
            }
        }
        // An IPv6 ClusterIP goes in brackets, as net.JoinHostPort writes it.
        let host_port = |port: i32| match ip.contains(':') {
            true => format!("[{ip}]:{port}"),
            false => format!("{ip}:{port}"),
        };
        for (i, port) in service.spec.ports.iter().enumerate() {
            let protocol = port.protocol.as_deref().unwrap_or("TCP");
            let url = format!(
                "{}://{}",
                protocol.to_ascii_lowercase(),
                host_port(port.port)
            );
            if i == 0 {
                env.push((format!("{prefix}_PORT"), url.clone()));
            }
            let link = format!(
                "{prefix}_PORT_{}_{}",
                port.port,
                protocol.to_ascii_uppercase()
            );
            env.push((link.clone(), url));
            env.push((format!("{link}_PROTO"), protocol.to_ascii_lowercase()));
            env.push((format!("{link}_PORT"), port.port.to_string()));
            env.push((format!("{link}_ADDR"), ip.to_string()));
        }
    }
    env
}
