//! EndpointSlices (`pkg/apis/discovery/validation` in Kubernetes): the
//! address type, each endpoint's addresses in that type, the ports.

use super::{validate_object_meta, validate_object_meta_update, validate_port_number};
use crate::discovery::{Endpoint, EndpointSlice, EndpointSlicePort};
use crate::field::{ErrorList, FieldError, Path};
use crate::names;
use std::collections::BTreeSet;
use std::net::{Ipv4Addr, Ipv6Addr};

const ADDRESS_TYPES: &[&str] = &["IPv4", "IPv6", "FQDN"];
const PROTOCOLS: &[&str] = &["TCP", "UDP", "SCTP"];
/// At most this many endpoints in a slice (the API's limit; the controller
/// writes at most 100).
const MAX_ENDPOINTS: usize = 1000;
/// At most this many addresses per endpoint; consumers may use only the first.
const MAX_ADDRESSES: usize = 100;
/// At most this many ports in a slice, as the API documents it.
const MAX_PORTS: usize = 100;

/// A slice as it may be stored: a known address type, endpoints whose
/// addresses are of that type (a proxy dials them as they are), ports with
/// valid numbers, unique names and known protocols.
pub fn validate_endpoint_slice(slice: &EndpointSlice) -> ErrorList {
    let mut errors = validate_object_meta(&slice.metadata, true, names::dns1123_subdomain);
    let address_type = slice.address_type.as_str();
    let path = Path::new("addressType");
    if address_type.is_empty() {
        errors.push(FieldError::required(&path, ""));
    } else if !ADDRESS_TYPES.contains(&address_type) {
        errors.push(FieldError::not_supported(
            &path,
            address_type,
            ADDRESS_TYPES,
        ));
    }
    let path = Path::new("endpoints");
    if slice.endpoints.len() > MAX_ENDPOINTS {
        errors.push(FieldError::too_many(
            &path,
            slice.endpoints.len(),
            MAX_ENDPOINTS,
        ));
    } else {
        for (i, endpoint) in slice.endpoints.iter().enumerate() {
            validate_endpoint(endpoint, address_type, &path.index(i), &mut errors);
        }
    }
    let path = Path::new("ports");
    if slice.ports.len() > MAX_PORTS {
        errors.push(FieldError::too_many(&path, slice.ports.len(), MAX_PORTS));
    } else {
        validate_ports(&slice.ports, &path, &mut errors);
    }
    errors
}

/// The create checks, plus: the address type is fixed for life (consumers
/// index slices by it).
pub fn validate_endpoint_slice_update(new: &EndpointSlice, old: &EndpointSlice) -> ErrorList {
    let mut errors = validate_object_meta_update(&new.metadata, &old.metadata);
    errors.extend(validate_endpoint_slice(new));
    if new.address_type != old.address_type {
        errors.push(FieldError::invalid(
            &Path::new("addressType"),
            &new.address_type,
            "field is immutable",
        ));
    }
    errors
}

fn validate_endpoint(endpoint: &Endpoint, address_type: &str, at: &Path, errors: &mut ErrorList) {
    let path = at.child("addresses");
    match endpoint.addresses.len() {
        0 => errors.push(FieldError::required(
            &path,
            "must contain at least 1 address",
        )),
        n if n > MAX_ADDRESSES => errors.push(FieldError::too_many(&path, n, MAX_ADDRESSES)),
        _ => {}
    }
    for (i, address) in endpoint.addresses.iter().enumerate() {
        let at = path.index(i);
        // An unknown address type is reported once, above; its addresses
        // cannot be checked against it.
        let problem = match address_type {
            "IPv4" => address
                .parse::<Ipv4Addr>()
                .is_err()
                .then(|| "must be a valid IPv4 address".to_string()),
            "IPv6" => address
                .parse::<Ipv6Addr>()
                .is_err()
                .then(|| "must be a valid IPv6 address".to_string()),
            "FQDN" => fqdn_problem(address),
            _ => None,
        };
        if let Some(problem) = problem {
            errors.push(FieldError::invalid(&at, address, &problem));
        }
    }
    if let Some(node) = &endpoint.node_name {
        for problem in names::dns1123_subdomain(node) {
            errors.push(FieldError::invalid(&at.child("nodeName"), node, &problem));
        }
    }
    if let Some(hostname) = &endpoint.hostname {
        for problem in names::dns1123_label(hostname) {
            errors.push(FieldError::invalid(
                &at.child("hostname"),
                hostname,
                &problem,
            ));
        }
    }
}

/// A fully qualified domain name: a DNS-1123 subdomain of at least two
/// labels, a trailing dot allowed.
fn fqdn_problem(name: &str) -> Option<String> {
    let name = name.strip_suffix('.').unwrap_or(name);
    let problems = names::dns1123_subdomain(name);
    if !problems.is_empty() {
        return Some(problems.join(","));
    }
    (!name.contains('.'))
        .then(|| "should be a domain with at least two segments separated by dots".to_string())
}

fn validate_ports(ports: &[EndpointSlicePort], path: &Path, errors: &mut ErrorList) {
    let mut seen = BTreeSet::new();
    for (i, port) in ports.iter().enumerate() {
        let at = path.index(i);
        let name = port.name.as_deref().unwrap_or("");
        if !name.is_empty() {
            for problem in names::dns1123_label(name) {
                errors.push(FieldError::invalid(&at.child("name"), name, &problem));
            }
        }
        if !seen.insert(name) {
            errors.push(FieldError::duplicate(&at.child("name"), name));
        }
        if let Some(number) = port.port {
            validate_port_number(number, &at.child("port"), errors);
        }
        match port.protocol.as_deref() {
            None => errors.push(FieldError::required(&at.child("protocol"), "")),
            Some(protocol) if !PROTOCOLS.contains(&protocol) => errors.push(
                FieldError::not_supported(&at.child("protocol"), protocol, PROTOCOLS),
            ),
            Some(_) => {}
        }
        if let Some(app_protocol) = &port.app_protocol {
            for problem in names::qualified_name(app_protocol) {
                errors.push(FieldError::invalid(
                    &at.child("appProtocol"),
                    app_protocol,
                    &problem,
                ));
            }
        }
    }
}
