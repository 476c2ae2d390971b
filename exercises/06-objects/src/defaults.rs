// Generated from solutions/06-objects/src/defaults.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
//! Defaulting: what the API server fills in before it validates and stores
//! an object, so that every stored object is complete and every component
//! reads the same values (no component guesses "no restartPolicy probably
//! means Always").
//!
//! The values are Kubernetes' (`pkg/apis/core/v1/defaults.go`,
//! `pkg/apis/apps/v1/defaults.go`), including the few that its registry
//! sets on create rather than its defaulters (a namespace's `kubernetes`
//! finalizer). Defaulting never overwrites a value the user gave.

use crate::apps::{Deployment, DeploymentStrategy, ReplicaSet, RollingUpdateDeployment};
use crate::config::{ByteString, SECRET_TYPE_OPAQUE, Secret};
use crate::discovery::EndpointSlice;
use crate::intstr::IntOrString;
use crate::namespace::Namespace;
use crate::node::Node;
use crate::pod::{Container, Pod, PodSpec, PodTemplateSpec, Probe};
use crate::service::Service;

fn set<T>(field: &mut Option<T>, value: impl Into<T>) {
    if field.is_none() {
        *field = Some(value.into());
    }
}

/// `Always` for images that can change under the same name (`:latest`, or
/// no tag, which means latest); `IfNotPresent` for a fixed tag or a digest.
///
/// The tag is what follows the last `:` after the last `/`, so that a
/// registry port (`localhost:5000/web`) is not mistaken for a tag.
pub fn pull_policy_for(image: &str) -> &'static str {
    if image.contains('@') {
        return "IfNotPresent";
    }
    let last_part = image.rsplit('/').next().unwrap_or(image);
    match last_part.rsplit_once(':') {
        Some((_, "latest")) | None => "Always",
        Some(_) => "IfNotPresent",
    }
}

/// Probe timing: every 10 s, 1 s timeout, one success to pass, three
/// failures in a row to fail; an HTTP probe asks for `/` over HTTP.
pub fn default_probe(probe: &mut Probe) {
    set(&mut probe.timeout_seconds, 1);
    set(&mut probe.period_seconds, 10);
    set(&mut probe.success_threshold, 1);
    set(&mut probe.failure_threshold, 3);
    if let Some(http) = &mut probe.http_get {
        set(&mut http.path, "/");
        set(&mut http.scheme, "HTTP");
    }
}

/// A container's defaults: `terminationMessagePath` `/dev/termination-log`
/// with policy `File`, `imagePullPolicy` from the image's tag, `TCP` on
/// every port, and each probe's timing.
// ANCHOR: default_container
pub fn default_container(container: &mut Container) {
    todo!(
        "exercise 3: fill in the container fields that the user left out, with Kubernetes' defaults"
    )
}
// ANCHOR_END: default_container

// ANCHOR: default_pod_spec
/// A pod spec's defaults: restart `Always`, DNS `ClusterFirst`, 30 s to
/// stop gracefully, the `default-scheduler`, service links on, an empty
/// security context, and every container's defaults.
pub fn default_pod_spec(spec: &mut PodSpec) {
    set(&mut spec.restart_policy, "Always");
    set(&mut spec.dns_policy, "ClusterFirst");
    set(&mut spec.termination_grace_period_seconds, 30);
    set(&mut spec.scheduler_name, "default-scheduler");
    set(&mut spec.enable_service_links, true);
    set(&mut spec.security_context, serde_json::json!({}));
    for container in spec
        .init_containers
        .iter_mut()
        .chain(spec.containers.iter_mut())
    {
        default_container(container);
    }
    for env in spec
        .containers
        .iter_mut()
        .chain(spec.init_containers.iter_mut())
        .flat_map(|c| c.env.iter_mut())
    {
        if let Some(field_ref) = env.value_from.as_mut().and_then(|v| v.field_ref.as_mut()) {
            set(&mut field_ref.api_version, "v1");
        }
    }
    // ConfigMap and Secret files are readable by all by default
    // (`rw-r--r--`), as Kubernetes' `0644`.
    for volume in &mut spec.volumes {
        if let Some(source) = &mut volume.config_map {
            set(&mut source.default_mode, DEFAULT_FILE_MODE);
        }
        if let Some(source) = &mut volume.secret {
            set(&mut source.default_mode, DEFAULT_FILE_MODE);
        }
    }
}

