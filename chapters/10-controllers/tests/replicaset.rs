//! The ReplicaSet controller: its pure decisions (which pods go first,
//! slow-start batches, expectations, status, claims, triggers), then its
//! reconcile against a real API server in this process. No node agent
//! runs: pods stay Pending unless a test binds them and writes their
//! status, as an agent would.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use apiserver::client::{
    Api, Cache, Change, Client, DeleteParams, Informer, ListParams, ObjectKey, Patch,
};
use apiserver::server::ApiServer;
use chapter_10::controllers::controller::Reconciler;
use chapter_10::controllers::replicaset::batch::slow_start_batches;
use chapter_10::controllers::replicaset::claim::{Claim, claim, pod_from_template};
use chapter_10::controllers::replicaset::expectations::Expectations;
use chapter_10::controllers::replicaset::ranking::{deletion_order, pods_to_delete};
use chapter_10::controllers::replicaset::status::{calculate_status, next_availability_check};
use chapter_10::controllers::replicaset::triggers::pod_keys;
use chapter_10::controllers::replicaset::{Config, ReplicaSetController};
use objects::{Event, Pod, ReplicaSet, Selector, Time};
use serde_json::{Value, json};

fn at(seconds: i64) -> String {
    Time(chrono::DateTime::from_timestamp(1_800_000_000 + seconds, 0).unwrap()).to_string()
}

fn ago(seconds: i64) -> String {
    Time(chrono::Utc::now() - chrono::Duration::seconds(seconds)).to_string()
}

/// A pod from JSON fragments: `extra` is merged over a bare pod.
fn pod(name: &str, extra: Value) -> Pod {
    let mut value = json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": "default", "uid": format!("uid-{name}")},
        "spec": {"containers": [{"name": "app", "image": "k8s-mini/echo"}]},
    });
    testkit::merge_json(&mut value, extra);
    serde_json::from_value(value).unwrap()
}

/// Status fields of a pod: phase, Ready condition (with the time it
/// became so), restarts.
fn state(phase: &str, ready: Option<&str>, restarts: i32) -> Value {
    let mut conditions = Vec::new();
    if let Some(since) = ready {
        let mut condition = json!({"type": "Ready", "status": "True"});
        if !since.is_empty() {
            condition["lastTransitionTime"] = json!(since);
        }
        conditions.push(condition);
    } else if phase == "Running" {
        conditions.push(json!({"type": "Ready", "status": "False"}));
    }
    json!({"status": {
        "phase": phase,
        "conditions": conditions,
        "containerStatuses": [{"name": "app", "ready": ready.is_some(), "restartCount": restarts, "image": "k8s-mini/echo", "imageID": ""}],
    }})
}

fn on_node(created: i64, status: Value) -> Value {
    let mut value = json!({
        "metadata": {"creationTimestamp": at(created)},
        "spec": {"nodeName": "n1"},
    });
    testkit::merge_json(&mut value, status);
    value
}

fn replicaset(name: &str, replicas: i32) -> ReplicaSet {
    serde_json::from_value(json!({
        "apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name, "tier": "front"}},
                "spec": {"containers": [{"name": "app", "image": "k8s-mini/echo"}]},
            },
        },
    }))
    .unwrap()
}

// ---------------------------------------------------------------------
// Pure decisions.

#[test]
fn the_least_valuable_pods_are_deleted_first() {
    // Listed from the most valuable to the least: the ranking must turn
    // the list around, and every rule decides at least one pair.
    let pods = vec![
        pod(
            "ready-longest",
            on_node(0, state("Running", Some(&at(10)), 0)),
        ),
        pod(
            "ready-long-but-newer",
            on_node(50, state("Running", Some(&at(10)), 0)),
        ),
        pod(
            "ready-long-with-restarts",
            on_node(0, state("Running", Some(&at(10)), 3)),
        ),
        pod(
            "ready-recently",
            on_node(0, state("Running", Some(&at(100)), 0)),
        ),
        pod(
            "ready-since-unknown",
            on_node(0, state("Running", Some(""), 0)),
        ),
        pod("running-not-ready", on_node(0, state("Running", None, 0))),
        pod("phase-unknown", on_node(0, state("Unknown", None, 0))),
        pod("pending-on-a-node", on_node(0, state("Pending", None, 0))),
        pod(
            "unscheduled",
            json!({"metadata": {"creationTimestamp": at(0)}}),
        ),
    ];
    let mut ranked: Vec<&Pod> = pods.iter().collect();
    ranked.sort_by(|a, b| deletion_order(a, b));
    let names: Vec<&str> = ranked.iter().map(|p| p.metadata.name()).collect();
    insta::assert_snapshot!(names.join("\n"));

    let all: Vec<&Pod> = pods.iter().collect();
    let two: Vec<&str> = pods_to_delete(&all, 2)
        .iter()
        .map(|p| p.metadata.name())
        .collect();
    assert_eq!(two, ["unscheduled", "pending-on-a-node"]);
    for pod in &pods {
        assert_eq!(deletion_order(pod, pod), std::cmp::Ordering::Equal);
    }
}

