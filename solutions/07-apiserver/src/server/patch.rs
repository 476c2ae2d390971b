//! PATCH: the four patch types, applied to the stored object, then the
//! result goes through the same checks as an update.

use objects::patch::{merge_patch, strategic_merge_patch};
use objects::resource::Object;
use serde_json::Value;

use super::Server;
use super::errors::{ApiError, ApiResult};
use super::handlers::{Part, create_object, replace, unknown_field_warnings};
use super::objects::{decode_request, from_entry, parse_body};
use super::paths::key;
use super::request::Call;
use crate::store::Precondition;

/// The patch types, by content type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchType {
    /// RFC 6902: a list of operations.
    Json,
    /// RFC 7386: a partial object; `null` deletes, lists replace.
    Merge,
    /// Kubernetes': lists of named things merge by their keys.
    Strategic,
    /// Server-side apply: the full intent of one manager, in YAML or JSON.
    Apply,
}

pub const ACCEPTED: [&str; 4] = [
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
    "application/apply-patch+yaml",
];

impl PatchType {
    pub fn from_content_type(content_type: &str) -> ApiResult<PatchType> {
        match content_type {
            "application/json-patch+json" => Ok(PatchType::Json),
            "application/merge-patch+json" => Ok(PatchType::Merge),
            "application/strategic-merge-patch+json" => Ok(PatchType::Strategic),
            "application/apply-patch+yaml" | "application/apply-patch+json" => Ok(PatchType::Apply),
            _ => Err(ApiError::of(objects::Status::unsupported_media_type(
                &ACCEPTED,
            ))),
        }
    }
}

// ANCHOR: apply_patch
/// Applies a patch of `kind` to an object's JSON.
pub fn apply_patch(target: &mut Value, patch: &Value, kind: PatchType) -> Result<(), String> {
    match kind {
        PatchType::Merge => {
            merge_patch(target, patch);
            Ok(())
        }
        PatchType::Strategic | PatchType::Apply => strategic_merge_patch(target, patch),
        PatchType::Json => {
            let operations: json_patch::Patch = serde_json::from_value(patch.clone())
                .map_err(|error| format!("not a JSON patch: {error}"))?;
            json_patch::patch(target, &operations).map_err(|error| error.to_string())
        }
    }
}
// ANCHOR_END: apply_patch

/// How many times a patch is re-applied when someone else wrote the object
/// between our read and our write.
const RETRIES: usize = 5;

/// Patches the object (or its status) named by the call; returns it and
/// the warnings about unknown fields.
pub async fn apply(server: &Server, call: &Call, part: Part) -> ApiResult<(Object, Vec<String>)> {
    let info = call.target.info;
    let kind = PatchType::from_content_type(&call.content_type)?;
    let patch = parse_body(&call.body, kind == PatchType::Apply)?;
    let namespace = call.target.namespace.as_deref();
    let name = call.target.name.clone().unwrap_or_default();
    let key = key(info, namespace, &name);
    if kind == PatchType::Apply && call.query.get("fieldManager").is_none() {
        return Err(ApiError::bad_request(
            "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch",
        ));
    }
    for _ in 0..RETRIES {
        let Some(entry) = server.store.get(&key) else {
            if kind == PatchType::Apply && part == Part::Main {
                // Server-side apply creates what does not exist.
                let decoded = decode_request(info, &patch)?;
                let warnings = unknown_field_warnings(&call.query, &decoded.unknown_fields)?;
                let created =
                    create_object(server, info, namespace, decoded.object, &call.query).await?;
                return Ok((created, warnings));
            }
            return Err(ApiError::not_found(info, &name));
        };
        let current = from_entry(info, &entry);
        let mut value = current.to_value();
        // A patch that names a resourceVersion is a precondition.
        let precondition = match patch
            .pointer("/metadata/resourceVersion")
            .and_then(Value::as_str)
        {
            Some(version) if version != entry.mod_revision.to_string() => {
                return Err(ApiError::of(objects::Status::conflict(info, &name)));
            }
            Some(_) => Some(entry.mod_revision),
            None => None,
        };
        apply_patch(&mut value, &patch, kind).map_err(|message| {
            ApiError::of(objects::Status::failure(
                422,
                "Invalid",
                format!("the patch cannot be applied: {message}"),
            ))
        })?;
        let decoded = decode_request(info, &value)?;
        let warnings = unknown_field_warnings(&call.query, &decoded.unknown_fields)?;
        let mut object = decoded.object;
        object.metadata_mut().resource_version = None;
        match replace(
            server,
            info,
            call,
            &entry,
            object,
            part,
            Precondition::Revision(entry.mod_revision),
        )
        .await
        {
            Err(ApiError(status)) if status.code == 409 && precondition.is_none() => continue,
            result => return result.map(|object| (object, warnings)),
        }
    }
    Err(ApiError::of(objects::Status::conflict(info, &name)))
}
