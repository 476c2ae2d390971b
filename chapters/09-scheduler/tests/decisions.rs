//! Scheduling decisions on fixed cluster states: which node each pod gets,
//! in order (each placed pod counts against its node for the next), or
//! the FailedScheduling message, word for word.

use std::sync::Arc;

use chapter_09::scheduler::node_info::{PodInfo, Snapshot};
use chapter_09::scheduler::{Rng, default_plugins, schedule};
use chapter_09::{node, pod, pod_with};
use objects::{Node, Pod};
use serde_json::json;

/// Schedules `pods` one after the other on `nodes` and tells the story.
fn decide(nodes: Vec<Node>, pods: Vec<Pod>) -> String {
    let mut snapshot = Snapshot::new();
    for node in nodes {
        snapshot.set_node(Arc::new(node));
    }
    let plugins = default_plugins();
    let mut rng = Rng::seeded(9);
    let mut story = String::new();
    for pod in pods {
        let key = format!("default/{}", pod.metadata.name());
        match schedule(&pod, &snapshot, &plugins, &mut rng) {
            Ok(decision) => {
                story += &format!("{} -> {}\n", pod.metadata.name(), decision.node);
                snapshot.place(&key, &decision.node, PodInfo::of(&pod));
            }
            Err(error) => story += &format!("{}: {}\n", pod.metadata.name(), error.message),
        }
    }
    story
}

#[test]
fn resources() {
    let nodes = vec![
        node("small", "1", "1Gi", json!({})),
        node("large", "4", "8Gi", json!({})),
    ];
    let pods = vec![
        pod("a", "3", "1Gi"),
        pod("b", "1", "512Mi"),
        pod("c", "1", "6Gi"),
        pod("d", "2", "512Mi"),
        pod("e", "", "16Gi"),
        pod("f", "8", "16Gi"),
    ];
    insta::assert_snapshot!(decide(nodes, pods));
}

#[test]
fn pod_slots_and_init_containers() {
    let nodes = vec![
        node(
            "one-slot",
            "8",
            "8Gi",
            json!({"status": {"allocatable": {"pods": "1"}}}),
        ),
        node("roomy", "2", "2Gi", json!({})),
    ];
    let init = json!({"spec": {"initContainers": [
        {"name": "setup", "image": "busybox", "resources": {"requests": {"cpu": "3"}}}
    ]}});
    let pods = vec![
        pod("first", "100m", "100Mi"),
        pod("second", "100m", "100Mi"),
        pod("third", "100m", "100Mi"),
        pod_with("big-init", "100m", "", init),
    ];
    insta::assert_snapshot!(decide(nodes, pods));
}

#[test]
fn selectors_and_affinity() {
    let nodes = vec![
        node(
            "ssd-1",
            "4",
            "8Gi",
            json!({"metadata": {"labels": {"disk": "ssd", "gen": "3"}}}),
        ),
        node(
            "hdd-1",
            "4",
            "8Gi",
            json!({"metadata": {"labels": {"disk": "hdd", "gen": "5"}}}),
        ),
        node("bare", "4", "8Gi", json!({})),
    ];
    let affinity = |expressions: serde_json::Value| {
        json!({"spec": {"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [{"matchExpressions": expressions}]
        }}}}})
    };
    let pods = vec![
        pod_with(
            "wants-ssd",
            "",
            "",
            json!({"spec": {"nodeSelector": {"disk": "ssd"}}}),
        ),
        pod_with(
            "wants-nvme",
            "",
            "",
            json!({"spec": {"nodeSelector": {"disk": "nvme"}}}),
        ),
        pod_with(
            "in-hdd",
            "",
            "",
            affinity(json!([{"key": "disk", "operator": "In", "values": ["hdd"]}])),
        ),
        pod_with(
            "not-in",
            "",
            "",
            affinity(json!([{"key": "disk", "operator": "NotIn", "values": ["ssd", "hdd"]}])),
        ),
        pod_with(
            "no-disk",
            "",
            "",
            affinity(json!([{"key": "disk", "operator": "DoesNotExist"}])),
        ),
        pod_with(
            "gen-gt-4",
            "",
            "",
            affinity(json!([{"key": "gen", "operator": "Gt", "values": ["4"]}])),
        ),
        pod_with(
            "gen-lt-4",
            "",
            "",
            affinity(json!([{"key": "gen", "operator": "Lt", "values": ["4"]}])),
        ),
        pod_with(
            "exists-and-not",
            "",
            "",
            affinity(json!([
                {"key": "disk", "operator": "Exists"},
                {"key": "disk", "operator": "NotIn", "values": ["ssd"]}
            ])),
        ),
        pod_with(
            "by-name",
            "",
            "",
            json!({"spec": {"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [
                    {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["bare"]}]}
                ]
            }}}}}),
        ),
        pod_with(
            "either-term",
            "",
            "",
            json!({"spec": {"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [
                    {"matchExpressions": [{"key": "disk", "operator": "In", "values": ["nvme"]}]},
                    {"matchExpressions": [{"key": "gen", "operator": "In", "values": ["5"]}]}
                ]
            }}}}}),
        ),
    ];
    insta::assert_snapshot!(decide(nodes, pods));
}

