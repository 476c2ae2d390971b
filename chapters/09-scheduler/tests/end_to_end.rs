//! The scheduler against a real API server (in this process, in memory):
//! nodes created as objects (no agents), pods created, each bound; an
//! unschedulable pod gets its condition and event, and is bound once a
//! node that fits appears; bad input neither crashes nor stalls it.

use std::time::Duration;

use apiserver::client::{Api, Client, ListParams};
use apiserver::server::{ApiServer, Config as ServerConfig};
use chapter_09::scheduler::{Config, Rng, Scheduler};
use chapter_09::{node, pod, pod_with};
use objects::{Event, Node, Pod};
use serde_json::json;

async fn start_server() -> ApiServer {
    ApiServer::start(ServerConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: None,
        ..ServerConfig::default()
    })
    .await
    .expect("the API server starts")
}

fn config() -> Config {
    Config {
        rng: Rng::seeded(9),
        sync_timeout: Duration::from_secs(10),
        ..Config::default()
    }
}

/// Waits (at most 10 s) until `check` says yes about the pod `name`.
async fn wait_for(pods: &Api<Pod>, name: &str, what: &str, check: impl Fn(&Pod) -> bool) -> Pod {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let pod = pods.get(name).await.expect("the pod exists");
        if check(&pod) {
            return pod;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "pod {name}: still not {what} after 10 s: {:?} {:?}",
            pod.spec.node_name,
            pod.status.conditions
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn create_node(nodes: &Api<Node>, node: Node) {
    let created = nodes.create(&node).await.expect("the node is created");
    // A node's status is written through its status subresource, as its
    // agent would.
    let mut with_status = created.clone();
    with_status.status = node.status;
    nodes
        .replace_status(&with_status)
        .await
        .expect("the node status is written");
}

#[tokio::test]
async fn pods_are_bound_and_the_unschedulable_one_waits_for_a_node() {
    let server = start_server().await;
    let client = Client::new(&server.url()).unwrap();
    let nodes: Api<Node> = Api::all(&client);
    let pods: Api<Pod> = Api::namespaced(&client, "default");
    for name in ["n1", "n2", "n3"] {
        create_node(&nodes, node(name, "2", "4Gi", json!({}))).await;
    }
    let scheduler = Scheduler::start(client.clone(), config())
        .await
        .expect("the scheduler starts");

    let owned = json!({"metadata": {"ownerReferences": [
        {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web", "uid": "rs-1", "controller": true}
    ]}});
    for n in 0..6 {
        pods.create(&pod_with(
            &format!("web-{n}"),
            "500m",
            "512Mi",
            owned.clone(),
        ))
        .await
        .unwrap();
    }
    let mut per_node = std::collections::BTreeMap::<String, u32>::new();
    for n in 0..6 {
        let bound = wait_for(&pods, &format!("web-{n}"), "bound", |p| {
            p.spec.node_name.is_some()
        })
        .await;
        *per_node.entry(bound.spec.node_name.unwrap()).or_default() += 1;
    }
    assert_eq!(
        per_node.values().copied().collect::<Vec<_>>(),
        [2, 2, 2],
        "{per_node:?}"
    );

    // More than any node has: a condition and one event, whatever the retries.
    pods.create(&pod("huge", "3", "1Gi")).await.unwrap();
    let waiting = wait_for(&pods, "huge", "marked unschedulable", |p| {
        p.status
            .conditions
            .iter()
            .any(|c| c.condition_type == "PodScheduled")
    })
    .await;
    let condition = &waiting.status.conditions[0];
    // A node too small to help still wakes the pod up: after its back-off
    // (1 s) it is tried again, and the new message is a new event.
    create_node(&nodes, node("tiny", "100m", "128Mi", json!({}))).await;
    let events: Api<Event> = Api::namespaced(&client, "default");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let failed = loop {
        let failed: Vec<Event> = events
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .into_iter()
            .filter(|e| e.reason.as_deref() == Some("FailedScheduling"))
            .collect();
        if failed.len() >= 2 || tokio::time::Instant::now() > deadline {
            break failed;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let messages: Vec<String> = failed
        .iter()
        .map(|e| {
            format!(
                "{} {} {} {} (from {})",
                e.event_type.as_deref().unwrap_or_default(),
                e.involved_object.name.as_deref().unwrap_or_default(),
                e.reason.as_deref().unwrap_or_default(),
                e.message.as_deref().unwrap_or_default(),
                e.source
                    .as_ref()
                    .and_then(|s| s.component.as_deref())
                    .unwrap_or_default(),
            )
        })
        .collect();
    insta::assert_snapshot!(format!(
        "condition: {} {} {}: {}\nevents:\n{}",
        condition.condition_type,
        condition.status,
        condition.reason.as_deref().unwrap_or_default(),
        condition.message.as_deref().unwrap_or_default(),
        messages.join("\n")
    ));

    create_node(&nodes, node("big", "8", "16Gi", json!({}))).await;
    let bound = wait_for(&pods, "huge", "bound", |p| p.spec.node_name.is_some()).await;
    assert_eq!(bound.spec.node_name.as_deref(), Some("big"));
    // The binding turns the condition around (the API server does it).
    let condition = &bound.status.conditions[0];
    assert_eq!(
        (condition.condition_type.as_str(), condition.status.as_str()),
        ("PodScheduled", "True"),
        "{:?}",
        bound.status.conditions
    );
    let scheduled: Vec<Event> = events
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter(|e| e.reason.as_deref() == Some("Scheduled"))
        .collect();
    assert!(
        scheduled
            .iter()
            .any(|e| e.message.as_deref() == Some("Successfully assigned default/huge to big")),
        "no Scheduled event for huge: {scheduled:?}"
    );
    assert!(
        scheduler
            .stats()
            .bound
            .load(std::sync::atomic::Ordering::Relaxed)
            >= 7
    );
    scheduler.stop(Duration::from_secs(5)).await;
    server.stop(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn bad_input_neither_crashes_nor_stalls_the_scheduler() {
    let server = start_server().await;
    let client = Client::new(&server.url()).unwrap();
    let nodes: Api<Node> = Api::all(&client);
    let pods: Api<Pod> = Api::namespaced(&client, "default");
    let scheduler = Scheduler::start(client.clone(), config())
        .await
        .expect("the scheduler starts");
    // No node at all yet.
    pods.create(&pod("early", "100m", "64Mi")).await.unwrap();
    let early = wait_for(&pods, "early", "marked unschedulable", |p| {
        !p.status.conditions.is_empty()
    })
    .await;
    assert_eq!(
        early.status.conditions[0].message.as_deref(),
        Some("no nodes available to schedule pods")
    );
    create_node(&nodes, node("n1", "1", "1Gi", json!({}))).await;
    // Bound already, to a node that does not exist: not the scheduler's
    // business, but it must not count against anything or block anyone.
    pods.create(&pod_with(
        "ghost",
        "",
        "",
        json!({"spec": {"nodeName": "no-such-node"}}),
    ))
    .await
    .unwrap();
    // Another scheduler's pod: left alone.
    pods.create(&pod_with(
        "other",
        "",
        "",
        json!({"spec": {"schedulerName": "my-scheduler"}}),
    ))
    .await
    .unwrap();
    // Nonsense affinity and an absurd request: unschedulable, with reasons.
    pods.create(&pod_with(
        "odd",
        "",
        "",
        json!({"spec": {"affinity": {"nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": "not a list"}
        }}}}),
    ))
    .await
    .unwrap();
    pods.create(&pod("absurd", "100000", "1Ti")).await.unwrap();
    pods.create(&pod("fine", "100m", "64Mi")).await.unwrap();
    for name in ["early", "fine"] {
        let bound = wait_for(&pods, name, "bound", |p| p.spec.node_name.is_some()).await;
        assert_eq!(bound.spec.node_name.as_deref(), Some("n1"));
    }
    let mut reasons = Vec::new();
    for name in ["odd", "absurd"] {
        let pod = wait_for(&pods, name, "marked unschedulable", |p| {
            !p.status.conditions.is_empty()
        })
        .await;
        reasons.push(format!(
            "{name}: {}",
            pod.status.conditions[0]
                .message
                .as_deref()
                .unwrap_or_default()
        ));
    }
    insta::assert_snapshot!(reasons.join("\n"));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let other = pods.get("other").await.unwrap();
    assert_eq!(other.spec.node_name, None);
    assert!(other.status.conditions.is_empty(), "{:?}", other.status);
    let ghost = pods.get("ghost").await.unwrap();
    assert_eq!(ghost.spec.node_name.as_deref(), Some("no-such-node"));
    scheduler.stop(Duration::from_secs(5)).await;
    server.stop(Duration::from_secs(5)).await;
}
