// Generated from solutions/07-apiserver/src/client/params.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
//! The options of list, watch, patch and delete requests, and how they
//! travel: list and watch options in the query string, delete options in
//! a `DeleteOptions` body, a patch's type in its `Content-Type`.

use reqwest::Url;
use serde::Serialize;
use serde_json::Value;

/// What to list or watch. Empty fields are left out of the query.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListParams {
    /// `app=web,tier!=db`: only objects whose labels match.
    pub label_selector: Option<String>,
    /// `spec.nodeName=node-1`: only objects whose fields match.
    pub field_selector: Option<String>,
    /// For a list: how fresh the answer must be (unset means the latest).
    /// Watches take their starting version as a separate argument.
    pub resource_version: Option<String>,
    /// At most this many items; the list's `continue` token gets the rest.
    pub limit: Option<u32>,
    /// The `continue` token of the previous page.
    pub continue_token: Option<String>,
    /// For a watch: ask the server to end it after this many seconds.
    pub timeout_seconds: Option<u32>,
}

impl ListParams {
    pub fn labels(mut self, selector: &str) -> ListParams {
        self.label_selector = Some(selector.to_string());
        self
    }

    pub fn fields(mut self, selector: &str) -> ListParams {
        self.field_selector = Some(selector.to_string());
        self
    }

    pub fn limit(mut self, limit: u32) -> ListParams {
        self.limit = Some(limit);
        self
    }

    pub fn timeout(mut self, seconds: u32) -> ListParams {
        self.timeout_seconds = Some(seconds);
        self
    }

    /// Adds the list's query parameters to `url`.
    pub(crate) fn add_list_query(&self, url: &mut Url) {
        add_query(url, &self.list_pairs());
    }

    /// Adds a watch's query parameters to `url`: the selectors, `watch=1`,
    /// the version to start after, bookmarks and the server-side timeout.
    pub(crate) fn add_watch_query(&self, url: &mut Url, resource_version: &str) {
        add_query(url, &self.watch_pairs(resource_version));
    }

    // ANCHOR: list_pairs
    /// The query parameters of a list, in a fixed order (selectors,
    /// version, paging), without the unset ones.
    pub fn list_pairs(&self) -> Vec<(&'static str, String)> {
        todo!(
            "exercise 4: the query parameters of a list, in a fixed order, leaving out those not set"
        )
    }
    // ANCHOR_END: list_pairs

    /// The query parameters of a watch starting after `resource_version`
    /// (empty: "from now", which the server answers with the current
    /// objects as ADDED events first).
    pub fn watch_pairs(&self, resource_version: &str) -> Vec<(&'static str, String)> {
        let mut pairs = vec![("watch", "1".to_string())];
        let mut selectors = ListParams {
            resource_version: None,
            limit: None,
            continue_token: None,
            ..self.clone()
        }
        .list_pairs();
        pairs.append(&mut selectors);
        if !resource_version.is_empty() {
            pairs.push(("resourceVersion", resource_version.to_string()));
        }
        pairs.push(("allowWatchBookmarks", "true".to_string()));
        if let Some(seconds) = self.timeout_seconds {
            pairs.push(("timeoutSeconds", seconds.to_string()));
        }
        pairs
    }
}

