//! One request, from the path and method to the handler, and the shape of
//! every answer.

use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;

use super::errors::{ApiError, ApiResult};
use super::paths::{Route, Target, route};
use super::query::Query;
use super::{MAX_BODY, Server, discovery, handlers, subresources, watch};

/// What a handler gets: the target, the query, the body, and how the
/// client wants the answer.
pub struct Call {
    pub target: Target,
    pub query: Query,
    pub body: Bytes,
    pub content_type: String,
    /// `Accept` asks for kubectl's server-side table.
    pub wants_table: bool,
}

impl Call {
    /// The object in the body, whatever its encoding: JSON, YAML, or the
    /// protobuf of Kubernetes' own clients.
    pub fn object_value(&self) -> ApiResult<serde_json::Value> {
        if self.content_type == super::protobuf::CONTENT_TYPE {
            return super::protobuf::to_json(&self.body).map_err(ApiError::bad_request);
        }
        super::objects::parse_body(&self.body, self.content_type.contains("yaml"))
    }
}

pub async fn handle(server: &Server, request: Request) -> ApiResult<Response> {
    let (parts, body) = request.into_parts();
    authenticate(server, &parts.headers)?;
    let path = parts.uri.path().to_string();
    let route = route(&path).ok_or_else(|| ApiError::no_such_path(&path))?;
    let query = Query::parse(parts.uri.query())?;
    let method = parts.method.clone();
    let target = match route {
        Route::Resource(target) => target,
        discovery_route => {
            if method != Method::GET {
                return Err(ApiError::method_not_allowed());
            }
            return discovery::answer(server, &discovery_route);
        }
    };
    // The node's subresources pass the request on as it came: the query
    // with its repeated keys, the connection to upgrade.
    if target.info.kind == "Pod" && target.name.is_some() {
        match (target.subresource.as_deref(), &method) {
            (Some("log"), &Method::GET) => {
                return super::node_proxy::log(server, &target, parts.uri.query()).await;
            }
            (Some("exec"), &Method::GET | &Method::POST) => {
                return super::node_proxy::exec(server, &target, parts).await;
            }
            _ => {}
        }
    }
    let body = read_body(body).await?;
    let call = Call {
        target,
        query,
        body,
        content_type: content_type(&parts.headers),
        wants_table: wants_table(&parts.headers),
    };
    check_content_type(&call, &method)?;
    let sub = call.target.subresource.clone();
    let named = call.target.name.is_some();
    match (sub.as_deref(), named, method) {
        (None, false, Method::GET) if call.query.flag("watch")? => watch::serve(server, call).await,
        (None, false, Method::GET) => {
            handlers::fresh_enough(server, &call).await?;
            handlers::list(server, &call)
        }
        (None, false, Method::POST) => handlers::create(server, &call).await,
        (None, false, Method::DELETE) => handlers::delete_collection(server, &call).await,
        (None, true, Method::GET) => {
            handlers::fresh_enough(server, &call).await?;
            handlers::get(server, &call)
        }
        (None, true, Method::PUT) => handlers::update(server, &call).await,
        (None, true, Method::PATCH) => handlers::patch(server, &call).await,
        (None, true, Method::DELETE) => handlers::delete(server, &call).await,
        (Some(_), true, method) => subresources::handle(server, &call, &method).await,
        _ => Err(ApiError::method_not_allowed()),
    }
}

/// The body types this server reads: JSON (and YAML) for objects, and the
/// protobuf that kubectl's typed commands send (they do not fall back to
/// JSON); PATCH takes the patch types. Anything else is 415.
fn check_content_type(call: &Call, method: &Method) -> ApiResult<()> {
    let needs_body = matches!(*method, Method::POST | Method::PUT);
    let allowed = [
        "application/json",
        "application/yaml",
        super::protobuf::CONTENT_TYPE,
        "",
    ];
    if needs_body && !allowed.contains(&call.content_type.as_str()) {
        return Err(ApiError::of(objects::Status::unsupported_media_type(&[
            "application/json",
            "application/yaml",
        ])));
    }
    Ok(())
}

fn authenticate(server: &Server, headers: &HeaderMap) -> ApiResult<()> {
    let Some(token) = &server.token else {
        return Ok(());
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "));
    // Compare every byte, whatever the first difference, so that timing
    // does not tell how much of a guess was right.
    let matches = given.is_some_and(|given| {
        given.len() == token.len()
            && given
                .bytes()
                .zip(token.bytes())
                .fold(0u8, |diff, (a, b)| diff | (a ^ b))
                == 0
    });
    if matches {
        Ok(())
    } else {
        Err(ApiError::unauthorized())
    }
}

async fn read_body(body: Body) -> ApiResult<Bytes> {
    to_bytes(body, MAX_BODY)
        .await
        .map_err(|_| ApiError::of(objects::Status::request_entity_too_large(MAX_BODY)))
}

fn content_type(headers: &HeaderMap) -> String {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .map(|value| {
            value
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .unwrap_or_default()
}

fn wants_table(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .any(|value| value.contains("as=Table"))
}

/// A JSON answer.
pub fn json(code: StatusCode, body: Vec<u8>) -> Response {
    let mut response = (code, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// A JSON answer with Kubernetes' `Warning` headers (unknown fields when
/// the client asked only to be warned).
pub fn json_with_warnings(code: StatusCode, body: Vec<u8>, warnings: &[String]) -> Response {
    let mut response = json(code, body);
    for warning in warnings {
        let text = format!("299 - {:?}", warning);
        if let Ok(value) = HeaderValue::from_str(&text) {
            response.headers_mut().append("Warning", value);
        }
    }
    response
}
