//! How objects go: finalizers hold them, a pod on a node gets its grace
//! period, a namespace takes its contents with it, deletecollection takes
//! what a selector picks; and a pod is bound to a node once.

use std::time::Duration;

use chapter_07::{Lab, guard, settings};
use insta::assert_snapshot;
use serde_json::json;

const PODS: &str = "/api/v1/namespaces/default/pods";

fn pod(name: &str, extra: serde_json::Value) -> serde_json::Value {
    let mut pod = json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "labels": {"app": "web"}},
        "spec": {"containers": [{"name": "c", "image": "k8s-mini/echo"}]},
    });
    json_patch::merge(&mut pod, &extra);
    pod
}

/// Polls until `path` is gone (404), for at most ten seconds.
async fn gone(lab: &Lab, path: &str) -> bool {
    for _ in 0..100 {
        if lab.get(path).await.status == 404 {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

#[tokio::test]
async fn finalizers_and_grace_periods_hold_a_deletion() {
    guard(held()).await
}

async fn held() {
    let lab = Lab::start().await;
    let mut text = Vec::new();
    let held = pod(
        "held",
        json!({"metadata": {"finalizers": ["example.com/cleanup"]}}),
    );
    lab.post(PODS, &held).await;
    let deleted = lab
        .request("DELETE", &format!("{PODS}/held"), "", Vec::new())
        .await
        .json();
    let still = lab.get(&format!("{PODS}/held")).await;
    text.push(format!(
        "DELETE a pod with a finalizer: deletionTimestamp set: {}, still readable: {}",
        deleted["metadata"]["deletionTimestamp"].is_string(),
        still.status
    ));
    let release = json!({"metadata": {"finalizers": null}}).to_string();
    let patched = lab
        .request(
            "PATCH",
            &format!("{PODS}/held"),
            "application/merge-patch+json",
            release,
        )
        .await;
    text.push(format!(
        "PATCH removing the finalizer: {}, then GET: {}",
        patched.status,
        lab.get(&format!("{PODS}/held")).await.status
    ));
    let bound = pod(
        "bound",
        json!({"spec": {"nodeName": "node-1", "terminationGracePeriodSeconds": 1}}),
    );
    lab.post(PODS, &bound).await;
    let deleted = lab
        .request("DELETE", &format!("{PODS}/bound"), "", Vec::new())
        .await
        .json();
    text.push(format!(
        "DELETE a pod bound to a node: deletionGracePeriodSeconds {}, still readable: {}",
        deleted["metadata"]["deletionGracePeriodSeconds"],
        lab.get(&format!("{PODS}/bound")).await.status
    ));
    let status = json!({"status": {"phase": "Running"}}).to_string();
    let written = lab
        .request(
            "PATCH",
            &format!("{PODS}/bound/status"),
            "application/merge-patch+json",
            status,
        )
        .await;
    text.push(format!(
        "its agent writes its status meanwhile: {}, still readable: {}",
        written.status,
        lab.get(&format!("{PODS}/bound")).await.status
    ));
    text.push(format!(
        "and gone once its grace period is over: {}",
        gone(&lab, &format!("{PODS}/bound")).await
    ));
    lab.post(PODS, &pod("unbound", json!({}))).await;
    lab.request("DELETE", &format!("{PODS}/unbound"), "", Vec::new())
        .await;
    text.push(format!(
        "DELETE a pod no node has taken: GET right after: {}",
        lab.get(&format!("{PODS}/unbound")).await.status
    ));
    assert_snapshot!(text.join("\n"));
    lab.stop().await;
}

#[tokio::test]
async fn a_namespace_goes_with_its_contents_and_collections_by_selector() {
    guard(namespaces()).await
}

async fn namespaces() {
    let lab = Lab::start().await;
    let mut text = Vec::new();
    // A finalizer holds the namespace (its contents go meanwhile), so that
    // the create below surely finds it being deleted.
    let namespace = json!({
        "apiVersion": "v1", "kind": "Namespace",
        "metadata": {"name": "team", "finalizers": ["example.com/hold"]},
    });
    lab.post("/api/v1/namespaces", &namespace).await;
    lab.post("/api/v1/namespaces/team/pods", &pod("a", json!({})))
        .await;
    let deleted = lab
        .request("DELETE", "/api/v1/namespaces/team", "", Vec::new())
        .await
        .json();
    text.push(format!(
        "DELETE namespace team: phase {}",
        deleted["status"]["phase"]
    ));
    let refused = lab
        .post("/api/v1/namespaces/team/pods", &pod("b", json!({})))
        .await;
    text.push(format!("create in it meanwhile:\n{}", refused.show()));
    let pod_gone = gone(&lab, "/api/v1/namespaces/team/pods/a").await;
    let release = json!({"metadata": {"finalizers": null}}).to_string();
    lab.request(
        "PATCH",
        "/api/v1/namespaces/team",
        "application/merge-patch+json",
        release,
    )
    .await;
    text.push(format!(
        "the pod in it gone: {pod_gone}; the namespace gone once its finalizer is: {}",
        gone(&lab, "/api/v1/namespaces/team").await
    ));
    for (name, tier) in [("f1", "front"), ("f2", "front"), ("b1", "back")] {
        lab.post(
            PODS,
            &pod(name, json!({"metadata": {"labels": {"tier": tier}}})),
        )
        .await;
    }
    let collection = lab
        .request(
            "DELETE",
            &format!("{PODS}?labelSelector=tier%3Dfront"),
            "",
            Vec::new(),
        )
        .await
        .json();
    let deleted: Vec<&str> = collection["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["metadata"]["name"].as_str().unwrap())
        .collect();
    let left: Vec<String> = lab.get(PODS).await.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["metadata"]["name"].as_str().unwrap().to_string())
        .collect();
    text.push(format!(
        "DELETE the collection tier=front: {} {deleted:?}; left: {left:?}",
        collection["kind"]
    ));
    settings().bind(|| assert_snapshot!(text.join("\n")));
    lab.stop().await;
}

#[tokio::test]
async fn a_pod_is_bound_once() {
    guard(binding()).await
}

async fn binding() {
    let lab = Lab::start().await;
    lab.post(PODS, &pod("web", json!({}))).await;
    let binding = |node: &str| {
        json!({
            "apiVersion": "v1", "kind": "Binding",
            "metadata": {"name": "web"},
            "target": {"apiVersion": "v1", "kind": "Node", "name": node},
        })
    };
    let first = lab
        .post(&format!("{PODS}/web/binding"), &binding("node-1"))
        .await;
    let second = lab
        .post(&format!("{PODS}/web/binding"), &binding("node-2"))
        .await;
    let node = lab.get(&format!("{PODS}/web")).await.json()["spec"]["nodeName"].clone();
    assert_snapshot!(format!(
        "first binding:\n{}\n\nsecond binding:\n{}\n\nspec.nodeName: {node}",
        first.show(),
        second.show()
    ));
    lab.stop().await;
}
