//! The garbage collector: its plan on fixed states (no cluster), then
//! deletions with each propagation policy against a real API server in
//! this process, through the client and through stock `kubectl delete`.
//! No ReplicaSet controller runs: the tests make owners and dependents
//! themselves.

use std::path::Path;
use std::time::{Duration, Instant};

use apiserver::client::{Api, Client, DeleteParams, ListParams, PropagationPolicy};
use apiserver::server::ApiServer;
use chapter_10::controllers::controller::Shutdown;
use chapter_10::controllers::gc::graph::{Decision, Graph, Node, Step, classify, plan};
use chapter_10::controllers::gc::kinds::node_of;
use chapter_10::controllers::gc::{Config, GarbageCollector, describe};
use objects::{Deployment, OwnerReference, Pod, ReplicaSet, Resource};
use serde_json::json;

// ---------------------------------------------------------------------
// The plan, pure.

fn reference(kind: &str, name: &str, block: bool) -> OwnerReference {
    OwnerReference {
        api_version: if kind == "Pod" { "v1" } else { "apps/v1" }.into(),
        kind: kind.into(),
        name: name.into(),
        uid: format!("uid-{name}"),
        controller: Some(true),
        block_owner_deletion: Some(block),
    }
}

fn node(kind: &str, name: &str, owners: Vec<OwnerReference>) -> Node {
    Node {
        kind: kind.into(),
        api_version: if kind == "Pod" { "v1" } else { "apps/v1" }.into(),
        namespace: "default".into(),
        name: name.into(),
        uid: format!("uid-{name}"),
        resource_version: "1".into(),
        owners,
        deleting: false,
        finalizers: Vec::new(),
    }
}

fn deleting(mut node: Node, finalizer: &str) -> Node {
    node.deleting = true;
    node.finalizers = vec![finalizer.to_string()];
    node
}

