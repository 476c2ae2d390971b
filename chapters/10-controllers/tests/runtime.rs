//! The controller runtime: the work queue's rules (pure), the driver's
//! timing on a paused clock (back-off, requeue, resync, de-duplication,
//! workers, graceful stop), and the driver against a real API server (in
//! this process, in memory): nothing before the caches sync, changes to
//! owned objects reach their owner, a burst of changes makes few
//! reconciles and never two of one key at once.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use apiserver::client::{Api, Cache, Client, ClientError, Informer, ListParams, ObjectKey};
use chapter_10::controllers::controller::queue::{ERROR_BACKOFF, error_delay};
use chapter_10::controllers::controller::{
    Action, Controller, Reconciler, RunError, Shutdown, WorkQueue, is_conflict,
};
use objects::{Pod, ReplicaSet, Resource, Status};
use serde_json::json;
use tokio::time::Instant;

// ---------------------------------------------------------------------
// The queue, pure: time is passed in.

fn ms(start: std::time::Instant, millis: u64) -> std::time::Instant {
    start + Duration::from_millis(millis)
}

#[test]
fn the_queue_keeps_one_entry_per_key_at_the_earlier_time() {
    let start = std::time::Instant::now();
    let mut queue = WorkQueue::new();
    queue.add("a", ms(start, 30));
    queue.add("b", ms(start, 20));
    queue.add("a", ms(start, 10));
    queue.add("a", ms(start, 40));
    assert_eq!(queue.len(), 2);
    assert_eq!(queue.next_due(), Some(ms(start, 10)));
    assert_eq!(
        queue.pop(ms(start, 5)),
        None,
        "nothing is due before its time"
    );
    assert_eq!(queue.pop(ms(start, 25)), Some("a"));
    assert_eq!(queue.pop(ms(start, 25)), Some("b"));
    assert_eq!(queue.pop(ms(start, 100)), None, "a was queued once");
    assert!(queue.is_empty());
}

#[test]
fn the_queue_hands_out_keys_due_at_the_same_time_in_the_order_they_came() {
    let start = std::time::Instant::now();
    let mut queue = WorkQueue::new();
    for key in ["c", "a", "b"] {
        queue.add(key, start);
    }
    let order: Vec<_> = std::iter::from_fn(|| queue.pop(start)).collect();
    assert_eq!(order, ["c", "a", "b"]);
}

#[test]
fn a_key_added_while_it_is_processed_waits_for_done_then_runs_once() {
    let start = std::time::Instant::now();
    let mut queue = WorkQueue::new();
    queue.add("a", start);
    assert_eq!(queue.pop(start), Some("a"));
    assert!(queue.is_processing(&"a"));
    queue.add("a", ms(start, 1));
    queue.add("a", ms(start, 2));
    assert!(queue.contains(&"a"));
    assert_eq!(queue.next_due(), None, "held, not due");
    assert_eq!(queue.pop(ms(start, 50)), None, "never twice at once");
    queue.done(&"a");
    assert!(!queue.is_processing(&"a"));
    assert_eq!(
        queue.next_due(),
        Some(ms(start, 1)),
        "the earlier of the two"
    );
    assert_eq!(queue.pop(ms(start, 50)), Some("a"));
    queue.done(&"a");
    assert_eq!(queue.pop(ms(start, 100)), None, "once, not twice");
    assert_eq!(queue.processing(), 0);
}

#[test]
fn other_keys_are_handed_out_while_one_is_processed() {
    let start = std::time::Instant::now();
    let mut queue = WorkQueue::new();
    queue.add("a", start);
    queue.add("b", start);
    assert_eq!(queue.pop(start), Some("a"));
    queue.add("a", start);
    assert_eq!(queue.pop(start), Some("b"));
    assert_eq!(queue.pop(start), None);
    assert_eq!(queue.processing(), 2);
}

#[test]
fn done_without_a_new_add_leaves_nothing_queued() {
    let start = std::time::Instant::now();
    let mut queue = WorkQueue::new();
    queue.add("a", start);
    assert_eq!(queue.pop(start), Some("a"));
    queue.done(&"a");
    assert!(queue.is_empty());
    assert_eq!(queue.next_due(), None);
}

