//! Objects as rows of the server-side `Table` that `kubectl get` asks for
//! (`Accept: application/json;as=Table;v=v1;g=meta.k8s.io`).
//!
//! The server decides the columns, so that an old kubectl shows a new
//! kind's columns right. The columns and cell texts follow kubectl's
//! printers (`NAME READY STATUS RESTARTS AGE` for pods); columns with a
//! priority above 0 only appear with `-o wide`. Ages are computed from a
//! `now` passed in, so that a table is a pure function of its objects.

use crate::labels::Selector;
use crate::meta::{ObjectMeta, Table, TableColumnDefinition, TableRow};
use crate::pod::{Pod, PodSpec};
use crate::resource::{Object, ResourceInfo};
use crate::time::Time;
use crate::{
    ConfigMap, Deployment, EndpointSlice, Endpoints, Event, Lease, Namespace, Node, ReplicaSet,
    Secret, Service,
};
use serde_json::{Value, json};

/// What each row carries besides its cells (`?includeObject=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IncludeObject {
    None,
    /// A `PartialObjectMetadata`: the default, enough for kubectl.
    Metadata,
    Object,
}

impl IncludeObject {
    /// The query parameter's value; `None` (unset or unknown) is the default.
    pub fn parse(value: Option<&str>) -> IncludeObject {
        match value {
            Some("None") => IncludeObject::None,
            Some("Object") => IncludeObject::Object,
            _ => IncludeObject::Metadata,
        }
    }
}

/// kubectl's ages: `45s`, `3m20s`, `17m`, `5h3m`, `30h`, `6d2h`, `40d`, `2y30d`.
pub fn human_duration(seconds: i64) -> String {
    if seconds < -1 {
        return "<invalid>".into();
    }
    let seconds = seconds.max(0);
    let minutes = seconds / 60;
    let hours = seconds / 3600;
    let days = hours / 24;
    let with_rest = |big: i64, unit: &str, small: i64, small_unit: &str| {
        if small == 0 {
            format!("{big}{unit}")
        } else {
            format!("{big}{unit}{small}{small_unit}")
        }
    };
    match () {
        _ if seconds < 120 => format!("{seconds}s"),
        _ if minutes < 10 => with_rest(minutes, "m", seconds % 60, "s"),
        _ if minutes < 180 => format!("{minutes}m"),
        _ if hours < 8 => with_rest(hours, "h", minutes % 60, "m"),
        _ if hours < 48 => format!("{hours}h"),
        _ if hours < 24 * 8 => with_rest(days, "d", hours % 24, "h"),
        _ if days < 365 * 2 => format!("{days}d"),
        _ if days < 365 * 8 => with_rest(days / 365, "y", days % 365, "d"),
        _ => format!("{}y", days / 365),
    }
}

fn age(meta: &ObjectMeta, now: Time) -> String {
    match meta.creation_timestamp {
        Some(created) => human_duration((now.0 - created.0).num_seconds()),
        None => "<unknown>".into(),
    }
}

fn column(
    name: &str,
    column_type: &str,
    description: &str,
    priority: i32,
) -> TableColumnDefinition {
    let format = if name == "Name" { "name" } else { "" };
    TableColumnDefinition {
        priority,
        ..TableColumnDefinition::new(name, column_type, format, description)
    }
}