#[test]
fn slow_start_doubles_each_batch_up_to_the_count() {
    assert_eq!(slow_start_batches(0, 1), Vec::<usize>::new());
    assert_eq!(slow_start_batches(1, 1), [1]);
    assert_eq!(slow_start_batches(7, 1), [1, 2, 4]);
    assert_eq!(slow_start_batches(10, 1), [1, 2, 4, 3]);
    assert_eq!(
        slow_start_batches(500, 1),
        [1, 2, 4, 8, 16, 32, 64, 128, 245]
    );
    assert_eq!(slow_start_batches(5, 2), [2, 3]);
}

#[test]
fn expectations_hold_until_seen_or_expired() {
    let key = ObjectKey {
        namespace: "default".into(),
        name: "web".into(),
    };
    let start = Instant::now();
    let mut expectations = Expectations::new(Duration::from_secs(300));
    assert!(expectations.satisfied(&key, start), "none set");
    expectations.expect_creations(&key, 2, start);
    assert!(!expectations.satisfied(&key, start));
    expectations.creation_observed(&key);
    assert!(!expectations.satisfied(&key, start), "one of two seen");
    expectations.creation_observed(&key);
    assert!(expectations.satisfied(&key, start));

    expectations.expect_deletions(&key, vec!["a".into(), "b".into()], start);
    expectations.deletion_observed(&key, "a");
    expectations.deletion_observed(&key, "a");
    expectations.deletion_observed(&key, "someone-else");
    assert!(
        !expectations.satisfied(&key, start),
        "the same uid seen twice counts once"
    );
    let later = start + Duration::from_secs(301);
    assert!(expectations.satisfied(&key, later), "expired");
    assert_eq!(
        expectations
            .remaining(&key, start + Duration::from_secs(100))
            .as_secs(),
        200
    );
    expectations.deletion_observed(&key, "b");
    assert!(expectations.satisfied(&key, start));
    expectations.expect_creations(&key, 1, start);
    expectations.forget(&key);
    assert!(expectations.satisfied(&key, start), "forgotten");
}

#[test]
fn status_counts_labelled_ready_and_available_pods() {
    let mut rs = replicaset("web", 5);
    rs.metadata.generation = Some(4);
    rs.spec.min_ready_seconds = Some(10);
    let labels = json!({"metadata": {"labels": {"app": "web", "tier": "front"}}});
    let mut ready_long = labels.clone();
    testkit::merge_json(&mut ready_long, state("Running", Some(&ago(60)), 0));
    let mut ready_now = labels.clone();
    testkit::merge_json(&mut ready_now, state("Running", Some(&ago(4)), 0));
    let partly_labelled = json!({"metadata": {"labels": {"app": "web"}}});
    let pods = [
        pod("a", ready_long),
        pod("b", ready_now),
        pod("c", partly_labelled),
    ];
    let pods: Vec<&Pod> = pods.iter().collect();
    let now = chrono::Utc::now();
    let status = calculate_status(&rs, &pods, Some("quota exceeded"), now);
    assert_eq!(
        (
            status.replicas,
            status.fully_labeled_replicas,
            status.ready_replicas,
            status.available_replicas,
            status.observed_generation,
        ),
        (3, Some(2), Some(2), Some(1), Some(4))
    );
    let condition = &status.conditions[0];
    assert_eq!(
        (
            condition.condition_type.as_str(),
            condition.status.as_str(),
            condition.reason.as_deref(),
            condition.message.as_deref(),
        ),
        (
            "ReplicaFailure",
            "True",
            Some("FailedCreate"),
            Some("quota exceeded")
        )
    );
    // The pod ready for 4 s of 10 becomes available in about 6 s.
    let wait = next_availability_check(&pods, 10, now).expect("a pod to wait for");
    assert!(
        wait > Duration::from_secs(5) && wait <= Duration::from_secs(7),
        "{wait:?}"
    );

    rs.status = status;
    let again = calculate_status(&rs, &pods, Some("another error"), now);
    assert_eq!(again.conditions.len(), 1, "the first failure is kept");
    let healed = calculate_status(&rs, &pods, None, now);
    assert!(healed.conditions.is_empty(), "{:?}", healed.conditions);
    let too_many = calculate_status(&replicaset("web", 1), &pods, Some("no"), now);
    assert_eq!(
        too_many.conditions[0].reason.as_deref(),
        Some("FailedDelete")
    );
}

