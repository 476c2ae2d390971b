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
    // exercise 7: the resource that the path segments after the group version name, or None when they name nothing
    // hint: Slice patterns make path routing readable: `if let ["namespaces", namespace, plural, more @ ..] = rest`. RESOURCES lists every kind with its group, version, plural and whether it is namespaced.
    // hint: Two shapes. `namespaces/{ns}/{plural}[/{name}[/{sub}]]` names a namespaced kind of this group and version. Otherwise `{plural}[/{name}[/{sub}]]`: a cluster-scoped object, or, for a namespaced kind with nothing after the plural, a list across all namespaces. More than two segments after the plural name nothing; an empty segment is None.
    // hint: find(plural) = RESOURCES.iter().find(group, version and plural equal); named(s) = (!s.is_empty()).then(|| s.to_string()). First the namespaced shape when find(plural) is namespaced and more.len() <= 2 → Target { info, namespace: named(ns), name: more.first().and_then(named), subresource: more.get(1).and_then(named) }. Else split_first, find, refuse more.len() > 2 or (namespaced and !more.is_empty()), and build a Target without namespace.
    let find = |plural: &str| {
        RESOURCES
            .iter()
            .find(|info| info.group == group && info.version == version && info.plural == plural)
    };
    let named = |segment: &&str| (!segment.is_empty()).then(|| segment.to_string());
    if let ["namespaces", namespace, plural, more @ ..] = rest
        && let Some(info) = find(plural).filter(|info| info.namespaced)
        && more.len() <= 2
    {
        return Some(Target {
            info,
            namespace: named(namespace),
            name: more.first().and_then(named),
            subresource: more.get(1).and_then(named),
        });
    }
    let (plural, more) = rest.split_first()?;
    let info = find(plural)?;
    if more.len() > 2 || (info.namespaced && !more.is_empty()) {
        return None;
    }
    Some(Target {
        info,
        namespace: None,
        name: more.first().and_then(named),
        subresource: more.get(1).and_then(named),
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(path: &str) -> String {
        match route(path) {
            Some(Route::Resource(t)) => format!(
                "{} ns={:?} name={:?} sub={:?}",
                t.info.plural, t.namespace, t.name, t.subresource
            ),
            other => format!("{other:?}"),
        }
    }

    #[test]
    fn paths_name_what_kubernetes_paths_name() {
        assert_eq!(shape("/api/v1/pods"), "pods ns=None name=None sub=None");
        assert_eq!(
            shape("/api/v1/namespaces/default/pods/web/status"),
            "pods ns=Some(\"default\") name=Some(\"web\") sub=Some(\"status\")"
        );
        assert_eq!(
            shape("/api/v1/namespaces/default"),
            "namespaces ns=None name=Some(\"default\") sub=None"
        );
        assert_eq!(
            shape("/api/v1/namespaces/default/finalize"),
            "namespaces ns=None name=Some(\"default\") sub=Some(\"finalize\")"
        );
        assert_eq!(
            shape("/apis/apps/v1/namespaces/x/deployments/web/scale"),
            "deployments ns=Some(\"x\") name=Some(\"web\") sub=Some(\"scale\")"
        );
        assert_eq!(
            shape("/api/v1/nodes/n1"),
            "nodes ns=None name=Some(\"n1\") sub=None"
        );
        assert_eq!(shape("/api/v1/pods/web"), "None");
        assert_eq!(shape("/apis/apps/v1/pods"), "None");
        assert_eq!(shape("/api/v2/pods"), "None");
    }

    #[test]
    fn keys_sort_under_their_list_prefixes() {
        let pod = objects::resource::POD;
        assert_eq!(key(&pod, Some("default"), "web"), "/core/pods/default/web");
        assert!(key(&pod, Some("default"), "web").starts_with(&prefix(&pod, Some("default"))));
        assert!(key(&pod, Some("default"), "web").starts_with(&prefix(&pod, None)));
    }
}