/// The columns of a kind's table.
pub fn columns(info: &ResourceInfo) -> Vec<TableColumnDefinition> {
    let name = column(
        "Name",
        "string",
        "Name must be unique within a namespace.",
        0,
    );
    let age = column("Age", "string", "Time since the object was created.", 0);
    let string = |title: &str, description: &str, priority: i32| {
        column(title, "string", description, priority)
    };
    let integer = |title: &str, description: &str| column(title, "integer", description, 0);
    match info.kind {
        "Pod" => vec![
            name,
            string("Ready", "Containers ready out of all containers.", 0),
            string(
                "Status",
                "The aggregate status of the containers in this pod.",
                0,
            ),
            string(
                "Restarts",
                "The number of times the containers in this pod have been restarted.",
                0,
            ),
            age,
            string("IP", "The IP address assigned to the pod.", 1),
            string("Node", "The node the pod is assigned to.", 1),
        ],
        "Node" => vec![
            name,
            string("Status", "The status of the node.", 0),
            string("Roles", "The roles of the node.", 0),
            age,
            string("Version", "Kubelet version.", 0),
            string("Internal-IP", "The node's internal IP.", 1),
            string("OS-Image", "The node's operating system image.", 1),
            string("Kernel-Version", "The node's kernel version.", 1),
            string("Container-Runtime", "The node's container runtime.", 1),
        ],
        "Namespace" => vec![
            name,
            string("Status", "The status of the namespace.", 0),
            age,
        ],
        "Service" => vec![
            name,
            string("Type", "The type of the service.", 0),
            string("Cluster-IP", "The cluster IP of the service.", 0),
            string("External-IP", "The external IPs of the service.", 0),
            string("Port(s)", "The ports of the service.", 0),
            age,
            string("Selector", "The label selector of the service.", 1),
        ],
        "Endpoints" => vec![
            name,
            string("Endpoints", "The addresses and ports.", 0),
            age,
        ],
        "Event" => vec![
            string("Last Seen", "Time since the event was last seen.", 0),
            string("Type", "Normal or Warning.", 0),
            string("Reason", "Why the event happened.", 0),
            string("Object", "The object the event is about.", 0),
            string("Message", "A description of the event.", 0),
        ],
        "Deployment" => vec![
            name,
            string("Ready", "Ready replicas out of desired replicas.", 0),
            integer("Up-to-date", "Replicas with the current template."),
            integer("Available", "Replicas available to serve."),
            age,
            string("Containers", "The containers of the template.", 1),
            string("Images", "The images of the template.", 1),
            string("Selector", "The label selector.", 1),
        ],
        "ReplicaSet" => vec![
            name,
            integer("Desired", "Desired replicas."),
            integer("Current", "Existing replicas."),
            integer("Ready", "Ready replicas."),
            age,
            string("Containers", "The containers of the template.", 1),
            string("Images", "The images of the template.", 1),
            string("Selector", "The label selector.", 1),
        ],
        "Lease" => vec![name, string("Holder", "The holder of the lease.", 0), age],
        // kubectl's printers call the counts strings; the cells are numbers.
        "ConfigMap" => vec![
            name,
            string("Data", "The number of keys, in data and binaryData.", 0),
            age,
        ],
        "Secret" => vec![
            name,
            string(
                "Type",
                "Used to facilitate programmatic handling of secret data.",
                0,
            ),
            string("Data", "The number of keys.", 0),
            age,
        ],
        "EndpointSlice" => vec![
            name,
            string(
                "AddressType",
                "The type of address carried by this slice.",
                0,
            ),
            string("Ports", "The ports exposed by each endpoint.", 0),
            string("Endpoints", "The addresses of the endpoints.", 0),
            age,
        ],
        _ => vec![name, age],
    }
}

/// The cells of one object's row, one per column of [`columns`].
pub fn cells(object: &Object, now: Time) -> Vec<Value> {
    match object {
        Object::Pod(pod) => pod_cells(pod, now),
        Object::Node(node) => node_cells(node, now),
        Object::Namespace(namespace) => namespace_cells(namespace, now),
        Object::Service(service) => service_cells(service, now),
        Object::Endpoints(endpoints) => endpoints_cells(endpoints, now),
        Object::Event(event) => event_cells(event, now),
        Object::Deployment(deployment) => deployment_cells(deployment, now),
        Object::ReplicaSet(replica_set) => replica_set_cells(replica_set, now),
        Object::Lease(lease) => lease_cells(lease, now),
        Object::EndpointSlice(slice) => endpoint_slice_cells(slice, now),
        Object::ConfigMap(config_map) => config_map_cells(config_map, now),
        Object::Secret(secret) => secret_cells(secret, now),
    }
}

/// A table of `objects` (all of the kind `info` describes).
pub fn to_table(
    info: &ResourceInfo,
    objects: &[Object],
    now: Time,
    include: IncludeObject,
) -> Table {
    let mut table = Table::new(columns(info));
    for object in objects {
        let embedded = match include {
            IncludeObject::None => None,
            IncludeObject::Metadata => Some(json!({
                "kind": "PartialObjectMetadata",
                "apiVersion": "meta.k8s.io/v1",
                "metadata": object.metadata(),
            })),
            IncludeObject::Object => Some(object.to_value()),
        };
        table.rows.push(TableRow {
            cells: cells(object, now),
            object: embedded,
        });
    }
    table
}