#[test]
fn claims_take_matching_orphans_and_let_go_of_mismatches() {
    let mut rs = replicaset("web", 1);
    rs.metadata.uid = Some("rs-uid".into());
    let selector = Selector::from_label_selector(&rs.spec.selector).unwrap();
    let ours = json!({"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web", "uid": "rs-uid", "controller": true});
    let theirs = json!({"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web", "uid": "old-uid", "controller": true});
    let cases = [
        (
            "owned",
            json!({"metadata": {"labels": {"app": "web"}, "ownerReferences": [ours]}}),
            Claim::Owned,
        ),
        (
            "relabelled",
            json!({"metadata": {"labels": {"app": "db"}, "ownerReferences": [ours]}}),
            Claim::Release,
        ),
        (
            "orphan",
            json!({"metadata": {"labels": {"app": "web"}}}),
            Claim::Adopt,
        ),
        (
            "stranger",
            json!({"metadata": {"labels": {"app": "db"}}}),
            Claim::Ignore,
        ),
        (
            "another-owner",
            json!({"metadata": {"labels": {"app": "web"}, "ownerReferences": [theirs]}}),
            Claim::Ignore,
        ),
        (
            "leaving-orphan",
            json!({"metadata": {"labels": {"app": "web"}, "deletionTimestamp": at(0)}}),
            Claim::Ignore,
        ),
        (
            "other-namespace",
            json!({"metadata": {"labels": {"app": "web"}, "namespace": "other"}}),
            Claim::Ignore,
        ),
    ];
    for (name, extra, expected) in &cases {
        assert_eq!(
            claim(&rs, &selector, &pod(name, extra.clone())),
            *expected,
            "{name}"
        );
    }
    // A ReplicaSet being deleted adopts nothing and releases nothing.
    rs.metadata.deletion_timestamp = Some(Time::now());
    for (name, extra, expected) in &cases {
        let expected = if *expected == Claim::Owned {
            Claim::Owned
        } else {
            Claim::Ignore
        };
        assert_eq!(
            claim(&rs, &selector, &pod(name, extra.clone())),
            expected,
            "{name} (rs deleting)"
        );
    }
}

#[test]
fn new_pods_come_from_the_template_with_a_controller_reference() {
    let mut rs = replicaset("web", 1);
    rs.metadata.uid = Some("rs-uid".into());
    let pod = pod_from_template(&rs);
    assert_eq!(pod.metadata.generate_name.as_deref(), Some("web-"));
    assert_eq!(pod.metadata.namespace.as_deref(), Some("default"));
    assert_eq!(pod.metadata.labels, rs.spec.template.metadata.labels);
    assert_eq!(pod.spec, rs.spec.template.spec);
    let owner = &pod.metadata.owner_references[0];
    assert_eq!(
        (
            owner.kind.as_str(),
            owner.api_version.as_str(),
            owner.name.as_str(),
            owner.uid.as_str()
        ),
        ("ReplicaSet", "apps/v1", "web", "rs-uid")
    );
    assert_eq!(
        (owner.controller, owner.block_owner_deletion),
        (Some(true), Some(true))
    );
}