/// The mode of a ConfigMap's or Secret's files in a volume: `0644`.
pub const DEFAULT_FILE_MODE: i32 = 0o644;
// ANCHOR_END: default_pod_spec

pub fn default_pod(pod: &mut Pod) {
    default_pod_spec(&mut pod.spec);
}

fn default_template(template: &mut PodTemplateSpec) {
    default_pod_spec(&mut template.spec);
}

/// One replica; a rolling update with 25% surge and 25% unavailable; ten
/// old ReplicaSets kept for rollbacks; 600 s before a stuck rollout is
/// reported.
pub fn default_deployment(deployment: &mut Deployment) {
    let spec = &mut deployment.spec;
    set(&mut spec.replicas, 1);
    let strategy = spec
        .strategy
        .get_or_insert_with(DeploymentStrategy::default);
    set(&mut strategy.strategy_type, "RollingUpdate");
    if strategy.strategy_type.as_deref() == Some("RollingUpdate") {
        let rolling = strategy
            .rolling_update
            .get_or_insert_with(RollingUpdateDeployment::default);
        set(&mut rolling.max_unavailable, IntOrString::from("25%"));
        set(&mut rolling.max_surge, IntOrString::from("25%"));
    }
    set(&mut spec.revision_history_limit, 10);
    set(&mut spec.progress_deadline_seconds, 600);
    default_template(&mut spec.template);
}

pub fn default_replica_set(replica_set: &mut ReplicaSet) {
    set(&mut replica_set.spec.replicas, 1);
    default_template(&mut replica_set.spec.template);
}

/// `ClusterIP` type, no session affinity, `TCP` ports whose `targetPort`
/// is the port itself; NodePort and LoadBalancer services route external
/// traffic cluster-wide; internal traffic goes cluster-wide. A `clusterIP`
/// given alone is also the first of `clusterIPs` (older clients know only
/// the former; newer ones read the latter).
pub fn default_service(service: &mut Service) {
    let spec = &mut service.spec;
    if spec.cluster_ips.is_empty()
        && let Some(ip) = spec.cluster_ip.as_deref().filter(|ip| !ip.is_empty())
    {
        spec.cluster_ips = vec![ip.to_string()];
    }
    set(&mut spec.service_type, "ClusterIP");
    set(&mut spec.session_affinity, "None");
    for port in &mut spec.ports {
        set(&mut port.protocol, "TCP");
        set(&mut port.target_port, IntOrString::Int(port.port));
    }
    let service_type = spec.service_type.as_deref().unwrap_or("ClusterIP");
    if matches!(service_type, "NodePort" | "LoadBalancer") {
        set(&mut spec.external_traffic_policy, "Cluster");
    }
    if service_type != "ExternalName" {
        set(&mut spec.internal_traffic_policy, "Cluster");
    }
}

/// A Secret is `Opaque` unless it says otherwise, and its write-only
/// `stringData` moves into `data`, winning over a key of the same name
/// (Kubernetes does it while converting the request, before defaulting
/// and validation), so that it is never stored nor returned.
pub fn default_secret(secret: &mut Secret) {
    set(&mut secret.secret_type, SECRET_TYPE_OPAQUE);
    for (key, value) in std::mem::take(&mut secret.string_data) {
        secret.data.insert(key, ByteString(value.into_bytes()));
    }
}

/// A slice's ports are named (`""` for a Service's only, unnamed port) and
/// `TCP` unless they say otherwise (`pkg/apis/discovery/v1/defaults.go`), so
/// that a proxy matching slice ports to Service ports by name finds them.
pub fn default_endpoint_slice(slice: &mut EndpointSlice) {
    for port in &mut slice.ports {
        set(&mut port.name, "");
        set(&mut port.protocol, "TCP");
    }
}

/// The `kubernetes` finalizer (the namespace controller empties a deleted
/// namespace before it goes) and phase `Active`.
pub fn default_namespace(namespace: &mut Namespace) {
    if namespace.spec.finalizers.is_empty() {
        namespace.spec.finalizers.push("kubernetes".into());
    }
    set(&mut namespace.status.phase, "Active");
}

/// `allocatable` defaults to `capacity`: nothing reserved for the system.
pub fn default_node(node: &mut Node) {
    if node.status.allocatable.is_empty() {
        node.status.allocatable = node.status.capacity.clone();
    }
}
