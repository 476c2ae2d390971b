// Generated from solutions/06-objects/src/status.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
//! `Status`: how the API server answers an error (and some successes).
//!
//! Clients branch on `reason` and `code`, and people read `message`, so both
//! follow Kubernetes to the letter: `kubectl` prints the message as is
//! (`Error from server (NotFound): pods "web" not found`).

use crate::field::{ErrorList, FieldError};
use crate::meta::ListMeta;
use crate::resource::ResourceInfo;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    pub api_version: String,
    pub kind: String,
    #[serde(default)]
    pub metadata: ListMeta,
    /// `Success` or `Failure`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// `NotFound`, `AlreadyExists`, `Conflict`, `Invalid`...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<StatusDetails>,
    /// The HTTP status code, repeated in the body.
    #[serde(default)]
    pub code: u16,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusDetails {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub causes: Vec<StatusCause>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_seconds: Option<i32>,
}

/// One field's problem: `{reason: FieldValueRequired, field: spec.containers[0].image}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StatusCause {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl From<&FieldError> for StatusCause {
    fn from(error: &FieldError) -> StatusCause {
        StatusCause {
            reason: Some(error.error_type.reason().to_string()),
            message: Some(error.body()),
            field: Some(error.field.clone()),
        }
    }
}

impl Status {
    /// A failure with this code, reason and message.
    pub fn failure(code: u16, reason: &str, message: impl Into<String>) -> Status {
        Status {
            api_version: "v1".into(),
            kind: "Status".into(),
            metadata: ListMeta::default(),
            status: Some("Failure".into()),
            message: Some(message.into()),
            reason: Some(reason.into()),
            details: None,
            code,
        }
    }

    /// The answer to a successful delete of a kind that returns a Status.
    pub fn success(info: &ResourceInfo, name: &str) -> Status {
        Status {
            api_version: "v1".into(),
            kind: "Status".into(),
            metadata: ListMeta::default(),
            status: Some("Success".into()),
            message: None,
            reason: None,
            details: Some(details(info, name)),
            code: 200,
        }
    }

    /// 404: `pods "web" not found`.
    pub fn not_found(info: &ResourceInfo, name: &str) -> Status {
        let message = format!("{} {name:?} not found", info.group_resource());
        Status {
            details: Some(details(info, name)),
            ..Status::failure(404, "NotFound", message)
        }
    }

    /// 409: `pods "web" already exists`.
    pub fn already_exists(info: &ResourceInfo, name: &str) -> Status {
        let message = format!("{} {name:?} already exists", info.group_resource());
        Status {
            details: Some(details(info, name)),
            ..Status::failure(409, "AlreadyExists", message)
        }
    }

    /// 409: the update was based on an old `resourceVersion`.
    pub fn conflict(info: &ResourceInfo, name: &str) -> Status {
        let message = format!(
            "Operation cannot be fulfilled on {} {name:?}: the object has been modified; \
             please apply your changes to the latest version and try again",
            info.group_resource()
        );
        Status {
            details: Some(details(info, name)),
            ..Status::failure(409, "Conflict", message)
        }
    }

    // ANCHOR: invalid
    /// 422: validation failed; one cause per field error.
    ///
    /// The message lists every error, bracketed when there is more than
    /// one: `Deployment.apps "web" is invalid: [spec.replicas: ..., ...]`.
    pub fn invalid(info: &ResourceInfo, name: &str, errors: &ErrorList) -> Status {
        let message = format!(
            "{} {name:?} is invalid: {}",
            info.qualified_kind(),
            errors.aggregate()
        );
        let details = StatusDetails {
            name: Some(name.to_string()),
            group: Some(info.group.to_string()),
            kind: Some(info.kind.to_string()),
            causes: errors.iter().map(StatusCause::from).collect(),
            ..StatusDetails::default()
        };
        Status {
            details: Some(details),
            ..Status::failure(422, "Invalid", message)
        }
    }
    // ANCHOR_END: invalid

    /// 400: a request the server cannot make sense of.
    pub fn bad_request(message: impl Into<String>) -> Status {
        Status::failure(400, "BadRequest", message)
    }

    /// 410: a watch or list from a `resourceVersion` the server no longer keeps.
    pub fn expired(message: impl Into<String>) -> Status {
        Status::failure(410, "Expired", message)
    }

    /// 410: the resource is gone for good.
    pub fn gone(message: impl Into<String>) -> Status {
        Status::failure(410, "Gone", message)
    }

    /// 405.
    pub fn method_not_allowed() -> Status {
        Status::failure(
            405,
            "MethodNotAllowed",
            "the server does not allow this method on the requested resource",
        )
    }

    /// 415: a body in a format the server does not read.
    pub fn unsupported_media_type(accepted: &[&str]) -> Status {
        let message = format!(
            "the body of the request was in an unknown format - accepted media types include: {}",
            accepted.join(", ")
        );
        Status::failure(415, "UnsupportedMediaType", message)
    }

    /// 413.
    pub fn request_entity_too_large(limit: usize) -> Status {
        Status::failure(
            413,
            "RequestEntityTooLarge",
            format!("Request entity too large: limit is {limit}"),
        )
    }

    /// 500: a bug or a storage failure; never a panic.
    pub fn internal_error(message: impl Into<String>) -> Status {
        let message = format!("Internal error occurred: {}", message.into());
        Status::failure(500, "InternalError", message)
    }
}

fn details(info: &ResourceInfo, name: &str) -> StatusDetails {
    StatusDetails {
        name: Some(name.to_string()),
        group: (!info.group.is_empty()).then(|| info.group.to_string()),
        kind: Some(info.plural.to_string()),
        ..StatusDetails::default()
    }
}