/// What kubectl shows in a pod's STATUS column: the phase, overridden by
/// the pod's reason, then by the most telling container state
/// (`CrashLoopBackOff`, `OOMKilled`, `Init:0/1`), and `Terminating` while
/// a deletion is under way.
pub fn pod_status(pod: &Pod) -> String {
    let status = &pod.status;
    let mut reason = status.phase.clone().unwrap_or_else(|| "Pending".into());
    if let Some(r) = &status.reason {
        reason.clone_from(r);
    }
    let init_total = pod.spec.init_containers.len();
    let mut initializing = false;
    for (i, container) in status.init_container_statuses.iter().enumerate() {
        let state = container.state.clone().unwrap_or_default();
        if let Some(terminated) = &state.terminated {
            if terminated.exit_code == 0 {
                continue;
            }
            reason = match &terminated.reason {
                Some(r) => format!("Init:{r}"),
                None => format!("Init:ExitCode:{}", terminated.exit_code),
            };
        } else if let Some(waiting) = state
            .waiting
            .as_ref()
            .and_then(|w| w.reason.clone())
            .filter(|r| r != "PodInitializing")
        {
            reason = format!("Init:{waiting}");
        } else {
            reason = format!("Init:{i}/{init_total}");
        }
        initializing = true;
        break;
    }
    if !initializing {
        for container in status.container_statuses.iter().rev() {
            let state = container.state.clone().unwrap_or_default();
            if let Some(waiting) = state.waiting.and_then(|w| w.reason) {
                reason = waiting;
            } else if let Some(terminated) = state.terminated {
                reason = match (terminated.reason, terminated.signal) {
                    (Some(r), _) => r,
                    (None, Some(signal)) if signal != 0 => format!("Signal:{signal}"),
                    _ => format!("ExitCode:{}", terminated.exit_code),
                };
            }
        }
    }
    if pod.metadata.deletion_timestamp.is_some() {
        reason = if status.reason.as_deref() == Some("NodeLost") {
            "Unknown".into()
        } else {
            "Terminating".into()
        };
    }
    reason
}

fn pod_cells(pod: &Pod, now: Time) -> Vec<Value> {
    let statuses = &pod.status.container_statuses;
    let ready = statuses.iter().filter(|c| c.ready).count();
    let restarts: i32 = statuses.iter().map(|c| c.restart_count).sum();
    let last_restart = statuses
        .iter()
        .filter_map(|c| c.last_state.as_ref()?.terminated.as_ref()?.finished_at)
        .max();
    let restarts = match last_restart {
        Some(at) if restarts > 0 => format!(
            "{restarts} ({} ago)",
            human_duration((now.0 - at.0).num_seconds())
        ),
        _ => restarts.to_string(),
    };
    let none = || "<none>".to_string();
    vec![
        json!(pod.metadata.name()),
        json!(format!("{ready}/{}", pod.spec.containers.len())),
        json!(pod_status(pod)),
        json!(restarts),
        json!(age(&pod.metadata, now)),
        json!(pod.status.pod_ip.clone().unwrap_or_else(none)),
        json!(pod.spec.node_name.clone().unwrap_or_else(none)),
    ]
}

fn node_cells(node: &Node, now: Time) -> Vec<Value> {
    let ready = node
        .status
        .conditions
        .iter()
        .find(|c| c.condition_type == "Ready");
    let mut status = match ready.map(|c| c.status.as_str()) {
        Some("True") => "Ready".to_string(),
        _ => "NotReady".to_string(),
    };
    if node.spec.unschedulable {
        status.push_str(",SchedulingDisabled");
    }
    let roles: Vec<&str> = node
        .metadata
        .labels
        .keys()
        .filter_map(|k| k.strip_prefix("node-role.kubernetes.io/"))
        .collect();
    let roles = if roles.is_empty() {
        "<none>".to_string()
    } else {
        roles.join(",")
    };
    let info = node.status.node_info.clone().unwrap_or_default();
    let internal_ip = node
        .status
        .addresses
        .iter()
        .find(|a| a.address_type == "InternalIP")
        .map_or("<none>".to_string(), |a| a.address.clone());
    vec![
        json!(node.metadata.name()),
        json!(status),
        json!(roles),
        json!(age(&node.metadata, now)),
        json!(info.kubelet_version),
        json!(internal_ip),
        json!(info.os_image),
        json!(info.kernel_version),
        json!(info.container_runtime_version),
    ]
}

