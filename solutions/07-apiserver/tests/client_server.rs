//! The client and the informer against the real API server (in memory,
//! on a loopback port the system picks).

use std::time::Duration;

use futures::StreamExt;
use objects::{Deployment, Pod, Resource, WatchEventType};
use serde_json::json;
use solution_07_apiserver::client::{
    Api, Change, Client, DeleteParams, Informer, ListParams, LogParams, Patch,
};
use solution_07_apiserver::server::{ApiServer, Config};
use solution_07_apiserver::store::Options;

const TOKEN: &str = "test-token";

async fn start(history: usize) -> ApiServer {
    // In memory (no data_dir), on a port the system picks.
    let config = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        token: Some(TOKEN.into()),
        store: Options {
            history,
            durable: false,
            ..Options::default()
        },
        bookmark_every: Duration::from_millis(50),
        ..Config::default()
    };
    ApiServer::start(config).await.unwrap()
}

fn pod(name: &str, app: &str) -> Pod {
    serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": "default", "labels": {"app": app}},
        "spec": {"containers": [{"name": "main", "image": "k8s-mini/echo"}]}
    }))
    .unwrap()
}

/// Waits for the next change, failing after 10 s rather than hanging.
async fn next<K: Resource>(
    changes: &mut tokio::sync::mpsc::UnboundedReceiver<Change<K>>,
) -> Change<K> {
    tokio::time::timeout(Duration::from_secs(10), changes.recv())
        .await
        .expect("a change within 10 s")
        .expect("the informer is running")
}

