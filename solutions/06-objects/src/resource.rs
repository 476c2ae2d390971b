//! The generic layer: what the API server needs to know about each kind,
//! and one type that holds an object of any kind.
//!
//! [`ResourceInfo`] is the static description of a kind (its paths,
//! names, scope): discovery, routing and error messages come from it.
//! [`Resource`] ties a Rust type to its description and to its kind's
//! defaulting, validation and field selectors. [`Object`] is the closed set
//! of kinds this project serves, for code that handles "an object" without
//! knowing which (a manifest, a stored value).

use crate::apps::{Deployment, ReplicaSet};
use crate::config::{ConfigMap, Secret};
use crate::defaults;
use crate::discovery::EndpointSlice;
use crate::event::Event;
use crate::field::ErrorList;
use crate::lease::Lease;
use crate::meta::ObjectMeta;
use crate::namespace::Namespace;
use crate::node::Node;
use crate::pod::Pod;
use crate::service::{Endpoints, Service};
use crate::validation;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::fmt::Debug;

/// A kind as the API serves it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResourceInfo {
    /// `Deployment`.
    pub kind: &'static str,
    /// `""` for the core group, `apps`.
    pub group: &'static str,
    pub version: &'static str,
    /// `deployments`: the path segment.
    pub plural: &'static str,
    pub singular: &'static str,
    pub namespaced: bool,
    /// `deploy`: what `kubectl get deploy` accepts.
    pub short_names: &'static [&'static str],
    /// `status`, `scale`, `log`, `binding`: served at `.../{name}/{sub}`.
    pub subresources: &'static [&'static str],
    /// Fields usable in a field selector besides `metadata.name` and `metadata.namespace`.
    pub field_labels: &'static [&'static str],
}

impl ResourceInfo {
    /// `v1`, `apps/v1`.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// `DeploymentList`.
    pub fn list_kind(&self) -> String {
        format!("{}List", self.kind)
    }