#[test]
fn pod_changes_reach_the_replicasets_they_concern() {
    let cache: Cache<ReplicaSet> = Cache::new();
    let mut web = replicaset("web", 1);
    web.metadata.uid = Some("web-uid".into());
    let mut web2 = replicaset("web2", 1);
    web2.metadata.uid = Some("web2-uid".into());
    web2.spec.selector.match_labels = [("tier".to_string(), "front".to_string())].into();
    let mut db = replicaset("db", 1);
    db.metadata.uid = Some("db-uid".into());
    let _ = cache.replace(vec![web, web2, db]);
    let owner = |name: &str, uid: &str| json!({"metadata": {"labels": {"app": "web", "tier": "front"}, "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": name, "uid": uid, "controller": true}]}});
    let names = |change: Change<Pod>| -> Vec<String> {
        pod_keys(&change, &cache)
            .iter()
            .map(|k| k.name.clone())
            .collect()
    };
    let owned = Arc::new(pod("p", owner("web", "web-uid")));
    assert_eq!(names(Change::Added(owned.clone())), ["web"]);
    assert_eq!(names(Change::Deleted(owned.clone())), ["web"]);
    let stale = Arc::new(pod("p", owner("web", "uid-of-an-earlier-web")));
    assert!(names(Change::Added(stale)).is_empty(), "the uid is checked");
    let orphan = Arc::new(pod(
        "p",
        json!({"metadata": {"labels": {"app": "web", "tier": "front"}}}),
    ));
    assert_eq!(names(Change::Added(orphan.clone())), ["web", "web2"]);
    assert!(names(Change::Deleted(orphan.clone())).is_empty());
    // Moved from db to an orphan matching web: both hear of it.
    let was_db = Arc::new(pod("p", owner("db", "db-uid")));
    assert_eq!(
        names(Change::Updated {
            old: was_db,
            new: orphan
        }),
        ["db", "web", "web2"]
    );
}

// ---------------------------------------------------------------------
// Against an API server.

struct Cluster {
    _server: ApiServer,
    client: Client,
    _informers: (Informer<ReplicaSet>, Informer<Pod>),
    controller: ReplicaSetController,
}

impl Cluster {
    async fn start() -> Cluster {
        let server = chapter_10::start_server().await;
        let client = Client::new(&server.url()).unwrap();
        Cluster::with_writer(server, client.clone(), client).await
    }

    /// The controller writes through `writer`, reads through informers
    /// of `client`.
    async fn with_writer(server: ApiServer, client: Client, writer: Client) -> Cluster {
        Cluster::custom(
            server,
            client,
            writer,
            ListParams::default(),
            Config::default(),
        )
        .await
    }

    /// The pod informer lists with `pod_params`; the controller has `config`.
    async fn custom(
        server: ApiServer,
        client: Client,
        writer: Client,
        pod_params: ListParams,
        config: Config,
    ) -> Cluster {
        let replicasets = Informer::new(Api::all(&client), ListParams::default());
        let pods = Informer::new(Api::all(&client), pod_params);
        let controller = ReplicaSetController::new(&writer, &replicasets, &pods, config);
        for synced in [
            replicasets.wait_for_sync().await,
            pods.wait_for_sync().await,
        ] {
            assert!(synced, "the informers sync");
        }
        Cluster {
            _server: server,
            client,
            _informers: (replicasets, pods),
            controller,
        }
    }

    fn pods(&self) -> Api<Pod> {
        Api::namespaced(&self.client, "default")
    }

    fn replicasets(&self) -> Api<ReplicaSet> {
        Api::namespaced(&self.client, "default")
    }

    async fn create(&self, rs: ReplicaSet) -> ReplicaSet {
        self.replicasets()
            .create(&rs)
            .await
            .expect("the replica set is created")
    }

    /// The pods as the API has them now.
    async fn list(&self) -> Vec<Pod> {
        self.pods()
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
    }

