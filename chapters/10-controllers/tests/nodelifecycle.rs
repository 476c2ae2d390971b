//! Node lifecycle: the pure decisions (eviction times, the taints a Ready
//! condition calls for, the conditions of a silent node) as readable
//! tables, and the controller against a real API server (in this process,
//! in memory): a node whose lease is not renewed goes Unknown, its pods
//! not ready, it is tainted, its pods are evicted as their tolerations
//! say; when its agent reports again the taints go.

use std::time::Duration;

use apiserver::client::{Api, Client, Informer, ListParams};
use chapter_10::controllers::nodelifecycle::{
    Eviction, NodeLifecycleConfig, NodeLifecycleController, eviction, health,
};
use objects::node::Taint;
use objects::pod::Toleration;
use objects::{Lease, Node, Pod, Time};
use serde_json::json;

fn taint(key: &str, effect: &str, added: Option<&str>) -> Taint {
    Taint {
        key: key.into(),
        value: None,
        effect: effect.into(),
        time_added: added.map(|t| Time::parse(t).unwrap()),
    }
}

fn toleration(key: Option<&str>, effect: Option<&str>, seconds: Option<i64>) -> Toleration {
    Toleration {
        key: key.map(Into::into),
        operator: Some("Exists".into()),
        value: None,
        effect: effect.map(Into::into),
        toleration_seconds: seconds,
    }
}

#[test]
fn eviction_times() {
    let now = Time::parse("2026-01-01T00:01:00Z").unwrap().0;
    let unreachable = taint(
        health::UNREACHABLE,
        "NoExecute",
        Some("2026-01-01T00:00:00Z"),
    );
    let not_ready = taint(health::NOT_READY, "NoExecute", Some("2026-01-01T00:00:30Z"));
    let schedule_only = taint("dedicated", "NoSchedule", None);
    let cases: Vec<(&str, Vec<Toleration>, Vec<Taint>)> = vec![
        ("no taints", vec![], vec![]),
        (
            "only a NoSchedule taint",
            vec![],
            vec![schedule_only.clone()],
        ),
        (
            "unreachable, no toleration",
            vec![],
            vec![unreachable.clone()],
        ),
        (
            "unreachable, tolerated 300 s",
            vec![toleration(
                Some(health::UNREACHABLE),
                Some("NoExecute"),
                Some(300),
            )],
            vec![unreachable.clone()],
        ),
        (
            "unreachable, tolerated 30 s (over)",
            vec![toleration(
                Some(health::UNREACHABLE),
                Some("NoExecute"),
                Some(30),
            )],
            vec![unreachable.clone()],
        ),
        (
            "unreachable, tolerated for ever",
            vec![toleration(Some(health::UNREACHABLE), None, None)],
            vec![unreachable.clone()],
        ),
        (
            "unreachable, tolerated -5 s (counts as 0)",
            vec![toleration(
                Some(health::UNREACHABLE),
                Some("NoExecute"),
                Some(-5),
            )],
            vec![unreachable.clone()],
        ),
        (
            "two taints, the shorter wins",
            vec![
                toleration(Some(health::UNREACHABLE), Some("NoExecute"), Some(600)),
                toleration(Some(health::NOT_READY), Some("NoExecute"), Some(60)),
            ],
            vec![unreachable.clone(), not_ready.clone()],
        ),
        (
            "two taints, one not tolerated",
            vec![toleration(
                Some(health::UNREACHABLE),
                Some("NoExecute"),
                Some(600),
            )],
            vec![unreachable.clone(), not_ready.clone()],
        ),
        (
            "everything tolerated for ever",
            vec![toleration(None, None, None)],
            vec![unreachable.clone(), not_ready.clone()],
        ),
    ];
    let table: Vec<String> = cases
        .into_iter()
        .map(|(case, tolerations, taints)| {
            let decision = match eviction(&tolerations, &taints, now) {
                Eviction::Now => "evict now".to_string(),
                Eviction::At(at) => format!("evict at {}", at.format("%H:%M:%S")),
                Eviction::Never => "stays".to_string(),
            };
            format!("{case:<45} -> {decision}")
        })
        .collect();
    insta::assert_snapshot!("eviction_times", table.join("\n"));
}

fn node_with_ready(status: Option<&str>, taints: Vec<Taint>) -> Node {
    let conditions: Vec<serde_json::Value> = status
        .map(|s| json!({"type": "Ready", "status": s}))
        .into_iter()
        .collect();
    let mut node: Node = serde_json::from_value(json!({
        "metadata": {"name": "n1"},
        "status": {"conditions": conditions},
    }))
    .unwrap();
    node.spec.taints = taints;
    node
}

