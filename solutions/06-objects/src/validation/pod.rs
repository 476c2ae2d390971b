//! Pods and pod templates.

use super::{
    validate_non_negative, validate_object_meta, validate_object_meta_update, validate_one_of,
    validate_port_number,
};
use crate::field::{ErrorList, FieldError, Path};
use crate::names;
use crate::pod::{Container, KeySelector, KeyToPath, Pod, PodSpec, Probe};
use std::collections::BTreeSet;

const RESTART_POLICIES: &[&str] = &["Always", "OnFailure", "Never"];
const DNS_POLICIES: &[&str] = &["ClusterFirst", "ClusterFirstWithHostNet", "Default", "None"];
const PULL_POLICIES: &[&str] = &["Always", "IfNotPresent", "Never"];
const PROTOCOLS: &[&str] = &["TCP", "UDP", "SCTP"];
const MESSAGE_POLICIES: &[&str] = &["File", "FallbackToLogsOnError"];

pub fn validate_pod(pod: &Pod) -> ErrorList {
    let mut errors = validate_object_meta(&pod.metadata, true, names::dns1123_subdomain);
    errors.extend(validate_pod_spec(&pod.spec, &Path::new("spec")));
    errors
}

/// A pod spec, wherever it sits (`spec`, `spec.template.spec`).
pub fn validate_pod_spec(spec: &PodSpec, path: &Path) -> ErrorList {
    let mut errors = ErrorList::new();
    let volumes = validate_volumes(spec, path, &mut errors);
    if spec.containers.is_empty() {
        errors.push(FieldError::required(&path.child("containers"), ""));
    }
    // Names are unique across init and app containers: logs and statuses use them.
    let mut container_names = BTreeSet::new();
    let groups = [
        ("initContainers", &spec.init_containers),
        ("containers", &spec.containers),
    ];
    for (field, containers) in groups {
        for (i, container) in containers.iter().enumerate() {
            let at = path.child(field).index(i);
            if !container.name.is_empty() && !container_names.insert(container.name.as_str()) {
                errors.push(FieldError::duplicate(&at.child("name"), &container.name));
            }
            let is_init = field == "initContainers";
            validate_container(container, &at, &volumes, is_init, &mut errors);
        }
    }
    validate_one_of(
        spec.restart_policy.as_deref(),
        RESTART_POLICIES,
        &path.child("restartPolicy"),
        &mut errors,
    );
    validate_one_of(
        spec.dns_policy.as_deref(),
        DNS_POLICIES,
        &path.child("dnsPolicy"),
        &mut errors,
    );
    validate_non_negative(
        spec.termination_grace_period_seconds,
        &path.child("terminationGracePeriodSeconds"),
        &mut errors,
    );
    if let Some(deadline) = spec.active_deadline_seconds.filter(|d| *d <= 0) {
        errors.push(FieldError::invalid(
            &path.child("activeDeadlineSeconds"),
            deadline,
            "must be between 1 and 2147483647, inclusive",
        ));
    }
    if let Some(node) = spec.node_name.as_deref().filter(|n| !n.is_empty()) {
        for problem in names::dns1123_subdomain(node) {
            errors.push(FieldError::invalid(&path.child("nodeName"), node, &problem));
        }
    }
    errors.extend(super::validate_labels(
        &spec.node_selector,
        &path.child("nodeSelector"),
    ));
    errors
}

/// Volume names: present, DNS labels, unique, with a source. Returns the names.
fn validate_volumes<'a>(
    spec: &'a PodSpec,
    path: &Path,
    errors: &mut ErrorList,
) -> BTreeSet<&'a str> {
    let mut seen = BTreeSet::new();
    for (i, volume) in spec.volumes.iter().enumerate() {
        let at = path.child("volumes").index(i);
        if volume.name.is_empty() {
            errors.push(FieldError::required(&at.child("name"), ""));
        } else {
            for problem in names::dns1123_label(&volume.name) {
                errors.push(FieldError::invalid(
                    &at.child("name"),
                    &volume.name,
                    &problem,
                ));
            }
            if !seen.insert(volume.name.as_str()) {
                errors.push(FieldError::duplicate(&at.child("name"), &volume.name));
            }
        }
        if let Some(source) = &volume.config_map {
            let at = at.child("configMap");
            validate_ref_name(&source.name, &at.child("name"), errors);
            validate_items(&source.items, &at, errors);
            validate_mode(source.default_mode, &at.child("defaultMode"), errors);
        }
        if let Some(source) = &volume.secret {
            let at = at.child("secret");
            validate_ref_name(&source.secret_name, &at.child("secretName"), errors);
            validate_items(&source.items, &at, errors);
            validate_mode(source.default_mode, &at.child("defaultMode"), errors);
        }
        let sources = [
            volume.empty_dir.is_some(),
            volume.host_path.is_some(),
            volume.config_map.is_some(),
            volume.secret.is_some(),
            volume.persistent_volume_claim.is_some(),
            volume.projected.is_some(),
            volume.downward_api.is_some(),
        ];
        match sources.iter().filter(|s| **s).count() {
            0 => errors.push(FieldError::required(&at, "must specify a volume type")),
            1 => {}
            _ => errors.push(FieldError::forbidden(
                &at,
                "may not specify more than 1 volume type",
            )),
        }
    }
    seen
}

