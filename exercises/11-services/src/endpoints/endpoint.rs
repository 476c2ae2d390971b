// Generated from solutions/11-services/src/endpoints/endpoint.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
//! One pod as an endpoint of one Service: whether it is one at all, its
//! conditions, the ports it serves, and the entry it makes in an
//! EndpointSlice. Pure. Kubernetes: `podToEndpoint`, `getEndpointPorts`
//! and `ShouldPodBeInEndpoints` in `k8s.io/endpointslice/utils.go`, and
//! `FindPort` in `pkg/api/v1/pod/util.go`.

use std::net::Ipv4Addr;

use objects::discovery::{Endpoint, EndpointConditions, EndpointSlicePort};
use objects::service::ServicePort;
use objects::{IntOrString, ObjectReference, Pod, Service};

/// The protocol of a port that names none (the API's default).
pub const DEFAULT_PROTOCOL: &str = "TCP";

/// The pod's IPv4 address: `status.podIP`, or the first IPv4 address of
/// `status.podIPs`. `None` until the node agent has given it one.
pub fn pod_ipv4(pod: &Pod) -> Option<Ipv4Addr> {
    let status = &pod.status;
    status
        .pod_ip
        .iter()
        .chain(status.pod_ips.iter().map(|ip| &ip.ip))
        .find_map(|ip| ip.parse::<Ipv4Addr>().ok())
}

/// Whether the pod has finished (`Succeeded` or `Failed`): its address
/// may already belong to another pod.
pub fn is_terminal(pod: &Pod) -> bool {
    matches!(pod.status.phase.as_deref(), Some("Succeeded" | "Failed"))
}

/// Whether the pod's `Ready` condition is `True` (every container passes
/// its readiness probe, as the node agent reports).
pub fn is_ready(pod: &Pod) -> bool {
    pod.status
        .conditions
        .iter()
        .any(|condition| condition.condition_type == "Ready" && condition.status == "True")
}

/// Whether the pod is an endpoint at all: it has an address and has not
/// finished. A terminating pod still is one in an EndpointSlice (marked
/// terminating, so that a proxy drains it); the legacy Endpoints leave it
/// out unless `include_terminating` (the Service publishes not-ready
/// addresses).
pub fn is_endpoint(pod: &Pod, include_terminating: bool) -> bool {
    pod_ipv4(pod).is_some()
        && !is_terminal(pod)
        && (include_terminating || pod.metadata.deletion_timestamp.is_none())
}

// ANCHOR: conditions
/// The endpoint's conditions (Kubernetes' rules): serving when the pod is
/// Ready, terminating when it is being deleted, ready when serving and
/// not terminating, or always when the Service publishes not-ready
/// addresses. All three are always written: a missing `ready` would read
/// as ready.
pub fn conditions(pod: &Pod, publish_not_ready: bool) -> EndpointConditions {
    todo!(
        "exercise 1: the endpoint conditions of `pod`: serving (Ready), terminating (being deleted), ready (serving and not terminating, or always when the Service publishes not-ready addresses), all three set"
    )
}
// ANCHOR_END: conditions

/// A port's protocol, `TCP` when it names none.
fn protocol(protocol: &Option<String>) -> &str {
    protocol.as_deref().unwrap_or(DEFAULT_PROTOCOL)
}

// ANCHOR: resolve_target_port
/// The port on `pod` that `port` (a Service port) sends to: a numeric
/// `targetPort` as it is (none or 0: the Service port itself, as the
/// API defaults it); a named one is the `containerPort` of the pod's
/// container port with that name and the Service port's protocol, `None`
/// when no container of the pod declares it.
pub fn resolve_target_port(pod: &Pod, port: &ServicePort) -> Option<i32> {
    todo!(
        "exercise 2: the port on `pod` that the Service port sends to: a number as given (none or 0: the Service port), a name looked up among the pod's container ports with the same protocol; None when no container declares it"
    )
}
// ANCHOR_END: resolve_target_port