    /// Reconciles `name` until a reconcile succeeds after which `done`
    /// holds for the API's pods (at most 10 s).
    async fn converge(&self, name: &str, what: &str, done: impl Fn(&[Pod]) -> bool) {
        let key = ObjectKey {
            namespace: "default".into(),
            name: name.into(),
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let action = self.controller.reconcile(&key).await;
            let pods = self.list().await;
            if action.is_ok() && done(&pods) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{name}: not {what} after 10 s: {:?}; pods {:?}",
                action.err(),
                pods.iter().map(|p| p.metadata.name()).collect::<Vec<_>>()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Events about `name`: `type reason message`, pod names redacted.
    async fn events(&self, name: &str) -> Vec<String> {
        let events: Api<Event> = Api::namespaced(&self.client, "default");
        let mut lines: Vec<String> = events
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .into_iter()
            .filter(|e| e.involved_object.name.as_deref() == Some(name))
            .map(|e| {
                let message = redact_pod_names(e.message.as_deref().unwrap_or_default(), name);
                format!(
                    "{} {} {} (x{})",
                    e.event_type.unwrap_or_default(),
                    e.reason.unwrap_or_default(),
                    message,
                    e.count.unwrap_or(1)
                )
            })
            .collect();
        lines.sort();
        lines
    }

    /// Binds `pod` to a node and writes its status, as a scheduler and a
    /// node agent would.
    async fn run_on_node(&self, pod: &str, status: Value) {
        let binding = json!({"apiVersion": "v1", "kind": "Binding", "metadata": {"name": pod},
            "target": {"apiVersion": "v1", "kind": "Node", "name": "n1"}});
        self.pods()
            .create_subresource(pod, "binding", &binding)
            .await
            .expect("bound");
        self.set_status(pod, status).await;
    }

    async fn set_status(&self, pod: &str, status: Value) {
        let patch = Patch::Merge(status);
        self.pods()
            .patch_status(pod, &patch)
            .await
            .expect("status written");
    }
}

/// `web-x2x8k` → `web-<random>`.
fn redact_pod_names(text: &str, rs: &str) -> String {
    let prefix = format!("{rs}-");
    text.split(' ')
        .map(|word| match word.strip_prefix(&prefix) {
            Some(rest) if rest.len() == 5 => format!("{prefix}<random>"),
            _ => word.to_string(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn active(pods: &[Pod]) -> Vec<&Pod> {
    pods.iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
        .collect()
}

#[tokio::test]
async fn three_replicas_make_three_owned_pods_and_no_more() {
    let cluster = Cluster::start().await;
    let rs = cluster.create(replicaset("web", 3)).await;
    let key = ObjectKey {
        namespace: "default".into(),
        name: "web".into(),
    };
    // Give the cache its time to hear of the replica set, not of pods.
    cluster
        .converge("web", "created", |pods| pods.len() == 3)
        .await;
    // Straight away again, before the cache can have seen the pods: the
    // expectations hold the controller back.
    for _ in 0..3 {
        let _ = cluster.controller.reconcile(&key).await;
    }
    let pods = cluster.list().await;
    assert_eq!(pods.len(), 3, "created twice");
    for pod in &pods {
        assert!(
            pod.metadata.name().starts_with("web-"),
            "{}",
            pod.metadata.name()
        );
        assert_eq!(
            pod.metadata.labels.get("tier").map(String::as_str),
            Some("front")
        );
        let owner = &pod.metadata.owner_references[0];
        assert_eq!(owner.uid.as_str(), rs.metadata.uid.as_deref().unwrap());
        assert_eq!(
            (owner.controller, owner.block_owner_deletion),
            (Some(true), Some(true))
        );
    }
    // The status counts them (none ready: no node agent).
    cluster.converge("web", "counted", |_| true).await;
    let status = cluster.replicasets().get("web").await.unwrap().status;
    assert_eq!(
        (
            status.replicas,
            status.ready_replicas,
            status.available_replicas,
            status.observed_generation
        ),
        (3, Some(0), Some(0), Some(1))
    );
}

#[tokio::test]
async fn expectations_keep_a_lagging_cache_from_creating_twice() {
    let server = chapter_10::start_server().await;
    let client = Client::new(&server.url()).unwrap();
    // A pod cache that never sees the pods: the worst of lags.
    let blind = ListParams::default().labels("seen=never");
    let config = Config {
        expectations_timeout: Duration::from_secs(2),
        ..Config::default()
    };
    let cluster = Cluster::custom(server, client.clone(), client, blind, config).await;
    cluster.create(replicaset("web", 3)).await;
    let key = ObjectKey {
        namespace: "default".into(),
        name: "web".into(),
    };
    cluster
        .converge("web", "created", |pods| pods.len() == 3)
        .await;
    let started = Instant::now();
    for _ in 0..5 {
        let action = cluster.controller.reconcile(&key).await.unwrap();
        if started.elapsed() < Duration::from_millis(1500) {
            let wait = action
                .requeue_after
                .expect("looked at again when they expire");
            assert!(wait <= Duration::from_millis(2001), "{wait:?}");
        }
    }
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "too slow to tell"
    );
    assert_eq!(cluster.list().await.len(), 3, "created again before seeing");
    assert_eq!(cluster.controller.pending_expectations(&key), (3, 0));
    // Expectations never met expire: the controller acts again (here
    // wrongly, its cache being blind, which is what the timeout risks).
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let _ = cluster.controller.reconcile(&key).await.unwrap();
    assert_eq!(cluster.list().await.len(), 6);
}

#[tokio::test]
async fn a_deleted_pod_is_replaced() {
    let cluster = Cluster::start().await;
    cluster.create(replicaset("web", 3)).await;
    cluster
        .converge("web", "created", |pods| pods.len() == 3)
        .await;
    let victim = cluster.list().await[0].metadata.name().to_string();
    cluster
        .pods()
        .delete(&victim, &DeleteParams::default())
        .await
        .unwrap();
    cluster
        .converge("web", "healed", |pods| {
            pods.len() == 3 && pods.iter().all(|p| p.metadata.name() != victim)
        })
        .await;
}

#[tokio::test]
async fn scaling_down_deletes_the_unscheduled_and_unready_first() {
    let cluster = Cluster::start().await;
    cluster.create(replicaset("web", 3)).await;
    cluster
        .converge("web", "created", |pods| pods.len() == 3)
        .await;
    let names: Vec<String> = cluster
        .list()
        .await
        .iter()
        .map(|p| p.metadata.name().to_string())
        .collect();
    // One ready on a node, one running but not ready, one unscheduled.
    cluster
        .run_on_node(&names[0], state("Running", Some(&ago(30)), 0))
        .await;
    cluster
        .run_on_node(&names[1], state("Running", None, 0))
        .await;

    let mut scale = cluster.replicasets().get_scale("web").await.unwrap();
    scale.spec.replicas = Some(1);
    cluster
        .replicasets()
        .replace_scale("web", &scale)
        .await
        .unwrap();
    cluster
        .converge("web", "scaled down", |pods| active(pods).len() == 1)
        .await;
    let pods = cluster.list().await;
    let kept: Vec<&str> = active(&pods).iter().map(|p| p.metadata.name()).collect();
    assert_eq!(kept, [names[0].as_str()], "the ready pod stays");
    // The unscheduled one went at once; the one on a node has its grace
    // period (no agent here to finish it).
    assert!(pods.iter().all(|p| p.metadata.name() != names[2]));

    insta::assert_snapshot!(cluster.events("web").await.join("\n"));
}

#[tokio::test]
async fn orphans_are_adopted_and_relabelled_pods_released() {
    let cluster = Cluster::start().await;
    let orphan = pod("lonely", json!({"metadata": {"labels": {"app": "web"}}}));
    let mut orphan = orphan;
    orphan.metadata.uid = None;
    cluster.pods().create(&orphan).await.unwrap();
    let rs = cluster.create(replicaset("web", 2)).await;
    let uid = rs.metadata.uid.clone().unwrap();
    let owned_by = |pod: &Pod, uid: &str| {
        pod.metadata
            .owner_references
            .iter()
            .any(|o| o.uid == uid && o.controller == Some(true))
    };
    cluster
        .converge("web", "adopting", |pods| {
            pods.len() == 2 && pods.iter().all(|p| owned_by(p, &uid))
        })
        .await;
    assert!(
        cluster
            .list()
            .await
            .iter()
            .any(|p| p.metadata.name() == "lonely"),
        "adopted, not replaced"
    );

    // Relabelled away: released (no owner left), and replaced.
    let patch = Patch::Merge(json!({"metadata": {"labels": {"app": "debugging"}}}));
    cluster.pods().patch("lonely", &patch).await.unwrap();
    cluster
        .converge("web", "releasing", |pods| {
            let lonely = pods.iter().find(|p| p.metadata.name() == "lonely");
            lonely.is_some_and(|p| p.metadata.owner_references.is_empty())
                && pods.iter().filter(|p| owned_by(p, &uid)).count() == 2
        })
        .await;

    // A pod another controller owns is never taken, even if it matches.
    let mut foreign = pod(
        "foreign",
        json!({"metadata": {"labels": {"app": "web"}, "ownerReferences": [
            {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "other", "uid": "other-uid", "controller": true}
        ]}}),
    );
    foreign.metadata.uid = None;
    cluster.pods().create(&foreign).await.unwrap();
    cluster
        .converge("web", "settled", |pods| pods.len() == 4)
        .await;
    let foreign = cluster.pods().get("foreign").await.unwrap();
    assert_eq!(foreign.metadata.owner_references[0].uid, "other-uid");
}

#[tokio::test]
async fn status_reports_ready_and_available_pods_and_waits_for_availability() {
    let cluster = Cluster::start().await;
    let mut rs = replicaset("web", 2);
    rs.spec.min_ready_seconds = Some(30);
    cluster.create(rs).await;
    cluster
        .converge("web", "created", |pods| pods.len() == 2)
        .await;
    let names: Vec<String> = cluster
        .list()
        .await
        .iter()
        .map(|p| p.metadata.name().to_string())
        .collect();
    cluster
        .run_on_node(&names[0], state("Running", Some(&ago(60)), 0))
        .await;
    cluster
        .run_on_node(&names[1], state("Running", Some(&ago(10)), 0))
        .await;
    let key = ObjectKey {
        namespace: "default".into(),
        name: "web".into(),
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    let action = loop {
        let action = cluster.controller.reconcile(&key).await.unwrap();
        let status = cluster.replicasets().get("web").await.unwrap().status;
        if status.ready_replicas == Some(2) {
            assert_eq!(status.available_replicas, Some(1));
            break action;
        }
        assert!(Instant::now() < deadline, "status not updated: {status:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    // Looked at again when the second pod has been ready 30 s: in ~20 s.
    let after = action.requeue_after.expect("a requeue for availability");
    assert!(
        after > Duration::from_secs(15) && after <= Duration::from_secs(21),
        "{after:?}"
    );
}

/// A proxy in front of the API server that lets `allowed` pod creations
/// through and refuses the rest as a quota would (403 Forbidden); it
/// counts the attempts.
struct Quota {
    url: String,
    attempts: Arc<AtomicUsize>,
    allowed: Arc<std::sync::Mutex<usize>>,
}

async fn quota_proxy(upstream: String, allowed: usize) -> Quota {
    use axum::body::Bytes;
    use axum::extract::State;
    use axum::http::{HeaderMap, Method, StatusCode, Uri};
    use axum::response::{IntoResponse, Response};

    #[derive(Clone)]
    struct Shared {
        upstream: String,
        http: reqwest::Client,
        attempts: Arc<AtomicUsize>,
        allowed: Arc<std::sync::Mutex<usize>>,
    }

    async fn forward(
        State(shared): State<Shared>,
        method: Method,
        uri: Uri,
        headers: HeaderMap,
        body: Bytes,
    ) -> Response {
        if method == Method::POST && uri.path().ends_with("/pods") {
            shared.attempts.fetch_add(1, Ordering::SeqCst);
            let mut allowed = shared.allowed.lock().unwrap();
            if *allowed == 0 {
                let status = json!({"kind": "Status", "apiVersion": "v1", "status": "Failure",
                    "message": "pods \"web\" is forbidden: exceeded quota: pods",
                    "reason": "Forbidden", "code": 403});
                let body = serde_json::to_vec(&status).unwrap();
                return (
                    StatusCode::FORBIDDEN,
                    [("content-type", "application/json")],
                    body,
                )
                    .into_response();
            }
            *allowed -= 1;
        }
        let url = format!(
            "{}{}",
            shared.upstream,
            uri.path_and_query().map(|p| p.as_str()).unwrap_or("/")
        );
        let method = reqwest::Method::from_bytes(method.as_str().as_bytes()).unwrap();
        let mut request = shared.http.request(method, url).body(body.to_vec());
        if let Some(kind) = headers.get("content-type") {
            request = request.header("content-type", kind.to_str().unwrap());
        }
        let answer = request.send().await.expect("the API server answers");
        let code = StatusCode::from_u16(answer.status().as_u16()).unwrap();
        let body = answer.bytes().await.unwrap();
        (code, [("content-type", "application/json")], body.to_vec()).into_response()
    }

    let attempts = Arc::new(AtomicUsize::new(0));
    let allowed = Arc::new(std::sync::Mutex::new(allowed));
    let shared = Shared {
        upstream,
        http: reqwest::Client::new(),
        attempts: attempts.clone(),
        allowed: allowed.clone(),
    };
    let app = axum::Router::new().fallback(forward).with_state(shared);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    Quota {
        url,
        attempts,
        allowed,
    }
}

#[tokio::test]
async fn creations_stop_at_the_first_failing_batch() {
    let server = chapter_10::start_server().await;
    let quota = quota_proxy(server.url(), 4).await;
    let client = Client::new(&server.url()).unwrap();
    let writer = Client::new(&quota.url).unwrap();
    let cluster = Cluster::with_writer(server, client, writer).await;
    cluster.create(replicaset("web", 10)).await;
    let key = ObjectKey {
        namespace: "default".into(),
        name: "web".into(),
    };
    // Wait for the cache to hold the replica set.
    let deadline = Instant::now() + Duration::from_secs(10);
    let error = loop {
        match cluster.controller.reconcile(&key).await {
            Err(error) => break error,
            Ok(_) => {
                assert!(Instant::now() < deadline, "no create failed");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    };
    assert!(error.to_string().contains("exceeded quota"), "{error}");
    // Batches of 1, 2 and 4: the quota lets the first 4 pass, so the third
    // batch has 3 failures, and the last batch (3) is never tried.
    assert_eq!(quota.attempts.load(Ordering::SeqCst), 7);
    assert_eq!(cluster.list().await.len(), 4);
    let status = cluster.replicasets().get("web").await.unwrap().status;
    let failure = status
        .conditions
        .iter()
        .find(|c| c.condition_type == "ReplicaFailure")
        .expect("ReplicaFailure");
    assert_eq!(
        (failure.status.as_str(), failure.reason.as_deref()),
        ("True", Some("FailedCreate"))
    );
    // As in Kubernetes, the status counts what the cache held before the
    // round: the new pods are counted on the next one.
    assert_eq!(status.replicas, 0);

    // The quota is raised: the controller catches up, the condition goes.
    *quota.allowed.lock().unwrap() = 100;
    cluster
        .converge("web", "caught up", |pods| pods.len() == 10)
        .await;
    cluster.converge("web", "healed", |_| true).await;
    let status = cluster.replicasets().get("web").await.unwrap().status;
    assert!(status.conditions.is_empty(), "{:?}", status.conditions);
    let events = cluster.events("web").await;
    let failed: Vec<&String> = events
        .iter()
        .filter(|e| e.contains("FailedCreate"))
        .collect();
    assert_eq!(
        failed.len(),
        1,
        "repeats are counted, not duplicated: {events:?}"
    );
    assert!(failed[0].contains("(x3)"), "{failed:?}");
}

/// Waits (at most 10 s) until the API's pods satisfy `done`.
async fn wait_for_pods(pods: &Api<Pod>, what: &str, done: impl Fn(&[Pod]) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let list = pods.list(&ListParams::default()).await.unwrap().items;
        if done(&list) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "not {what} after 10 s: {:?}",
            list.iter().map(|p| p.metadata.name()).collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

#[tokio::test]
async fn in_the_controller_manager_with_the_garbage_collector_and_kubectl() {
    use chapter_10::controllers::controller::Settings;
    use chapter_10::controllers::gc;
    use chapter_10::controllers::manager::{self, ControllerManager, Ended};
    use chapter_10::controllers::replicaset;

    let server = chapter_10::start_server().await;
    let client = Client::new(&server.url()).unwrap();
    let config = manager::Config {
        leader_election: None,
        settings: Settings::default(),
        controllers: vec![
            replicaset::registration(Config::default()),
            gc::registration(gc::Config::default()),
        ],
    };
    let manager = ControllerManager::start(client.clone(), config)
        .await
        .expect("the controller-manager starts");
    let home = tempfile::tempdir().unwrap();
    let kubeconfig = home.path().join("kubeconfig");
    std::fs::write(&kubeconfig, testkit::kubeconfig(&server.url())).unwrap();
    let kubectl = async |args: &[&str], input: Option<String>| {
        let program = std::path::Path::new("kubectl");
        testkit::run_kubectl(
            program,
            &kubeconfig,
            home.path(),
            args,
            input.as_deref(),
            "chapter 10",
        )
        .await
    };
    let api: Api<Pod> = Api::namespaced(&client, "default");

    let manifest = serde_json::to_string(&replicaset("web", 3)).unwrap();
    let out = kubectl(&["create", "-f", "-"], Some(manifest)).await;
    assert_eq!(out, "replicaset.apps/web created\n");
    wait_for_pods(&api, "3", |pods| active(pods).len() == 3).await;

    let victim = api.list(&ListParams::default()).await.unwrap().items[0]
        .metadata
        .name()
        .to_string();
    api.delete(&victim, &DeleteParams::default()).await.unwrap();
    wait_for_pods(&api, "healed", |pods| {
        active(pods).len() == 3 && pods.iter().all(|p| p.metadata.name() != victim)
    })
    .await;

    let out = kubectl(&["scale", "rs", "web", "--replicas=1"], None).await;
    assert_eq!(out, "replicaset.apps/web scaled\n");
    wait_for_pods(&api, "scaled down", |pods| active(pods).len() == 1).await;

    let out = kubectl(&["delete", "rs", "web"], None).await;
    assert_eq!(out, "replicaset.apps \"web\" deleted\n");
    wait_for_pods(&api, "collected", |pods| pods.is_empty()).await;

    assert_eq!(manager.stop(Duration::from_secs(5)).await, Ended::Stopped);
}
