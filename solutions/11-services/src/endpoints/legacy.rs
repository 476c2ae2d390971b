//! The legacy Endpoints object of a Service (`v1`, named like the
//! Service): one list of every address, which older clients still read.
//! Pure. Kubernetes: the endpoints controller's `syncService` and
//! `addEndpointSubset` (`pkg/controller/endpoint/endpoints_controller.go`)
//! and `RepackSubsets` (`pkg/api/v1/endpoints/util.go`).
//!
//! Unlike a slice, it cannot say "terminating": a pod being deleted is
//! left out (unless the Service publishes not-ready addresses), and a pod
//! is either under `addresses` (Ready) or `notReadyAddresses`. Addresses
//! that serve the same ports share a subset.

use std::collections::BTreeMap;

use objects::meta::StringMap;
use objects::service::{EndpointAddress, EndpointPort, EndpointSubset};
use objects::{Endpoints, ObjectMeta, Pod, Resource, Service};

use super::endpoint::{
    DEFAULT_PROTOCOL, hostname, is_endpoint, is_ready, pod_ipv4, pod_reference, resolve_target_port,
};
use super::slices::{HEADLESS_LABEL, is_headless};

/// The label that tells the EndpointSlice mirroring controller to leave
/// an Endpoints object alone: it comes from this controller, which writes
/// the slices itself. It also marks the Endpoints this controller owns.
pub const SKIP_MIRROR_LABEL: &str = "endpointslice.kubernetes.io/skip-mirror";

/// The Endpoints' labels: the Service's, the headless mark, skip-mirror.
pub fn endpoints_labels(service: &Service) -> StringMap {
    let mut labels = service.metadata.labels.clone();
    labels.remove(HEADLESS_LABEL);
    if is_headless(service) {
        labels.insert(HEADLESS_LABEL.into(), String::new());
    }
    labels.insert(SKIP_MIRROR_LABEL.into(), "true".into());
    labels
}

/// Whether this controller wrote `endpoints` (it carries our mark).
pub fn is_managed(endpoints: &Endpoints) -> bool {
    endpoints
        .metadata
        .labels
        .get(SKIP_MIRROR_LABEL)
        .map(String::as_str)
        == Some("true")
}

/// The ports `pod` serves for `service`, as Endpoints name them (no name
/// for an unnamed Service port).
fn subset_ports(service: &Service, pod: &Pod) -> Vec<EndpointPort> {
    service
        .spec
        .ports
        .iter()
        .filter_map(|port| {
            Some(EndpointPort {
                name: port.name.clone().filter(|name| !name.is_empty()),
                port: resolve_target_port(pod, port)?,
                protocol: Some(
                    port.protocol
                        .clone()
                        .unwrap_or_else(|| DEFAULT_PROTOCOL.into()),
                ),
                app_protocol: port.app_protocol.clone(),
            })
        })
        .collect()
}

/// A comparable key for a set of Endpoints ports.
type PortKey = Vec<(Option<String>, i32, Option<String>)>;

// ANCHOR: desired_subsets
/// The subsets of `service`'s Endpoints given `pods` (those its selector
/// matches): pods with an address that have not finished and are not
/// terminating (both allowed with `publishNotReadyAddresses`), Ready ones
/// (or all, with `publishNotReadyAddresses`) under `addresses`, the rest
/// under `notReadyAddresses`; one subset per set of ports served, in the
/// order of those ports, addresses by IP. A pod none of whose ports
/// resolves is left out, unless the Service has no ports at all.
pub fn desired_subsets(service: &Service, pods: &[&Pod]) -> Vec<EndpointSubset> {
    let publish = service.spec.publish_not_ready_addresses;
    let mut subsets: BTreeMap<PortKey, EndpointSubset> = BTreeMap::new();
    for pod in pods.iter().filter(|pod| is_endpoint(pod, publish)) {
        let Some(ip) = pod_ipv4(pod) else { continue };
        let ports = subset_ports(service, pod);
        if ports.is_empty() && !service.spec.ports.is_empty() {
            continue;
        }
        let address = EndpointAddress {
            ip: ip.to_string(),
            hostname: hostname(service, pod),
            node_name: pod.spec.node_name.clone().filter(|name| !name.is_empty()),
            target_ref: Some(pod_reference(pod)),
        };
        let key = ports
            .iter()
            .map(|p| (p.name.clone(), p.port, p.protocol.clone()))
            .collect();
        let subset = subsets.entry(key).or_insert_with(|| EndpointSubset {
            ports,
            ..EndpointSubset::default()
        });
        if publish || is_ready(pod) {
            subset.addresses.push(address);
        } else {
            subset.not_ready_addresses.push(address);
        }
    }
    let mut subsets: Vec<EndpointSubset> = subsets.into_values().collect();
    for subset in &mut subsets {
        subset.addresses.sort_by(address_order);
        subset.not_ready_addresses.sort_by(address_order);
    }
    subsets
}
// ANCHOR_END: desired_subsets

/// Addresses by IP (as numbers), then pod name.
fn address_order(a: &EndpointAddress, b: &EndpointAddress) -> std::cmp::Ordering {
    let ip = |address: &EndpointAddress| address.ip.parse::<std::net::Ipv4Addr>().ok();
    let name = |address: &EndpointAddress| address.target_ref.as_ref().and_then(|r| r.name.clone());
    ip(a).cmp(&ip(b)).then_with(|| name(a).cmp(&name(b)))
}

/// The Endpoints `service` should have given `pods`.
pub fn desired_endpoints(service: &Service, pods: &[&Pod]) -> Endpoints {
    let mut endpoints = Endpoints {
        metadata: ObjectMeta {
            name: service.metadata.name.clone(),
            namespace: service.metadata.namespace.clone(),
            labels: endpoints_labels(service),
            ..ObjectMeta::default()
        },
        subsets: desired_subsets(service, pods),
        ..Endpoints::default()
    };
    endpoints.set_type_meta();
    endpoints
}

/// `current` with `desired`'s content, or `None` when it has it already
/// (other metadata — annotations, versions — is not compared).
pub fn endpoints_update(current: &Endpoints, desired: &Endpoints) -> Option<Endpoints> {
    if current.subsets == desired.subsets && current.metadata.labels == desired.metadata.labels {
        return None;
    }
    let mut updated = current.clone();
    updated.subsets = desired.subsets.clone();
    updated.metadata.labels = desired.metadata.labels.clone();
    Some(updated)
}