#[test]
fn taints_follow_the_ready_condition() {
    let now = Time::parse("2026-01-01T00:01:00Z").unwrap();
    let dedicated = taint("dedicated", "NoSchedule", None);
    let old_unreachable = taint(
        health::UNREACHABLE,
        "NoExecute",
        Some("2026-01-01T00:00:00Z"),
    );
    let cases = [
        (
            "Ready=True",
            node_with_ready(Some("True"), vec![dedicated.clone()]),
        ),
        (
            "Ready=Unknown",
            node_with_ready(Some("Unknown"), vec![dedicated.clone()]),
        ),
        ("Ready=False", node_with_ready(Some("False"), vec![])),
        ("no Ready condition", node_with_ready(None, vec![])),
        (
            "Ready=Unknown, tainted since 00:00:00",
            node_with_ready(Some("Unknown"), vec![old_unreachable.clone()]),
        ),
        (
            "Ready=True again, still tainted",
            node_with_ready(Some("True"), vec![old_unreachable, dedicated]),
        ),
    ];
    let table: Vec<String> = cases
        .iter()
        .map(|(case, node)| {
            let taints: Vec<String> = health::wanted_taints(node, &now)
                .iter()
                .map(|t| {
                    let added = t
                        .time_added
                        .as_ref()
                        .map(|time| format!(" since {}", time.0.format("%H:%M:%S")))
                        .unwrap_or_default();
                    format!("{}:{}{added}", t.key, t.effect)
                })
                .collect();
            format!("{case:<38} -> [{}]", taints.join(", "))
        })
        .collect();
    insta::assert_snapshot!("wanted_taints", table.join("\n"));
}

#[test]
fn a_silent_node_s_conditions_go_unknown() {
    let node: Node = serde_json::from_value(json!({
        "metadata": {"name": "n1"},
        "status": {"conditions": [
            {"type": "Ready", "status": "True", "reason": "KubeletReady",
             "lastTransitionTime": "2026-01-01T00:00:00Z", "lastHeartbeatTime": "2026-01-01T00:00:10Z"},
            {"type": "MemoryPressure", "status": "False", "reason": "KubeletHasSufficientMemory"},
            {"type": "DiskPressure", "status": "Unknown", "reason": "NodeStatusUnknown",
             "lastTransitionTime": "2025-12-31T00:00:00Z"},
        ]},
    }))
    .unwrap();
    let now = Time::parse("2026-01-01T00:01:00Z").unwrap();
    let conditions = health::unknown_conditions(&node.status.conditions, &now);
    let table: Vec<String> = conditions
        .iter()
        .map(|c| {
            format!(
                "{:<15} {:<8} {:<24} since {:<20} heartbeat {:<20} {}",
                c.condition_type,
                c.status,
                c.reason.as_deref().unwrap_or("-"),
                c.last_transition_time
                    .as_ref()
                    .map_or("-".into(), |t| t.0.to_rfc3339()),
                c.last_heartbeat_time
                    .as_ref()
                    .map_or("-".into(), |t| t.0.to_rfc3339()),
                c.message.as_deref().unwrap_or("-"),
            )
        })
        .collect();
    insta::assert_snapshot!("unknown_conditions", table.join("\n"));
}

