//! The EndpointSlices of one Service: what they should hold, and the
//! fewest writes that get them there from what exists. Pure.
//! Kubernetes: the reconciler of `k8s.io/endpointslice` (`reconciler.go`,
//! `reconciler_helpers.go`, `utils.go`).
//!
//! Pods are grouped by the ports they serve (a named targetPort resolves
//! per pod), each group filling slices of at most 100 endpoints. Planning
//! keeps every endpoint in the slice that has it (a pod that changes
//! readiness rewrites one slice, not all), puts new endpoints first into
//! slices that are written anyway, then into the others with room, and
//! only then into new slices; a slice left with nothing is reused for a
//! new one rather than deleted and created again. A Service without any
//! endpoint keeps one empty slice, Kubernetes' placeholder.

use std::collections::BTreeMap;

use objects::discovery::{
    Endpoint, EndpointSlicePort, MANAGED_BY_LABEL, MAX_ENDPOINTS_PER_SLICE, SERVICE_NAME_LABEL,
};
use objects::meta::StringMap;
use objects::{EndpointSlice, ObjectMeta, Pod, Resource, Service};

use super::endpoint::{DEFAULT_PROTOCOL, endpoint_ports, is_endpoint, pod_endpoint};

/// The `managed-by` value of the slices this controller writes, as
/// Kubernetes' controller spells it: slices of other writers (the DNS's
/// own, a user's) are never touched.
pub const MANAGED_BY: &str = "endpointslice-controller.k8s.io";
/// The label a headless Service's slices and Endpoints carry.
pub const HEADLESS_LABEL: &str = "service.kubernetes.io/headless";
/// k8s-mini's pods have IPv4 addresses only.
pub const ADDRESS_TYPE: &str = "IPv4";
/// The most endpoints a slice holds unless configured otherwise
/// (kube-controller-manager's `--max-endpoints-per-slice`).
pub const DEFAULT_MAX_PER_SLICE: usize = MAX_ENDPOINTS_PER_SLICE;

/// The endpoints that serve one set of ports.
#[derive(Debug, Clone, PartialEq)]
pub struct EndpointGroup {
    pub ports: Vec<EndpointSlicePort>,
    /// Ordered by [`endpoint_order`].
    pub endpoints: Vec<Endpoint>,
}

/// The writes that bring a Service's slices where they should be.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SlicePlan {
    /// New slices (named by the server from `generateName`).
    pub create: Vec<EndpointSlice>,
    /// Existing slices with new content, at the version read.
    pub update: Vec<EndpointSlice>,
    pub delete: Vec<EndpointSlice>,
}

impl SlicePlan {
    pub fn is_empty(&self) -> bool {
        self.create.is_empty() && self.update.is_empty() && self.delete.is_empty()
    }
}

/// Whether the Service has no ClusterIP to balance on (`None`): its
/// name resolves to the endpoints themselves.
pub fn is_headless(service: &Service) -> bool {
    matches!(service.spec.cluster_ip.as_deref(), None | Some("" | "None"))
}

/// Whether `key` is one the controller sets itself on what it writes.
fn is_reserved_label(key: &str) -> bool {
    [SERVICE_NAME_LABEL, MANAGED_BY_LABEL, HEADLESS_LABEL].contains(&key)
}

/// A slice's labels: the Service's own (so that a selector on them finds
/// the slices too), the headless mark, the Service's name and ours.
pub fn slice_labels(service: &Service) -> StringMap {
    let mut labels: StringMap = service
        .metadata
        .labels
        .iter()
        .filter(|(key, _)| !is_reserved_label(key))
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect();
    if is_headless(service) {
        labels.insert(HEADLESS_LABEL.into(), String::new());
    }
    labels.insert(SERVICE_NAME_LABEL.into(), service.metadata.name().into());
    labels.insert(MANAGED_BY_LABEL.into(), MANAGED_BY.into());
    labels
}

/// Whether `slice` is one of ours for the Service named `service` (by its
/// labels: its owner may be an earlier Service of that name).
pub fn is_managed_slice_of(slice: &EndpointSlice, service: &str) -> bool {
    let labels = &slice.metadata.labels;
    labels.get(MANAGED_BY_LABEL).map(String::as_str) == Some(MANAGED_BY)
        && labels.get(SERVICE_NAME_LABEL).map(String::as_str) == Some(service)
}

/// Whether `service` (this one, by uid) controls `slice`.
pub fn is_owned_by(slice: &EndpointSlice, service: &Service) -> bool {
    slice.metadata.owner_references.iter().any(|owner| {
        owner.kind == "Service"
            && owner.controller == Some(true)
            && service.metadata.uid.as_deref() == Some(owner.uid.as_str())
    })
}

