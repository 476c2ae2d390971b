// Generated from solutions/07-apiserver/src/server/node_proxy.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
//! `pods/log` and `pods/exec`: the API server has neither a pod's log nor
//! its processes; the node agent that runs it has. These subresources
//! find the pod's node, its address and its agent's port
//! (`status.daemonEndpoints.kubeletEndpoint.port`) and pass the request
//! on: the log as a streamed body, exec as an upgraded connection spliced
//! both ways (the WebSocket itself is between kubectl and the agent).
//!
//! The agent is called over plain HTTP and trusts its callers; the real
//! API server authenticates to the kubelet with a client certificate.

use std::net::{IpAddr, SocketAddr};

use axum::body::Body;
use axum::http::request::Parts;
use axum::http::{HeaderValue, Request, StatusCode, header};
use axum::response::Response;
use futures::TryStreamExt;
use hyper_util::rt::TokioIo;
use objects::resource::NODE;
use serde_json::Value;

use super::Server;
use super::errors::{ApiError, ApiResult};
use super::paths::{Target, key};

/// A pod's container, on its node's agent.
struct Located {
    agent: SocketAddr,
    namespace: String,
    pod: String,
    container: String,
}

fn internal(message: impl Into<String>) -> ApiError {
    ApiError::of(objects::Status::internal_error(message))
}

fn field<'a>(value: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(value, |value, key| value.get(key))
}

