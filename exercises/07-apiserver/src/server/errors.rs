// Generated from solutions/07-apiserver/src/server/errors.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
//! Every failure is a Kubernetes `Status` with the right code and reason:
//! clients (kubectl, the Python client) read the reason, not the text.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use objects::resource::ResourceInfo;
use objects::{ErrorList, Status};

use crate::store::StoreError;

/// A failed request, answered with its Status (boxed: a Status is large,
/// and every handler returns a Result of this).
#[derive(Debug)]
pub struct ApiError(pub Box<Status>);

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn of(status: Status) -> ApiError {
        ApiError(Box::new(status))
    }

    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::of(Status::bad_request(message))
    }

    pub fn not_found(info: &ResourceInfo, name: &str) -> ApiError {
        ApiError::of(Status::not_found(info, name))
    }

    pub fn invalid(info: &ResourceInfo, name: &str, errors: &ErrorList) -> ApiError {
        ApiError::of(Status::invalid(info, name, errors))
    }

    pub fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError::of(Status::failure(403, "Forbidden", message))
    }

    pub fn unauthorized() -> ApiError {
        ApiError::of(Status::failure(401, "Unauthorized", "Unauthorized"))
    }

    pub fn method_not_allowed() -> ApiError {
        ApiError::of(Status::method_not_allowed())
    }

    pub fn unavailable(message: impl Into<String>) -> ApiError {
        ApiError::of(Status::failure(503, "ServiceUnavailable", message))
    }

    /// A read not older than a resourceVersion the store has not reached
    /// (kube-apiserver's `NewTooLargeResourceVersionError`): 504 Timeout,
    /// with the cause clients look for and a hint to retry in a second.
    pub fn too_large_resource_version(requested: u64, current: u64) -> ApiError {
        let mut status = Status::failure(
            504,
            "Timeout",
            format!("Timeout: Too large resource version: {requested}, current: {current}"),
        );
        status.details = Some(objects::StatusDetails {
            causes: vec![objects::StatusCause {
                reason: Some("ResourceVersionTooLarge".into()),
                message: Some("Too large resource version".into()),
                field: None,
            }],
            retry_after_seconds: Some(1),
            ..Default::default()
        });
        ApiError::of(status)
    }

    /// A path that names nothing the server serves.
    pub fn no_such_path(path: &str) -> ApiError {
        ApiError::of(Status::failure(
            404,
            "NotFound",
            format!("the server could not find the requested resource ({path})"),
        ))
    }

    /// The store's refusal of a write, in the API's words.
    pub fn from_store(error: StoreError, info: &ResourceInfo, name: &str) -> ApiError {
        match error {
            StoreError::AlreadyExists => ApiError::of(Status::already_exists(info, name)),
            StoreError::NotFound => ApiError::not_found(info, name),
            StoreError::Conflict { .. } => ApiError::of(Status::conflict(info, name)),
            StoreError::Expired { requested, oldest } => ApiError::of(Status::expired(format!(
                "too old resource version: {requested} ({oldest})"
            ))),
            StoreError::Io(error) => ApiError::of(Status::internal_error(format!(
                "storage failed, nothing was written: {error}"
            ))),
            StoreError::Closed => ApiError::unavailable("the server is shutting down"),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let code = StatusCode::from_u16(self.0.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&self.0).expect("a Status serializes");
        let mut response = (code, body).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        response
    }
}