/// The slice ports `pod` serves for `service`: one per Service port whose
/// target resolves on this pod, named like the Service port (`""` for an
/// unnamed one), in the Service's order. Pods that resolve differently
/// (one version names `http` 8080, the next 9090) serve different port
/// sets, and so go to different slices.
pub fn endpoint_ports(service: &Service, pod: &Pod) -> Vec<EndpointSlicePort> {
    service
        .spec
        .ports
        .iter()
        .filter_map(|port| {
            let number = resolve_target_port(pod, port)?;
            Some(EndpointSlicePort {
                name: Some(port.name.clone().unwrap_or_default()),
                port: Some(number),
                protocol: Some(protocol(&port.protocol).to_string()),
                app_protocol: port.app_protocol.clone(),
            })
        })
        .collect()
}

/// The hostname a pod gets in a Service's records: its `spec.hostname`,
/// when its `spec.subdomain` names this Service (a pod of a StatefulSet
/// under its headless Service is `web-0.web.default.svc.cluster.local`).
pub fn hostname(service: &Service, pod: &Pod) -> Option<String> {
    let hostname = pod.spec.hostname.as_deref().filter(|h| !h.is_empty())?;
    let same_namespace = pod.metadata.namespace() == service.metadata.namespace();
    (same_namespace && pod.spec.subdomain.as_deref() == Some(service.metadata.name()))
        .then(|| hostname.to_string())
}

/// A reference to the pod, as endpoints carry it (`kubectl describe`
/// and the proxy's logs name the pod behind an address).
pub fn pod_reference(pod: &Pod) -> ObjectReference {
    ObjectReference {
        kind: Some("Pod".to_string()),
        namespace: pod.metadata.namespace.clone(),
        name: pod.metadata.name.clone(),
        uid: pod.metadata.uid.clone(),
        ..ObjectReference::default()
    }
}

/// The slice entry for `pod` (one for which [`is_endpoint`] holds): its
/// address, conditions, node, hostname and reference.
pub fn pod_endpoint(service: &Service, pod: &Pod) -> Option<Endpoint> {
    let address = pod_ipv4(pod)?;
    Some(Endpoint {
        addresses: vec![address.to_string()],
        conditions: conditions(pod, service.spec.publish_not_ready_addresses),
        hostname: hostname(service, pod),
        target_ref: Some(pod_reference(pod)),
        node_name: pod.spec.node_name.clone().filter(|name| !name.is_empty()),
        ..Endpoint::default()
    })
}

/// A Service port whose named targetPort no selected pod declares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnresolvedPort {
    /// The Service port: its name, or its number when it has none.
    pub service_port: String,
    /// The container port name it targets.
    pub target_port: String,
    pub protocol: String,
}

impl std::fmt::Display for UnresolvedPort {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Failed to find port for service: no selected pod declares a {} container port named {:?} (the targetPort of service port {})",
            self.protocol, self.target_port, self.service_port
        )
    }
}

/// The Service ports whose named targetPort no pod of `pods` (those the
/// Service selects) declares: a mistake in the Service or in the pods'
/// template that leaves the port without endpoints. Nothing when no pod
/// is selected yet (there is nothing to tell then).
pub fn unresolved_ports(service: &Service, pods: &[&Pod]) -> Vec<UnresolvedPort> {
    if pods.is_empty() {
        return Vec::new();
    }
    service
        .spec
        .ports
        .iter()
        .filter_map(|port| match &port.target_port {
            Some(IntOrString::String(name))
                if pods
                    .iter()
                    .all(|pod| resolve_target_port(pod, port).is_none()) =>
            {
                Some(UnresolvedPort {
                    service_port: match port.name.as_deref() {
                        Some(name) if !name.is_empty() => format!("{name:?}"),
                        _ => port.port.to_string(),
                    },
                    target_port: name.clone(),
                    protocol: protocol(&port.protocol).to_string(),
                })
            }
            _ => None,
        })
        .collect()
}
