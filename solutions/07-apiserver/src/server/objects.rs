//! Objects between the wire, the kinds of chapter 06 and the store.
//!
//! The store keeps each object's JSON without its resourceVersion: the
//! revision of the write that stored it *is* its resourceVersion, and is
//! only known once the write is committed. Reads put it back in (as the
//! real API server's storage layer does with etcd's revisions).

use objects::manifest::{DecodeError, Decoded, decode_value};
use objects::resource::{Object, Resource, ResourceInfo};
use objects::{
    ConfigMap, Deployment, EndpointSlice, Endpoints, ErrorList, Event, Lease, Namespace, Node, Pod,
    ReplicaSet, Secret, Service,
};
use serde_json::Value;

use super::errors::{ApiError, ApiResult};
use crate::store::Entry;

/// Decodes `value` as the kind `info` describes.
pub fn decode(info: &ResourceInfo, value: &Value) -> Result<Decoded<Object>, DecodeError> {
    fn typed<T: Resource>(
        value: &Value,
        wrap: fn(T) -> Object,
    ) -> Result<Decoded<Object>, DecodeError> {
        decode_value::<T>(value).map(|decoded| Decoded {
            object: wrap(decoded.object),
            unknown_fields: decoded.unknown_fields,
        })
    }
    match info.kind {
        "Namespace" => typed::<Namespace>(value, Object::Namespace),
        "Pod" => typed::<Pod>(value, Object::Pod),
        "Node" => typed::<Node>(value, Object::Node),
        "Service" => typed::<Service>(value, Object::Service),
        "Endpoints" => typed::<Endpoints>(value, Object::Endpoints),
        "Event" => typed::<Event>(value, Object::Event),
        "Deployment" => typed::<Deployment>(value, Object::Deployment),
        "ReplicaSet" => typed::<ReplicaSet>(value, Object::ReplicaSet),
        "Lease" => typed::<Lease>(value, Object::Lease),
        "EndpointSlice" => typed::<EndpointSlice>(value, Object::EndpointSlice),
        "ConfigMap" => typed::<ConfigMap>(value, Object::ConfigMap),
        "Secret" => typed::<Secret>(value, Object::Secret),
        other => unreachable!("{other} is not a kind this server serves"),
    }
}

/// Every check of an update: the new object's own (each kind's update
/// validation runs its create validation), then the fields that may not
/// change.
pub fn validate_update(new: &Object, old: &Object) -> ErrorList {
    match (new, old) {
        (Object::Namespace(n), Object::Namespace(o)) => n.validate_update(o),
        (Object::Pod(n), Object::Pod(o)) => n.validate_update(o),
        (Object::Node(n), Object::Node(o)) => n.validate_update(o),
        (Object::Service(n), Object::Service(o)) => n.validate_update(o),
        (Object::Endpoints(n), Object::Endpoints(o)) => n.validate_update(o),
        (Object::Event(n), Object::Event(o)) => n.validate_update(o),
        (Object::Deployment(n), Object::Deployment(o)) => n.validate_update(o),
        (Object::ReplicaSet(n), Object::ReplicaSet(o)) => n.validate_update(o),
        (Object::Lease(n), Object::Lease(o)) => n.validate_update(o),
        (Object::EndpointSlice(n), Object::EndpointSlice(o)) => n.validate_update(o),
        (Object::ConfigMap(n), Object::ConfigMap(o)) => n.validate_update(o),
        (Object::Secret(n), Object::Secret(o)) => n.validate_update(o),
        // Never reached: an update keeps its kind.
        (new, _) => new.validate(),
    }
}

/// Parses a request body as JSON (or YAML, which kubectl never sends but
/// people with curl do) into a value, refusing what is not text.
pub fn parse_body(body: &[u8], yaml: bool) -> ApiResult<Value> {
    let text = std::str::from_utf8(body)
        .map_err(|error| ApiError::bad_request(format!("the body is not UTF-8: {error}")))?;
    if yaml {
        return serde_yaml::from_str(text).map_err(|error| {
            ApiError::bad_request(format!("the body is not valid YAML: {error}"))
        });
    }
    serde_json::from_str(text)
        .map_err(|error| ApiError::bad_request(format!("the body is not valid JSON: {error}")))
}

/// Decodes a request's object: the kind in the body (when it says) must be
/// the kind of the path; unknown fields are returned for the caller to
/// warn about or refuse.
pub fn decode_request(info: &ResourceInfo, value: &Value) -> ApiResult<Decoded<Object>> {
    if !value.is_object() {
        return Err(ApiError::bad_request(format!(
            "the body must be a {} object",
            info.kind
        )));
    }
    let kind = value.get("kind").and_then(Value::as_str);
    let api_version = value.get("apiVersion").and_then(Value::as_str);
    if kind.is_some_and(|kind| kind != info.kind)
        || api_version.is_some_and(|version| version != info.api_version())
    {
        return Err(ApiError::bad_request(format!(
            "the body is a {} ({}), but the path is for {} ({})",
            kind.unwrap_or("?"),
            api_version.unwrap_or("?"),
            info.kind,
            info.api_version()
        )));
    }
    // A body may leave its kind out (the Python client does): the path
    // says what it is.
    let mut value = value.clone();
    value["kind"] = Value::from(info.kind);
    value["apiVersion"] = Value::from(info.api_version());
    decode(info, &value).map_err(|error| ApiError::bad_request(error.to_string()))
}

/// The JSON the store keeps: the object without its resourceVersion.
pub fn to_stored(object: &Object) -> Vec<u8> {
    let mut object = object.clone();
    object.metadata_mut().resource_version = None;
    serde_json::to_vec(&object).expect("API objects serialize")
}

/// A stored object, decoded, with its resourceVersion.
pub fn from_entry(info: &ResourceInfo, entry: &Entry) -> Object {
    let value: Value = serde_json::from_slice(&entry.value).expect("the store holds valid JSON");
    let mut object = decode(info, &value)
        .expect("the store holds objects it validated")
        .object;
    object.metadata_mut().resource_version = Some(entry.mod_revision.to_string());
    object
}

// ANCHOR: with_resource_version
/// A stored object's JSON with its resourceVersion put back, without
/// decoding it: inserted at the start of the top-level `metadata`, which
/// comes before any nested one (a pod template's) in our serialization.
pub fn with_resource_version(stored: &[u8], revision: u64) -> Vec<u8> {
    const METADATA: &[u8] = b"\"metadata\":{";
    let Some(at) = memchr::memmem::find(stored, METADATA) else {
        return stored.to_vec();
    };
    let at = at + METADATA.len();
    let field = format!("\"resourceVersion\":\"{revision}\"");
    let mut out = Vec::with_capacity(stored.len() + field.len() + 1);
    out.extend_from_slice(&stored[..at]);
    out.extend_from_slice(field.as_bytes());
    if stored.get(at) != Some(&b'}') {
        out.push(b',');
    }
    out.extend_from_slice(&stored[at..]);
    out
}
// ANCHOR_END: with_resource_version

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_resource_version_goes_into_the_top_level_metadata() {
        let stored = br#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web"},"spec":{}}"#;
        let out = String::from_utf8(with_resource_version(stored, 42)).unwrap();
        assert_eq!(
            out,
            r#"{"apiVersion":"v1","kind":"Pod","metadata":{"resourceVersion":"42","name":"web"},"spec":{}}"#
        );
        let empty = String::from_utf8(with_resource_version(br#"{"metadata":{}}"#, 7)).unwrap();
        assert_eq!(empty, r#"{"metadata":{"resourceVersion":"7"}}"#);
    }
}
