//! The checks a node makes before it runs a pod. The API server of
//! chapter 07 rejects most of these already; a node checks again, because
//! it must never half-make a pod it cannot finish.

use std::collections::BTreeSet;

use crate::spec::{Container, PodSpec, VolumeSource};

/// Every problem with `spec`, each with its field path, in Kubernetes'
/// words. Empty when the pod can run.
pub fn problems(spec: &PodSpec) -> Vec<String> {
    let mut problems = Vec::new();
    // The uid names directories and cgroups on the host.
    if !is_dns_label(&spec.uid) {
        problems.push(format!(
            "metadata.uid: Invalid value: {:?}: {DNS_LABEL}",
            spec.uid
        ));
    }
    if spec.containers.is_empty() {
        problems.push("spec.containers: Required value".to_string());
    }
    let mut volumes = BTreeSet::new();
    for (index, volume) in spec.volumes.iter().enumerate() {
        let field = format!("spec.volumes[{index}]");
        if !is_dns_label(&volume.name) {
            problems.push(format!(
                "{field}.name: Invalid value: {:?}: {DNS_LABEL}",
                volume.name
            ));
        }
        if !volumes.insert(volume.name.as_str()) {
            problems.push(format!("{field}.name: Duplicate value: {:?}", volume.name));
        }
        if let VolumeSource::HostPath { path, .. } = &volume.source
            && !path.is_absolute()
        {
            problems.push(format!(
                "{field}.hostPath.path: Invalid value: {:?}: must be an absolute path",
                path.display().to_string()
            ));
        }
    }
    let mut names = BTreeSet::new();
    let all = [
        ("initContainers", &spec.init_containers),
        ("containers", &spec.containers),
    ];
    for (list, containers) in all {
        for (index, container) in containers.iter().enumerate() {
            let field = format!("spec.{list}[{index}]");
            if !names.insert(container.name.as_str()) {
                problems.push(format!(
                    "{field}.name: Duplicate value: {:?}",
                    container.name
                ));
            }
            container_problems(container, &field, &volumes, &mut problems);
        }
    }
    problems
}

fn container_problems(
    container: &Container,
    field: &str,
    volumes: &BTreeSet<&str>,
    problems: &mut Vec<String>,
) {
    if !is_dns_label(&container.name) {
        problems.push(format!(
            "{field}.name: Invalid value: {:?}: {DNS_LABEL}",
            container.name
        ));
    }
    if container.image.trim().is_empty() {
        problems.push(format!("{field}.image: Required value"));
    }
    for (index, port) in container.ports.iter().enumerate() {
        if !(1..=65535).contains(&port.container_port) {
            problems.push(format!(
                "{field}.ports[{index}].containerPort: Invalid value: {}: must be between 1 and 65535, inclusive",
                port.container_port
            ));
        }
        if !["TCP", "UDP", "SCTP"].contains(&port.protocol.as_str()) {
            problems.push(format!(
                "{field}.ports[{index}].protocol: Unsupported value: {:?}: supported values: \"SCTP\", \"TCP\", \"UDP\"",
                port.protocol
            ));
        }
    }
    let mut paths = BTreeSet::new();
    for (index, mount) in container.volume_mounts.iter().enumerate() {
        let field = format!("{field}.volumeMounts[{index}]");
        if !volumes.contains(mount.name.as_str()) {
            problems.push(format!("{field}.name: Not found: {:?}", mount.name));
        }
        if !mount.mount_path.starts_with('/') {
            problems.push(format!(
                "{field}.mountPath: Invalid value: {:?}: must be an absolute path",
                mount.mount_path
            ));
        }
        if !paths.insert(mount.mount_path.as_str()) {
            problems.push(format!(
                "{field}.mountPath: Invalid value: {:?}: must be unique",
                mount.mount_path
            ));
        }
    }
    let probes = &container.probes;
    if let Err(invalid) = probes.validate() {
        problems.push(format!("{field}.{invalid}"));
    }
}

const DNS_LABEL: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character";

/// An RFC 1123 label: what Kubernetes requires of container and volume
/// names (they become host names and parts of paths).
pub fn is_dns_label(name: &str) -> bool {
    let bytes = name.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 63
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
        && bytes[0] != b'-'
        && bytes[bytes.len() - 1] != b'-'
}
