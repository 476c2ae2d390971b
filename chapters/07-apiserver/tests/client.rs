//! The typed client and the informer, against the API server: requests
//! and their errors, a watch that resumes where it left off, and an
//! informer's cache and changes.

use std::time::Duration;

use chapter_07::apiserver::client::{
    Api, Change, Changes, Client, ClientError, DeleteParams, Informer, ListParams, Patch,
};
use chapter_07::apiserver::server::Config;
use chapter_07::apiserver::store::Options;
use chapter_07::{Lab, guard, settings};
use futures::StreamExt;
use insta::assert_snapshot;
use objects::{Deployment, Pod, WatchEvent, WatchEventType};
use serde_json::json;

fn pod(name: &str, app: &str) -> Pod {
    serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": "default", "labels": {"app": app}},
        "spec": {"containers": [{"name": "c", "image": "k8s-mini/echo"}]},
    }))
    .expect("a pod")
}

/// `NotFound: pods "nope" not found`, or what succeeded.
fn outcome<T>(result: Result<T, ClientError>, ok: impl FnOnce(T) -> String) -> String {
    match result {
        Ok(value) => ok(value),
        Err(ClientError::Api(status)) => format!(
            "{}: {}",
            status.reason.as_deref().unwrap_or("?"),
            status.message.as_deref().unwrap_or("")
        ),
        Err(error) => format!("client error: {error}"),
    }
}

fn names(pods: &[Pod]) -> String {
    let names: Vec<&str> = pods.iter().map(|p| p.metadata.name()).collect();
    format!("[{}]", names.join(", "))
}

#[tokio::test]
async fn the_client_reads_writes_and_reports_errors() {
    guard(requests()).await
}

async fn requests() {
    let lab = Lab::start().await;
    let client = Client::new(&lab.url).expect("a client");
    let pods: Api<Pod> = client.api(Some("default"));
    let mut lines = Vec::new();

    let web = pods.create(&pod("web", "web")).await;
    let web = web.expect("web is created");
    lines.push(format!(
        "create web: uid and resourceVersion set: {}",
        web.metadata.uid.is_some()
    ));
    let again = pods.create(&pod("web", "web")).await;
    lines.push(format!(
        "create web again: {}",
        outcome(again, |_| "created".into())
    ));
    pods.create(&pod("db", "db")).await.expect("db is created");
    let mut cache_pod = pod("cache", "db");
    cache_pod
        .metadata
        .labels
        .insert("tier".into(), "cache".into());
    pods.create(&cache_pod).await.expect("cache is created");

    let missing = pods.get("nope").await;
    lines.push(format!(
        "get nope: {}",
        outcome(missing, |_| "found".into())
    ));
    for selector in ["app=web", "app=db,tier!=cache", "app in (web,db)"] {
        let list = pods.list(&ListParams::default().labels(selector)).await;
        lines.push(format!(
            "list {selector}: {}",
            outcome(list, |l| names(&l.items))
        ));
    }
    let bad_selector = pods.list(&ListParams::default().labels("app in web")).await;
    lines.push(format!(
        "list app in web: {}",
        outcome(bad_selector, |l| names(&l.items))
    ));

    let mut changed = web.clone();
    changed
        .metadata
        .labels
        .insert("tier".into(), "front".into());
    let replaced = pods.replace(&changed).await;
    lines.push(format!(
        "replace web: {}",
        outcome(replaced, |p| format!("tier={}", p.metadata.labels["tier"]))
    ));
    let stale = pods.replace(&changed).await;
    lines.push(format!(
        "replace web again, from the same version: {}",
        outcome(stale, |_| "replaced".into())
    ));

    let patch = Patch::Merge(json!({"metadata": {"labels": {"tier": null}}}));
    let patched = pods.patch("web", &patch).await;
    lines.push(format!(
        "merge patch tier=null: {}",
        outcome(patched, |p| format!("labels {:?}", p.metadata.labels))
    ));

    let mut invalid = pod("bad", "web");
    invalid.spec.containers[0].image = None;
    let invalid = pods.create(&invalid).await;
    lines.push(format!(
        "create a pod without an image: {}",
        outcome(invalid, |_| "created".into())
    ));

    let deployments: Api<Deployment> = client.api(Some("default"));
    let deployment: Deployment = serde_json::from_value(json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}},
                              "spec": {"containers": [{"name": "c", "image": "k8s-mini/echo"}]}}}
    }))
    .expect("a deployment");
    deployments
        .create(&deployment)
        .await
        .expect("the deployment is created");
    let mut scale = deployments.get_scale("web").await.expect("a scale");
    scale.spec.replicas = Some(5);
    deployments
        .replace_scale("web", &scale)
        .await
        .expect("scaled");
    let replicas = deployments
        .get("web")
        .await
        .expect("the deployment")
        .spec
        .replicas;
    lines.push(format!(
        "scale deployments/web to 5: spec.replicas {replicas:?}"
    ));

    let deleted = pods.delete("db", &DeleteParams::now()).await;
    lines.push(format!(
        "delete db: {}",
        outcome(deleted, |_| "deleted".into())
    ));
    let gone = pods.get_opt("db").await;
    lines.push(format!(
        "get db: {}",
        outcome(gone, |p| format!(
            "{:?}",
            p.map(|p| p.metadata.name().to_string())
        ))
    ));

    settings().bind(|| assert_snapshot!(lines.join("\n")));
    lab.stop().await;
}