#[test]
fn taints_and_tolerations() {
    let nodes = vec![
        node(
            "control-plane",
            "4",
            "8Gi",
            json!({"spec": {"taints": [
                {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}
            ]}}),
        ),
        node(
            "db",
            "4",
            "8Gi",
            json!({"spec": {"taints": [
                {"key": "dedicated", "value": "db", "effect": "NoExecute"}
            ]}}),
        ),
        node(
            "cordoned",
            "4",
            "8Gi",
            json!({"spec": {"unschedulable": true}}),
        ),
        node(
            "not-ready",
            "4",
            "8Gi",
            json!({"status": {"conditions": [{"type": "Ready", "status": "False"}]}}),
        ),
    ];
    let tolerate = |tolerations: serde_json::Value| json!({"spec": {"tolerations": tolerations}});
    let pods = vec![
        pod("plain", "", ""),
        pod_with(
            "db-equal",
            "",
            "",
            tolerate(json!([{"key": "dedicated", "operator": "Equal", "value": "db"}])),
        ),
        pod_with(
            "db-wrong-value",
            "",
            "",
            tolerate(json!([{"key": "dedicated", "value": "web"}])),
        ),
        pod_with(
            "db-wrong-effect",
            "",
            "",
            tolerate(json!([{"key": "dedicated", "operator": "Exists", "effect": "NoSchedule"}])),
        ),
        pod_with(
            "control-plane-exists",
            "",
            "",
            tolerate(
                json!([{"key": "node-role.kubernetes.io/control-plane", "operator": "Exists"}]),
            ),
        ),
        pod_with(
            "cordon-tolerant",
            "",
            "",
            tolerate(
                json!([{"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"}]),
            ),
        ),
        pod_with(
            "not-ready-tolerant",
            "",
            "",
            tolerate(json!([{"key": "node.kubernetes.io/not-ready", "operator": "Exists"}])),
        ),
    ];
    insta::assert_snapshot!(decide(nodes, pods));
}

#[test]
fn prefer_no_schedule_only_scores() {
    let nodes = vec![
        node(
            "a-preferred-not",
            "4",
            "8Gi",
            json!({"spec": {"taints": [
                {"key": "spot", "effect": "PreferNoSchedule"}
            ]}}),
        ),
        node("b-clean", "4", "8Gi", json!({})),
    ];
    let pods = vec![pod("one", "", ""), pod("two", "", "")];
    let full = vec![node(
        "a-preferred-not",
        "4",
        "8Gi",
        json!({"spec": {"taints": [
            {"key": "spot", "effect": "PreferNoSchedule"}
        ]}}),
    )];
    insta::assert_snapshot!(format!(
        "{}--- only the tainted node:\n{}",
        decide(nodes, pods),
        decide(full, vec![pod("three", "", "")])
    ));
}

#[test]
fn host_ports() {
    let nodes = vec![
        node("n1", "4", "8Gi", json!({})),
        node("n2", "4", "8Gi", json!({})),
    ];
    let port = |port: i32, protocol: &str| {
        json!({"spec": {"containers": [{"name": "main", "image": "busybox",
            "ports": [{"containerPort": 80, "hostPort": port, "protocol": protocol}]}]}})
    };
    let pods = vec![
        pod_with("web-1", "", "", port(8080, "TCP")),
        pod_with("web-2", "", "", port(8080, "TCP")),
        pod_with("web-3", "", "", port(8080, "TCP")),
        pod_with("dns-udp", "", "", port(8080, "UDP")),
    ];
    insta::assert_snapshot!(decide(nodes, pods));
}

#[test]
fn spreading_the_pods_of_one_owner() {
    let nodes = vec![
        node("n1", "8", "16Gi", json!({})),
        node("n2", "8", "16Gi", json!({})),
        node("n3", "8", "16Gi", json!({})),
    ];
    let owned = |uid: &str| {
        json!({"metadata": {"labels": {"app": "web"}, "ownerReferences": [
            {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web", "uid": uid, "controller": true}
        ]}})
    };
    let mut pods: Vec<Pod> = (0..6)
        .map(|n| pod_with(&format!("web-{n}"), "100m", "128Mi", owned("rs-1")))
        .collect();
    pods.push(pod_with(
        "labelled-a",
        "100m",
        "128Mi",
        json!({"metadata": {"labels": {"app": "db"}}}),
    ));
    pods.push(pod_with(
        "labelled-b",
        "100m",
        "128Mi",
        json!({"metadata": {"labels": {"app": "db"}}}),
    ));
    pods.push(pod_with(
        "labelled-c",
        "100m",
        "128Mi",
        json!({"metadata": {"labels": {"app": "db"}}}),
    ));
    insta::assert_snapshot!(decide(nodes, pods));
}

#[test]
fn least_allocated_and_balance_choose_between_fitting_nodes() {
    let nodes = vec![
        node("even-1", "4", "8Gi", json!({})),
        node("even-2", "4", "8Gi", json!({})),
        node("lopsided", "8", "2Gi", json!({})),
    ];
    let pods = vec![
        pod("warm-up", "3", "6Gi"),
        pod("next", "1", "1Gi"),
        pod("memory-heavy", "500m", "3Gi"),
    ];
    insta::assert_snapshot!(decide(nodes, pods));
}

#[test]
fn the_failure_message_counts_and_sorts_the_reasons() {
    let nodes = vec![
        node(
            "control-plane",
            "4",
            "8Gi",
            json!({"spec": {"taints": [
                {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}
            ]}}),
        ),
        node(
            "gpu",
            "4",
            "8Gi",
            json!({"metadata": {"labels": {"gpu": "true"}}}),
        ),
        node("small-1", "4", "1Gi", json!({})),
        node("small-2", "100m", "1Gi", json!({})),
    ];
    let pods = vec![
        pod_with(
            "picky",
            "2",
            "4Gi",
            json!({"spec": {"nodeSelector": {"gpu": "false"}}}),
        ),
        pod("huge", "200", "4Gi"),
    ];
    insta::assert_snapshot!(format!(
        "{}{}",
        decide(nodes, pods),
        decide(Vec::new(), vec![pod("lonely", "", "")])
    ));
}