fn names(list: Option<&Value>) -> Vec<String> {
    list.and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|item| item["name"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Finds the container a request names (`container=`, or the pod's only
/// one) and the agent of the pod's node; Kubernetes' errors otherwise.
fn locate(
    server: &Server,
    target: &Target,
    container: Option<&str>,
    waits: bool,
) -> ApiResult<Located> {
    let info = target.info;
    let namespace = target.namespace.clone().unwrap_or_default();
    let name = target.name.clone().unwrap_or_default();
    let entry = server
        .store
        .get(&key(info, Some(&namespace), &name))
        .ok_or_else(|| ApiError::not_found(info, &name))?;
    let pod: Value = serde_json::from_slice(&entry.value)
        .map_err(|error| internal(format!("the stored pod is unreadable: {error}")))?;
    let containers = names(field(&pod, &["spec", "containers"]));
    let all: Vec<String> = names(field(&pod, &["spec", "initContainers"]))
        .into_iter()
        .chain(containers.iter().cloned())
        .collect();
    let container = match container {
        Some(container) => container.to_string(),
        None if containers.len() == 1 => containers[0].clone(),
        None => {
            return Err(ApiError::bad_request(format!(
                "a container name must be specified for pod {name}, choose one of: [{}]",
                containers.join(" ")
            )));
        }
    };
    if !all.contains(&container) {
        return Err(ApiError::bad_request(format!(
            "container {container:?} in pod {name:?} is not valid"
        )));
    }
    let node = field(&pod, &["spec", "nodeName"])
        .and_then(Value::as_str)
        .filter(|node| !node.is_empty())
        .ok_or_else(|| {
            ApiError::bad_request(format!("pod {name} does not have a host assigned"))
        })?;
    if waits {
        let statuses = ["initContainerStatuses", "containerStatuses"]
            .iter()
            .filter_map(|list| field(&pod, &["status", list]).and_then(Value::as_array))
            .flatten();
        let status = statuses
            .into_iter()
            .find(|status| status["name"].as_str() == Some(&container));
        let reason = match status {
            // Not reported yet: still being created.
            None => Some("ContainerCreating"),
            // A container waiting to run again (CrashLoopBackOff) has the
            // log of the run that ended, as the kubelet shows it.
            Some(status) => match (
                field(status, &["state", "waiting"]),
                field(status, &["lastState", "terminated"]),
            ) {
                (Some(waiting), None) => {
                    Some(waiting["reason"].as_str().unwrap_or("ContainerCreating"))
                }
                _ => None,
            },
        };
        if let Some(reason) = reason {
            return Err(ApiError::bad_request(format!(
                "container {container:?} in pod {name:?} is waiting to start: {reason}"
            )));
        }
    }
    let agent = agent_address(server, node)?;
    Ok(Located {
        agent,
        namespace,
        pod: name,
        container,
    })
}

/// The node's agent: its InternalIP (else any address) and the port it
/// advertises.
fn agent_address(server: &Server, node: &str) -> ApiResult<SocketAddr> {
    let unreachable = |why: &str| {
        ApiError::bad_request(format!(
            "the agent of node {node:?} cannot be reached: {why}"
        ))
    };
    let entry = server
        .store
        .get(&key(&NODE, None, node))
        .ok_or_else(|| ApiError::not_found(&NODE, node))?;
    let node_value: Value = serde_json::from_slice(&entry.value)
        .map_err(|error| internal(format!("the stored node is unreadable: {error}")))?;
    let addresses = field(&node_value, &["status", "addresses"])
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let address = ["InternalIP", "ExternalIP", "Hostname"]
        .iter()
        .find_map(|kind| {
            addresses
                .iter()
                .filter(|address| address["type"].as_str() == Some(kind))
                .find_map(|address| address["address"].as_str()?.parse::<IpAddr>().ok())
        })
        .ok_or_else(|| unreachable("it has no IP address"))?;
    let port = field(
        &node_value,
        &["status", "daemonEndpoints", "kubeletEndpoint", "Port"],
    )
    .and_then(Value::as_u64)
    .filter(|port| (1..=65535).contains(port))
    .ok_or_else(|| unreachable("status.daemonEndpoints.kubeletEndpoint.Port is not set"))?;
    Ok(SocketAddr::new(address, port as u16))
}

/// `GET pods/{name}/log`: the agent's `/containerLogs/...` with the same
/// query, its body streamed back (for `follow`, as long as it lasts).
pub async fn log(server: &Server, target: &Target, raw_query: Option<&str>) -> ApiResult<Response> {
    let query = super::query::Query::parse(raw_query)?;
    let located = locate(server, target, query.get("container"), true)?;
    let url = format!(
        "http://{}/containerLogs/{}/{}/{}?{}",
        located.agent,
        located.namespace,
        located.pod,
        located.container,
        raw_query.unwrap_or("")
    );
    let response = reqwest::Client::new()
        .get(&url)
        .send()
        .await
        .map_err(|error| agent_error(&located, &error.to_string()))?;
    let status = response.status();
    if !status.is_success() {
        let message = response.text().await.unwrap_or_default();
        return Err(match status.as_u16() {
            404 => ApiError::of(objects::Status::failure(404, "NotFound", message)),
            400 => ApiError::bad_request(message),
            _ => internal(message),
        });
    }
    let body = Body::from_stream(response.bytes_stream().map_err(std::io::Error::other));
    Ok(Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "text/plain")
        .body(body)
        .expect("a valid response"))
}

fn agent_error(located: &Located, message: &str) -> ApiError {
    internal(format!(
        "the agent at {} did not answer: {message}",
        located.agent
    ))
}

/// `GET|POST pods/{name}/exec`: forwards the upgrade request to the
/// agent's `/exec/...` and, when the agent switches protocols, answers
/// kubectl with the agent's 101 and splices the two connections.
pub async fn exec(server: &Server, target: &Target, mut parts: Parts) -> ApiResult<Response> {
    let raw_query = parts.uri.query().map(str::to_string);
    let query = super::query::Query::parse(raw_query.as_deref())?;
    let located = locate(server, target, query.get("container"), false)?;
    let upgrading = parts
        .headers
        .get(header::UPGRADE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.eq_ignore_ascii_case("websocket"));
    if !upgrading {
        // kubectl before 1.31 asks for SPDY, which is not spoken here.
        return Err(ApiError::bad_request(
            "exec needs a WebSocket upgrade (subprotocol v5.channel.k8s.io or v4.channel.k8s.io, kubectl 1.30 or later); SPDY is not supported",
        ));
    }
    let client_upgrade = parts
        .extensions
        .remove::<hyper::upgrade::OnUpgrade>()
        .ok_or_else(|| internal("this connection cannot be upgraded"))?;
    let stream = tokio::net::TcpStream::connect(located.agent)
        .await
        .map_err(|error| agent_error(&located, &error.to_string()))?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|error| agent_error(&located, &error.to_string()))?;
    tokio::spawn(async move {
        let _ = connection.with_upgrades().await;
    });
    let uri = format!(
        "/exec/{}/{}/{}?{}",
        located.namespace,
        located.pod,
        located.container,
        raw_query.unwrap_or_default()
    );
    let mut request = Request::builder().method(parts.method.clone()).uri(uri);
    for (name, value) in &parts.headers {
        // The caller's credentials are for this server, not the agent.
        if name != header::AUTHORIZATION {
            request = request.header(name, value);
        }
    }
    let request = request
        .header(header::HOST, located.agent.to_string())
        .body(http_body_util::Empty::<axum::body::Bytes>::new())
        .map_err(|error| internal(error.to_string()))?;
    let mut response = sender
        .send_request(request)
        .await
        .map_err(|error| agent_error(&located, &error.to_string()))?;
    if response.status() != StatusCode::SWITCHING_PROTOCOLS {
        let status = response.status();
        let body = http_body_util::BodyExt::collect(response.into_body())
            .await
            .map(|collected| collected.to_bytes())
            .unwrap_or_default();
        let message = String::from_utf8_lossy(&body).into_owned();
        return Err(match status.as_u16() {
            404 => ApiError::of(objects::Status::failure(404, "NotFound", message)),
            400 => ApiError::bad_request(message),
            _ => internal(message),
        });
    }
    let agent_upgrade = hyper::upgrade::on(&mut response);
    tokio::spawn(async move {
        let (Ok(client), Ok(agent)) = (client_upgrade.await, agent_upgrade.await) else {
            return;
        };
        let mut client = TokioIo::new(client);
        let mut agent = TokioIo::new(agent);
        let _ = tokio::io::copy_bidirectional(&mut client, &mut agent).await;
    });
    let mut answer = Response::builder().status(StatusCode::SWITCHING_PROTOCOLS);
    for (name, value) in response.headers() {
        answer = answer.header(name, value);
    }
    if !response.headers().contains_key(header::CONNECTION) {
        answer = answer.header(header::CONNECTION, HeaderValue::from_static("Upgrade"));
    }
    answer
        .body(Body::empty())
        .map_err(|error| internal(error.to_string()))
}
