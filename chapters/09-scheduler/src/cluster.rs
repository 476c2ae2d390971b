//! Fixed cluster states for the decision tests: nodes and pods built from
//! short descriptions, the way a test reads best.

use objects::{Node, Pod};
use serde_json::{Value, json};

/// A Ready node with `cpu`, `memory` and 110 pods allocatable, and `extra`
/// merged into it (labels, taints, `spec.unschedulable`...).
pub fn node(name: &str, cpu: &str, memory: &str, extra: Value) -> Node {
    let mut value = json!({
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}},
        "status": {
            "allocatable": {"cpu": cpu, "memory": memory, "pods": "110"},
            "capacity": {"cpu": cpu, "memory": memory, "pods": "110"},
            "conditions": [{"type": "Ready", "status": "True"}],
        },
    });
    testkit::merge_json(&mut value, extra);
    serde_json::from_value(value).expect("a node")
}

/// A pod in `default` with one container requesting `cpu` and `memory`
/// (empty: no request).
pub fn pod(name: &str, cpu: &str, memory: &str) -> Pod {
    pod_with(name, cpu, memory, json!({}))
}

/// [`pod`] with `extra` merged into it.
pub fn pod_with(name: &str, cpu: &str, memory: &str, extra: Value) -> Pod {
    let mut requests = serde_json::Map::new();
    if !cpu.is_empty() {
        requests.insert("cpu".into(), json!(cpu));
    }
    if !memory.is_empty() {
        requests.insert("memory".into(), json!(memory));
    }
    let mut value = json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"containers": [{"name": "main", "image": "busybox", "resources": {"requests": requests}}]},
    });
    testkit::merge_json(&mut value, extra);
    serde_json::from_value(value).expect("a pod")
}
