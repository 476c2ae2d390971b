//! The informer against a scripted fake server: the first list fills the
//! cache, the watch keeps it current and resumes after a broken
//! connection, a 410 makes it list again and report what changed meanwhile.

mod client_fake;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use client_fake::{FakeServer, Reply, Step, bookmark, event, expired, pod, pod_list};
use objects::{Pod, Selector};
use solution_07_apiserver::client::{Api, Change, Changes, Client, Informer, ListParams};
use tokio::sync::Notify;

/// `added a@2`, `updated a@2->12`, `deleted b@3`.
fn describe(change: &Change<Pod>) -> String {
    let version = |pod: &Pod| pod.metadata.resource_version.clone().unwrap_or_default();
    match change {
        Change::Added(pod) => format!("added {}@{}", pod.metadata.name(), version(pod)),
        Change::Updated { old, new } => {
            format!(
                "updated {}@{}->{}",
                new.metadata.name(),
                version(old),
                version(new)
            )
        }
        Change::Deleted(pod) => format!("deleted {}@{}", pod.metadata.name(), version(pod)),
    }
}

/// The next `count` changes (failing after 10 s rather than hanging).
async fn next_changes(changes: &mut Changes<Pod>, count: usize) -> Vec<String> {
    let mut seen = Vec::new();
    while seen.len() < count {
        let change = tokio::time::timeout(Duration::from_secs(10), changes.recv())
            .await
            .unwrap_or_else(|_| panic!("waited in vain for a change after {seen:?}"))
            .expect("the informer is running");
        seen.push(describe(&change));
    }
    seen
}

fn names(pods: &[Arc<Pod>]) -> Vec<String> {
    pods.iter()
        .map(|p| {
            format!(
                "{}@{}",
                p.metadata.name(),
                p.metadata.resource_version.as_deref().unwrap_or("")
            )
        })
        .collect()
}

#[tokio::test]
async fn an_informer_lists_watches_resumes_and_relists() {
    let first_list = Arc::new(Notify::new());
    let second_list = Arc::new(Notify::new());
    let lists = AtomicUsize::new(0);
    let server = FakeServer::start({
        let first_list = Arc::clone(&first_list);
        let second_list = Arc::clone(&second_list);
        move |request| {
            if request.query("watch").is_none() {
                return match lists.fetch_add(1, Ordering::SeqCst) {
                    0 => Reply::After(
                        Arc::clone(&first_list),
                        Box::new(Reply::Json(
                            200,
                            pod_list("10", vec![pod("a", "2"), pod("b", "3")]),
                        )),
                    ),
                    _ => Reply::After(
                        Arc::clone(&second_list),
                        Box::new(Reply::Json(
                            200,
                            pod_list("22", vec![pod("c", "20"), pod("d", "21")]),
                        )),
                    ),
                };
            }
            match request.query("resourceVersion").as_deref() {
                Some("10") => Reply::Stream(vec![
                    Step::Chunk(event("ADDED", pod("c", "11"))),
                    Step::Chunk(event("MODIFIED", pod("a", "12"))),
                    Step::Chunk(event("DELETED", pod("b", "13"))),
                    Step::Chunk(bookmark("15")),
                    Step::Pause(Duration::from_millis(30)),
                    Step::Break,
                ]),
                Some("15") => Reply::Stream(vec![Step::Chunk(expired())]),
                Some("22") => Reply::Stream(vec![Step::Hold]),
                other => panic!("a watch from an unexpected version: {other:?}"),
            }
        }
    })
    .await;
    let pods: Api<Pod> = Api::namespaced(&Client::new(&server.url()).unwrap(), "default");
    let (informer, mut changes) = Informer::with_changes(pods, ListParams::default().labels("app"));
    let cache = informer.cache();

    server
        .wait_until("the informer lists", |s| !s.requests().is_empty())
        .await;
    assert!(
        !informer.has_synced(),
        "synced before the list was answered"
    );
    assert!(cache.is_empty());
    first_list.notify_one();
    assert!(informer.wait_for_sync().await);
    assert!(informer.has_synced());

    // The list, then the watch's events: a bookmark changes nothing.
    assert_eq!(
        next_changes(&mut changes, 5).await,
        [
            "added a@2",
            "added b@3",
            "added c@11",
            "updated a@2->12",
            "deleted b@13"
        ]
    );
    // A second subscriber first hears of what is cached.
    let mut late = informer.subscribe();
    assert_eq!(
        next_changes(&mut late, 2).await,
        ["added a@12", "added c@11"]
    );

    // The connection breaks, the watch resumes from the bookmark (15),
    // finds the history gone (410) and the informer lists again: a was
    // deleted, c changed and d was created meanwhile.
    server
        .wait_until("the informer lists again", |s| s.requests().len() == 4)
        .await;
    second_list.notify_one();
    let relisted = ["deleted a@12", "updated c@11->20", "added d@21"];
    assert_eq!(next_changes(&mut changes, 3).await, relisted);
    assert_eq!(next_changes(&mut late, 3).await, relisted);
    assert_eq!(names(&cache.list()), ["c@20", "d@21"]);
    assert_eq!(
        cache
            .get("default", "d")
            .unwrap()
            .metadata
            .resource_version
            .as_deref(),
        Some("21")
    );
    assert!(cache.get("default", "a").is_none());
    assert_eq!(
        names(&cache.list_matching(None, &Selector::parse("app=db").unwrap())),
        ["d@21"]
    );
    assert_eq!(names(&cache.list_namespace("other")), Vec::<String>::new());

    server
        .wait_until("the last watch is open", |s| s.held() == 1)
        .await;
    assert_eq!(
        server.lines(),
        [
            "GET /api/v1/namespaces/default/pods?labelSelector=app",
            "GET /api/v1/namespaces/default/pods?watch=1&labelSelector=app&resourceVersion=10&allowWatchBookmarks=true&timeoutSeconds=300",
            "GET /api/v1/namespaces/default/pods?watch=1&labelSelector=app&resourceVersion=15&allowWatchBookmarks=true&timeoutSeconds=300",
            "GET /api/v1/namespaces/default/pods?labelSelector=app",
            "GET /api/v1/namespaces/default/pods?watch=1&labelSelector=app&resourceVersion=22&allowWatchBookmarks=true&timeoutSeconds=300",
        ]
    );
    assert!(
        informer.last_error().unwrap().contains("Expired"),
        "{:?}",
        informer.last_error()
    );

    // Stopping ends the task, and with it the watch connection.
    informer.stop().await;
    server
        .wait_until("the watch connection is closed", |s| s.held() == 0)
        .await;
    assert!(
        changes.recv().await.is_none(),
        "the channel closes with the informer"
    );
    assert!(late.recv().await.is_none());
    // The cache stays readable.
    assert_eq!(cache.len(), 2);
}

#[tokio::test]
async fn dropping_an_informer_closes_its_watch() {
    let server = FakeServer::start(|request| {
        if request.query("watch").is_none() {
            Reply::Json(200, pod_list("1", vec![]))
        } else {
            Reply::Stream(vec![Step::Hold])
        }
    })
    .await;
    let pods: Api<Pod> = Api::all(&Client::new(&server.url()).unwrap());
    let informer = Informer::new(pods, ListParams::default());
    assert!(informer.wait_for_sync().await);
    assert!(informer.cache().is_empty());
    server
        .wait_until("the watch is open", |s| s.held() == 1)
        .await;
    drop(informer);
    server
        .wait_until("the watch connection is closed", |s| s.held() == 0)
        .await;
}