fn namespace_cells(namespace: &Namespace, now: Time) -> Vec<Value> {
    let phase = namespace.status.phase.clone().unwrap_or_default();
    vec![
        json!(namespace.metadata.name()),
        json!(phase),
        json!(age(&namespace.metadata, now)),
    ]
}

fn service_cells(service: &Service, now: Time) -> Vec<Value> {
    let spec = &service.spec;
    let service_type = spec
        .service_type
        .clone()
        .unwrap_or_else(|| "ClusterIP".into());
    let cluster_ip = spec.cluster_ip.clone().unwrap_or_else(|| "<none>".into());
    let external = match (service_type.as_str(), spec.external_ips.is_empty()) {
        ("ExternalName", _) => spec.external_name.clone().unwrap_or_default(),
        (_, false) => spec.external_ips.join(","),
        ("LoadBalancer", true) => "<pending>".into(),
        _ => "<none>".into(),
    };
    let ports: Vec<String> = spec
        .ports
        .iter()
        .map(|p| {
            let protocol = p.protocol.as_deref().unwrap_or("TCP");
            match p.node_port {
                Some(node_port) => format!("{}:{node_port}/{protocol}", p.port),
                None => format!("{}/{protocol}", p.port),
            }
        })
        .collect();
    let ports = if ports.is_empty() {
        "<none>".to_string()
    } else {
        ports.join(",")
    };
    let selector = if spec.selector.is_empty() {
        "<none>".to_string()
    } else {
        Selector::from_map(&spec.selector).to_string()
    };
    vec![
        json!(service.metadata.name()),
        json!(service_type),
        json!(cluster_ip),
        json!(external),
        json!(ports),
        json!(age(&service.metadata, now)),
        json!(selector),
    ]
}

/// `10.244.1.7:8080,10.244.2.3:8080 + 2 more...`, as kubectl abbreviates.
fn endpoints_cells(endpoints: &Endpoints, now: Time) -> Vec<Value> {
    let mut all = Vec::new();
    for subset in &endpoints.subsets {
        for address in &subset.addresses {
            if subset.ports.is_empty() {
                all.push(address.ip.clone());
            }
            for port in &subset.ports {
                all.push(format!("{}:{}", address.ip, port.port));
            }
        }
    }
    let shown = match all.len() {
        0 => "<none>".to_string(),
        n if n <= 3 => all.join(","),
        n => format!("{} + {} more...", all[..3].join(","), n - 3),
    };
    vec![
        json!(endpoints.metadata.name()),
        json!(shown),
        json!(age(&endpoints.metadata, now)),
    ]
}

fn event_cells(event: &Event, now: Time) -> Vec<Value> {
    let last_seen = event
        .last_timestamp
        .or(event.event_time.map(|t| Time::from(t.0)))
        .map_or("<unknown>".to_string(), |t| {
            human_duration((now.0 - t.0).num_seconds())
        });
    let involved = &event.involved_object;
    let object = format!(
        "{}/{}",
        involved.kind.as_deref().unwrap_or("").to_lowercase(),
        involved.name.as_deref().unwrap_or("")
    );
    vec![
        json!(last_seen),
        json!(event.event_type.clone().unwrap_or_default()),
        json!(event.reason.clone().unwrap_or_default()),
        json!(object),
        json!(event.message.clone().unwrap_or_default()),
    ]
}

fn lease_cells(lease: &Lease, now: Time) -> Vec<Value> {
    vec![
        json!(lease.metadata.name()),
        json!(lease.spec.holder_identity.clone().unwrap_or_default()),
        json!(age(&lease.metadata, now)),
    ]
}

fn config_map_cells(config_map: &ConfigMap, now: Time) -> Vec<Value> {
    vec![
        json!(config_map.metadata.name()),
        json!(config_map.data.len() + config_map.binary_data.len()),
        json!(age(&config_map.metadata, now)),
    ]
}

/// kubectl counts `stringData` too, which a stored Secret never has.
fn secret_cells(secret: &Secret, now: Time) -> Vec<Value> {
    vec![
        json!(secret.metadata.name()),
        json!(secret.type_name()),
        json!(secret.data.len() + secret.string_data.len()),
        json!(age(&secret.metadata, now)),
    ]
}

