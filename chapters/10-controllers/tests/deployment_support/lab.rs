//! One Deployment test's cluster: an API server in this process (in
//! memory, a free loopback port), the Deployment controller over caches
//! the test fills from the server right before each reconcile (so every
//! reconcile sees exactly what the server has: no informer timing), and a
//! stand-in for the ReplicaSet controller that reports each ReplicaSet's
//! pods as there, ready and available. Shared by several test files,
//! each using a part.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use apiserver::client::{Api, Cache, Client, ListParams, ObjectKey};
use apiserver::server::{ApiServer, Config};
use chapter_10::controllers::controller::{Action, Reconciler};
use chapter_10::controllers::deployment::revision::REVISION;
use chapter_10::controllers::deployment::{DeploymentController, DeploymentError};
use objects::{Deployment, Event, Pod, ReplicaSet};
use serde_json::{Value, json};

pub struct Lab {
    pub server: ApiServer,
    pub client: Client,
    pub deployments: Api<Deployment>,
    pub replica_sets: Api<ReplicaSet>,
    pub controller: DeploymentController,
    deployment_cache: Cache<Deployment>,
    replica_set_cache: Cache<ReplicaSet>,
    pod_cache: Cache<Pod>,
    pub tmp: tempfile::TempDir,
}

/// Deployment `web` of `replicas` pods of `k8s-mini/echo:<tag>`,
/// RollingUpdate with these bounds; `extra` is merged into it.
pub fn web(replicas: i32, tag: &str, surge: Value, unavailable: Value, extra: Value) -> Deployment {
    let mut value = json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "web"}},
            "strategy": {"type": "RollingUpdate",
                "rollingUpdate": {"maxSurge": surge, "maxUnavailable": unavailable}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": format!("k8s-mini/echo:{tag}")}]}
            }
        }
    });
    objects::patch::merge_patch(&mut value, &extra);
    serde_json::from_value(value).expect("a deployment")
}

impl Lab {
    pub async fn start() -> Lab {
        let server = ApiServer::start(Config {
            listen: "127.0.0.1:0".parse().unwrap(),
            data_dir: None,
            ..Config::default()
        })
        .await
        .expect("the API server starts");
        let client = Client::new(&server.url()).unwrap();
        let tmp = tempfile::tempdir().expect("a temporary directory");
        std::fs::write(
            tmp.path().join("kubeconfig"),
            testkit::kubeconfig(&server.url()),
        )
        .expect("a kubeconfig");
        let deployment_cache = Cache::new();
        let replica_set_cache = Cache::new();
        let pod_cache = Cache::new();
        let controller = DeploymentController::new(
            client.clone(),
            deployment_cache.clone(),
            replica_set_cache.clone(),
            pod_cache.clone(),
        );
        Lab {
            deployments: Api::namespaced(&client, "default"),
            replica_sets: Api::namespaced(&client, "default"),
            server,
            client,
            controller,
            deployment_cache,
            replica_set_cache,
            pod_cache,
            tmp,
        }
    }

    /// Fills the controller's caches with what the server has now.
    pub async fn refresh(&self) {
        let all = ListParams::default();
        let deployments: Api<Deployment> = Api::all(&self.client);
        let replica_sets: Api<ReplicaSet> = Api::all(&self.client);
        let pods: Api<Pod> = Api::all(&self.client);
        self.deployment_cache
            .replace(deployments.list(&all).await.unwrap().items);
        self.replica_set_cache
            .replace(replica_sets.list(&all).await.unwrap().items);
        self.pod_cache.replace(pods.list(&all).await.unwrap().items);
    }

    /// One reconcile of deployment `name`, on fresh caches.
    pub async fn reconcile(&self, name: &str) {
        let _ = self.action(name).await;
    }

    /// [`Lab::reconcile`], and what it asks for next.
    pub async fn action(&self, name: &str) -> Action {
        self.refresh().await;
        self.reconcile_cached(name)
            .await
            .unwrap_or_else(|error| panic!("reconcile {name}: {error}"))
    }

    /// One reconcile on the caches as they are (filled by the last
    /// refresh, however stale since), with its error.
    pub async fn reconcile_cached(&self, name: &str) -> Result<Action, DeploymentError> {
        let key = ObjectKey {
            namespace: "default".into(),
            name: name.into(),
        };
        self.controller.reconcile(&key).await
    }

    /// What the ReplicaSet controller would report once its pods are up:
    /// every ReplicaSet has `spec.replicas` pods, all ready and available.
    pub async fn report_pods(&self) {
        for rs in self
            .replica_sets
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
        {
            let replicas = rs.spec.replicas.unwrap_or(1);
            self.report(rs.metadata.name(), replicas, replicas).await;
        }
    }

    /// Sets ReplicaSet `name`'s status: `pods` pods, `available` of them
    /// ready and available, the latest spec observed.
    pub async fn report(&self, name: &str, pods: i32, available: i32) {
        let mut rs = self.replica_sets.get(name).await.unwrap();
        rs.status.replicas = pods;
        rs.status.fully_labeled_replicas = Some(pods);
        rs.status.ready_replicas = Some(available);
        rs.status.available_replicas = Some(available);
        rs.status.observed_generation = rs.metadata.generation;
        self.replica_sets.replace_status(&rs).await.unwrap();
    }