#[test]
fn a_shut_down_queue_hands_out_nothing_and_takes_nothing() {
    let start = std::time::Instant::now();
    let mut queue = WorkQueue::new();
    queue.add("a", start);
    queue.add("b", start);
    assert_eq!(queue.pop(start), Some("a"));
    queue.add("a", start);
    queue.shut_down();
    assert!(queue.is_shut_down());
    assert_eq!(queue.pop(start), None);
    queue.add("c", start);
    queue.done(&"a");
    assert_eq!(queue.pop(ms(start, 10)), None);
    assert!(queue.is_empty());
}

#[test]
fn failures_are_counted_per_key_and_forgotten_after_a_success() {
    let mut queue = WorkQueue::new();
    assert_eq!(queue.failed(&"a"), 1);
    assert_eq!(queue.failed(&"a"), 2);
    assert_eq!(queue.failed(&"b"), 1);
    queue.forget(&"a");
    assert_eq!(queue.failures(&"a"), 0);
    assert_eq!(queue.failures(&"b"), 1);
}

#[test]
fn the_error_delay_doubles_from_5ms_to_1000s_and_conflicts_retry_at_once() {
    let delays: Vec<u128> = (1..=8)
        .map(|failures| error_delay(failures, false).as_millis())
        .collect();
    assert_eq!(delays, [5, 10, 20, 40, 80, 160, 320, 640]);
    assert_eq!(error_delay(19, false), ERROR_BACKOFF.max);
    assert_eq!(error_delay(u32::MAX, false), Duration::from_secs(1000));
    assert_eq!(error_delay(1, true), Duration::ZERO);
    assert_eq!(error_delay(5, true), Duration::ZERO);
    assert_eq!(error_delay(6, true), Duration::from_millis(160));
}

#[test]
fn a_conflict_is_found_through_the_error_chain() {
    let conflict = ClientError::from(Status::failure(409, "Conflict", "stale"));
    assert!(is_conflict(&conflict));
    assert!(is_conflict(&TestError::Api(conflict)));
    let exists = ClientError::from(Status::failure(409, "AlreadyExists", "taken"));
    assert!(!is_conflict(&TestError::Api(exists)));
    assert!(!is_conflict(&TestError::Broken));
}

// ---------------------------------------------------------------------
// A reconciler that does what a test says and records what it saw.

/// What one reconcile (the `attempt`-th of its key, from 1) does.
#[derive(Debug, Clone, Copy)]
enum Outcome {
    Ok(Action),
    Fail,
    Conflict,
    Panic,
}

#[derive(Debug)]
enum TestError {
    Broken,
    Api(ClientError),
}

impl std::fmt::Display for TestError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TestError::Broken => f.write_str("broken on purpose"),
            TestError::Api(_) => f.write_str("the API server refused"),
        }
    }
}

impl std::error::Error for TestError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            TestError::Api(error) => Some(error),
            TestError::Broken => None,
        }
    }
}

type Plan = Box<dyn Fn(&str, usize) -> Outcome + Send + Sync>;

#[derive(Default)]
struct Seen {
    /// Every start: key name and time.
    starts: Mutex<Vec<(String, Instant)>>,
    running: Mutex<Vec<String>>,
    /// Starts of a key that was already being reconciled.
    overlaps: AtomicUsize,
    most_at_once: AtomicUsize,
    finished: AtomicUsize,
    /// The resourceVersion each reconcile read from the cache, by key.
    versions: Mutex<HashMap<String, Vec<String>>>,
}

impl Seen {
    fn starts_of(&self, name: &str) -> Vec<Instant> {
        let starts = self.starts.lock().unwrap();
        starts
            .iter()
            .filter(|(key, _)| key == name)
            .map(|(_, at)| *at)
            .collect()
    }

    fn count(&self, name: &str) -> usize {
        self.starts_of(name).len()
    }