/// The first three items, then `+ N more...`; `<unset>` for none (kubectl's
/// `listWithMoreString` for slices).
fn first_three(items: &[String]) -> String {
    match items.len() {
        0 => "<unset>".to_string(),
        n if n <= 3 => items.join(","),
        n => format!("{} + {} more...", items[..3].join(","), n - 3),
    }
}

/// A port shows its number, else its name, else `*` (all ports); the
/// endpoints column lists addresses.
fn endpoint_slice_cells(slice: &EndpointSlice, now: Time) -> Vec<Value> {
    let ports: Vec<String> = slice
        .ports
        .iter()
        .map(|p| match (p.port, &p.name) {
            (Some(port), _) => port.to_string(),
            (None, Some(name)) => name.clone(),
            (None, None) => "*".to_string(),
        })
        .collect();
    let addresses: Vec<String> = slice
        .endpoints
        .iter()
        .flat_map(|e| e.addresses.iter().cloned())
        .collect();
    vec![
        json!(slice.metadata.name()),
        json!(slice.address_type),
        json!(first_three(&ports)),
        json!(first_three(&addresses)),
        json!(age(&slice.metadata, now)),
    ]
}

fn containers_and_images(spec: &PodSpec) -> (String, String) {
    let names: Vec<&str> = spec.containers.iter().map(|c| c.name.as_str()).collect();
    let images: Vec<&str> = spec
        .containers
        .iter()
        .filter_map(|c| c.image.as_deref())
        .collect();
    (names.join(","), images.join(","))
}

fn selector_text(selector: &crate::meta::LabelSelector) -> String {
    Selector::from_label_selector(selector).map_or_else(|e| e.to_string(), |s| s.to_string())
}

fn deployment_cells(deployment: &Deployment, now: Time) -> Vec<Value> {
    let status = &deployment.status;
    let desired = deployment.spec.replicas.unwrap_or(1);
    let (containers, images) = containers_and_images(&deployment.spec.template.spec);
    vec![
        json!(deployment.metadata.name()),
        json!(format!("{}/{desired}", status.ready_replicas.unwrap_or(0))),
        json!(status.updated_replicas.unwrap_or(0)),
        json!(status.available_replicas.unwrap_or(0)),
        json!(age(&deployment.metadata, now)),
        json!(containers),
        json!(images),
        json!(selector_text(&deployment.spec.selector)),
    ]
}

fn replica_set_cells(replica_set: &ReplicaSet, now: Time) -> Vec<Value> {
    let status = &replica_set.status;
    let (containers, images) = containers_and_images(&replica_set.spec.template.spec);
    vec![
        json!(replica_set.metadata.name()),
        json!(replica_set.spec.replicas.unwrap_or(1)),
        json!(status.replicas),
        json!(status.ready_replicas.unwrap_or(0)),
        json!(age(&replica_set.metadata, now)),
        json!(containers),
        json!(images),
        json!(selector_text(&replica_set.spec.selector)),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_like_kubectl() {
        let cases = [
            (5, "5s"),
            (119, "119s"),
            (200, "3m20s"),
            (300, "5m"),
            (1020, "17m"),
            (5 * 3600 + 180, "5h3m"),
            (30 * 3600, "30h"),
            (6 * 86400 + 7200, "6d2h"),
            (40 * 86400, "40d"),
            (800 * 86400, "2y70d"),
            (-1, "0s"),
            (-5, "<invalid>"),
        ];
        for (seconds, expected) in cases {
            assert_eq!(human_duration(seconds), expected, "{seconds}s");
        }
    }

    #[test]
    fn every_kind_has_as_many_cells_as_columns() {
        let now = Time::parse("2024-05-01T12:00:00Z").unwrap();
        let objects = [
            Object::Pod(Pod::default()),
            Object::Node(Node::default()),
            Object::Namespace(Namespace::default()),
            Object::Service(Service::default()),
            Object::Endpoints(Endpoints::default()),
            Object::Event(Event::default()),
            Object::Deployment(Deployment::default()),
            Object::ReplicaSet(ReplicaSet::default()),
            Object::Lease(Lease::default()),
            Object::EndpointSlice(EndpointSlice::default()),
            Object::ConfigMap(ConfigMap::default()),
            Object::Secret(Secret::default()),
        ];
        for object in objects {
            assert_eq!(
                cells(&object, now).len(),
                columns(object.info()).len(),
                "{}",
                object.info().kind
            );
        }
    }
}