    /// Reconciles and lets the ReplicaSets report, until a reconcile
    /// changes no size (at most `limit` rounds); returns the sizes after
    /// each round that changed some.
    pub async fn roll(&self, name: &str, limit: usize) -> Vec<String> {
        let mut steps = Vec::new();
        let mut last = self.sizes().await;
        for _ in 0..limit {
            self.reconcile(name).await;
            self.report_pods().await;
            let sizes = self.sizes().await;
            if sizes == last {
                // One more look, for the status and the cleanup.
                self.reconcile(name).await;
                return steps;
            }
            steps.push(sizes.clone());
            last = sizes;
        }
        panic!("no steady state after {limit} rounds: {steps:#?}");
    }

    /// The ReplicaSets, oldest revision first.
    pub async fn replica_set_list(&self) -> Vec<ReplicaSet> {
        let mut all = self
            .replica_sets
            .list(&ListParams::default())
            .await
            .unwrap()
            .items;
        all.sort_by_key(revision);
        all
    }

    /// `v1=3 v2=1`: each ReplicaSet by the image tag of its template, with
    /// its size.
    pub async fn sizes(&self) -> String {
        self.replica_set_list()
            .await
            .iter()
            .map(|rs| format!("{}={}", tag(rs), rs.spec.replicas.unwrap_or(1)))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// `text` with each ReplicaSet's hash replaced by its template's
    /// image tag: `web-<v1>` for `web-<hash of v1>` (the hash depends on
    /// every field of the template's serialization).
    pub async fn readable(&self, text: &str) -> String {
        let mut hashes = BTreeMap::new();
        for rs in self.replica_set_list().await {
            if let Some(hash) = rs.spec.template.metadata.labels.get("pod-template-hash") {
                hashes.insert(hash.clone(), format!("<{}>", tag(&rs)));
            }
        }
        let mut text = text.to_string();
        for (hash, readable) in hashes {
            text = text.replace(&hash, &readable);
        }
        text
    }

    /// The deployment's events, oldest first, as `reason: message`, with
    /// ReplicaSet names made readable.
    pub async fn events(&self) -> Vec<String> {
        let events: Api<Event> = Api::namespaced(&self.client, "default");
        let mut all = events.list(&ListParams::default()).await.unwrap().items;
        // Named `<object>.<time in hex><sequence in hex>`, the time in
        // whole seconds: within a second, the longer name is the later.
        all.sort_by_key(|e| {
            (
                e.first_timestamp,
                e.metadata.name().len(),
                e.metadata.name().to_string(),
            )
        });
        let lines: Vec<String> = all
            .iter()
            .filter(|e| e.involved_object.kind.as_deref() == Some("Deployment"))
            .map(|e| {
                format!(
                    "{} {}: {}",
                    e.event_type.as_deref().unwrap_or(""),
                    e.reason.as_deref().unwrap_or(""),
                    e.message.as_deref().unwrap_or("")
                )
            })
            .collect();
        let text = self.readable(&lines.join("\n")).await;
        text.lines().map(str::to_string).collect()
    }

    pub async fn deployment(&self, name: &str) -> Deployment {
        self.deployments.get(name).await.unwrap()
    }

    /// Patches deployment `name` (a merge patch), as a user would.
    pub async fn patch(&self, name: &str, patch: Value) -> Deployment {
        let patch = apiserver::client::Patch::Merge(patch);
        self.deployments.patch(name, &patch).await.unwrap()
    }

    fn kubeconfig(&self) -> PathBuf {
        self.tmp.path().join("kubeconfig")
    }

    /// Runs stock kubectl against this server; stdout, stderr and the
    /// exit code (when not 0), with ReplicaSet names made readable.
    pub async fn kubectl(&self, args: &[&str]) -> String {
        let program = std::env::var("KUBECTL").unwrap_or_else(|_| "kubectl".into());
        let output = testkit::run_kubectl(
            program.as_ref(),
            &self.kubeconfig(),
            self.tmp.path(),
            args,
            None,
            "chapter 10's suite",
        )
        .await;
        self.readable(&output).await
    }

    pub async fn stop(self) {
        self.server.stop(Duration::from_secs(5)).await;
    }
}

/// The image tag of a ReplicaSet's first container (`v1`), marked
/// `+restart` for a template `kubectl rollout restart` made.
pub fn tag(rs: &ReplicaSet) -> String {
    let image = rs.spec.template.spec.containers[0]
        .image
        .clone()
        .unwrap_or_default();
    let tag = image.rsplit(':').next().unwrap_or_default();
    let restarted = rs
        .spec
        .template
        .metadata
        .annotations
        .contains_key("kubectl.kubernetes.io/restartedAt");
    if restarted {
        format!("{tag}+restart")
    } else {
        tag.to_string()
    }
}

/// The revision annotation of a ReplicaSet or deployment (0 if none).
pub fn revision(rs: &ReplicaSet) -> i64 {
    rs.metadata
        .annotations
        .get(REVISION)
        .and_then(|r| r.parse().ok())
        .unwrap_or(0)
}