/// A ConfigMap's or Secret's name, as a reference to one.
fn validate_ref_name(name: &str, path: &Path, errors: &mut ErrorList) {
    if name.is_empty() {
        errors.push(FieldError::required(path, ""));
    } else {
        for problem in names::dns1123_subdomain(name) {
            errors.push(FieldError::invalid(path, name, &problem));
        }
    }
}

/// `configMapKeyRef` and `secretKeyRef`: an object and one of its keys.
fn validate_key_selector(selector: &KeySelector, path: &Path, errors: &mut ErrorList) {
    validate_ref_name(&selector.name, &path.child("name"), errors);
    if selector.key.is_empty() {
        errors.push(FieldError::required(&path.child("key"), ""));
    } else {
        for problem in names::config_key(&selector.key) {
            errors.push(FieldError::invalid(
                &path.child("key"),
                &selector.key,
                &problem,
            ));
        }
    }
}

/// A file mode Kubernetes accepts: permission bits only.
fn validate_mode(mode: Option<i32>, path: &Path, errors: &mut ErrorList) {
    if let Some(mode) = mode.filter(|mode| !(0..=0o777).contains(mode)) {
        errors.push(FieldError::invalid(
            path,
            mode,
            "must be a number between 0 and 0777 (octal), both inclusive",
        ));
    }
}

/// A ConfigMap or Secret volume's items: known-format keys, each at a
/// relative path that stays inside the volume.
fn validate_items(items: &[KeyToPath], path: &Path, errors: &mut ErrorList) {
    for (i, item) in items.iter().enumerate() {
        let at = path.child("items").index(i);
        if item.key.is_empty() {
            errors.push(FieldError::required(&at.child("key"), ""));
        }
        let file = &item.path;
        if file.is_empty() {
            errors.push(FieldError::required(&at.child("path"), ""));
        } else if file.starts_with('/') {
            errors.push(FieldError::invalid(
                &at.child("path"),
                file,
                "must be a relative path",
            ));
        } else if file.split('/').any(|part| part == "..") {
            errors.push(FieldError::invalid(
                &at.child("path"),
                file,
                "must not contain '..'",
            ));
        } else if file.starts_with("..") {
            errors.push(FieldError::invalid(
                &at.child("path"),
                file,
                "must not start with '..'",
            ));
        }
        validate_mode(item.mode, &at.child("mode"), errors);
    }
}

fn validate_container(
    container: &Container,
    path: &Path,
    volumes: &BTreeSet<&str>,
    is_init: bool,
    errors: &mut ErrorList,
) {
    if container.name.is_empty() {
        errors.push(FieldError::required(&path.child("name"), ""));
    } else {
        for problem in names::dns1123_label(&container.name) {
            errors.push(FieldError::invalid(
                &path.child("name"),
                &container.name,
                &problem,
            ));
        }
    }
    if container
        .image
        .as_deref()
        .is_none_or(|i| i.trim().is_empty())
    {
        errors.push(FieldError::required(&path.child("image"), ""));
    }
    let mut port_names = BTreeSet::new();
    for (i, port) in container.ports.iter().enumerate() {
        let at = path.child("ports").index(i);
        validate_port_number(port.container_port, &at.child("containerPort"), errors);
        if let Some(host_port) = port.host_port.filter(|p| *p != 0) {
            validate_port_number(host_port, &at.child("hostPort"), errors);
        }
        validate_one_of(
            port.protocol.as_deref(),
            PROTOCOLS,
            &at.child("protocol"),
            errors,
        );
        if let Some(name) = port.name.as_deref() {
            for problem in names::port_name(name) {
                errors.push(FieldError::invalid(&at.child("name"), name, &problem));
            }
            if !port_names.insert(name) {
                errors.push(FieldError::duplicate(&at.child("name"), name));
            }
        }
    }
    for (i, env) in container.env.iter().enumerate() {
        let at = path.child("env").index(i);
        if env.name.is_empty() {
            errors.push(FieldError::required(&at.child("name"), ""));
        } else {
            for problem in names::env_var_name(&env.name) {
                errors.push(FieldError::invalid(&at.child("name"), &env.name, &problem));
            }
        }
        if env.value.as_deref().is_some_and(|v| !v.is_empty()) && env.value_from.is_some() {
            let detail = "may not be specified when `value` is not empty";
            errors.push(FieldError::invalid(&at.child("valueFrom"), "", detail));
        }
        if let Some(source) = &env.value_from {
            let at = at.child("valueFrom");
            let refs = [
                ("configMapKeyRef", &source.config_map_key_ref),
                ("secretKeyRef", &source.secret_key_ref),
            ];
            for (field, selector) in refs {
                if let Some(selector) = selector {
                    validate_key_selector(selector, &at.child(field), errors);
                }
            }
        }
    }
    for (i, source) in container.env_from.iter().enumerate() {
        let at = path.child("envFrom").index(i);
        if let Some(prefix) = source.prefix.as_deref().filter(|p| !p.is_empty()) {
            for problem in names::env_var_name(prefix) {
                errors.push(FieldError::invalid(&at.child("prefix"), prefix, &problem));
            }
        }
        match (&source.config_map_ref, &source.secret_ref) {
            (Some(_), Some(_)) => errors.push(FieldError::forbidden(
                &at,
                "may not have more than one field specified at a time",
            )),
            (None, None) => errors.push(FieldError::required(
                &at,
                "must specify one of: `configMapRef` or `secretRef`",
            )),
            (Some(reference), None) => validate_ref_name(
                &reference.name,
                &at.child("configMapRef").child("name"),
                errors,
            ),
            (None, Some(reference)) => validate_ref_name(
                &reference.name,
                &at.child("secretRef").child("name"),
                errors,
            ),
        }
    }
    for (i, mount) in container.volume_mounts.iter().enumerate() {
        let at = path.child("volumeMounts").index(i);
        if mount.name.is_empty() {
            errors.push(FieldError::required(&at.child("name"), ""));
        } else if !volumes.contains(mount.name.as_str()) {
            errors.push(FieldError::not_found(&at.child("name"), &mount.name));
        }
        if mount.mount_path.is_empty() {
            errors.push(FieldError::required(&at.child("mountPath"), ""));
        }
    }
    validate_one_of(
        container.image_pull_policy.as_deref(),
        PULL_POLICIES,
        &path.child("imagePullPolicy"),
        errors,
    );
    validate_one_of(
        container.termination_message_policy.as_deref(),
        MESSAGE_POLICIES,
        &path.child("terminationMessagePolicy"),
        errors,
    );
    let probes = [
        ("livenessProbe", &container.liveness_probe),
        ("readinessProbe", &container.readiness_probe),
        ("startupProbe", &container.startup_probe),
    ];
    for (field, probe) in probes {
        let Some(probe) = probe else { continue };
        let at = path.child(field);
        if is_init {
            errors.push(FieldError::forbidden(
                &at,
                "may not be set for init containers",
            ));
            continue;
        }
        validate_probe(probe, &at, field != "readinessProbe", errors);
    }
}

