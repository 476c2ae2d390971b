//! Watches: from a resourceVersion, through selectors, with bookmarks and
//! time limits; too old a start is 410 Expired; a reader that cannot keep
//! up is dropped, never waited for.

use std::time::Duration;

use chapter_07::apiserver::server::Config;
use chapter_07::apiserver::store::Options;
use chapter_07::{Lab, guard, settings};
use futures::StreamExt;
use insta::assert_snapshot;
use serde_json::json;

const PODS: &str = "/api/v1/namespaces/default/pods";

fn pod(name: &str, tier: &str) -> serde_json::Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "labels": {"tier": tier}},
        "spec": {"containers": [{"name": "c", "image": "k8s-mini/echo"}]},
    })
}

/// The events of a watch as `TYPE name (resourceVersion)` lines, until
/// `count` events or the stream's end.
async fn events(lab: &Lab, query: &str, count: usize) -> Vec<String> {
    let response = reqwest::get(format!("{}{PODS}?watch=1&{query}", lab.url))
        .await
        .expect("the watch starts");
    assert_eq!(response.status(), 200);
    let mut body = response.bytes_stream();
    let mut buffer = Vec::new();
    let mut lines = Vec::new();
    while lines.len() < count {
        let next = tokio::time::timeout(Duration::from_secs(10), body.next()).await;
        let Ok(Some(Ok(chunk))) = next else { break };
        buffer.extend_from_slice(&chunk);
        while let Some(end) = buffer.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = buffer.drain(..=end).collect();
            let event: serde_json::Value =
                serde_json::from_slice(&line).expect("one JSON event per line");
            let object = &event["object"];
            let name = object["metadata"]["name"].as_str().unwrap_or("-");
            let detail = match event["type"].as_str() {
                Some("ERROR") => format!("{} {}", object["code"], object["reason"]),
                _ => object["kind"].as_str().unwrap_or("").to_string(),
            };
            lines.push(format!(
                "{} {name} {detail}",
                event["type"].as_str().unwrap_or("?")
            ));
        }
    }
    lines
}

