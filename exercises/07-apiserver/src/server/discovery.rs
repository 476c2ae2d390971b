// Generated from solutions/07-apiserver/src/server/discovery.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
//! Discovery: how clients learn what this server serves. kubectl asks
//! `/api` and `/apis` for the group versions, then each group version for
//! its resources (names, kinds, verbs, short names), and maps `kubectl get
//! deploy` to `/apis/apps/v1/.../deployments` from the answers.

use axum::http::StatusCode;
use axum::response::Response;
use objects::resource::{RESOURCES, ResourceInfo};
use serde_json::{Value, json};

use super::Server;
use super::errors::{ApiError, ApiResult};
use super::paths::Route;
use super::request::json as json_response;

/// The Kubernetes version whose API this server follows.
pub const KUBERNETES_VERSION: (&str, &str) = ("1", "32");

pub fn answer(server: &Server, route: &Route) -> ApiResult<Response> {
    let body = match route {
        Route::Version => version(),
        Route::OpenApi(None) => super::openapi::root(),
        Route::OpenApi(Some(path)) => super::openapi::group_version(path)
            .ok_or_else(|| ApiError::no_such_path(&format!("/openapi/v3/{path}")))?,
        Route::CoreVersions => json!({
            "kind": "APIVersions",
            "versions": ["v1"],
            "serverAddressByClientCIDRs": [
                {"clientCIDR": "0.0.0.0/0", "serverAddress": server.address.to_string()}
            ],
        }),
        Route::Groups => json!({
            "kind": "APIGroupList",
            "apiVersion": "v1",
            "groups": groups().iter().map(|group| group_json(group)).collect::<Vec<_>>(),
        }),
        Route::Group(name) => {
            let group = groups()
                .into_iter()
                .find(|group| group == name)
                .ok_or_else(|| ApiError::no_such_path(&format!("/apis/{name}")))?;
            let mut body = group_json(group);
            body["kind"] = json!("APIGroup");
            body["apiVersion"] = json!("v1");
            body
        }
        Route::Resources { group, version } => resources(group, version),
        Route::Resource(_) => unreachable!("resources are not discovery"),
    };
    Ok(json_response(
        StatusCode::OK,
        serde_json::to_vec(&body).expect("discovery serializes"),
    ))
}

fn version() -> Value {
    let (major, minor) = KUBERNETES_VERSION;
    json!({
        "major": major,
        "minor": minor,
        "gitVersion": format!("v{major}.{minor}.0-k8s-mini.{}", env!("CARGO_PKG_VERSION")),
        "gitCommit": "",
        "gitTreeState": "clean",
        "buildDate": "1970-01-01T00:00:00Z",
        "goVersion": "none (Rust)",
        "compiler": "rustc",
        "platform": format!("{}/{}", std::env::consts::OS, go_arch()),
    })
}

/// Go's name for this machine's architecture, as clients expect it.
fn go_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    }
}

/// The named groups (the core group has no name and lives at `/api`).
fn groups() -> Vec<&'static str> {
    let mut groups: Vec<&str> = RESOURCES
        .iter()
        .map(|info| info.group)
        .filter(|group| !group.is_empty())
        .collect();
    groups.dedup();
    groups
}

fn group_json(group: &str) -> Value {
    let version = json!({"groupVersion": format!("{group}/v1"), "version": "v1"});
    json!({"name": group, "versions": [version.clone()], "preferredVersion": version})
}

/// Every verb on a resource; kubectl checks for them before it acts.
const VERBS: [&str; 8] = [
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];

// ANCHOR: resources
/// The APIResourceList of a group version: each kind, then each of its
/// subresources as `<plural>/<subresource>` with the verbs it takes.
fn resources(group: &str, version: &str) -> Value {
    let mut list = Vec::new();
    for info in RESOURCES
        .iter()
        .filter(|info| info.group == group && info.version == version)
    {
        list.push(json!({
            "name": info.plural,
            "singularName": info.singular,
            "namespaced": info.namespaced,
            "kind": info.kind,
            "verbs": VERBS,
            "shortNames": info.short_names,
            "categories": categories(info),
        }));
        let mut subresources: Vec<&str> = info.subresources.to_vec();
        if info.kind == "Namespace" {
            subresources.push("finalize");
        }
        for sub in subresources {
            list.push(subresource(info, sub));
        }
    }
    let group_version = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    json!({
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": group_version,
        "resources": list,
    })
}
// ANCHOR_END: resources

fn subresource(info: &ResourceInfo, sub: &str) -> Value {
    let name = format!("{}/{sub}", info.plural);
    let mut entry = json!({
        "name": name,
        "singularName": "",
        "namespaced": info.namespaced,
        "kind": info.kind,
        "verbs": ["get", "patch", "update"],
    });
    match sub {
        "scale" => {
            entry["group"] = json!("autoscaling");
            entry["version"] = json!("v1");
            entry["kind"] = json!("Scale");
        }
        "binding" => {
            entry["kind"] = json!("Binding");
            entry["verbs"] = json!(["create"]);
        }
        "log" => entry["verbs"] = json!(["get"]),
        "exec" => {
            entry["kind"] = json!("PodExecOptions");
            entry["verbs"] = json!(["create", "get"]);
        }
        "finalize" => entry["verbs"] = json!(["update"]),
        _ => {}
    }
    entry
}

/// `kubectl get all` lists the resources in the category "all".
fn categories(info: &ResourceInfo) -> Vec<&'static str> {
    match info.kind {
        "Pod" | "Service" | "Deployment" | "ReplicaSet" => vec!["all"],
        _ => Vec::new(),
    }
}