/// Waits (at most 15 s) until `check` says yes about what `get` returns.
async fn wait_until<T: std::fmt::Debug, F: Future<Output = T>>(
    what: &str,
    get: impl Fn() -> F,
    check: impl Fn(&T) -> bool,
) -> T {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let value = get().await;
        if check(&value) {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "still not {what} after 15 s: {value:#?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn ready(pod: &Pod) -> Option<String> {
    pod.status
        .conditions
        .iter()
        .find(|c| c.condition_type == "Ready")
        .map(|c| c.status.clone())
}

fn our_taints(node: &Node) -> Vec<String> {
    node.spec
        .taints
        .iter()
        .filter(|t| t.key.starts_with("node.kubernetes.io/"))
        .map(|t| format!("{}:{}", t.key, t.effect))
        .collect()
}

#[tokio::test]
async fn a_silent_node_is_tainted_and_its_pods_evicted_then_it_comes_back() {
    let server = chapter_10::start_server().await;
    let client = Client::new(&server.url()).unwrap();
    let nodes: Api<Node> = Api::all(&client);
    let pods: Api<Pod> = Api::namespaced(&client, "default");
    let leases: Api<Lease> = Api::namespaced(&client, "kube-node-lease");

    // A node as its agent registers it, and its lease.
    let ready_node: Node = serde_json::from_value(json!({
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": "n1"},
        "status": {"conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady",
            "lastHeartbeatTime": Time::now()}]},
    }))
    .unwrap();
    let mut created = nodes.create(&ready_node).await.unwrap();
    created.status = ready_node.status.clone();
    nodes.replace_status(&created).await.unwrap();
    let lease: Lease = serde_json::from_value(json!({
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": {"name": "n1", "namespace": "kube-node-lease"},
        "spec": {"holderIdentity": "n1", "leaseDurationSeconds": 40,
                 "renewTime": objects::MicroTime::now()},
    }))
    .unwrap();
    leases.create(&lease).await.unwrap();
    // Three running, ready pods on it: one tolerating the unreachable
    // taint for 1 s, one for ever, one with the API server's default
    // (300 s: it outlives this test).
    for (name, tolerations) in [
        (
            "brief",
            json!([{"key": health::UNREACHABLE, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 1}]),
        ),
        (
            "loyal",
            json!([{"key": health::UNREACHABLE, "operator": "Exists", "effect": "NoExecute"}]),
        ),
        ("default", json!([])),
    ] {
        let pod: Pod = serde_json::from_value(json!({
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name},
            "spec": {"nodeName": "n1", "tolerations": tolerations,
                     "containers": [{"name": "c", "image": "busybox"}]},
        }))
        .unwrap();
        let mut created = pods.create(&pod).await.unwrap();
        created.status = serde_json::from_value(json!({
            "phase": "Running",
            "conditions": [{"type": "Ready", "status": "True"}],
        }))
        .unwrap();
        pods.replace_status(&created).await.unwrap();
    }

    let node_informer = std::sync::Arc::new(Informer::new(nodes.clone(), ListParams::default()));
    let lease_informer = std::sync::Arc::new(Informer::new(leases.clone(), ListParams::default()));
    let pod_informer = std::sync::Arc::new(Informer::new(
        Api::<Pod>::all(&client),
        ListParams::default(),
    ));
    let config = NodeLifecycleConfig {
        grace_period: Duration::from_secs(1),
        monitor_period: Duration::from_millis(200),
    };
    let controller = NodeLifecycleController::build(
        &client,
        &node_informer,
        &lease_informer,
        &pod_informer,
        config,
    )
    .start();

    // No renewal: after the grace period the node is Unknown and tainted.
    let node = wait_until(
        "tainted",
        || async { nodes.get("n1").await.unwrap() },
        |node| our_taints(node).len() == 2,
    )
    .await;
    assert_eq!(
        our_taints(&node),
        [
            "node.kubernetes.io/unreachable:NoSchedule",
            "node.kubernetes.io/unreachable:NoExecute"
        ]
    );
    let conditions: Vec<String> = node
        .status
        .conditions
        .iter()
        .map(|c| {
            format!(
                "{}={} {}",
                c.condition_type,
                c.status,
                c.reason.as_deref().unwrap_or("")
            )
        })
        .collect();
    assert!(
        conditions.contains(&"Ready=Unknown NodeStatusUnknown".to_string()),
        "{conditions:?}"
    );
    for name in ["brief", "loyal", "default"] {
        let pod = wait_until(
            "not ready",
            || async { pods.get(name).await.unwrap() },
            |pod| ready(pod).as_deref() == Some("False"),
        )
        .await;
        assert_eq!(ready(&pod).as_deref(), Some("False"), "{name}");
    }
    // The brief one goes after its second; the others stay.
    wait_until(
        "evicted",
        || async { pods.get("brief").await.unwrap() },
        |pod| pod.metadata.deletion_timestamp.is_some(),
    )
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    for name in ["loyal", "default"] {
        let pod = pods.get(name).await.unwrap();
        assert!(
            pod.metadata.deletion_timestamp.is_none(),
            "{name} was evicted"
        );
    }
    let events: Api<objects::Event> = Api::namespaced(&client, "default");
    let reasons: Vec<String> = events
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .iter()
        .map(|e| {
            format!(
                "{} {} {}",
                e.involved_object.name.as_deref().unwrap_or(""),
                e.reason.as_deref().unwrap_or(""),
                e.message.as_deref().unwrap_or("")
            )
        })
        .collect();
    assert!(
        reasons.contains(
            &"brief TaintManagerEviction Marking for deletion Pod default/brief".to_string()
        ),
        "{reasons:?}"
    );

    // The agent reports again: Ready, and a renewed lease. The taints go.
    let mut back = nodes.get("n1").await.unwrap();
    back.status = ready_node.status.clone();
    back.status.conditions[0].last_heartbeat_time = Some(Time::now());
    nodes.replace_status(&back).await.unwrap();
    let mut renewed = leases.get("n1").await.unwrap();
    renewed.spec.renew_time = Some(objects::MicroTime::now());
    leases.replace(&renewed).await.unwrap();
    wait_until(
        "untainted",
        || async { nodes.get("n1").await.unwrap() },
        |node| our_taints(node).is_empty(),
    )
    .await;

    controller.stop(Duration::from_secs(5)).await.unwrap();
    server.stop(Duration::from_secs(5)).await;
}
