// Generated from solutions/06-objects/src/validation/service.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
//! Services.

use super::{
    validate_object_meta, validate_object_meta_update, validate_one_of, validate_port_number,
};
use crate::field::{ErrorList, FieldError, Path};
use crate::intstr::IntOrString;
use crate::names;
use crate::service::Service;
use std::collections::BTreeSet;
use std::net::IpAddr;

const TYPES: &[&str] = &["ClusterIP", "NodePort", "LoadBalancer", "ExternalName"];
const AFFINITIES: &[&str] = &["None", "ClientIP"];
const PROTOCOLS: &[&str] = &["TCP", "UDP", "SCTP"];

/// Service names are DNS-1035 labels: they become DNS names
/// (`web.default.svc`) and environment variables (`WEB_SERVICE_HOST`).
pub fn validate_service(service: &Service) -> ErrorList {
    let mut errors = validate_object_meta(&service.metadata, true, names::dns1035_label);
    let spec = &service.spec;
    let path = Path::new("spec");
    let service_type = spec.service_type.as_deref().unwrap_or("ClusterIP");
    validate_one_of(
        spec.service_type.as_deref(),
        TYPES,
        &path.child("type"),
        &mut errors,
    );
    validate_one_of(
        spec.session_affinity.as_deref(),
        AFFINITIES,
        &path.child("sessionAffinity"),
        &mut errors,
    );
    if service_type == "ExternalName" {
        if spec.external_name.as_deref().is_none_or(str::is_empty) {
            errors.push(FieldError::required(&path.child("externalName"), ""));
        }
    } else if spec.ports.is_empty() && spec.cluster_ip.as_deref() != Some("None") {
        errors.push(FieldError::required(&path.child("ports"), ""));
    }
    let mut port_names = BTreeSet::new();
    for (i, port) in spec.ports.iter().enumerate() {
        let at = path.child("ports").index(i);
        match port.name.as_deref() {
            None | Some("") if spec.ports.len() > 1 => {
                errors.push(FieldError::required(&at.child("name"), ""))
            }
            None | Some("") => {}
            Some(name) => {
                for problem in names::dns1123_label(name) {
                    errors.push(FieldError::invalid(&at.child("name"), name, &problem));
                }
                if !port_names.insert(name) {
                    errors.push(FieldError::duplicate(&at.child("name"), name));
                }
            }
        }
        validate_port_number(port.port, &at.child("port"), &mut errors);
        validate_one_of(
            port.protocol.as_deref(),
            PROTOCOLS,
            &at.child("protocol"),
            &mut errors,
        );
        match &port.target_port {
            Some(IntOrString::Int(target)) => {
                validate_port_number(*target, &at.child("targetPort"), &mut errors)
            }
            Some(IntOrString::String(name)) => {
                for problem in names::port_name(name) {
                    errors.push(FieldError::invalid(&at.child("targetPort"), name, &problem));
                }
            }
            None => {}
        }
        if let Some(node_port) = port.node_port.filter(|p| *p != 0) {
            if matches!(service_type, "NodePort" | "LoadBalancer") {
                validate_port_number(node_port, &at.child("nodePort"), &mut errors);
            } else {
                let detail = format!("may not be used when `type` is '{service_type}'");
                errors.push(FieldError::forbidden(&at.child("nodePort"), &detail));
            }
        }
    }
    if let Some(ip) = spec
        .cluster_ip
        .as_deref()
        .filter(|ip| !ip.is_empty() && *ip != "None")
        && ip.parse::<IpAddr>().is_err()
    {
        let detail = "must be empty, 'None', or a valid IP address";
        errors.push(FieldError::invalid(&path.child("clusterIP"), ip, detail));
    }
    validate_cluster_ips(service, &mut errors);
    validate_port_uniqueness(service, &mut errors);
    errors.extend(super::validate_labels(
        &spec.selector,
        &path.child("selector"),
    ));
    errors
}

/// `clusterIP` and `clusterIPs` say the same (the defaults copy the one
/// into the other); ExternalName Services have no address, and only
/// ClusterIP Services may be headless (a node port needs an address to
/// forward to).
fn validate_cluster_ips(service: &Service, errors: &mut ErrorList) {
    let spec = &service.spec;
    let path = Path::new("spec").child("clusterIPs");
    let service_type = spec.service_type.as_deref().unwrap_or("ClusterIP");
    let ip = spec.cluster_ip.as_deref().unwrap_or("");
    let ips = serde_json::json!(spec.cluster_ips);
    if service_type == "ExternalName" {
        if !ip.is_empty() || !spec.cluster_ips.is_empty() {
            let detail = "may not be set for ExternalName services";
            errors.push(FieldError::forbidden(&path, detail));
        }
        return;
    }
    match spec.cluster_ips.first() {
        Some(first) if !ip.is_empty() && first != ip => errors.push(FieldError::invalid(
            &path,
            &ips,
            "first value must match `clusterIP`",
        )),
        Some(_) if ip.is_empty() => errors.push(FieldError::invalid(
            &path,
            &ips,
            "must be empty when `clusterIP` is not specified",
        )),
        _ => {}
    }
    if spec.cluster_ips.len() > 1 {
        let detail = "may specify no more than one IP for each IP family";
        errors.push(FieldError::invalid(&path, &ips, detail));
    }
    if ip == "None" && matches!(service_type, "NodePort" | "LoadBalancer") {
        let detail = format!("may not be set to 'None' for {service_type} services");
        errors.push(FieldError::invalid(&path.index(0), ip, &detail));
    }
}

/// A port (and a node port) serves one protocol once: two ports of a
/// Service may share a number only if their protocols differ (DNS serves
/// 53 over UDP and TCP), else a proxy could not tell them apart.
fn validate_port_uniqueness(service: &Service, errors: &mut ErrorList) {
    let (mut ports, mut node_ports) = (BTreeSet::new(), BTreeSet::new());
    for (i, port) in service.spec.ports.iter().enumerate() {
        let at = Path::new("spec").child("ports").index(i);
        let protocol = port.protocol.as_deref().unwrap_or("TCP");
        if !ports.insert((protocol, port.port)) {
            errors.push(FieldError::duplicate(
                &at,
                format!("{}/{protocol}", port.port),
            ));
        }
        let Some(node_port) = port.node_port.filter(|p| *p != 0) else {
            continue;
        };
        if !node_ports.insert((protocol, node_port)) {
            errors.push(FieldError::duplicate(&at.child("nodePort"), node_port));
        }
    }
}

/// A service keeps its cluster IP for life: clients and proxies have it
/// cached. An update that leaves `clusterIP` out keeps the old one (the API
/// server copies it over before validating), so only a different address is
/// an error.
pub fn validate_service_update(new: &Service, old: &Service) -> ErrorList {
    let mut errors = validate_object_meta_update(&new.metadata, &old.metadata);
    errors.extend(validate_service(new));
    let old_ip = old.spec.cluster_ip.as_deref().unwrap_or("");
    let new_ip = new.spec.cluster_ip.as_deref().unwrap_or("");
    if !old_ip.is_empty() && !new_ip.is_empty() && new_ip != old_ip {
        let path = Path::new("spec").child("clusterIP");
        errors.push(FieldError::invalid(&path, new_ip, "field is immutable"));
    }
    errors
}