    /// `deployments.apps`, `pods`: how NotFound and Conflict name the resource.
    pub fn group_resource(&self) -> String {
        if self.group.is_empty() {
            self.plural.to_string()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }

    /// `Deployment.apps`, `Pod`: how Invalid names the kind.
    pub fn qualified_kind(&self) -> String {
        if self.group.is_empty() {
            self.kind.to_string()
        } else {
            format!("{}.{}", self.kind, self.group)
        }
    }

    /// Whether `field` can be used in a field selector on this kind.
    pub fn supports_field(&self, field: &str) -> bool {
        matches!(field, "metadata.name" | "metadata.namespace")
            || self.field_labels.contains(&field)
    }
}

// ANCHOR: resource
/// A Rust type for one kind of API object.
pub trait Resource:
    Serialize + DeserializeOwned + Clone + Debug + Default + PartialEq + Send + Sync + 'static
{
    const INFO: ResourceInfo;

    fn metadata(&self) -> &ObjectMeta;
    fn metadata_mut(&mut self) -> &mut ObjectMeta;

    /// Sets `apiVersion` and `kind`, which every object on the wire carries.
    fn set_type_meta(&mut self);

    /// Fills in Kubernetes' defaults (see [`crate::defaults`]).
    fn set_defaults(&mut self);

    /// Checks a new object; empty when it may be stored.
    fn validate(&self) -> ErrorList;

    /// Checks an update of `old` into `self`: the create checks, plus the
    /// fields that may not change.
    fn validate_update(&self, old: &Self) -> ErrorList;

    /// The value of a supported field selector field; `None` when unset or
    /// unsupported (check with [`ResourceInfo::supports_field`]).
    fn field_value(&self, field: &str) -> Option<String> {
        let meta = self.metadata();
        match field {
            "metadata.name" => meta.name.clone(),
            "metadata.namespace" => meta.namespace.clone(),
            _ => self.kind_field_value(field),
        }
    }

    /// The kind's own field selector fields.
    fn kind_field_value(&self, _field: &str) -> Option<String> {
        None
    }

    /// A new object of this kind with this name (and namespace, if namespaced).
    fn new(name: &str, namespace: Option<&str>) -> Self {
        let mut object = Self::default();
        object.set_type_meta();
        let meta = object.metadata_mut();
        meta.name = Some(name.to_string());
        meta.namespace = namespace.map(str::to_string);
        object
    }
}
// ANCHOR_END: resource

macro_rules! resource {
    ($type:ty, $info:expr, defaults: $defaults:expr, validate: $validate:expr, update: $update:expr) => {
        impl Resource for $type {
            const INFO: ResourceInfo = $info;

            fn metadata(&self) -> &ObjectMeta {
                &self.metadata
            }

            fn metadata_mut(&mut self) -> &mut ObjectMeta {
                &mut self.metadata
            }

            fn set_type_meta(&mut self) {
                self.api_version = Self::INFO.api_version();
                self.kind = Self::INFO.kind.to_string();
            }

            fn set_defaults(&mut self) {
                let defaults: fn(&mut $type) = $defaults;
                defaults(self);
            }

            fn validate(&self) -> ErrorList {
                let validate: fn(&$type) -> ErrorList = $validate;
                validate(self)
            }

            fn validate_update(&self, old: &Self) -> ErrorList {
                let update: fn(&$type, &$type) -> ErrorList = $update;
                update(self, old)
            }

            fn kind_field_value(&self, field: &str) -> Option<String> {
                kind_field_value(self, field)
            }
        }
    };
}

fn meta_update(new: &ObjectMeta, old: &ObjectMeta) -> ErrorList {
    validation::validate_object_meta_update(new, old)
}

/// Kinds' own field selector fields, by type.
trait KindFields {
    fn value(&self, field: &str) -> Option<String>;
}

fn kind_field_value<T: KindFields>(object: &T, field: &str) -> Option<String> {
    object.value(field)
}

pub const NAMESPACE: ResourceInfo = ResourceInfo {
    kind: "Namespace",
    group: "",
    version: "v1",
    plural: "namespaces",
    singular: "namespace",
    namespaced: false,
    short_names: &["ns"],
    subresources: &["status", "finalize"],
    field_labels: &["status.phase"],
};

pub const POD: ResourceInfo = ResourceInfo {
    kind: "Pod",
    group: "",
    version: "v1",
    plural: "pods",
    singular: "pod",
    namespaced: true,
    short_names: &["po"],
    subresources: &["status", "log", "exec", "binding"],
    field_labels: &[
        "spec.nodeName",
        "spec.restartPolicy",
        "spec.schedulerName",
        "spec.serviceAccountName",
        "spec.hostNetwork",
        "status.phase",
        "status.podIP",
    ],
};

pub const NODE: ResourceInfo = ResourceInfo {
    kind: "Node",
    group: "",
    version: "v1",
    plural: "nodes",
    singular: "node",
    namespaced: false,
    short_names: &["no"],
    subresources: &["status"],
    field_labels: &["spec.unschedulable"],
};

pub const SERVICE: ResourceInfo = ResourceInfo {
    kind: "Service",
    group: "",
    version: "v1",
    plural: "services",
    singular: "service",
    namespaced: true,
    short_names: &["svc"],
    subresources: &["status"],
    field_labels: &["spec.clusterIP", "spec.type"],
};

pub const ENDPOINTS: ResourceInfo = ResourceInfo {
    kind: "Endpoints",
    group: "",
    version: "v1",
    plural: "endpoints",
    singular: "endpoints",
    namespaced: true,
    short_names: &["ep"],
    subresources: &[],
    field_labels: &[],
};

pub const EVENT: ResourceInfo = ResourceInfo {
    kind: "Event",
    group: "",
    version: "v1",
    plural: "events",
    singular: "event",
    namespaced: true,
    short_names: &["ev"],
    subresources: &[],
    field_labels: &[
        "involvedObject.kind",
        "involvedObject.namespace",
        "involvedObject.name",
        "involvedObject.uid",
        "involvedObject.apiVersion",
        "involvedObject.resourceVersion",
        "involvedObject.fieldPath",
        "reason",
        "reportingComponent",
        "source",
        "type",
    ],
};

pub const DEPLOYMENT: ResourceInfo = ResourceInfo {
    kind: "Deployment",
    group: "apps",
    version: "v1",
    plural: "deployments",
    singular: "deployment",
    namespaced: true,
    short_names: &["deploy"],
    subresources: &["status", "scale"],
    field_labels: &[],
};

pub const REPLICA_SET: ResourceInfo = ResourceInfo {
    kind: "ReplicaSet",
    group: "apps",
    version: "v1",
    plural: "replicasets",
    singular: "replicaset",
    namespaced: true,
    short_names: &["rs"],
    subresources: &["status", "scale"],
    field_labels: &["status.replicas"],
};

pub const LEASE: ResourceInfo = ResourceInfo {
    kind: "Lease",
    group: "coordination.k8s.io",
    version: "v1",
    plural: "leases",
    singular: "lease",
    namespaced: true,
    short_names: &[],
    subresources: &[],
    field_labels: &[],
};

pub const ENDPOINT_SLICE: ResourceInfo = ResourceInfo {
    kind: "EndpointSlice",
    group: "discovery.k8s.io",
    version: "v1",
    plural: "endpointslices",
    singular: "endpointslice",
    namespaced: true,
    short_names: &[],
    subresources: &[],
    field_labels: &[],
};

pub const CONFIG_MAP: ResourceInfo = ResourceInfo {
    kind: "ConfigMap",
    group: "",
    version: "v1",
    plural: "configmaps",
    singular: "configmap",
    namespaced: true,
    short_names: &["cm"],
    subresources: &[],
    field_labels: &[],
};

pub const SECRET: ResourceInfo = ResourceInfo {
    kind: "Secret",
    group: "",
    version: "v1",
    plural: "secrets",
    singular: "secret",
    namespaced: true,
    short_names: &[],
    subresources: &[],
    field_labels: &["type"],
};

/// Every kind served, core group first; a group's kinds side by side
/// (discovery lists the groups in this order).
pub const RESOURCES: &[ResourceInfo] = &[
    NAMESPACE,
    POD,
    NODE,
    SERVICE,
    ENDPOINTS,
    EVENT,
    CONFIG_MAP,
    SECRET,
    DEPLOYMENT,
    REPLICA_SET,
    LEASE,
    ENDPOINT_SLICE,
];

/// The kind `apiVersion` + `kind` names, if served.
pub fn find_kind(api_version: &str, kind: &str) -> Option<&'static ResourceInfo> {
    RESOURCES
        .iter()
        .find(|r| r.kind == kind && r.api_version() == api_version)
}

