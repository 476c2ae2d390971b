// Generated from solutions/07-apiserver/src/server/paths.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
//! Which resource a request path names, on Kubernetes' paths:
//! `/api/v1/namespaces/{ns}/pods/{name}/status`,
//! `/apis/apps/v1/deployments` and the like.

use objects::resource::{RESOURCES, ResourceInfo};

/// What a path names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    Version,
    /// `/openapi/v3`, and one group version's document below it.
    OpenApi(Option<String>),
    /// `/api`: the core group's versions.
    CoreVersions,
    /// `/apis`: every other group.
    Groups,
    /// `/apis/{group}`.
    Group(String),
    /// `/api/v1`, `/apis/apps/v1`: the resources of a group version.
    Resources {
        group: String,
        version: String,
    },
    /// A collection or an object, maybe a subresource of it.
    Resource(Target),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub info: &'static ResourceInfo,
    /// The namespace in the path: `None` for cluster-scoped kinds, and for
    /// lists and watches across all namespaces.
    pub namespace: Option<String>,
    pub name: Option<String>,
    pub subresource: Option<String>,
}

/// The route of `path`, or `None` when it names nothing the server knows.
pub fn route(path: &str) -> Option<Route> {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    match segments.as_slice() {
        ["version"] => Some(Route::Version),
        ["openapi", "v3"] => Some(Route::OpenApi(None)),
        ["openapi", "v3", rest @ ..] => Some(Route::OpenApi(Some(rest.join("/")))),
        ["api"] => Some(Route::CoreVersions),
        ["apis"] => Some(Route::Groups),
        ["apis", group] => Some(Route::Group(group.to_string())),
        ["api", version] => resources("", version),
        ["apis", group, version] => resources(group, version),
        ["api", version, rest @ ..] => target("", version, rest).map(Route::Resource),
        ["apis", group, version, rest @ ..] => target(group, version, rest).map(Route::Resource),
        _ => None,
    }
}

fn resources(group: &str, version: &str) -> Option<Route> {
    RESOURCES
        .iter()
        .any(|info| info.group == group && info.version == version)
        .then(|| Route::Resources {
            group: group.to_string(),
            version: version.to_string(),
        })
}

// ANCHOR: target
/// The resource named by the path segments after the group version.
/// `namespaces/{ns}/{plural}...` is namespaced; `{plural}...` is a
/// cluster-scoped object or a list across all namespaces.
fn target(group: &str, version: &str, rest: &[&str]) -> Option<Target> {
    todo!(
        "exercise 7: the resource that the path segments after the group version name, or None when they name nothing"
    )
}
// ANCHOR_END: target

/// The store key of an object, and the prefixes of the lists.
pub fn key(info: &ResourceInfo, namespace: Option<&str>, name: &str) -> String {
    match namespace {
        Some(namespace) => format!("{}{namespace}/{name}", prefix(info, None)),
        None => format!("{}{name}", prefix(info, None)),
    }
}

/// `/{group}/{plural}/` for every object of the kind, with `{ns}/` after it
/// for one namespace's.
pub fn prefix(info: &ResourceInfo, namespace: Option<&str>) -> String {
    let group = if info.group.is_empty() {
        "core"
    } else {
        info.group
    };
    match namespace {
        Some(namespace) => format!("/{group}/{}/{namespace}/", info.plural),
        None => format!("/{group}/{}/", info.plural),
    }
}