/// `a {"app": "web"}` for an object as an event brings it, `a deleted`;
/// bookmarks left out (how many arrive depends on timing).
fn event_line(item: &Result<WatchEvent<Pod>, ClientError>) -> Option<String> {
    match item {
        Ok(event) => {
            let meta = &event.object.metadata;
            match event.event_type {
                WatchEventType::Bookmark => None,
                WatchEventType::Deleted => Some(format!("{} deleted", meta.name())),
                _ => Some(format!("{} {:?}", meta.name(), meta.labels)),
            }
        }
        Err(error) if error.is_expired() => {
            Some(format!("error: {}", error.reason().unwrap_or("")))
        }
        // A broken connection: the watch reconnects by itself.
        Err(_) => None,
    }
}

#[tokio::test]
async fn a_resuming_watch_continues_where_it_left_off() {
    guard(resume()).await
}

async fn resume() {
    let lab = Lab::start().await;
    let client = Client::new(&lab.url).expect("a client");
    let pods: Api<Pod> = client.api(Some("default"));
    let version = pods
        .list(&ListParams::default())
        .await
        .expect("a list")
        .metadata
        .resource_version;
    // The server ends each watch after one second: the writes below are
    // spread over several connections, and each new one must start where
    // the last one stopped, or events come twice.
    let params = ListParams::default().timeout(1);
    let watch = pods.watch_resuming(&params, version.as_deref().unwrap_or(""));
    let seen = watch
        .filter_map(|item| async move { event_line(&item) })
        .take(5)
        .collect::<Vec<_>>();
    let writes = async {
        pods.create(&pod("a", "web")).await.expect("a");
        tokio::time::sleep(Duration::from_millis(1300)).await;
        pods.patch(
            "a",
            &Patch::Merge(json!({"metadata": {"labels": {"tier": "front"}}})),
        )
        .await
        .expect("a patched");
        tokio::time::sleep(Duration::from_millis(1300)).await;
        pods.create(&pod("b", "web")).await.expect("b");
        pods.delete("a", &DeleteParams::now())
            .await
            .expect("a deleted");
        tokio::time::sleep(Duration::from_millis(1300)).await;
        pods.create(&pod("c", "web")).await.expect("c");
    };
    let (seen, ()) = tokio::join!(seen, writes);

    // A server with a short memory: resuming from the start is impossible.
    let lab_short = Lab::start_with(Config {
        store: Options {
            history: 5,
            ..Options::default()
        },
        ..Config::default()
    })
    .await;
    let short = Client::new(&lab_short.url).expect("a client");
    let short_pods: Api<Pod> = short.api(Some("default"));
    for n in 0..10 {
        short_pods
            .create(&pod(&format!("p{n}"), "web"))
            .await
            .expect("a pod");
    }
    let expired: Vec<String> = short_pods
        .watch_resuming(&ListParams::default(), "1")
        .filter_map(|item| async move { event_line(&item) })
        .collect()
        .await;

    assert_snapshot!(format!(
        "a resuming watch over connections that last one second (each object as it was sent):\n{}\n\na resuming watch from resourceVersion 1, with 5 changes of history (then it ends):\n{}",
        seen.join("\n"),
        expired.join("\n")
    ));
    lab.stop().await;
    lab_short.stop().await;
}

