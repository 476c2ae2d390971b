//! Validation as the API server does it on create and update: every
//! problem at once, each with its field path, in Kubernetes' words.
//!
//! One module per group of kinds; this one checks what all objects share
//! (metadata) and holds the small helpers the others use.

mod apps;
mod config;
mod discovery;
mod other;
mod pod;
mod service;

pub use apps::{
    validate_deployment, validate_deployment_update, validate_replica_set,
    validate_replica_set_update,
};
pub use config::{
    validate_config_map, validate_config_map_update, validate_secret, validate_secret_update,
};
pub use discovery::{validate_endpoint_slice, validate_endpoint_slice_update};
pub use other::{
    validate_endpoints, validate_event, validate_lease, validate_namespace, validate_node,
};
pub use pod::{validate_pod, validate_pod_spec, validate_pod_update};
pub use service::{validate_service, validate_service_update};

use crate::field::{ErrorList, FieldError, Path};
use crate::meta::{ObjectMeta, StringMap};
use crate::names;

/// Which format a kind's names must have.
pub type NameCheck = fn(&str) -> Vec<String>;

/// Checks `metadata`: a name (or `generateName`) in the kind's format, a
/// namespace exactly when the kind is namespaced, valid labels and
/// annotation keys.
pub fn validate_object_meta(
    meta: &ObjectMeta,
    namespaced: bool,
    name_check: NameCheck,
) -> ErrorList {
    let path = Path::new("metadata");
    let mut errors = ErrorList::new();
    match (meta.name.as_deref(), meta.generate_name.as_deref()) {
        (Some(name), _) if !name.is_empty() => {
            for problem in name_check(name) {
                errors.push(FieldError::invalid(&path.child("name"), name, &problem));
            }
        }
        (_, Some(prefix)) if !prefix.is_empty() => {
            // The prefix gets random characters appended; a trailing '-' is fine.
            let trimmed = prefix.trim_end_matches('-');
            for problem in name_check(if trimmed.is_empty() { prefix } else { trimmed }) {
                errors.push(FieldError::invalid(
                    &path.child("generateName"),
                    prefix,
                    &problem,
                ));
            }
        }
        _ => errors.push(FieldError::required(
            &path.child("name"),
            "name or generateName is required",
        )),
    }
    let namespace = meta.namespace();
    if namespaced {
        if namespace.is_empty() {
            errors.push(FieldError::required(&path.child("namespace"), ""));
        } else {
            for problem in names::dns1123_label(namespace) {
                errors.push(FieldError::invalid(
                    &path.child("namespace"),
                    namespace,
                    &problem,
                ));
            }
        }
    } else if !namespace.is_empty() {
        errors.push(FieldError::forbidden(
            &path.child("namespace"),
            "not allowed on this type",
        ));
    }
    errors.extend(validate_labels(&meta.labels, &path.child("labels")));
    for key in meta.annotations.keys() {
        for problem in names::qualified_name(&key.to_lowercase()) {
            errors.push(FieldError::invalid(
                &path.child("annotations"),
                key,
                &problem,
            ));
        }
    }
    validate_non_negative(meta.generation, &path.child("generation"), &mut errors);
    errors
}

/// Label keys and values; errors name the labels map, as Kubernetes does.
pub fn validate_labels(labels: &StringMap, path: &Path) -> ErrorList {
    let mut errors = ErrorList::new();
    for (key, value) in labels {
        for problem in names::qualified_name(key) {
            errors.push(FieldError::invalid(path, key, &problem));
        }
        for problem in names::label_value(value) {
            errors.push(FieldError::invalid(path, value, &problem));
        }
    }
    errors
}

/// On update: what identifies the object may not change.
pub fn validate_object_meta_update(new: &ObjectMeta, old: &ObjectMeta) -> ErrorList {
    let path = Path::new("metadata");
    let mut errors = ErrorList::new();
    let immutable = [
        ("name", new.name.clone(), old.name.clone()),
        ("namespace", new.namespace.clone(), old.namespace.clone()),
        ("uid", new.uid.clone(), old.uid.clone()),
        (
            "creationTimestamp",
            new.creation_timestamp.map(|t| t.to_string()),
            old.creation_timestamp.map(|t| t.to_string()),
        ),
    ];
    for (field, new_value, old_value) in immutable {
        if new_value != old_value {
            let shown = new_value.unwrap_or_default();
            errors.push(FieldError::invalid(
                &path.child(field),
                shown,
                "field is immutable",
            ));
        }
    }
    errors
}

/// A port number: 1 to 65535.
pub(crate) fn validate_port_number(port: i32, path: &Path, errors: &mut ErrorList) {
    if !(1..=65535).contains(&port) {
        errors.push(FieldError::invalid(
            path,
            port,
            "must be between 1 and 65535, inclusive",
        ));
    }
}

pub(crate) fn validate_non_negative(value: Option<i64>, path: &Path, errors: &mut ErrorList) {
    if let Some(value) = value.filter(|v| *v < 0) {
        errors.push(FieldError::invalid(
            path,
            value,
            "must be greater than or equal to 0",
        ));
    }
}

/// A value that must be one of a fixed set, when present.
pub(crate) fn validate_one_of(
    value: Option<&str>,
    supported: &[&str],
    path: &Path,
    errors: &mut ErrorList,
) {
    if let Some(value) = value.filter(|v| !supported.contains(v)) {
        errors.push(FieldError::not_supported(path, value, supported));
    }
}