/// A new slice of `service` (the server names it `<service>-<random>`).
pub fn new_slice(
    service: &Service,
    ports: Vec<EndpointSlicePort>,
    endpoints: Vec<Endpoint>,
) -> EndpointSlice {
    let mut slice = EndpointSlice {
        metadata: ObjectMeta {
            generate_name: Some(format!("{}-", service.metadata.name())),
            namespace: service.metadata.namespace.clone(),
            labels: slice_labels(service),
            owner_references: vec![controllers::controller::claim::controller_reference(
                service,
            )],
            ..ObjectMeta::default()
        },
        address_type: ADDRESS_TYPE.into(),
        endpoints,
        ports,
        ..EndpointSlice::default()
    };
    slice.set_type_meta();
    slice
}

/// Which pod an endpoint is: its reference's uid, or its address.
fn identity(endpoint: &Endpoint) -> String {
    endpoint
        .target_ref
        .as_ref()
        .and_then(|pod| pod.uid.clone())
        .or_else(|| endpoint.addresses.first().cloned())
        .unwrap_or_default()
}

/// The order of endpoints in a slice: by pod name, then address, so that
/// writing the same set twice writes the same slice.
pub fn endpoint_order(a: &Endpoint, b: &Endpoint) -> std::cmp::Ordering {
    let name = |e: &Endpoint| e.target_ref.as_ref().and_then(|r| r.name.clone());
    name(a)
        .cmp(&name(b))
        .then_with(|| a.addresses.cmp(&b.addresses))
}

/// A port set as a comparable key (the ports in the Service's order).
type PortKey = Vec<(Option<String>, Option<i32>, Option<String>, Option<String>)>;

fn port_key(ports: &[EndpointSlicePort]) -> PortKey {
    ports
        .iter()
        .map(|p| {
            let protocol = p.protocol.clone().or_else(|| Some(DEFAULT_PROTOCOL.into()));
            let name = p.name.clone().or_else(|| Some(String::new()));
            (name, p.port, protocol, p.app_protocol.clone())
        })
        .collect()
}

// ANCHOR: group_endpoints
/// The endpoints of `service` among `pods` (those its selector matches),
/// grouped by the ports each pod serves: every pod with an address that
/// has not finished, terminating ones included (marked so). Groups come
/// in the order of their ports, endpoints in [`endpoint_order`].
pub fn group_endpoints(service: &Service, pods: &[&Pod]) -> Vec<EndpointGroup> {
    // exercise 4: the endpoints of `service` among `pods`, grouped by the ports each pod serves (terminating pods included), groups in the order of their port keys, endpoints sorted by `endpoint_order`
    // hint: One slice holds endpoints that serve the same ports: pods whose named targetPort resolves to different numbers need different slices. So group by the pod's port set.
    // hint: For each pod with `is_endpoint(pod, true)`: build its endpoint with `pod_endpoint` (skip None) and its ports with `endpoint_ports`; file it in a BTreeMap keyed by `port_key(&ports)`. Then sort each group's endpoints.
    // hint: let mut groups = BTreeMap::new(); for pod in pods.iter().filter(|p| is_endpoint(p, true)) { let Some(endpoint) = pod_endpoint(service, pod) else { continue }; let ports = endpoint_ports(service, pod); groups.entry(port_key(&ports)).or_insert_with(|| EndpointGroup { ports, endpoints: Vec::new() }).endpoints.push(endpoint); } collect the values, sort each `endpoints` with `sort_by(endpoint_order)`.
    let mut groups: BTreeMap<PortKey, EndpointGroup> = BTreeMap::new();
    for pod in pods.iter().filter(|pod| is_endpoint(pod, true)) {
        let Some(endpoint) = pod_endpoint(service, pod) else {
            continue;
        };
        let ports = endpoint_ports(service, pod);
        groups
            .entry(port_key(&ports))
            .or_insert_with(|| EndpointGroup {
                ports,
                endpoints: Vec::new(),
            })
            .endpoints
            .push(endpoint);
    }
    let mut groups: Vec<EndpointGroup> = groups.into_values().collect();
    for group in &mut groups {
        group.endpoints.sort_by(endpoint_order);
    }
    groups
}
// ANCHOR_END: group_endpoints

/// A slice kept for a group: the version read, and its new content.
struct Kept<'a> {
    read: &'a EndpointSlice,
    endpoints: Vec<Endpoint>,
    ports: Vec<EndpointSlicePort>,
}

impl Kept<'_> {
    fn changed(&self, labels: &StringMap) -> bool {
        self.read.endpoints != self.endpoints
            || self.read.ports != self.ports
            || &self.read.metadata.labels != labels
    }

    fn updated(self, labels: &StringMap) -> EndpointSlice {
        let mut slice = self.read.clone();
        slice.metadata.labels = labels.clone();
        slice.endpoints = self.endpoints;
        slice.ports = self.ports;
        slice
    }
}