/// `added a`, `updated a`, `deleted b`.
async fn next_changes(changes: &mut Changes<Pod>, count: usize) -> Vec<String> {
    let mut seen = Vec::new();
    while seen.len() < count {
        let change = tokio::time::timeout(Duration::from_secs(10), changes.recv())
            .await
            .unwrap_or_else(|_| panic!("no change came within 10 s after {seen:?}"))
            .expect("the informer runs");
        seen.push(match &change {
            Change::Added(pod) => format!("added {}", pod.metadata.name()),
            Change::Updated { old, new } => {
                let labels = |p: &Pod| format!("{:?}", p.metadata.labels);
                format!(
                    "updated {}: {} -> {}",
                    new.metadata.name(),
                    labels(old),
                    labels(new)
                )
            }
            Change::Deleted(pod) => format!("deleted {}", pod.metadata.name()),
        });
    }
    seen
}

#[tokio::test]
async fn an_informer_keeps_a_cache_and_reports_changes() {
    guard(informer()).await
}

async fn informer() {
    let lab = Lab::start().await;
    let client = Client::new(&lab.url).expect("a client");
    let pods: Api<Pod> = client.api(Some("default"));
    pods.create(&pod("a", "web")).await.expect("a");
    pods.create(&pod("b", "web")).await.expect("b");
    pods.create(&pod("other", "db")).await.expect("other");

    let (informer, mut changes) =
        Informer::with_changes(pods.clone(), ListParams::default().labels("app=web"));
    assert!(informer.wait_for_sync().await, "the informer lists");
    let listed = next_changes(&mut changes, 2).await;

    pods.patch(
        "a",
        &Patch::Merge(json!({"metadata": {"labels": {"tier": "front"}}})),
    )
    .await
    .expect("a patched");
    pods.delete("b", &DeleteParams::now())
        .await
        .expect("b deleted");
    // Joins the selection: the watch reports it as ADDED.
    pods.patch(
        "other",
        &Patch::Merge(json!({"metadata": {"labels": {"app": "web"}}})),
    )
    .await
    .expect("other relabeled");
    let watched = next_changes(&mut changes, 3).await;

    let cache = informer.cache();
    let cached: Vec<String> = cache
        .list()
        .iter()
        .map(|p| {
            format!(
                "{}/{} {:?}",
                p.metadata.namespace(),
                p.metadata.name(),
                p.metadata.labels
            )
        })
        .collect();
    let front = cache.list_matching(
        None,
        &objects::Selector::parse("tier=front").expect("a selector"),
    );
    informer.stop().await;

    assert_snapshot!(format!(
        "the first list:\n{}\n\nthen the watch:\n{}\n\nthe cache:\n{}\n\ncached pods with tier=front: {}\ncache.get(\"default\", \"b\"): {:?}",
        listed.join("\n"),
        watched.join("\n"),
        cached.join("\n"),
        front
            .iter()
            .map(|p| p.metadata.name().to_string())
            .collect::<Vec<_>>()
            .join(", "),
        cache
            .get("default", "b")
            .map(|p| p.metadata.name().to_string()),
    ));
    lab.stop().await;
}