fn add_query(url: &mut Url, pairs: &[(&'static str, String)]) {
    if pairs.is_empty() {
        return;
    }
    let mut query = url.query_pairs_mut();
    for (key, value) in pairs {
        query.append_pair(key, value);
    }
}

/// How to delete.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeleteParams {
    /// Seconds a pod gets to stop; 0 deletes at once.
    pub grace_period_seconds: Option<i64>,
    /// What happens to the object's dependents.
    pub propagation_policy: Option<PropagationPolicy>,
    /// Delete only this very object: fails with Conflict if the uid or
    /// resourceVersion differ (someone replaced or changed it meanwhile).
    pub preconditions: Option<Preconditions>,
}

impl DeleteParams {
    /// Delete now, without a grace period.
    pub fn now() -> DeleteParams {
        DeleteParams {
            grace_period_seconds: Some(0),
            ..DeleteParams::default()
        }
    }

    pub fn foreground() -> DeleteParams {
        DeleteParams {
            propagation_policy: Some(PropagationPolicy::Foreground),
            ..DeleteParams::default()
        }
    }

    /// Delete the object, leave its dependents (without their reference
    /// to it), as `kubectl delete --cascade=orphan`.
    pub fn orphan() -> DeleteParams {
        DeleteParams {
            propagation_policy: Some(PropagationPolicy::Orphan),
            ..DeleteParams::default()
        }
    }

    pub fn background() -> DeleteParams {
        DeleteParams {
            propagation_policy: Some(PropagationPolicy::Background),
            ..DeleteParams::default()
        }
    }

    /// The `DeleteOptions` body Kubernetes reads.
    pub(crate) fn body(&self) -> Value {
        let options = DeleteOptions {
            api_version: "v1",
            kind: "DeleteOptions",
            grace_period_seconds: self.grace_period_seconds,
            propagation_policy: self.propagation_policy,
            preconditions: self.preconditions.as_ref(),
        };
        serde_json::to_value(options).expect("delete options serialize")
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DeleteOptions<'a> {
    api_version: &'static str,
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    grace_period_seconds: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    propagation_policy: Option<PropagationPolicy>,
    #[serde(skip_serializing_if = "Option::is_none")]
    preconditions: Option<&'a Preconditions>,
}

/// What the garbage collector does with the dependents of a deleted object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum PropagationPolicy {
    /// Leave them, without their owner reference.
    Orphan,
    /// Delete the object now, its dependents afterwards.
    Background,
    /// Delete the dependents first; the object stays (with a
    /// `foregroundDeletion` finalizer) until they are gone.
    Foreground,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Preconditions {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_version: Option<String>,
}

/// A change to part of an object, in one of the four formats Kubernetes
/// reads. The format decides how lists are treated, which is the whole
/// difference between them.
#[derive(Debug, Clone, PartialEq)]
pub enum Patch {
    /// RFC 7386: objects merge, `null` deletes a field, lists are replaced whole.
    Merge(Value),
    /// RFC 6902: a list of operations, `[{"op":"replace","path":"/spec/replicas","value":3}]`.
    Json(Value),
    /// Kubernetes' own: like Merge, but lists of named things (containers,
    /// env, ports, conditions) merge item by item on their key.
    Strategic(Value),
    /// Server-side apply: `body` is the whole intent of `manager`; the
    /// server merges it and records which manager owns which field.
    /// `force` takes over fields other managers own instead of failing
    /// with Conflict.
    Apply {
        manager: String,
        force: bool,
        body: Value,
    },
}

impl Patch {
    /// The `Content-Type` that tells the server the patch's format.
    pub fn content_type(&self) -> &'static str {
        match self {
            Patch::Merge(_) => "application/merge-patch+json",
            Patch::Json(_) => "application/json-patch+json",
            Patch::Strategic(_) => "application/strategic-merge-patch+json",
            Patch::Apply { .. } => "application/apply-patch+yaml",
        }
    }

    /// The body: JSON in every case (JSON is YAML, for apply).
    pub(crate) fn body(&self) -> &Value {
        match self {
            Patch::Merge(body) | Patch::Json(body) | Patch::Strategic(body) => body,
            Patch::Apply { body, .. } => body,
        }
    }

    /// Apply's `fieldManager` and `force` go in the query.
    pub(crate) fn add_query(&self, url: &mut Url) {
        if let Patch::Apply { manager, force, .. } = self {
            let mut pairs = vec![("fieldManager", manager.clone())];
            if *force {
                pairs.push(("force", "true".to_string()));
            }
            add_query(url, &pairs);
        }
    }
}

/// Which log lines of a pod's container to read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LogParams {
    /// Needed when the pod has more than one container.
    pub container: Option<String>,
    /// Only the last lines.
    pub tail_lines: Option<u64>,
    /// The log of the previous run (after a restart).
    pub previous: bool,
    /// Prefix each line with its RFC 3339 time.
    pub timestamps: bool,
}

impl LogParams {
    pub(crate) fn add_query(&self, url: &mut Url) {
        let mut pairs = Vec::new();
        if let Some(container) = &self.container {
            pairs.push(("container", container.clone()));
        }
        if let Some(lines) = self.tail_lines {
            pairs.push(("tailLines", lines.to_string()));
        }
        if self.previous {
            pairs.push(("previous", "true".to_string()));
        }
        if self.timestamps {
            pairs.push(("timestamps", "true".to_string()));
        }
        add_query(url, &pairs);
    }
}
