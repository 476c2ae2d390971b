//! The node's HTTP server: container logs and exec, which the API server's
//! `pods/log` and `pods/exec` reach through the address and port the Node
//! advertises (`status.addresses`, `status.daemonEndpoints`).
//!
//! - `GET /containerLogs/{namespace}/{pod}/{container}` ([`logs`]).
//! - `GET|POST /exec/{namespace}/{pod}/{container}` ([`exec`]), upgraded
//!   to a WebSocket.
//!
//! Authentication: none yet. The server trusts whoever reaches it, which
//! is only safe while it listens where only the API server (loopback, or
//! the cluster's own network) can call; the real kubelet serves TLS and
//! asks the API server whether each caller may (chapter 12).

pub mod exec;
pub mod logs;

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use pods::{ExecStreams, PodIo};

/// How the server finds a running pod: the agent knows its pods.
pub trait PodLookup: Send + Sync {
    /// The pod `name` of `namespace` on this node, if it runs here.
    fn find(&self, namespace: &str, name: &str) -> Option<PodIo>;
}

/// A query string with its repeated keys kept (`command=sh&command=-c`).
#[derive(Debug, Clone, Default)]
pub struct Query(HashMap<String, Vec<String>>);

impl Query {
    pub fn parse(raw: Option<&str>) -> Query {
        let mut values: HashMap<String, Vec<String>> = HashMap::new();
        for pair in raw.unwrap_or("").split('&').filter(|pair| !pair.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            values.entry(decode(key)).or_default().push(decode(value));
        }
        Query(values)
    }

    pub fn all(&self, key: &str) -> &[String] {
        self.0.get(key).map(Vec::as_slice).unwrap_or_default()
    }

    pub fn first(&self, key: &str) -> Option<&str> {
        self.all(key)
            .first()
            .map(String::as_str)
            .filter(|value| !value.is_empty())
    }

    /// A boolean as Go parses one (`1`, `t`, `true`...); absent is false.
    pub fn flag(&self, key: &str) -> bool {
        matches!(
            self.first(key),
            Some("1" | "t" | "T" | "TRUE" | "true" | "True")
        )
    }
}

/// Percent-decoding, `+` as a space; a broken escape stays as it is.
fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        match bytes[index] {
            b'+' => out.push(b' '),
            b'%' if index + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[index + 1..index + 3]).ok();
                match hex.and_then(|hex| u8::from_str_radix(hex, 16).ok()) {
                    Some(byte) => {
                        out.push(byte);
                        index += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            byte => out.push(byte),
        }
        index += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Serves logs and exec on `listener` until `shutdown` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    pods: Arc<dyn PodLookup>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(pods))
        .with_graceful_shutdown(shutdown)
        .await
}

/// The routes, for [`serve`] and for tests.
pub fn router(pods: Arc<dyn PodLookup>) -> Router {
    Router::new()
        .route(
            "/containerLogs/{namespace}/{pod}/{container}",
            get(container_logs),
        )
        .route(
            "/exec/{namespace}/{pod}/{container}",
            get(exec_upgrade).post(exec_upgrade),
        )
        .with_state(pods)
}

fn find(pods: &dyn PodLookup, namespace: &str, name: &str) -> Result<PodIo, (StatusCode, String)> {
    pods.find(namespace, name).ok_or_else(|| {
        (
            StatusCode::NOT_FOUND,
            format!("pod \"{namespace}/{name}\" does not exist on this node"),
        )
    })
}

async fn container_logs(
    State(pods): State<Arc<dyn PodLookup>>,
    Path((namespace, name, container)): Path<(String, String, String)>,
    RawQuery(query): RawQuery,
) -> Response {
    let pod = match find(pods.as_ref(), &namespace, &name) {
        Ok(pod) => pod,
        Err(response) => return response.into_response(),
    };
    let query = Query::parse(query.as_deref());
    match logs::LogOptions::from_query(&query, chrono::Utc::now()) {
        Ok(options) => logs::serve(pod, container, options).await,
        Err(message) => (StatusCode::BAD_REQUEST, message).into_response(),
    }
}

async fn exec_upgrade(
    State(pods): State<Arc<dyn PodLookup>>,
    Path((namespace, name, container)): Path<(String, String, String)>,
    RawQuery(query): RawQuery,
    upgrade: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> Response {
    let Ok(upgrade) = upgrade else {
        // SPDY (the POST of kubectl before 1.31) is not spoken here.
        return (
            StatusCode::BAD_REQUEST,
            format!(
                "exec on this node needs a WebSocket upgrade with subprotocol {} or {} (kubectl 1.30 or later); SPDY is not supported",
                exec::V5,
                exec::V4
            ),
        )
            .into_response();
    };
    let pod = match find(pods.as_ref(), &namespace, &name) {
        Ok(pod) => pod,
        Err(response) => return response.into_response(),
    };
    let query = Query::parse(query.as_deref());
    let command = query.all("command").to_vec();
    if command.is_empty() {
        return (StatusCode::BAD_REQUEST, "no command given").into_response();
    }
    let tty = query.flag("tty");
    let request = exec::ExecRequest {
        command,
        streams: ExecStreams {
            stdin: query.flag("stdin"),
            stdout: query.flag("stdout"),
            // A terminal has one output.
            stderr: query.flag("stderr") && !tty,
            tty,
        },
    };
    let upgrade = upgrade.protocols(exec::PROTOCOLS);
    if upgrade.selected_protocol().is_none() {
        return (
            StatusCode::BAD_REQUEST,
            format!(
                "none of the requested subprotocols is spoken here: use {} or {}",
                exec::V5,
                exec::V4
            ),
        )
            .into_response();
    }
    upgrade.on_upgrade(move |socket| exec::run(socket, pod, container, request))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_keeps_repeated_keys_and_decodes_them() {
        let query = Query::parse(Some(
            "command=sh&command=-c&command=echo+a%20b%3B&stdin=true&tty=1&stdout=0&bad=%zz",
        ));
        assert_eq!(query.all("command"), ["sh", "-c", "echo a b;"]);
        assert!(query.flag("stdin") && query.flag("tty"));
        assert!(!query.flag("stdout") && !query.flag("stderr"));
        assert_eq!(query.first("bad"), Some("%zz"));
        assert_eq!(query.first("missing"), None);
    }
}
