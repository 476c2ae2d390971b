// Generated from solutions/06-objects/src/validation/config.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
//! ConfigMaps and Secrets (`ValidateConfigMap`, `ValidateSecret` in
//! Kubernetes): keys that can be file names, a bounded size, and
//! `immutable` meaning what it says.

use super::{validate_object_meta, validate_object_meta_update};
use crate::config::{ConfigMap, MAX_SIZE, Secret};
use crate::field::{ErrorList, ErrorType, FieldError, Path};
use crate::names;

/// Kubernetes' words for a change to an object marked immutable.
const IMMUTABLE: &str = "field is immutable when `immutable` is set";

/// Each key a valid file name, no key both in `data` and `binaryData`,
/// at most 1 MiB of values.
pub fn validate_config_map(config_map: &ConfigMap) -> ErrorList {
    let mut errors = validate_object_meta(&config_map.metadata, true, names::dns1123_subdomain);
    let mut size = 0;
    for (key, value) in &config_map.data {
        let path = Path::new("data").key(key);
        for problem in names::config_key(key) {
            errors.push(FieldError::invalid(&path, key, &problem));
        }
        if config_map.binary_data.contains_key(key) {
            errors.push(FieldError::invalid(
                &path,
                key,
                "duplicate of key present in binaryData",
            ));
        }
        size += value.len();
    }
    for (key, value) in &config_map.binary_data {
        let path = Path::new("binaryData").key(key);
        for problem in names::config_key(key) {
            errors.push(FieldError::invalid(&path, key, &problem));
        }
        size += value.0.len();
    }
    if size > MAX_SIZE {
        // The empty path: the whole object is too big.
        errors.push(too_long(&Path::new("")));
    }
    errors
}

/// The create checks, plus: an immutable ConfigMap keeps its values and
/// stays immutable.
pub fn validate_config_map_update(new: &ConfigMap, old: &ConfigMap) -> ErrorList {
    let mut errors = validate_object_meta_update(&new.metadata, &old.metadata);
    if old.immutable == Some(true) {
        if new.immutable != Some(true) {
            errors.push(FieldError::forbidden(&Path::new("immutable"), IMMUTABLE));
        }
        if new.data != old.data {
            errors.push(FieldError::forbidden(&Path::new("data"), IMMUTABLE));
        }
        if new.binary_data != old.binary_data {
            errors.push(FieldError::forbidden(&Path::new("binaryData"), IMMUTABLE));
        }
    }
    errors.extend(validate_config_map(new));
    errors
}

/// Each key a valid file name, at most 1 MiB of values. `stringData` was
/// already merged into `data` by defaulting, so its keys are checked there.
pub fn validate_secret(secret: &Secret) -> ErrorList {
    let mut errors = validate_object_meta(&secret.metadata, true, names::dns1123_subdomain);
    let mut size = 0;
    for (key, value) in &secret.data {
        for problem in names::config_key(key) {
            errors.push(FieldError::invalid(
                &Path::new("data").key(key),
                key,
                &problem,
            ));
        }
        size += value.0.len();
    }
    if size > MAX_SIZE {
        errors.push(too_long(&Path::new("data")));
    }
    errors
}

/// The create checks, plus: the type is fixed for life (consumers read the
/// keys it promises), and an immutable Secret keeps its data.
pub fn validate_secret_update(new: &Secret, old: &Secret) -> ErrorList {
    let mut errors = validate_object_meta_update(&new.metadata, &old.metadata);
    if new.type_name() != old.type_name() {
        errors.push(FieldError::invalid(
            &Path::new("type"),
            new.type_name(),
            "field is immutable",
        ));
    }
    if old.immutable == Some(true) {
        if new.immutable != Some(true) {
            errors.push(FieldError::forbidden(&Path::new("immutable"), IMMUTABLE));
        }
        if new.data != old.data {
            errors.push(FieldError::forbidden(&Path::new("data"), IMMUTABLE));
        }
    }
    errors.extend(validate_secret(new));
    errors
}

fn too_long(path: &Path) -> FieldError {
    FieldError {
        error_type: ErrorType::TooLong,
        field: path.to_string(),
        value: String::new(),
        detail: format!("may not be more than {MAX_SIZE} bytes"),
    }
}