#[tokio::test]
async fn crud_and_errors_against_the_server() {
    let server = start(1000).await;
    let client = Client::new(&server.url()).unwrap().with_token(TOKEN);
    let pods: Api<Pod> = client.api(Some("default"));

    let created = pods.create(&pod("web", "web")).await.unwrap();
    let version = created.metadata.resource_version.clone().unwrap();
    assert!(created.metadata.uid.is_some());
    assert!(
        pods.create(&pod("web", "web"))
            .await
            .unwrap_err()
            .is_already_exists()
    );
    assert!(pods.get("nope").await.unwrap_err().is_not_found());

    let mut changed = created.clone();
    changed
        .metadata
        .labels
        .insert("tier".into(), "front".into());
    let replaced = pods.replace(&changed).await.unwrap();
    assert_ne!(
        replaced.metadata.resource_version.as_deref(),
        Some(version.as_str())
    );
    // `changed` still carries the old version: a stale update.
    assert!(pods.replace(&changed).await.unwrap_err().is_conflict());

    let patched = pods
        .patch(
            "web",
            &Patch::Merge(json!({"metadata": {"labels": {"tier": null}}})),
        )
        .await
        .unwrap();
    assert!(!patched.metadata.labels.contains_key("tier"));

    let mut invalid = pod("bad", "web");
    invalid.spec.containers[0].image = None;
    let error = pods.create(&invalid).await.unwrap_err();
    assert!(error.is_invalid(), "{error}");
    assert!(
        error
            .causes()
            .iter()
            .any(|(field, _)| field == "spec.containers[0].image"),
        "{:?}",
        error.causes()
    );

    let list = pods
        .list(&ListParams::default().labels("app=web"))
        .await
        .unwrap();
    assert_eq!(list.items.len(), 1);
    assert!(list.metadata.resource_version.is_some());

    let anonymous = Client::new(&server.url()).unwrap();
    let refused = anonymous
        .api::<Pod>(Some("default"))
        .get("web")
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Some(401), "{refused}");

    // The scheduler's binding, and logs of a container that has not
    // started (no node agent runs it): a 400 in Kubernetes' words.
    let binding = json!({"apiVersion": "v1", "kind": "Binding", "metadata": {"name": "web"},
                         "target": {"apiVersion": "v1", "kind": "Node", "name": "node-1"}});
    pods.create_subresource("web", "binding", &binding)
        .await
        .unwrap();
    assert_eq!(
        pods.get("web").await.unwrap().spec.node_name.as_deref(),
        Some("node-1")
    );
    let logs = pods.logs("web", &LogParams::default()).await.unwrap_err();
    assert_eq!(logs.code(), Some(400), "{logs}");
    assert!(logs.to_string().contains("is waiting to start"), "{logs}");

    // Pods answer a delete with the object, as Kubernetes does.
    let deleted = pods.delete("web", &DeleteParams::now()).await.unwrap();
    assert_eq!(deleted.object().map(|p| p.metadata.name()), Some("web"));
    assert!(pods.get_opt("web").await.unwrap().is_none());
    server.stop(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn scale_through_the_subresource() {
    let server = start(1000).await;
    let client = Client::new(&server.url()).unwrap().with_token(TOKEN);
    let deployments: Api<Deployment> = client.api(Some("default"));
    let deployment: Deployment = serde_json::from_value(json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}},
                              "spec": {"containers": [{"name": "main", "image": "k8s-mini/echo"}]}}}
    }))
    .unwrap();
    deployments.create(&deployment).await.unwrap();
    let mut scale = deployments.get_scale("web").await.unwrap();
    assert_eq!(scale.spec.replicas, Some(2));
    scale.spec.replicas = Some(5);
    deployments.replace_scale("web", &scale).await.unwrap();
    assert_eq!(deployments.get("web").await.unwrap().spec.replicas, Some(5));
    server.stop(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn watch_and_informer_against_the_server() {
    let server = start(1000).await;
    let client = Client::new(&server.url()).unwrap().with_token(TOKEN);
    let pods: Api<Pod> = client.api(Some("default"));
    pods.create(&pod("a", "web")).await.unwrap();
    let list = pods.list(&ListParams::default()).await.unwrap();
    let version = list.metadata.resource_version.unwrap();

    let mut events = pods
        .watch(&ListParams::default().timeout(30), &version)
        .await
        .unwrap();
    pods.create(&pod("b", "web")).await.unwrap();
    let event = tokio::time::timeout(Duration::from_secs(10), events.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(
        (event.event_type, event.object.metadata.name()),
        (WatchEventType::Added, "b")
    );
    drop(events);

    let (informer, mut changes) =
        Informer::with_changes(pods.clone(), ListParams::default().labels("app=web"));
    assert!(informer.wait_for_sync().await);
    let mut initial: Vec<String> = Vec::new();
    for _ in 0..2 {
        initial.push(next(&mut changes).await.key().to_string());
    }
    assert_eq!(initial, ["default/a", "default/b"]);

    pods.create(&pod("c", "web")).await.unwrap();
    pods.create(&pod("other", "db")).await.unwrap();
    pods.patch(
        "a",
        &Patch::Merge(json!({"metadata": {"annotations": {"seen": "yes"}}})),
    )
    .await
    .unwrap();
    pods.delete("b", &DeleteParams::now()).await.unwrap();

    let mut seen = Vec::new();
    while seen.len() < 3 {
        let change = next(&mut changes).await;
        let what = match &change {
            Change::Added(_) => "added",
            Change::Updated { .. } => "updated",
            Change::Deleted(_) => "deleted",
        };
        seen.push(format!("{what} {}", change.key()));
        // A graceful delete first updates (deletionTimestamp), then deletes.
        if seen.last().unwrap() == "updated default/b" {
            seen.pop();
        }
    }
    assert_eq!(
        seen,
        ["added default/c", "updated default/a", "deleted default/b"]
    );
    let cache = informer.cache();
    let mut names: Vec<String> = cache
        .list()
        .iter()
        .map(|p| p.metadata.name().to_string())
        .collect();
    names.sort();
    assert_eq!(names, ["a", "c"]);
    assert_eq!(
        cache.get("default", "a").unwrap().metadata.annotations["seen"],
        "yes"
    );

    informer.stop().await;
    server.stop(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn a_watch_from_a_forgotten_version_is_expired() {
    let server = start(5).await;
    let client = Client::new(&server.url()).unwrap().with_token(TOKEN);
    let pods: Api<Pod> = client.api(Some("default"));
    let first = pods.create(&pod("p0", "web")).await.unwrap();
    for i in 1..20 {
        pods.create(&pod(&format!("p{i}"), "web")).await.unwrap();
    }
    let old = first.metadata.resource_version.unwrap();
    let mut events = pods.watch_resuming(&ListParams::default().timeout(30), &old);
    let item = tokio::time::timeout(Duration::from_secs(10), events.next())
        .await
        .unwrap()
        .unwrap();
    assert!(item.as_ref().is_err_and(|e| e.is_expired()), "{item:?}");
    assert!(
        events.next().await.is_none(),
        "a resuming watch ends after 410"
    );
    server.stop(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn a_quiet_watch_gets_bookmarks() {
    let server = start(1000).await;
    let client = Client::new(&server.url()).unwrap().with_token(TOKEN);
    let pods: Api<Pod> = client.api(Some("default"));
    let version = pods
        .list(&ListParams::default())
        .await
        .unwrap()
        .metadata
        .resource_version
        .unwrap();
    let params = ListParams::default().labels("app=nothing").timeout(30);
    let mut events = pods.watch(&params, &version).await.unwrap();
    // A write the watch does not select still moves its version on: a
    // bookmark soon carries a version at least as recent.
    let created = pods.create(&pod("web", "web")).await.unwrap();
    let created: u64 = created.metadata.resource_version.unwrap().parse().unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let event = tokio::time::timeout_at(deadline, events.next())
            .await
            .expect("a bookmark past the write within 10 s")
            .unwrap()
            .unwrap();
        assert_eq!(event.event_type, WatchEventType::Bookmark, "{event:?}");
        let version = event.object.metadata.resource_version.unwrap();
        if version.parse::<u64>().unwrap() >= created {
            break;
        }
    }
    drop(events);
    server.stop(Duration::from_secs(5)).await;
}