/// The kind a request path names: group (`""` or `apps`) and a plural,
/// singular or short name, as `kubectl get` accepts them.
pub fn find_resource(group: &str, name: &str) -> Option<&'static ResourceInfo> {
    let name = name.to_ascii_lowercase();
    RESOURCES.iter().find(|r| {
        r.group == group
            && (r.plural == name || r.singular == name || r.short_names.contains(&name.as_str()))
    })
}

resource!(Namespace, NAMESPACE,
defaults: defaults::default_namespace,
validate: validation::validate_namespace,
update: |new, old| {
    let mut errors = meta_update(&new.metadata, &old.metadata);
    errors.extend(validation::validate_namespace(new));
    errors
});
resource!(Pod, POD,
    defaults: defaults::default_pod,
    validate: validation::validate_pod,
    update: validation::validate_pod_update);
resource!(Node, NODE,
defaults: defaults::default_node,
validate: validation::validate_node,
update: |new, old| {
    let mut errors = meta_update(&new.metadata, &old.metadata);
    errors.extend(validation::validate_node(new));
    errors
});
resource!(Service, SERVICE,
    defaults: defaults::default_service,
    validate: validation::validate_service,
    update: validation::validate_service_update);
resource!(Endpoints, ENDPOINTS,
defaults: |_| {},
validate: validation::validate_endpoints,
update: |new, old| {
    let mut errors = meta_update(&new.metadata, &old.metadata);
    errors.extend(validation::validate_endpoints(new));
    errors
});
resource!(Event, EVENT,
defaults: |_| {},
validate: validation::validate_event,
update: |new, old| {
    let mut errors = meta_update(&new.metadata, &old.metadata);
    errors.extend(validation::validate_event(new));
    errors
});
resource!(Deployment, DEPLOYMENT,
    defaults: defaults::default_deployment,
    validate: validation::validate_deployment,
    update: validation::validate_deployment_update);