    /// The gaps between the starts of `name`, in milliseconds.
    fn gaps(&self, name: &str) -> Vec<u128> {
        let starts = self.starts_of(name);
        starts
            .windows(2)
            .map(|pair| (pair[1] - pair[0]).as_millis())
            .collect()
    }
}

struct Scripted {
    plan: Plan,
    /// How long each reconcile takes.
    work: Duration,
    seen: Arc<Seen>,
    /// A cache to read the object's version from, if any.
    pods: Option<Cache<Pod>>,
}

impl Scripted {
    fn new(plan: impl Fn(&str, usize) -> Outcome + Send + Sync + 'static) -> (Scripted, Arc<Seen>) {
        let seen = Arc::new(Seen::default());
        let scripted = Scripted {
            plan: Box::new(plan),
            work: Duration::ZERO,
            seen: Arc::clone(&seen),
            pods: None,
        };
        (scripted, seen)
    }
}

impl Reconciler for Scripted {
    type Error = TestError;

    async fn reconcile(&self, key: &ObjectKey) -> Result<Action, TestError> {
        let name = key.name.clone();
        let attempt = {
            let mut starts = self.seen.starts.lock().unwrap();
            starts.push((name.clone(), Instant::now()));
            starts.iter().filter(|(key, _)| *key == name).count()
        };
        {
            let mut running = self.seen.running.lock().unwrap();
            if running.contains(&name) {
                self.seen.overlaps.fetch_add(1, Ordering::SeqCst);
            }
            running.push(name.clone());
            self.seen
                .most_at_once
                .fetch_max(running.len(), Ordering::SeqCst);
        }
        if let Some(pods) = &self.pods {
            let version = pods
                .get(&key.namespace, &key.name)
                .and_then(|pod| pod.metadata.resource_version.clone())
                .unwrap_or_default();
            let mut versions = self.seen.versions.lock().unwrap();
            versions.entry(name.clone()).or_default().push(version);
        }
        tokio::time::sleep(self.work).await;
        {
            let mut running = self.seen.running.lock().unwrap();
            let at = running.iter().position(|key| *key == name).unwrap();
            running.remove(at);
        }
        self.seen.finished.fetch_add(1, Ordering::SeqCst);
        match (self.plan)(&name, attempt) {
            Outcome::Ok(action) => Ok(action),
            Outcome::Fail => Err(TestError::Broken),
            Outcome::Conflict => Err(TestError::Api(ClientError::from(Status::failure(
                409,
                "Conflict",
                "the object has been modified",
            )))),
            Outcome::Panic => panic!("a reconcile that panics (a learner's todo!())"),
        }
    }
}

fn key(name: &str) -> ObjectKey {
    ObjectKey {
        namespace: "default".into(),
        name: name.into(),
    }
}

/// A controller fed by hand (no informer), with no resync.
fn by_hand(reconciler: Scripted) -> Controller<Scripted> {
    Controller::from_keys("test", reconciler, Vec::new).resync(None)
}

fn ok() -> Outcome {
    Outcome::Ok(Action::await_change())
}

// ---------------------------------------------------------------------
// The driver on a paused clock: the timings are exact.

