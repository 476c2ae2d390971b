//! Watch streams against a fake server: events split across chunks,
//! bookmarks, 410 Expired, and the resuming watch.

mod client_fake;

use std::sync::Mutex;
use std::time::Duration;

use client_fake::{FakeServer, Reply, Step, bookmark, event, expired, pod, status};
use futures::StreamExt;
use objects::{Pod, WatchEvent, WatchEventType};
use solution_07_apiserver::client::{Api, Client, ClientError, ListParams};

fn pause() -> Step {
    Step::Pause(Duration::from_millis(30))
}

/// `ADDED a@5`, `BOOKMARK @9`, `error: ...`: one line per item.
fn describe(item: &Result<WatchEvent<Pod>, ClientError>) -> String {
    match item {
        Ok(event) => {
            let meta = &event.object.metadata;
            let version = meta.resource_version.as_deref().unwrap_or("");
            match event.event_type {
                WatchEventType::Bookmark => format!("BOOKMARK @{version}"),
                other => format!(
                    "{} {}@{version}",
                    format!("{other:?}").to_uppercase(),
                    meta.name()
                ),
            }
        }
        Err(error) if error.is_expired() => format!("expired: {error}"),
        Err(ClientError::Http(_)) => "connection broken".to_string(),
        Err(error) => format!("error: {error}"),
    }
}

#[tokio::test]
async fn events_split_across_chunks_are_decoded() {
    let added = event("ADDED", pod("a", "5"));
    let modified = event("MODIFIED", pod("a", "6"));
    let deleted = event("DELETED", pod("b", "7"));
    let (added_head, added_tail) = added.split_at(20);
    let (deleted_head, deleted_tail) = deleted.split_at(deleted.len() - 3);
    let steps = vec![
        Step::Chunk(added_head.to_string()),
        pause(),
        Step::Chunk(format!("{added_tail}{modified}{deleted_head}")),
        pause(),
        Step::Chunk(format!("{deleted_tail}\n{}", bookmark("9"))),
    ];
    let steps = Mutex::new(Some(steps));
    let server =
        FakeServer::start(move |_| Reply::Stream(steps.lock().unwrap().take().unwrap())).await;
    let pods: Api<Pod> = Api::namespaced(&Client::new(&server.url()).unwrap(), "default");

    let params = ListParams::default().labels("app=web").timeout(30);
    let items: Vec<String> = pods
        .watch(&params, "4")
        .await
        .unwrap()
        .map(|i| describe(&i))
        .collect()
        .await;
    assert_eq!(
        items,
        ["ADDED a@5", "MODIFIED a@6", "DELETED b@7", "BOOKMARK @9"]
    );
    assert_eq!(
        server.lines(),
        [
            "GET /api/v1/namespaces/default/pods?watch=1&labelSelector=app=web&resourceVersion=4&allowWatchBookmarks=true&timeoutSeconds=30"
        ]
    );
}

#[tokio::test]
async fn an_error_event_arrives_as_an_error() {
    let server = FakeServer::start(|_| {
        Reply::Stream(vec![
            Step::Chunk(event("ADDED", pod("a", "41"))),
            Step::Chunk(expired()),
        ])
    })
    .await;
    let pods: Api<Pod> = Api::all(&Client::new(&server.url()).unwrap());
    let items: Vec<String> = pods
        .watch(&ListParams::default(), "3")
        .await
        .unwrap()
        .map(|i| describe(&i))
        .collect()
        .await;
    assert_eq!(
        items,
        [
            "ADDED a@41",
            "expired: too old resource version: 3 (40) (Expired)"
        ]
    );
}

#[tokio::test]
async fn a_body_cut_in_the_middle_of_an_event_is_an_error() {
    let server = FakeServer::start(|_| {
        let cut = event("ADDED", pod("b", "6"))[..30].to_string();
        Reply::Stream(vec![
            Step::Chunk(event("ADDED", pod("a", "5"))),
            Step::Chunk(cut),
        ])
    })
    .await;
    let pods: Api<Pod> = Api::all(&Client::new(&server.url()).unwrap());
    let items: Vec<String> = pods
        .watch(&ListParams::default(), "")
        .await
        .unwrap()
        .map(|i| describe(&i))
        .collect()
        .await;
    assert_eq!(
        items,
        [
            "ADDED a@5",
            "error: the watch stream broke off in the middle of an event"
        ]
    );
    // "" watches from now: no resourceVersion parameter.
    assert_eq!(
        server.lines(),
        ["GET /api/v1/pods?watch=1&allowWatchBookmarks=true"]
    );
}

#[tokio::test]
async fn a_410_answer_to_the_watch_request_is_expired() {
    let server = FakeServer::start(|_| {
        Reply::Json(
            410,
            status(410, "Expired", "too old resource version: 1 (40)"),
        )
    })
    .await;
    let pods: Api<Pod> = Api::all(&Client::new(&server.url()).unwrap());
    let error = pods.watch(&ListParams::default(), "1").await.err().unwrap();
    assert!(error.is_expired(), "{error}");
}

#[tokio::test]
async fn a_resuming_watch_continues_from_the_last_version_it_saw() {
    let server = FakeServer::start(|request| {
        match request.query("resourceVersion").as_deref() {
            // The first connection breaks after a bookmark...
            Some("3") => Reply::Stream(vec![
                Step::Chunk(event("ADDED", pod("a", "5"))),
                Step::Chunk(bookmark("9")),
                pause(),
                Step::Break,
            ]),
            // ...the second resumes after it and ends cleanly (as at timeoutSeconds)...
            Some("9") => Reply::Stream(vec![Step::Chunk(event("MODIFIED", pod("a", "10")))]),
            // ...the third finds the history gone.
            Some("10") => Reply::Stream(vec![Step::Chunk(expired())]),
            other => panic!("a watch from an unexpected version: {other:?}"),
        }
    })
    .await;
    let pods: Api<Pod> = Api::namespaced(&Client::new(&server.url()).unwrap(), "default");
    let items: Vec<String> = pods
        .watch_resuming(&ListParams::default(), "3")
        .map(|i| describe(&i))
        .collect()
        .await;
    assert_eq!(
        items,
        [
            "ADDED a@5",
            "BOOKMARK @9",
            "connection broken",
            "MODIFIED a@10",
            "expired: too old resource version: 3 (40) (Expired)",
        ]
    );
    let versions: Vec<String> = server
        .requests()
        .iter()
        .map(|r| r.query("resourceVersion").unwrap())
        .collect();
    assert_eq!(versions, ["3", "9", "10"]);
}
