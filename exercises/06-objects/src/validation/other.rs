// Generated from solutions/06-objects/src/validation/other.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
//! Namespaces, nodes, endpoints, events and leases.

use super::{validate_object_meta, validate_port_number};
use crate::event::Event;
use crate::field::{ErrorList, FieldError, Path};
use crate::lease::Lease;
use crate::names;
use crate::namespace::Namespace;
use crate::node::Node;
use crate::service::Endpoints;

fn is_ip(text: &str) -> bool {
    text.parse::<std::net::IpAddr>().is_ok()
}

/// Namespace names are DNS-1123 labels: they appear inside DNS names
/// (`web.<namespace>.svc`), where a dot would add a level.
pub fn validate_namespace(namespace: &Namespace) -> ErrorList {
    validate_object_meta(&namespace.metadata, false, names::dns1123_label)
}

pub fn validate_node(node: &Node) -> ErrorList {
    let mut errors = validate_object_meta(&node.metadata, false, names::dns1123_subdomain);
    let effects = &["NoSchedule", "PreferNoSchedule", "NoExecute"];
    for (i, taint) in node.spec.taints.iter().enumerate() {
        let at = Path::new("spec").child("taints").index(i);
        for problem in names::qualified_name(&taint.key) {
            errors.push(FieldError::invalid(&at.child("key"), &taint.key, &problem));
        }
        if taint.effect.is_empty() {
            errors.push(FieldError::required(&at.child("effect"), ""));
        } else if !effects.contains(&taint.effect.as_str()) {
            errors.push(FieldError::not_supported(
                &at.child("effect"),
                &taint.effect,
                effects,
            ));
        }
    }
    errors
}

pub fn validate_endpoints(endpoints: &Endpoints) -> ErrorList {
    let mut errors = validate_object_meta(&endpoints.metadata, true, names::dns1123_subdomain);
    for (i, subset) in endpoints.subsets.iter().enumerate() {
        let at = Path::new("subsets").index(i);
        let groups = [
            ("addresses", &subset.addresses),
            ("notReadyAddresses", &subset.not_ready_addresses),
        ];
        for (field, addresses) in groups {
            for (j, address) in addresses.iter().enumerate() {
                if !is_ip(&address.ip) {
                    let path = at.child(field).index(j).child("ip");
                    errors.push(FieldError::invalid(
                        &path,
                        &address.ip,
                        "must be a valid IP address",
                    ));
                }
            }
        }
        for (j, port) in subset.ports.iter().enumerate() {
            validate_port_number(
                port.port,
                &at.child("ports").index(j).child("port"),
                &mut errors,
            );
        }
    }
    errors
}

/// An event lives in the namespace of the object it is about.
pub fn validate_event(event: &Event) -> ErrorList {
    let mut errors = validate_object_meta(&event.metadata, true, names::dns1123_subdomain);
    let involved = event.involved_object.namespace.as_deref().unwrap_or("");
    if !involved.is_empty() && involved != event.metadata.namespace() {
        let path = Path::new("involvedObject").child("namespace");
        errors.push(FieldError::invalid(
            &path,
            involved,
            "does not match event.namespace",
        ));
    }
    let event_type = event.event_type.as_deref();
    if let Some(t) = event_type.filter(|t| !["Normal", "Warning"].contains(t)) {
        errors.push(FieldError::not_supported(
            &Path::new("type"),
            t,
            &["Normal", "Warning"],
        ));
    }
    errors
}

/// A lease's duration must be positive and its transition count never
/// negative, with Kubernetes' wording.
pub fn validate_lease(lease: &Lease) -> ErrorList {
    let mut errors = validate_object_meta(&lease.metadata, true, names::dns1123_subdomain);
    let spec = Path::new("spec");
    if let Some(seconds) = lease.spec.lease_duration_seconds.filter(|s| *s <= 0) {
        errors.push(FieldError::invalid(
            &spec.child("leaseDurationSeconds"),
            seconds,
            "must be greater than 0",
        ));
    }
    if let Some(count) = lease.spec.lease_transitions.filter(|c| *c < 0) {
        errors.push(FieldError::invalid(
            &spec.child("leaseTransitions"),
            count,
            "must be greater than or equal to 0",
        ));
    }
    errors
}