#[tokio::test(start_paused = true)]
async fn a_failing_key_is_retried_after_a_doubling_delay() {
    let (reconciler, seen) = Scripted::new(|_, _| Outcome::Fail);
    let controller = by_hand(reconciler);
    controller.queue_sender().send(key("a")).unwrap();
    let handle = controller.start();
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(seen.gaps("a"), [5, 10, 20, 40, 80, 160, 320]);
    handle.stop(Duration::from_secs(1)).await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_success_resets_the_back_off() {
    let (reconciler, seen) = Scripted::new(|_, attempt| match attempt {
        4 => Outcome::Ok(Action::requeue(Duration::from_secs(1))),
        _ => Outcome::Fail,
    });
    let controller = by_hand(reconciler);
    controller.queue_sender().send(key("a")).unwrap();
    let handle = controller.start();
    tokio::time::sleep(Duration::from_millis(1060)).await;
    assert_eq!(seen.gaps("a"), [5, 10, 20, 1000, 5, 10]);
    handle.stop(Duration::from_secs(1)).await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_conflict_is_retried_at_once_and_a_panic_after_a_back_off() {
    let (reconciler, seen) = Scripted::new(|name, attempt| match (name, attempt) {
        ("conflict", 1 | 2) => Outcome::Conflict,
        ("panic", 1 | 2) => Outcome::Panic,
        _ => ok(),
    });
    let controller = by_hand(reconciler).workers(2);
    controller.queue_sender().send(key("conflict")).unwrap();
    controller.queue_sender().send(key("panic")).unwrap();
    let handle = controller.start();
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(seen.gaps("conflict"), [0, 0]);
    assert_eq!(seen.gaps("panic"), [5, 10]);
    handle.stop(Duration::from_secs(1)).await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_requeue_comes_back_after_its_delay_unless_a_change_comes_first() {
    let (reconciler, seen) =
        Scripted::new(|_, _| Outcome::Ok(Action::requeue(Duration::from_secs(60))));
    let controller = by_hand(reconciler);
    let sender = controller.queue_sender();
    sender.send(key("a")).unwrap();
    let handle = controller.start();
    tokio::time::sleep(Duration::from_secs(5)).await;
    // A change: the earlier time wins over the requeue in 55 s.
    sender.send(key("a")).unwrap();
    tokio::time::sleep(Duration::from_secs(100)).await;
    let start = seen.starts_of("a")[0];
    let offsets: Vec<u64> = seen
        .starts_of("a")
        .iter()
        .map(|at| (*at - start).as_secs())
        .collect();
    assert_eq!(offsets, [0, 5, 65]);
    handle.stop(Duration::from_secs(1)).await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn the_resync_queues_every_key_again() {
    let (reconciler, seen) = Scripted::new(|_, _| ok());
    let handle = Controller::from_keys("test", reconciler, || vec![key("a"), key("b")])
        .resync(Some(Duration::from_secs(30)))
        .start();
    let begin = Instant::now();
    tokio::time::sleep(Duration::from_secs(70)).await;
    for name in ["a", "b"] {
        let offsets: Vec<u64> = seen
            .starts_of(name)
            .iter()
            .map(|at| (*at - begin).as_secs())
            .collect();
        assert_eq!(offsets, [30, 60], "{name}");
    }
    handle.stop(Duration::from_secs(1)).await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_key_changed_during_its_reconcile_runs_once_more_afterwards() {
    let (mut reconciler, seen) = Scripted::new(|_, _| ok());
    reconciler.work = Duration::from_secs(1);
    let controller = by_hand(reconciler).workers(4);
    let sender = controller.queue_sender();
    sender.send(key("a")).unwrap();
    let handle = controller.start();
    tokio::time::sleep(Duration::from_millis(100)).await;
    for _ in 0..5 {
        sender.send(key("a")).unwrap();
    }
    tokio::time::sleep(Duration::from_secs(10)).await;
    assert_eq!(seen.overlaps.load(Ordering::SeqCst), 0);
    assert_eq!(seen.gaps("a"), [1000], "once more, right after the first");
    handle.stop(Duration::from_secs(1)).await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn different_keys_share_the_workers() {
    let (mut reconciler, seen) = Scripted::new(|_, _| ok());
    reconciler.work = Duration::from_secs(1);
    let controller = by_hand(reconciler).workers(2);
    for name in ["a", "b", "c"] {
        controller.queue_sender().send(key(name)).unwrap();
    }
    let begin = Instant::now();
    let handle = controller.start();
    tokio::time::sleep(Duration::from_secs(5)).await;
    let offsets: Vec<u64> = ["a", "b", "c"]
        .iter()
        .map(|name| (seen.starts_of(name)[0] - begin).as_secs())
        .collect();
    assert_eq!(offsets, [0, 0, 1], "c waits for a free worker");
    assert_eq!(seen.most_at_once.load(Ordering::SeqCst), 2);
    handle.stop(Duration::from_secs(1)).await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_stop_lets_the_running_reconcile_finish_and_takes_no_new_key() {
    let (mut reconciler, seen) = Scripted::new(|_, _| ok());
    reconciler.work = Duration::from_secs(2);
    let controller = by_hand(reconciler);
    let sender = controller.queue_sender();
    sender.send(key("a")).unwrap();
    sender.send(key("b")).unwrap();
    let handle = controller.start();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let begin = Instant::now();
    handle.stop(Duration::from_secs(10)).await.unwrap();
    assert_eq!(begin.elapsed(), Duration::from_millis(1900), "a finished");
    assert_eq!(seen.finished.load(Ordering::SeqCst), 1);
    assert_eq!(seen.count("b"), 0, "b was never started");
    let _ = sender.send(key("c"));
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(seen.count("c"), 0);
}

#[tokio::test(start_paused = true)]
async fn a_stop_aborts_a_reconcile_that_outlasts_the_limit() {
    let (mut reconciler, seen) = Scripted::new(|_, _| ok());
    reconciler.work = Duration::from_secs(60);
    let controller = by_hand(reconciler);
    controller.queue_sender().send(key("a")).unwrap();
    let handle = controller.start();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let begin = Instant::now();
    handle.stop(Duration::from_secs(1)).await.unwrap();
    assert_eq!(begin.elapsed(), Duration::from_secs(1));
    tokio::time::sleep(Duration::from_secs(120)).await;
    assert_eq!(seen.count("a"), 1);
    assert_eq!(
        seen.finished.load(Ordering::SeqCst),
        0,
        "aborted, never finished"
    );
}

// ---------------------------------------------------------------------
// Against a real API server.

fn pod(name: &str, labels: serde_json::Value, owner: Option<(&str, &str)>) -> Pod {
    let owners: Vec<serde_json::Value> = owner
        .into_iter()
        .map(|(name, uid)| {
            json!({"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": name, "uid": uid, "controller": true})
        })
        .collect();
    serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": "default", "labels": labels, "ownerReferences": owners},
        "spec": {"containers": [{"name": "main", "image": "busybox"}]}
    }))
    .unwrap()
}

/// Waits (at most 10 s) until `check` holds.
async fn eventually(what: &str, check: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !check() {
        assert!(Instant::now() < deadline, "not within 10 s: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn nothing_is_reconciled_before_every_informer_has_synced() {
    // Nothing listens there: the informer never lists.
    let client = Client::new("http://127.0.0.1:1").unwrap();
    let pods = Arc::new(Informer::<Pod>::new(
        Api::all(&client),
        ListParams::default(),
    ));
    let (reconciler, seen) = Scripted::new(|_, _| ok());
    let controller = Controller::new("test", reconciler, &pods)
        .resync(Some(Duration::from_millis(10)))
        .sync_timeout(Duration::from_millis(300));
    controller.queue_sender().send(key("queued-early")).unwrap();
    let (_stopper, shutdown) = Shutdown::channel();
    match tokio::time::timeout(Duration::from_secs(10), controller.run(shutdown)).await {
        Ok(Err(RunError::Sync { kind, .. })) => assert_eq!(kind, "Pod"),
        Ok(other) => panic!("expected a sync timeout, got {other:?}"),
        Err(_) => panic!("still running after 10 s: it did not wait for the sync"),
    }
    assert_eq!(seen.count("queued-early"), 0);
}

#[tokio::test]
async fn a_burst_of_changes_makes_few_reconciles_never_two_at_once_and_the_last_sees_it_all() {
    let server = chapter_10::start_server().await;
    let client = Client::new(&server.url()).unwrap();
    let api: Api<Pod> = Api::namespaced(&client, "default");
    api.create(&pod("web", json!({"n": "0"}), None))
        .await
        .unwrap();
    let pods = Arc::new(Informer::<Pod>::new(
        Api::all(&client),
        ListParams::default(),
    ));
    let (mut reconciler, seen) = Scripted::new(|_, _| ok());
    reconciler.work = Duration::from_millis(300);
    reconciler.pods = Some(pods.cache());
    let handle = Controller::new("test", reconciler, &pods)
        .workers(4)
        .resync(None)
        .start();
    eventually("the first reconcile", || seen.count("web") == 1).await;
    let mut last = String::new();
    for n in 1..=10 {
        let mut current = api.get("web").await.unwrap();
        current.metadata.labels.insert("n".into(), n.to_string());
        last = api
            .replace(&current)
            .await
            .unwrap()
            .metadata
            .resource_version
            .unwrap();
    }
    eventually("a reconcile that read the last version", || {
        seen.versions.lock().unwrap()["web"].last() == Some(&last)
    })
    .await;
    eventually("quiet", || seen.running.lock().unwrap().is_empty()).await;
    assert_eq!(seen.overlaps.load(Ordering::SeqCst), 0);
    let count = seen.count("web");
    assert!(
        (2..=5).contains(&count),
        "11 versions, {count} reconciles: changes during a reconcile make one more"
    );
    handle.stop(Duration::from_secs(5)).await.unwrap();
    server.stop(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn a_failing_key_is_retried_with_growing_delays_and_the_resync_comes_back() {
    let server = chapter_10::start_server().await;
    let client = Client::new(&server.url()).unwrap();
    let api: Api<Pod> = Api::namespaced(&client, "default");
    api.create(&pod("flaky", json!({}), None)).await.unwrap();
    api.create(&pod("steady", json!({}), None)).await.unwrap();
    let pods = Arc::new(Informer::<Pod>::new(
        Api::all(&client),
        ListParams::default(),
    ));
    let (reconciler, seen) = Scripted::new(|name, attempt| match (name, attempt) {
        ("flaky", 1..=5) => Outcome::Fail,
        _ => ok(),
    });
    let handle = Controller::new("test", reconciler, &pods)
        .resync(Some(Duration::from_millis(400)))
        .start();
    eventually("flaky succeeds", || seen.count("flaky") >= 6).await;
    let gaps = seen.gaps("flaky");
    for (n, gap) in gaps.iter().take(5).enumerate() {
        let least = error_delay(n as u32 + 1, false).as_millis();
        assert!(*gap >= least, "retry {n}: {gap} ms < {least} ms: {gaps:?}");
    }
    eventually("three resyncs of steady", || seen.count("steady") >= 4).await;
    handle.stop(Duration::from_secs(5)).await.unwrap();
    server.stop(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn a_change_of_an_owned_pod_queues_its_replica_set() {
    let server = chapter_10::start_server().await;
    let client = Client::new(&server.url()).unwrap();
    let replica_sets: Api<ReplicaSet> = Api::namespaced(&client, "default");
    let web: ReplicaSet = serde_json::from_value(json!({
        "apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"replicas": 0, "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "main", "image": "busybox"}]}}}
    }))
    .unwrap();
    let web = replica_sets.create(&web).await.unwrap();
    let uid = web.metadata().uid.clone().unwrap();
    let rs_informer = Arc::new(Informer::<ReplicaSet>::new(
        Api::all(&client),
        ListParams::default(),
    ));
    let pods = Arc::new(Informer::<Pod>::new(
        Api::all(&client),
        ListParams::default(),
    ));
    let (reconciler, seen) = Scripted::new(|_, _| ok());
    let handle = Controller::new("test", reconciler, &rs_informer)
        .owns(&pods, "ReplicaSet")
        .resync(None)
        .start();
    eventually("web reconciled once", || seen.count("web") == 1).await;
    let api: Api<Pod> = Api::namespaced(&client, "default");
    api.create(&pod("orphan", json!({"app": "web"}), None))
        .await
        .unwrap();
    api.create(&pod("web-1", json!({"app": "web"}), Some(("web", &uid))))
        .await
        .unwrap();
    eventually("web reconciled for its pod", || seen.count("web") == 2).await;
    assert_eq!(
        seen.count("orphan"),
        0,
        "pods are not keys of this controller"
    );
    assert_eq!(seen.count("web-1"), 0);
    handle.stop(Duration::from_secs(5)).await.unwrap();
    server.stop(Duration::from_secs(5)).await;
}