// ANCHOR: plan_group
/// One group's part of the plan, given `slices` (ours that serve the
/// group's ports, by name): each keeps the endpoints of the group it has
/// (at their new state, at most `max`); the group's other endpoints fill
/// the slices written anyway first, then those with room, then new
/// slices of `max`. A slice that keeps nothing goes to `spare`. Only
/// slices whose endpoints, ports or labels differ are updated.
fn plan_group<'a>(
    service: &Service,
    labels: &StringMap,
    group: &EndpointGroup,
    slices: Vec<&'a EndpointSlice>,
    max: usize,
    plan: &mut SlicePlan,
    spare: &mut Vec<&'a EndpointSlice>,
) {
    let mut wanted: BTreeMap<String, &Endpoint> =
        group.endpoints.iter().map(|e| (identity(e), e)).collect();
    let mut kept = Vec::new();
    for read in slices {
        let endpoints: Vec<Endpoint> = read
            .endpoints
            .iter()
            .filter_map(|e| wanted.remove(&identity(e)).cloned())
            .take(max)
            .collect();
        if endpoints.is_empty() {
            spare.push(read);
        } else {
            kept.push(Kept {
                read,
                endpoints,
                ports: group.ports.clone(),
            });
        }
    }
    let mut remaining: Vec<Endpoint> = group
        .endpoints
        .iter()
        .filter(|e| wanted.contains_key(&identity(e)))
        .cloned()
        .collect();
    // The slices being written first (`false` sorts first; the sort is
    // stable, so by name among equals).
    kept.sort_by_key(|slice| !slice.changed(labels));
    for slice in &mut kept {
        let room = max
            .saturating_sub(slice.endpoints.len())
            .min(remaining.len());
        slice.endpoints.extend(remaining.drain(..room));
    }
    for mut slice in kept {
        slice.endpoints.sort_by(endpoint_order);
        if slice.changed(labels) {
            plan.update.push(slice.updated(labels));
        }
    }
    while !remaining.is_empty() {
        let chunk: Vec<Endpoint> = remaining.drain(..max.min(remaining.len())).collect();
        plan.create
            .push(new_slice(service, group.ports.clone(), chunk));
    }
}
// ANCHOR_END: plan_group

// ANCHOR: plan_slices
/// The writes that make `existing` (this controller's slices labelled
/// with the Service's name) hold `groups`, with at most `max_per_slice`
/// endpoints a slice. Slices of another owner (an earlier Service of the
/// same name) go. Each group is planned on the slices that serve its
/// ports ([`plan_group`]); a slice left over is reused for a new one
/// (an update instead of a create and a delete) before any is deleted.
/// No group: one empty placeholder slice, as Kubernetes keeps.
pub fn plan_slices(
    service: &Service,
    groups: &[EndpointGroup],
    existing: &[&EndpointSlice],
    max_per_slice: usize,
) -> SlicePlan {
    let max = max_per_slice.clamp(1, 1000);
    let labels = slice_labels(service);
    let mut plan = SlicePlan::default();
    // Slices that hold nothing wanted any more: reused, or deleted.
    let mut spare: Vec<&EndpointSlice> = Vec::new();
    let mut by_ports: BTreeMap<PortKey, Vec<&EndpointSlice>> = BTreeMap::new();
    let mut existing = existing.to_vec();
    existing.sort_by(|a, b| a.metadata.name().cmp(b.metadata.name()));
    for slice in existing {
        if is_owned_by(slice, service) && slice.address_type == ADDRESS_TYPE {
            by_ports
                .entry(port_key(&slice.ports))
                .or_default()
                .push(slice);
        } else {
            plan.delete.push(slice.clone());
        }
    }
    if groups.is_empty() {
        let placeholder = by_ports.get_mut(&PortKey::new()).and_then(|slices| {
            let index = slices.iter().position(|s| s.endpoints.is_empty())?;
            Some(slices.remove(index))
        });
        match placeholder {
            Some(read) if read.metadata.labels == labels => {}
            Some(read) => plan.update.push(
                Kept {
                    read,
                    endpoints: Vec::new(),
                    ports: Vec::new(),
                }
                .updated(&labels),
            ),
            None => plan.create.push(new_slice(service, Vec::new(), Vec::new())),
        }
    }
    for group in groups {
        let slices = by_ports.remove(&port_key(&group.ports)).unwrap_or_default();
        plan_group(service, &labels, group, slices, max, &mut plan, &mut spare);
    }
    spare.extend(by_ports.into_values().flatten());
    let mut creates = std::mem::take(&mut plan.create);
    while let Some(read) = spare.pop() {
        match creates.pop() {
            Some(new) => plan.update.push(
                Kept {
                    read,
                    endpoints: new.endpoints,
                    ports: new.ports,
                }
                .updated(&labels),
            ),
            None => plan.delete.push(read.clone()),
        }
    }
    plan.create = creates;
    plan
}
// ANCHOR_END: plan_slices

/// The plan of a Service whose endpoints this controller no longer
/// writes (no selector any more): every one of its slices goes.
pub fn plan_removal(existing: &[&EndpointSlice]) -> SlicePlan {
    SlicePlan {
        delete: existing.iter().map(|slice| (*slice).clone()).collect(),
        ..SlicePlan::default()
    }
}
