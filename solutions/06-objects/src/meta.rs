//! The metadata every object carries, and the envelopes around objects:
//! lists, watch events, the scale subresource and the server-side table.
//!
//! Optional fields are left out when empty, as Go's `omitempty` does; the
//! fields official clients insist on (a list's `items`, a scale's
//! `status.replicas`) are always written.

use crate::time::Time;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Labels or annotations: sorted maps, so output is stable.
pub type StringMap = BTreeMap<String, String>;

/// `metadata` of every stored object.
///
/// The server owns `uid`, `resourceVersion`, `generation` and
/// `creationTimestamp`; clients own the rest. Labels are the glue between
/// objects: selectors find pods by them, not by name.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectMeta {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// A prefix the server completes with random characters when `name` is empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generate_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    /// Opaque to clients: they send it back to say which version they changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_version: Option<String>,
    /// Bumped by the server when the spec changes (not the status).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generation: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creation_timestamp: Option<Time>,
    /// Set when a delete was asked for while finalizers or a grace period hold the object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deletion_timestamp: Option<Time>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deletion_grace_period_seconds: Option<i64>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: StringMap,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: StringMap,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub owner_references: Vec<OwnerReference>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub finalizers: Vec<String>,
}

impl ObjectMeta {
    /// Metadata with a name and, for namespaced kinds, a namespace.
    pub fn named(name: &str) -> ObjectMeta {
        ObjectMeta {
            name: Some(name.to_string()),
            ..ObjectMeta::default()
        }
    }

    /// The name, or `""` when there is none (yet).
    pub fn name(&self) -> &str {
        self.name.as_deref().unwrap_or("")
    }

    /// The namespace, or `""` for cluster-scoped objects and unset namespaces.
    pub fn namespace(&self) -> &str {
        self.namespace.as_deref().unwrap_or("")
    }
}

/// A link from a dependent (a pod) to its owner (a replica set): the garbage
/// collector deletes dependents whose owners are gone.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OwnerReference {
    pub api_version: String,
    pub kind: String,
    pub name: String,
    pub uid: String,
    /// The owner that manages this object; at most one reference has it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub controller: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub block_owner_deletion: Option<bool>,
}

/// `metadata` of a list: the version the list was read at, from which a
/// watch can continue.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListMeta {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_version: Option<String>,
    #[serde(rename = "continue", default, skip_serializing_if = "Option::is_none")]
    pub continue_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remaining_item_count: Option<i64>,
}

/// `PodList`, `DeploymentList`...: `kind` is the item's kind plus `List`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct List<T> {
    pub api_version: String,
    pub kind: String,
    pub metadata: ListMeta,
    /// Always written, `[]` when empty: clients reject a list without items.
    #[serde(default)]
    pub items: Vec<T>,
}

/// One line of a watch stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WatchEvent<T> {
    #[serde(rename = "type")]
    pub event_type: WatchEventType,
    pub object: T,
}

/// What happened to the object of a [`WatchEvent`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum WatchEventType {
    Added,
    Modified,
    Deleted,
    /// Only `metadata.resourceVersion` is meaningful: "you are up to date to here".
    Bookmark,
    /// The object is a Status, for example 410 Expired.
    Error,
}

/// A label selector as objects write it (a Deployment's `spec.selector`).
/// [`crate::labels::Selector`] is the form that matches.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LabelSelector {
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub match_labels: StringMap,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub match_expressions: Vec<LabelSelectorRequirement>,
}

/// One of a [`LabelSelector`]'s `matchExpressions`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LabelSelectorRequirement {
    pub key: String,
    /// `In`, `NotIn`, `Exists` or `DoesNotExist`.
    pub operator: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
}

/// The `scale` subresource of deployments and replica sets (`autoscaling/v1`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Scale {
    pub api_version: String,
    pub kind: String,
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: ScaleSpec,
    #[serde(default)]
    pub status: ScaleStatus,
}

impl Scale {
    /// A Scale of `replicas` desired and `current` actual replicas.
    pub fn new(metadata: ObjectMeta, replicas: i32, current: i32, selector: String) -> Scale {
        Scale {
            api_version: "autoscaling/v1".into(),
            kind: "Scale".into(),
            metadata,
            spec: ScaleSpec {
                replicas: Some(replicas),
            },
            status: ScaleStatus {
                replicas: current,
                selector: Some(selector),
            },
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScaleSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replicas: Option<i32>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScaleStatus {
    /// Always written, also when 0.
    #[serde(default)]
    pub replicas: i32,
    /// The selector in its string form (`app=web`), for autoscalers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selector: Option<String>,
}

/// The server-side table `kubectl get` asks for (`meta.k8s.io/v1`), so that
/// the server, not kubectl, decides the columns.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Table {
    pub api_version: String,
    pub kind: String,
    pub metadata: ListMeta,
    pub column_definitions: Vec<TableColumnDefinition>,
    pub rows: Vec<TableRow>,
}

impl Table {
    /// An empty table with these columns.
    pub fn new(columns: Vec<TableColumnDefinition>) -> Table {
        Table {
            api_version: "meta.k8s.io/v1".into(),
            kind: "Table".into(),
            metadata: ListMeta::default(),
            column_definitions: columns,
            rows: Vec::new(),
        }
    }
}

/// A column: `type` is an OpenAPI type (`string`, `integer`), `format`
/// refines it (`name` marks the column kubectl uses as the object's name).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TableColumnDefinition {
    pub name: String,
    #[serde(rename = "type")]
    pub column_type: String,
    pub format: String,
    pub description: String,
    /// 0 for the default columns, 1 and more for `-o wide`.
    pub priority: i32,
}

impl TableColumnDefinition {
    /// A column shown by default.
    pub fn new(name: &str, column_type: &str, format: &str, description: &str) -> Self {
        TableColumnDefinition {
            name: name.into(),
            column_type: column_type.into(),
            format: format.into(),
            description: description.into(),
            priority: 0,
        }
    }
}

/// A row: one cell per column, and the object (or its metadata) it shows.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TableRow {
    pub cells: Vec<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<serde_json::Value>,
}
