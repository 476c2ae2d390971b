//! Registration and heartbeats: the Node and its Lease, as stock kubectl
//! shows them.

use std::time::Duration;

use chapter_08::{Lab, Options, guard};
use insta::assert_snapshot;
use objects::{Lease, Node};

const INIT: &str = env!("CARGO_BIN_EXE_kubelet-init");

/// Ages (`3s`, `2m1s`) change from run to run.
fn without_ages(text: &str) -> String {
    text.lines()
        .map(|line| {
            let mut words: Vec<&str> = line.split_whitespace().collect();
            let age = words.iter().position(|w| {
                w.len() > 1
                    && w.ends_with('s')
                    && w[..w.len() - 1]
                        .chars()
                        .all(|c| c.is_ascii_digit() || c == 'm')
            });
            if let Some(at) = age {
                words[at] = "<age>";
            }
            words.join("   ")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn the_node_registers_with_capacity_conditions_and_a_lease() {
    guard(registers()).await
}

async fn registers() {
    let lab = Lab::start(INIT).await;
    let leases = lab.client.api::<Lease>(Some("kube-node-lease"));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let first = loop {
        if let Some(lease) = leases.get_opt(&lab.node).await.expect("the API answers") {
            break lease;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no lease within 10 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let mut text = String::from("$ kubectl get nodes\n");
    text += &without_ages(&lab.kubectl(&["get", "nodes"]).await);
    text += "\n$ kubectl get leases -n kube-node-lease\n";
    text += &without_ages(
        &lab.kubectl(&["get", "leases", "-n", "kube-node-lease"])
            .await,
    );
    text += "\n$ kubectl get node NODE -o yaml\n";
    text += &lab.kubectl(&["get", "node", &lab.node, "-o", "yaml"]).await;
    text += "$ kubectl get lease NODE -n kube-node-lease -o yaml\n";
    text += &lab
        .kubectl(&[
            "get",
            "lease",
            &lab.node,
            "-n",
            "kube-node-lease",
            "-o",
            "yaml",
        ])
        .await;
    assert_snapshot!(lab.redact(&text));
    // The lease is renewed every second here (10 s by default).
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let later = leases.get(&lab.node).await.expect("the lease");
    assert!(
        later.spec.renew_time > first.spec.renew_time,
        "the lease was not renewed: {:?} then {:?}",
        first.spec.renew_time,
        later.spec.renew_time
    );
    assert_eq!(later.spec.acquire_time, first.spec.acquire_time);
    lab.finish().await;
}

#[tokio::test]
async fn node_status_heartbeats_when_due_even_without_change() {
    guard(heartbeats()).await
}

async fn heartbeats() {
    let options = Options {
        status_interval: Duration::from_secs(2),
        ..Options::default()
    };
    let lab = Lab::start_with(INIT, options).await;
    let nodes = lab.client.api::<Node>(None);
    let heartbeat = |node: &Node| {
        node.status
            .conditions
            .iter()
            .find(|c| c.condition_type == "Ready")
            .and_then(|c| c.last_heartbeat_time)
    };
    let before = nodes.get(&lab.node).await.expect("the node");
    tokio::time::sleep(Duration::from_millis(3500)).await;
    let after = nodes.get(&lab.node).await.expect("the node");
    assert!(
        heartbeat(&after) > heartbeat(&before),
        "no heartbeat in 3.5 s"
    );
    let transition = |node: &Node| {
        node.status
            .conditions
            .iter()
            .map(|c| c.last_transition_time)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        transition(&after),
        transition(&before),
        "a heartbeat is no transition"
    );
    lab.finish().await;
}