resource!(ReplicaSet, REPLICA_SET,
    defaults: defaults::default_replica_set,
    validate: validation::validate_replica_set,
    update: validation::validate_replica_set_update);

resource!(Lease, LEASE,
defaults: |_| {},
validate: validation::validate_lease,
update: |new, old| {
    let mut errors = meta_update(&new.metadata, &old.metadata);
    errors.extend(validation::validate_lease(new));
    errors
});

resource!(EndpointSlice, ENDPOINT_SLICE,
    defaults: defaults::default_endpoint_slice,
    validate: validation::validate_endpoint_slice,
    update: validation::validate_endpoint_slice_update);

resource!(ConfigMap, CONFIG_MAP,
    defaults: |_| {},
    validate: validation::validate_config_map,
    update: validation::validate_config_map_update);
resource!(Secret, SECRET,
    defaults: defaults::default_secret,
    validate: validation::validate_secret,
    update: validation::validate_secret_update);

impl KindFields for Namespace {
    fn value(&self, field: &str) -> Option<String> {
        match field {
            "status.phase" => self.status.phase.clone(),
            _ => None,
        }
    }
}

impl KindFields for Pod {
    fn value(&self, field: &str) -> Option<String> {
        let spec = &self.spec;
        match field {
            "spec.nodeName" => spec.node_name.clone(),
            "spec.restartPolicy" => spec.restart_policy.clone(),
            "spec.schedulerName" => spec.scheduler_name.clone(),
            "spec.serviceAccountName" => spec.service_account_name.clone(),
            "spec.hostNetwork" => Some(spec.host_network.to_string()),
            "status.phase" => self.status.phase.clone(),
            "status.podIP" => self.status.pod_ip.clone(),
            _ => None,
        }
    }
}

impl KindFields for Node {
    fn value(&self, field: &str) -> Option<String> {
        match field {
            "spec.unschedulable" => Some(self.spec.unschedulable.to_string()),
            _ => None,
        }
    }
}

impl KindFields for Service {
    fn value(&self, field: &str) -> Option<String> {
        match field {
            "spec.clusterIP" => self.spec.cluster_ip.clone(),
            "spec.type" => self.spec.service_type.clone(),
            _ => None,
        }
    }
}

impl KindFields for Endpoints {
    fn value(&self, _field: &str) -> Option<String> {
        None
    }
}

impl KindFields for Event {
    fn value(&self, field: &str) -> Option<String> {
        let involved = &self.involved_object;
        match field {
            "involvedObject.kind" => involved.kind.clone(),
            "involvedObject.namespace" => involved.namespace.clone(),
            "involvedObject.name" => involved.name.clone(),
            "involvedObject.uid" => involved.uid.clone(),
            "involvedObject.apiVersion" => involved.api_version.clone(),
            "involvedObject.resourceVersion" => involved.resource_version.clone(),
            "involvedObject.fieldPath" => involved.field_path.clone(),
            "reason" => self.reason.clone(),
            "reportingComponent" => self.reporting_component.clone(),
            "source" => self.source.as_ref().and_then(|s| s.component.clone()),
            "type" => self.event_type.clone(),
            _ => None,
        }
    }
}

impl KindFields for ConfigMap {
    fn value(&self, _field: &str) -> Option<String> {
        None
    }
}

impl KindFields for Secret {
    fn value(&self, field: &str) -> Option<String> {
        match field {
            "type" => Some(self.type_name().to_string()),
            _ => None,
        }
    }
}

impl KindFields for Lease {
    fn value(&self, _field: &str) -> Option<String> {
        None
    }
}

impl KindFields for EndpointSlice {
    fn value(&self, _field: &str) -> Option<String> {
        None
    }
}

impl KindFields for Deployment {
    fn value(&self, _field: &str) -> Option<String> {
        None
    }
}

impl KindFields for ReplicaSet {
    fn value(&self, field: &str) -> Option<String> {
        match field {
            "status.replicas" => Some(self.status.replicas.to_string()),
            _ => None,
        }
    }
}