/// Exactly one handler; timings not negative. Liveness and startup probes
/// must succeed once to count: a higher threshold would only delay restarts.
fn validate_probe(probe: &Probe, path: &Path, success_must_be_one: bool, errors: &mut ErrorList) {
    let handlers = [
        probe.exec.is_some(),
        probe.http_get.is_some(),
        probe.tcp_socket.is_some(),
    ];
    match handlers.iter().filter(|h| **h).count() {
        0 => errors.push(FieldError::required(path, "must specify a handler type")),
        1 => {}
        _ => errors.push(FieldError::forbidden(
            path,
            "may not specify more than 1 handler type",
        )),
    }
    let timings = [
        ("initialDelaySeconds", probe.initial_delay_seconds),
        ("timeoutSeconds", probe.timeout_seconds),
        ("periodSeconds", probe.period_seconds),
        ("successThreshold", probe.success_threshold),
        ("failureThreshold", probe.failure_threshold),
    ];
    for (field, value) in timings {
        validate_non_negative(value.map(i64::from), &path.child(field), errors);
    }
    if success_must_be_one && let Some(threshold) = probe.success_threshold.filter(|t| *t != 1) {
        errors.push(FieldError::invalid(
            &path.child("successThreshold"),
            threshold,
            "must be 1",
        ));
    }
    if let Some(http) = &probe.http_get
        && let crate::intstr::IntOrString::Int(port) = http.port
    {
        validate_port_number(port, &path.child("httpGet").child("port"), errors);
    }
}

/// On update only the images (and a few scheduling fields) of a pod may
/// change: the kubelet restarts a container for a new image, but would have
/// to recreate the pod for anything else, which is the ReplicaSet's job.
pub fn validate_pod_update(new: &Pod, old: &Pod) -> ErrorList {
    let mut errors = validate_object_meta_update(&new.metadata, &old.metadata);
    errors.extend(validate_pod(new));
    let mut comparable = new.spec.clone();
    for (container, old_container) in comparable
        .containers
        .iter_mut()
        .chain(comparable.init_containers.iter_mut())
        .zip(
            old.spec
                .containers
                .iter()
                .chain(old.spec.init_containers.iter()),
        )
    {
        container.image.clone_from(&old_container.image);
    }
    comparable.active_deadline_seconds = old.spec.active_deadline_seconds;
    if old
        .spec
        .tolerations
        .iter()
        .all(|t| comparable.tolerations.contains(t))
    {
        comparable.tolerations.clone_from(&old.spec.tolerations);
    }
    if comparable.containers.len() != old.spec.containers.len() || comparable != old.spec {
        errors.push(FieldError::forbidden(
            &Path::new("spec"),
            "pod updates may not change fields other than `spec.containers[*].image`, \
             `spec.initContainers[*].image`, `spec.activeDeadlineSeconds` or \
             `spec.tolerations` (only additions to existing tolerations)",
        ));
    }
    errors
}
