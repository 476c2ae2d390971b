// Generated from solutions/07-apiserver/src/client/error.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
//! What can go wrong when talking to the API server.
//!
//! Callers branch on *why* a request failed far more often than on *how*:
//! a controller creates a pod and treats AlreadyExists as success, retries
//! an update on Conflict, relists on Expired. So every answer the server
//! gives with an error code becomes a [`Status`] (the server's own, or one
//! made from the code when the body is not a Status, as a proxy in between
//! might send), and the helpers below test its reason.

use objects::Status;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server answered with an error code; its `Status` says why.
    #[error("{} ({})", api_message(.0), .0.reason.as_deref().unwrap_or("Failure"))]
    Api(Box<Status>),
    /// No answer: the connection failed, broke or timed out.
    #[error("request to the API server failed: {0}")]
    Http(#[from] reqwest::Error),
    /// An answer this client cannot read (not the JSON it expects).
    #[error("cannot decode the server's answer: {error}: {body}")]
    Decode {
        error: serde_json::Error,
        /// The start of the body, for the error message.
        body: String,
    },
    /// A watch stream that ended in the middle of an event.
    #[error("the watch stream broke off in the middle of an event")]
    TruncatedWatch,
    /// A request this client refuses to send (a bad URL, a namespaced
    /// object without a namespace, an object without a name).
    #[error("invalid request: {0}")]
    Request(String),
}

fn api_message(status: &Status) -> String {
    match &status.message {
        Some(message) if !message.is_empty() => message.clone(),
        _ => format!("the server answered {}", status.code),
    }
}

impl ClientError {
    /// The server's `Status`, when the server answered.
    pub fn status(&self) -> Option<&Status> {
        match self {
            ClientError::Api(status) => Some(status),
            _ => None,
        }
    }

    /// The HTTP code of the server's answer.
    pub fn code(&self) -> Option<u16> {
        self.status().map(|s| s.code)
    }

    /// The `reason` of the server's answer (`NotFound`, `Conflict`...).
    pub fn reason(&self) -> Option<&str> {
        self.status().and_then(|s| s.reason.as_deref())
    }

    /// No answer (the server is down, restarting or unreachable), or one
    /// that says to come back later (429, 5xx): worth trying again.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, ClientError::Http(_))
            || self.code().is_some_and(|code| code == 429 || code >= 500)
    }

    /// 404: the object (or its namespace) does not exist.
    pub fn is_not_found(&self) -> bool {
        self.reason() == Some("NotFound") || self.code() == Some(404)
    }

    /// 409 AlreadyExists: a create of a name that is taken.
    pub fn is_already_exists(&self) -> bool {
        self.reason() == Some("AlreadyExists")
    }

    /// 409 Conflict: an update based on a stale `resourceVersion`; read
    /// the object again, apply the change again, retry.
    pub fn is_conflict(&self) -> bool {
        self.reason() == Some("Conflict")
    }

    /// 422 Invalid: the object failed validation; see [`ClientError::causes`].
    pub fn is_invalid(&self) -> bool {
        self.reason() == Some("Invalid") || self.code() == Some(422)
    }

    /// 410: the `resourceVersion` a watch or list asked for is older than
    /// the history the server keeps. Watching cannot continue: list again.
    pub fn is_expired(&self) -> bool {
        matches!(self.reason(), Some("Expired" | "Gone")) || self.code() == Some(410)
    }

    /// The per-field causes of an Invalid error: `(field, message)`.
    pub fn causes(&self) -> Vec<(String, String)> {
        let Some(details) = self.status().and_then(|s| s.details.as_ref()) else {
            return Vec::new();
        };
        details
            .causes
            .iter()
            .map(|cause| {
                (
                    cause.field.clone().unwrap_or_default(),
                    cause.message.clone().unwrap_or_default(),
                )
            })
            .collect()
    }
}

impl From<Status> for ClientError {
    fn from(status: Status) -> ClientError {
        ClientError::Api(Box::new(status))
    }
}

/// The Status for an error answer: the body when it is one, otherwise one
/// made from the code, as client-go does for a bare `503` from a proxy.
pub(crate) fn status_from_answer(code: u16, body: &[u8]) -> Status {
    let parsed = serde_json::from_slice::<Status>(body).ok();
    if let Some(status) = parsed.filter(|s| s.kind == "Status") {
        let code = if status.code == 0 { code } else { status.code };
        return Status { code, ..status };
    }
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    let message = if text.is_empty() {
        format!("the server answered {code} without a body")
    } else {
        format!("the server answered {code}: {}", shorten(text))
    };
    Status::failure(code, reason_for_code(code), message)
}

/// The reason the Kubernetes API server gives for each code.
fn reason_for_code(code: u16) -> &'static str {
    match code {
        400 => "BadRequest",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "NotFound",
        405 => "MethodNotAllowed",
        409 => "Conflict",
        410 => "Expired",
        413 => "RequestEntityTooLarge",
        415 => "UnsupportedMediaType",
        422 => "Invalid",
        429 => "TooManyRequests",
        500 => "InternalError",
        503 => "ServiceUnavailable",
        504 => "Timeout",
        _ => "Unknown",
    }
}

/// At most a few hundred characters of a body, for messages.
pub(crate) fn shorten(text: &str) -> String {
    const MAX: usize = 300;
    match text.char_indices().nth(MAX) {
        Some((end, _)) => format!("{}...", &text[..end]),
        None => text.to_string(),
    }
}
