// Generated from solutions/07-apiserver/src/server/openapi.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
//! Just enough OpenAPI v3 for kubectl: before `apply` or `create -f`,
//! kubectl looks here for whether each kind's PATCH takes the
//! `fieldValidation` parameter; if it does, kubectl leaves the checking of
//! fields to the server (which reports unknown fields itself) instead of
//! validating against a schema it would otherwise need to download.
//! Merge keys for `kubectl apply` come from kubectl's own copy of the
//! built-in types when no schema is published.

use objects::resource::{RESOURCES, ResourceInfo};
use serde_json::{Value, json};

/// `/openapi/v3`: the group versions, each with the address of its
/// document.
pub fn root() -> Value {
    let mut paths = serde_json::Map::new();
    for path in group_version_paths() {
        paths.insert(
            path.clone(),
            json!({"serverRelativeURL": format!("/openapi/v3/{path}")}),
        );
    }
    json!({"paths": paths})
}

fn group_version_paths() -> Vec<String> {
    let mut paths: Vec<String> = RESOURCES.iter().map(group_version_path).collect();
    paths.dedup();
    paths
}

fn group_version_path(info: &ResourceInfo) -> String {
    if info.group.is_empty() {
        format!("api/{}", info.version)
    } else {
        format!("apis/{}/{}", info.group, info.version)
    }
}

/// `/openapi/v3/apis/apps/v1` and the like: for each kind, the object's
/// path with its operations (PATCH among them, with `fieldValidation`).
pub fn group_version(path: &str) -> Option<Value> {
    let kinds: Vec<&ResourceInfo> = RESOURCES
        .iter()
        .filter(|info| group_version_path(info) == path)
        .collect();
    if kinds.is_empty() {
        return None;
    }
    let mut paths = serde_json::Map::new();
    for info in kinds {
        let gvk = json!({"group": info.group, "version": info.version, "kind": info.kind});
        let parameters = json!([
            {"name": "dryRun", "in": "query", "schema": {"type": "string"}},
            {"name": "fieldManager", "in": "query", "schema": {"type": "string"}},
            {"name": "fieldValidation", "in": "query", "schema": {"type": "string"}},
            {"name": "force", "in": "query", "schema": {"type": "boolean"}},
        ]);
        let operation = |action: &str| {
            json!({
                "operationId": format!("{action}{}", info.kind),
                "parameters": parameters,
                "responses": {"200": {"description": "OK"}},
                "x-kubernetes-action": action,
                "x-kubernetes-group-version-kind": gvk,
            })
        };
        let base = format!("/{}", group_version_path(info));
        let object_path = if info.namespaced {
            format!("{base}/namespaces/{{namespace}}/{}/{{name}}", info.plural)
        } else {
            format!("{base}/{}/{{name}}", info.plural)
        };
        paths.insert(
            object_path,
            json!({
                "get": operation("get"),
                "put": operation("put"),
                "patch": operation("patch"),
                "delete": operation("delete"),
            }),
        );
    }
    Some(json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes (k8s-mini)", "version": "v1.32.0"},
        "paths": paths,
    }))
}