/// An object of any served kind.
#[derive(Debug, Clone, PartialEq)]
pub enum Object {
    Namespace(Namespace),
    Pod(Pod),
    Node(Node),
    Service(Service),
    Endpoints(Endpoints),
    Event(Event),
    Deployment(Deployment),
    ReplicaSet(ReplicaSet),
    Lease(Lease),
    EndpointSlice(EndpointSlice),
    ConfigMap(ConfigMap),
    Secret(Secret),
}

/// Runs `$body` with `$object` bound to the typed object inside an [`Object`].
macro_rules! each_kind {
    ($value:expr, $object:ident => $body:expr) => {
        match $value {
            Object::Namespace($object) => $body,
            Object::Pod($object) => $body,
            Object::Node($object) => $body,
            Object::Service($object) => $body,
            Object::Endpoints($object) => $body,
            Object::Event($object) => $body,
            Object::Deployment($object) => $body,
            Object::ReplicaSet($object) => $body,
            Object::Lease($object) => $body,
            Object::EndpointSlice($object) => $body,
            Object::ConfigMap($object) => $body,
            Object::Secret($object) => $body,
        }
    };
}

impl Object {
    pub fn info(&self) -> &'static ResourceInfo {
        fn info_of<T: Resource>(_: &T) -> &'static ResourceInfo {
            RESOURCES
                .iter()
                .find(|r| r.kind == T::INFO.kind)
                .expect("every kind is listed")
        }
        each_kind!(self, o => info_of(o))
    }

    pub fn metadata(&self) -> &ObjectMeta {
        each_kind!(self, o => o.metadata())
    }

    pub fn metadata_mut(&mut self) -> &mut ObjectMeta {
        each_kind!(self, o => o.metadata_mut())
    }

    pub fn set_defaults(&mut self) {
        each_kind!(self, o => o.set_defaults())
    }

    pub fn validate(&self) -> ErrorList {
        each_kind!(self, o => o.validate())
    }

    /// The JSON form, as the API serves it.
    pub fn to_value(&self) -> serde_json::Value {
        each_kind!(self, o => serde_json::to_value(o).expect("API objects serialize"))
    }

    pub fn field_value(&self, field: &str) -> Option<String> {
        each_kind!(self, o => o.field_value(field))
    }
}

/// Serializes as the object inside, fields in the type's order
/// (`apiVersion`, `kind`, `metadata`, `spec`, `status`), as Kubernetes
/// writes them.
impl Serialize for Object {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        each_kind!(self, o => o.serialize(serializer))
    }
}

/// Wraps typed objects into [`Object`].
pub trait IntoObject {
    fn into_object(self) -> Object;
}

macro_rules! into_object {
    ($($variant:ident),*) => {
        $(
            impl IntoObject for $variant {
                fn into_object(self) -> Object {
                    Object::$variant(self)
                }
            }
        )*
    };
}

into_object!(
    Namespace,
    Pod,
    Node,
    Service,
    Endpoints,
    Event,
    Deployment,
    ReplicaSet,
    Lease,
    EndpointSlice,
    ConfigMap,
    Secret
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_found_by_path_and_by_type() {
        assert_eq!(find_resource("apps", "deploy").unwrap().kind, "Deployment");
        assert_eq!(find_resource("", "po").unwrap().plural, "pods");
        assert!(find_resource("", "deployments").is_none());
        assert_eq!(
            find_kind("apps/v1", "ReplicaSet").unwrap().group_resource(),
            "replicasets.apps"
        );
        assert!(find_kind("v1", "Deployment").is_none());
        assert_eq!(find_resource("", "cm").unwrap().kind, "ConfigMap");
        assert_eq!(find_resource("", "secrets").unwrap().kind, "Secret");
        assert!(SECRET.supports_field("type"));
    }

    #[test]
    fn new_objects_carry_their_type() {
        let pod = Pod::new("web", Some("default"));
        assert_eq!((pod.api_version.as_str(), pod.kind.as_str()), ("v1", "Pod"));
        let deployment = Deployment::new("web", Some("default"));
        assert_eq!(deployment.api_version, "apps/v1");
    }
}