fn render(decisions: &[Decision]) -> String {
    decisions
        .iter()
        .map(|decision| {
            let confirm: Vec<String> = decision
                .confirm_absent
                .iter()
                .map(|r| format!("{} {}", r.kind, r.name))
                .collect();
            if confirm.is_empty() {
                describe(decision)
            } else {
                format!(
                    "{}, once the API confirms gone: {}",
                    describe(decision),
                    confirm.join(", ")
                )
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_plan_for_each_kind_of_deletion() {
    let nodes = vec![
        // Background: the owner is gone.
        node(
            "Pod",
            "of-a-gone-rs",
            vec![reference("ReplicaSet", "gone", true)],
        ),
        // A live owner keeps its dependent; a dangling second one is cut.
        node("ReplicaSet", "live", vec![]),
        node(
            "Pod",
            "of-live",
            vec![reference("ReplicaSet", "live", true)],
        ),
        node(
            "Pod",
            "of-live-and-gone",
            vec![
                reference("ReplicaSet", "live", true),
                reference("ReplicaSet", "gone", true),
            ],
        ),
        // Foreground: dependents first; a dependent with dependents of
        // its own goes in the foreground too; the owner waits.
        deleting(node("Deployment", "fg", vec![]), "foregroundDeletion"),
        node(
            "ReplicaSet",
            "fg-rs",
            vec![reference("Deployment", "fg", true)],
        ),
        node(
            "Pod",
            "of-fg-rs",
            vec![reference("ReplicaSet", "fg-rs", true)],
        ),
        // Foreground, with only a non-blocking dependent: the owner goes.
        deleting(
            node("ReplicaSet", "fg-unblocked", vec![]),
            "foregroundDeletion",
        ),
        node(
            "Pod",
            "of-fg-unblocked",
            vec![reference("ReplicaSet", "fg-unblocked", false)],
        ),
        // Orphan: the dependent loses its reference; an owner with no
        // dependent left loses its finalizer.
        deleting(node("ReplicaSet", "orphaning", vec![]), "orphan"),
        node(
            "Pod",
            "of-orphaning",
            vec![reference("ReplicaSet", "orphaning", true)],
        ),
        deleting(node("ReplicaSet", "orphaned", vec![]), "orphan"),
        // A dependent already on its way out is left alone.
        deleting(
            node(
                "Pod",
                "leaving",
                vec![reference("ReplicaSet", "gone", true)],
            ),
            "example.com/wait",
        ),
        // A dependent whose owner asked for its own dependents to be
        // orphaned keeps that choice.
        {
            let mut keeps = node(
                "ReplicaSet",
                "keeps-pods",
                vec![reference("Deployment", "gone", true)],
            );
            keeps.finalizers = vec!["orphan".into()];
            keeps
        },
    ];
    insta::assert_snapshot!(render(&plan(&nodes)));
}

#[test]
fn references_are_classified_by_uid_kind_and_name() {
    let owner = node("ReplicaSet", "web", vec![]);
    let mut renamed = reference("ReplicaSet", "web", true);
    renamed.name = "other".into();
    let mut other_kind = reference("ReplicaSet", "web", true);
    other_kind.kind = "Deployment".into();
    let waiting = deleting(node("Deployment", "going", vec![]), "foregroundDeletion");
    let dependent = node(
        "Pod",
        "p",
        vec![
            reference("ReplicaSet", "web", true),
            renamed,
            other_kind,
            reference("Deployment", "going", true),
        ],
    );
    let nodes = vec![owner, waiting, dependent.clone()];
    let graph = Graph::new(&nodes);
    let classified = classify(&graph, &dependent);
    let names = |refs: &[OwnerReference]| -> Vec<String> {
        refs.iter()
            .map(|r| format!("{} {}", r.kind, r.name))
            .collect()
    };
    assert_eq!(names(&classified.solid), ["ReplicaSet web"]);
    assert_eq!(
        names(&classified.dangling),
        ["ReplicaSet other", "Deployment web"]
    );
    assert_eq!(names(&classified.waiting), ["Deployment going"]);
}

// ---------------------------------------------------------------------
// Against an API server.

struct Cluster {
    server: ApiServer,
    client: Client,
    gc: GarbageCollector,
}

impl Cluster {
    async fn start() -> Cluster {
        let server = chapter_10::start_server().await;
        let client = Client::new(&server.url()).unwrap();
        let gc = GarbageCollector::new(&client, Config::default());
        let synced = tokio::time::timeout(Duration::from_secs(10), gc.wait_for_sync()).await;
        assert_eq!(synced, Ok(true), "the collector's informers sync");
        Cluster { server, client, gc }
    }

    fn pods(&self) -> Api<Pod> {
        Api::namespaced(&self.client, "default")
    }

    fn replicasets(&self) -> Api<ReplicaSet> {
        Api::namespaced(&self.client, "default")
    }

    /// A ReplicaSet (of 0 replicas: no controller runs) owned by `owner`,
    /// and `pods` pods it owns.
    async fn replicaset_with_pods(
        &self,
        name: &str,
        owner: Option<&Deployment>,
        pods: usize,
    ) -> ReplicaSet {
        let mut rs: ReplicaSet = serde_json::from_value(json!({
            "apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": {"name": name},
            "spec": {
                "replicas": 0,
                "selector": {"matchLabels": {"app": name}},
                "template": {
                    "metadata": {"labels": {"app": name}},
                    "spec": {"containers": [{"name": "app", "image": "k8s-mini/echo"}]},
                },
            },
        }))
        .unwrap();
        rs.metadata
            .owner_references
            .extend(owner.map(owner_reference));
        let rs = self
            .replicasets()
            .create(&rs)
            .await
            .expect("replica set created");
        for n in 0..pods {
            let mut pod: Pod = serde_json::from_value(json!({
                "apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": format!("{name}-{n}"), "labels": {"app": name}},
                "spec": {"containers": [{"name": "app", "image": "k8s-mini/echo"}]},
            }))
            .unwrap();
            pod.metadata.owner_references.push(owner_reference(&rs));
            self.pods().create(&pod).await.expect("pod created");
        }
        rs
    }

    async fn deployment(&self, name: &str) -> Deployment {
        let deployment: Deployment = serde_json::from_value(json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name},
            "spec": {
                "replicas": 0,
                "selector": {"matchLabels": {"app": name}},
                "template": {
                    "metadata": {"labels": {"app": name}},
                    "spec": {"containers": [{"name": "app", "image": "k8s-mini/echo"}]},
                },
            },
        }))
        .unwrap();
        Api::namespaced(&self.client, "default")
            .create(&deployment)
            .await
            .expect("deployment created")
    }

    async fn pod_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .pods()
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .iter()
            .map(|p| p.metadata.name().to_string())
            .collect();
        names.sort();
        names
    }

    /// Runs collection passes until `done` says yes (at most 10 s).
    async fn collect_until<F, Fut>(&self, what: &str, done: F)
    where
        F: Fn() -> Fut,
        Fut: Future<Output = bool>,
    {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let report = self.gc.sync_once().await;
            assert!(report.errors.is_empty(), "{:?}", report.errors);
            if done().await {
                return;
            }
            assert!(Instant::now() < deadline, "not {what} after 10 s");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

fn owner_reference<K: Resource>(owner: &K) -> OwnerReference {
    OwnerReference {
        api_version: K::INFO.api_version(),
        kind: K::INFO.kind.into(),
        name: owner.metadata().name().into(),
        uid: owner.metadata().uid.clone().unwrap(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    }
}

#[tokio::test]
async fn background_deletion_removes_the_dependents_afterwards() {
    let cluster = Cluster::start().await;
    cluster.replicaset_with_pods("web", None, 2).await;
    cluster.replicaset_with_pods("keep", None, 1).await;
    cluster
        .replicasets()
        .delete("web", &DeleteParams::background())
        .await
        .unwrap();
    assert!(
        cluster
            .replicasets()
            .get_opt("web")
            .await
            .unwrap()
            .is_none(),
        "gone at once"
    );
    cluster
        .collect_until("collected", || async {
            cluster.pod_names().await == ["keep-0"]
        })
        .await;
}

#[tokio::test]
async fn foreground_deletion_waits_for_the_dependents() {
    let cluster = Cluster::start().await;
    let deployment = cluster.deployment("web").await;
    cluster
        .replicaset_with_pods("web-1", Some(&deployment), 2)
        .await;
    let deployments: Api<Deployment> = Api::namespaced(&cluster.client, "default");
    deployments
        .delete("web", &DeleteParams::foreground())
        .await
        .unwrap();
    // The server marks it and keeps it, with the finalizer.
    let marked = deployments.get("web").await.unwrap();
    assert!(marked.metadata.deletion_timestamp.is_some());
    assert_eq!(marked.metadata.finalizers, ["foregroundDeletion"]);
    cluster
        .collect_until("collected", || async {
            let gone = deployments.get_opt("web").await.unwrap().is_none();
            if gone {
                // Never before its dependents.
                assert!(
                    cluster
                        .replicasets()
                        .get_opt("web-1")
                        .await
                        .unwrap()
                        .is_none()
                );
                assert!(cluster.pod_names().await.is_empty());
            }
            gone
        })
        .await;
    assert!(
        cluster
            .replicasets()
            .get_opt("web-1")
            .await
            .unwrap()
            .is_none()
    );
    assert!(cluster.pod_names().await.is_empty());
}

#[tokio::test]
async fn orphaning_keeps_the_dependents_without_their_owner() {
    let cluster = Cluster::start().await;
    cluster.replicaset_with_pods("web", None, 2).await;
    cluster
        .replicasets()
        .delete("web", &DeleteParams::orphan())
        .await
        .unwrap();
    let marked = cluster.replicasets().get("web").await.unwrap();
    assert_eq!(marked.metadata.finalizers, ["orphan"]);
    cluster
        .collect_until("orphaned", || async {
            cluster
                .replicasets()
                .get_opt("web")
                .await
                .unwrap()
                .is_none()
        })
        .await;
    let pods = cluster
        .pods()
        .list(&ListParams::default())
        .await
        .unwrap()
        .items;
    assert_eq!(pods.len(), 2);
    assert!(pods.iter().all(|p| p.metadata.owner_references.is_empty()));
}

#[tokio::test]
async fn an_owner_missing_from_the_cache_is_looked_up_before_deleting() {
    let cluster = Cluster::start().await;
    let rs = cluster.replicaset_with_pods("web", None, 1).await;
    let pod = cluster.pods().get("web-0").await.unwrap();
    // As if the cache had the pod but not yet its owner.
    let decision = |uid: &str| {
        let mut reference = owner_reference(&rs);
        reference.uid = uid.to_string();
        let mut target = node_of(&pod);
        target.owners = vec![reference.clone()];
        Decision {
            target,
            step: Step::Delete(PropagationPolicy::Background),
            confirm_absent: vec![reference],
        }
    };
    let report = cluster
        .gc
        .apply(vec![decision(rs.metadata.uid.as_deref().unwrap())])
        .await;
    assert!(
        report.done.is_empty() && report.errors.is_empty(),
        "{report:?}"
    );
    assert_eq!(
        cluster.pod_names().await,
        ["web-0"],
        "the owner exists: kept"
    );
    // An owner of that name with another uid is another object: the
    // reference dangles.
    let report = cluster
        .gc
        .apply(vec![decision("uid-of-an-earlier-web")])
        .await;
    assert_eq!(report.done, ["delete Pod default/web-0 (Background)"]);
    assert!(cluster.pod_names().await.is_empty());
}

// ---------------------------------------------------------------------
// Stock kubectl.

async fn kubectl(server: &ApiServer, home: &Path, args: &[&str]) -> String {
    let config = home.join("kubeconfig");
    std::fs::write(&config, testkit::kubeconfig(&server.url())).unwrap();
    testkit::run_kubectl(
        Path::new("kubectl"),
        &config,
        home,
        args,
        None,
        "chapter 10",
    )
    .await
}

#[tokio::test]
async fn kubectl_delete_cascades_in_each_mode() {
    let cluster = Cluster::start().await;
    let home = tempfile::tempdir().unwrap();
    // The collector runs as it does in the controller-manager.
    let (stopper, shutdown) = Shutdown::channel();
    let collector = cluster.gc.run(shutdown);
    let scenario = async {
        cluster.replicaset_with_pods("background", None, 2).await;
        cluster.replicaset_with_pods("foreground", None, 2).await;
        cluster.replicaset_with_pods("orphan", None, 2).await;

        // kubectl waits for the deletion to finish (--wait): in the
        // foreground, that is after the pods.
        let out = kubectl(
            &cluster.server,
            home.path(),
            &["delete", "rs", "foreground", "--cascade=foreground"],
        )
        .await;
        assert_eq!(out, "replicaset.apps \"foreground\" deleted\n");
        let names = cluster.pod_names().await;
        assert!(
            names.iter().all(|n| !n.starts_with("foreground")),
            "{names:?}"
        );

        let out = kubectl(
            &cluster.server,
            home.path(),
            &["delete", "rs", "orphan", "--cascade=orphan"],
        )
        .await;
        assert_eq!(out, "replicaset.apps \"orphan\" deleted\n");

        let out = kubectl(
            &cluster.server,
            home.path(),
            &["delete", "rs", "background"],
        )
        .await;
        assert_eq!(out, "replicaset.apps \"background\" deleted\n");
        let deadline = Instant::now() + Duration::from_secs(10);
        while cluster.pod_names().await != ["orphan-0", "orphan-1"] {
            assert!(
                Instant::now() < deadline,
                "left: {:?}",
                cluster.pod_names().await
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let orphans = cluster
            .pods()
            .list(&ListParams::default())
            .await
            .unwrap()
            .items;
        assert!(
            orphans
                .iter()
                .all(|p| p.metadata.owner_references.is_empty())
        );
        let left = kubectl(&cluster.server, home.path(), &["get", "rs", "-o", "name"]).await;
        assert_eq!(left, "", "no replica set left");
    };
    let (ran, ()) = tokio::join!(collector, async {
        scenario.await;
        stopper.stop();
    });
    ran.expect("the collector ran until stopped");
}