async fn label(lab: &Lab, name: &str, tier: &str) {
    let patch = json!({"metadata": {"labels": {"tier": tier}}}).to_string();
    let answer = lab
        .request(
            "PATCH",
            &format!("{PODS}/{name}"),
            "application/merge-patch+json",
            patch,
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
}

#[tokio::test]
async fn a_watch_starts_after_the_given_version_and_follows_selectors() {
    guard(selectors()).await
}

async fn selectors() {
    let lab = Lab::start().await;
    lab.post(PODS, &pod("before", "front")).await;
    let from: u64 = lab.get(PODS).await.json()["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let query = format!("resourceVersion={from}&labelSelector=tier%3Dfront");
    let watching = events(&lab, &query, 4);
    let changes = async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        lab.post(PODS, &pod("a", "front")).await;
        lab.post(PODS, &pod("b", "back")).await;
        label(&lab, "a", "back").await; // leaves the selection: DELETED
        label(&lab, "b", "front").await; // enters it: ADDED
        lab.request("DELETE", &format!("{PODS}/b"), "", Vec::new())
            .await;
    };
    let (seen, ()) = tokio::join!(watching, changes);
    let all_from_start = events(&lab, "resourceVersion=0&timeoutSeconds=1", 100).await;
    assert_snapshot!(format!(
        "watch from the list's resourceVersion, tier=front:\n{}\n\nwatch from 0 (the current state, then changes), for one second:\n{}",
        seen.join("\n"),
        all_from_start.join("\n")
    ));
    lab.stop().await;
}

#[tokio::test]
async fn too_old_a_version_is_410_expired_and_bookmarks_come_when_asked() {
    guard(expired()).await
}

async fn expired() {
    let config = Config {
        store: Options {
            history: 5,
            ..Options::default()
        },
        bookmark_every: Duration::from_millis(100),
        ..Config::default()
    };
    let lab = Lab::start_with(config).await;
    for n in 0..10 {
        lab.post(PODS, &pod(&format!("p{n}"), "front")).await;
    }
    let expired = events(&lab, "resourceVersion=1", 10).await;
    let recent: u64 = lab.get(PODS).await.json()["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let bookmarks = events(
        &lab,
        &format!("resourceVersion={recent}&allowWatchBookmarks=true&timeoutSeconds=1"),
        2,
    )
    .await;
    settings().bind(|| {
        assert_snapshot!(format!(
            "from resourceVersion 1, with 5 changes of history:\n{}\n\nfrom the current version, asking for bookmarks:\n{}",
            expired.join("\n"),
            bookmarks.join("\n")
        ))
    });
    lab.stop().await;
}

#[tokio::test]
async fn a_watcher_that_does_not_read_is_dropped_and_writers_go_on() {
    guard(slow_watcher()).await
}

async fn slow_watcher() {
    let config = Config {
        store: Options {
            watcher_buffer: 8,
            ..Options::default()
        },
        ..Config::default()
    };
    let lab = Lab::start_with(config).await;
    // A watcher that reads nothing until the writes are done.
    let response = reqwest::get(format!("{}{PODS}?watch=1&resourceVersion=1", lab.url))
        .await
        .unwrap();
    let writes = 1000;
    let big = "x".repeat(4000);
    for n in 0..writes {
        let mut object = pod(&format!("p{n}"), "front");
        object["metadata"]["annotations"] = json!({"padding": big});
        let answer = lab.post(PODS, &object).await;
        assert_eq!(answer.status, 201, "writer held up or refused at write {n}");
    }
    // Now it reads: the stream has ended early, cut off when the watcher
    // fell behind.
    let body = tokio::time::timeout(Duration::from_secs(10), response.bytes())
        .await
        .expect("the dropped watch has ended")
        .expect("readable");
    let received = body
        .split(|b| *b == b'\n')
        .filter(|line| !line.is_empty())
        .count();
    assert!(
        received < writes,
        "the slow watcher got all {writes} events: it was waited for"
    );
    lab.stop().await;
}

#[tokio::test]
async fn a_watch_resumed_from_a_version_tells_changes_from_creations() {
    guard(resumed()).await
}

async fn resumed() {
    let lab = Lab::start().await;
    let created = lab.post(PODS, &pod("web", "front")).await.json();
    let version = created["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_string();
    let query = format!("resourceVersion={version}");
    let watching = events(&lab, &query, 2);
    let changes = async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        label(&lab, "web", "back").await;
        lab.post(PODS, &pod("api", "front")).await;
    };
    let (seen, ()) = tokio::join!(watching, changes);
    assert_eq!(seen, ["MODIFIED web Pod", "ADDED api Pod"]);
    lab.stop().await;
}

#[tokio::test]
async fn a_version_the_server_has_not_reached_is_waited_for_then_refused() {
    guard(too_new()).await
}

async fn too_new() {
    let lab = Lab::start().await;
    lab.post(PODS, &pod("first", "front")).await;
    let current: u64 = lab.get(PODS).await.json()["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();

    // A watch from a version ahead of the server gets only what comes
    // after that version, never the changes before it (Kubernetes' watch
    // cache sends only events newer than the requested version).
    let query = format!("resourceVersion={}", current + 2);
    let watching = events(&lab, &query, 1);
    let changes = async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        for name in ["at-plus-1", "at-plus-2", "at-plus-3"] {
            lab.post(PODS, &pod(name, "front")).await;
        }
    };
    let (seen, ()) = tokio::join!(watching, changes);
    assert_eq!(seen, ["ADDED at-plus-3 Pod"]);

    // A list not older than a version that comes within the wait: answered
    // once the server has it.
    let wanted = current + 4;
    let path = format!("{PODS}?resourceVersion={wanted}&resourceVersionMatch=NotOlderThan");
    let list = lab.get(&path);
    let change = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        lab.post(PODS, &pod("at-plus-4", "front")).await;
    };
    let (list, ()) = tokio::join!(list, change);
    assert_eq!(list.status, 200, "{}", list.body);
    let items = list.json()["items"].as_array().unwrap().len();
    assert_eq!(items, 5, "the list is not older than {wanted}");

    // One that never comes: 504 Timeout after a short wait, with the cause
    // that clients (client-go's reflector) recognize, never older data.
    for path in [
        format!("{PODS}?resourceVersion={}", wanted + 100),
        format!("{PODS}/first?resourceVersion={}", wanted + 100),
    ] {
        let answer = lab.get(&path).await;
        assert_eq!(answer.status, 504, "{path}: {}", answer.body);
        let status = answer.json();
        assert_eq!(status["kind"], "Status");
        assert_eq!(status["reason"], "Timeout");
        assert_eq!(status["code"], 504);
        assert_eq!(
            status["message"],
            format!(
                "Timeout: Too large resource version: {}, current: {wanted}",
                wanted + 100
            )
        );
        assert_eq!(
            status["details"],
            json!({
                "causes": [{"reason": "ResourceVersionTooLarge", "message": "Too large resource version"}],
                "retryAfterSeconds": 1,
            })
        );
    }
    lab.stop().await;
}
