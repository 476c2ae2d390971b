//! Node failure with the configured timers: fake nodes, a lease that
//! stops being renewed, the pods recreated and bound elsewhere.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::json;

use crate::chapters::apiserver::client::{Api, Cache, Client, Informer, ListParams, Patch};
use crate::chapters::controllers::manager::{self};
use crate::chapters::controllers::nodelifecycle::NodeLifecycleConfig;
use crate::chapters::objects::{Deployment, Lease, MicroTime, Namespace, Node, Pod, Resource};

use super::{
    Cluster, Failover, GRACE, LIMIT, MONITOR_PERIOD, NAMESPACE, TOLERATION_SECONDS, wait_until,
};

/// Part 4: seconds from the failing node's last heartbeat until `count`
/// replacement pods are bound to the other node.
pub(super) async fn failover(count: usize) -> anyhow::Result<Failover> {
    eprint!("node failure: {count} pods... ");
    let options = manager::Options {
        node_lifecycle: NodeLifecycleConfig {
            grace_period: GRACE,
            monitor_period: MONITOR_PERIOD,
        },
    };
    let cluster = Cluster::start(true, Some(options)).await?;
    let measured = fail_a_node(&cluster.client, count).await;
    cluster.stop().await;
    let figures = measured?;
    eprintln!(
        "tainted after {:.2} s, pods moved after {:.2} s",
        figures.tainted, figures.moved
    );
    Ok(figures)
}

pub(super) async fn fail_a_node(client: &Client, count: usize) -> anyhow::Result<Failover> {
    let namespaces = client.api::<Namespace>(None);
    match namespaces
        .create(&Namespace::new(LEASE_NAMESPACE, None))
        .await
    {
        Ok(_) => {}
        Err(error) if error.is_already_exists() => {}
        Err(error) => return Err(error).context("cannot create the node lease namespace"),
    }
    let pods = client.api::<Pod>(Some(NAMESPACE));
    let informer = Informer::new(pods.clone(), ListParams::default().labels("app=failover"));
    if !informer.wait_for_sync().await {
        bail!("the pod informer did not list the pods");
    }
    let cache = informer.cache();
    let node_informer = Informer::new(client.api::<Node>(None), ListParams::default());
    if !node_informer.wait_for_sync().await {
        bail!("the node informer did not list the nodes");
    }
    let nodes = node_informer.cache();
    let failing = FakeNode::start(client, "node-a").await?;
    let measured = async {
        client
            .api::<Deployment>(Some(NAMESPACE))
            .create(&failover_deployment(count)?)
            .await?;
        wait_until(LIMIT, "the pods on the first node", || {
            bound_to(&cache, "node-a") >= count
        })
        .await?;
        // No agent runs them: they are made Ready as one would report.
        for pod in cache.list() {
            let mut pod = (*pod).clone();
            pod.status = serde_json::from_value(json!({
                "phase": "Running",
                "conditions": [{"type": "Ready", "status": "True"}],
            }))?;
            pods.replace_status(&pod).await?;
        }
        let healthy = FakeNode::start(client, "node-b").await?;
        let started = failing.stop().await?;
        let mut tainted = None;
        let waited = wait_until(LIMIT, "the pods on the second node", || {
            if tainted.is_none() && unreachable_since(&nodes, "node-a").is_some() {
                tainted = Some(started.elapsed());
            }
            bound_to(&cache, "node-b") >= count
        })
        .await;
        let (elapsed, moved_at) = (started.elapsed(), chrono::Utc::now());
        healthy.stop().await?;
        waited?;
        let tainted = tainted.context("the pods moved, yet node-a was never tainted")?;
        let added = unreachable_since(&nodes, "node-a")
            .context("node-a lost its taint")?
            .context("node-a's taint has no timeAdded")?;
        let tolerated = added + chrono::Duration::seconds(TOLERATION_SECONDS as i64);
        anyhow::Ok(Failover {
            tainted: tainted.as_secs_f64(),
            moved: elapsed.as_secs_f64(),
            after_toleration: (moved_at - tolerated).as_seconds_f64(),
        })
    }
    .await;
    informer.stop().await;
    node_informer.stop().await;
    measured
}

pub(super) const LEASE_NAMESPACE: &str = "kube-node-lease";

/// When the node got the `unreachable` NoExecute taint that evicts its
/// pods, if it has it.
pub(super) fn unreachable_since(
    nodes: &Cache<Node>,
    name: &str,
) -> Option<Option<chrono::DateTime<chrono::Utc>>> {
    let node = nodes.get("", name)?;
    let taint = node.spec.taints.iter().find(|taint| {
        taint.key == "node.kubernetes.io/unreachable" && taint.effect == "NoExecute"
    })?;
    Some(taint.time_added.map(|time| time.0))
}

pub(super) fn bound_to(cache: &Cache<Pod>, node: &str) -> usize {
    cache
        .list()
        .iter()
        .filter(|pod| {
            pod.metadata.deletion_timestamp.is_none() && pod.spec.node_name.as_deref() == Some(node)
        })
        .count()
}

/// Deployment `failover`: its pods tolerate an unreachable or not ready
/// node for `TOLERATION_SECONDS`.
pub(super) fn failover_deployment(replicas: usize) -> anyhow::Result<Deployment> {
    let toleration = |key: &str| {
        json!({"key": key, "operator": "Exists", "effect": "NoExecute",
            "tolerationSeconds": TOLERATION_SECONDS})
    };
    Ok(serde_json::from_value(json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "failover", "namespace": NAMESPACE},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "failover"}},
            "template": {
                "metadata": {"labels": {"app": "failover"}},
                "spec": {
                    "containers": [{"name": "main", "image": "busybox"}],
                    "tolerations": [
                        toleration("node.kubernetes.io/unreachable"),
                        toleration("node.kubernetes.io/not-ready"),
                    ],
                },
            },
        },
    }))?)
}

/// A Node object without an agent: Ready, its lease renewed every 200 ms
/// by a task of the bench until [`FakeNode::stop`].
pub(super) struct FakeNode {
    leases: Api<Lease>,
    name: String,
    renewing: tokio::task::JoinHandle<()>,
}

impl FakeNode {
    async fn start(client: &Client, name: &str) -> anyhow::Result<FakeNode> {
        let node: Node = serde_json::from_value(json!({
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}},
            "status": {
                "capacity": {"cpu": "8", "memory": "16Gi", "pods": "110"},
                "allocatable": {"cpu": "8", "memory": "16Gi", "pods": "110"},
                "conditions": [{"type": "Ready", "status": "True",
                    "lastHeartbeatTime": chrono::Utc::now().to_rfc3339()}],
            },
        }))?;
        let nodes = client.api::<Node>(None);
        let created = nodes.create(&node).await?;
        let mut with_status = created.clone();
        with_status.status = node.status;
        nodes.replace_status(&with_status).await?;
        let leases = client.api::<Lease>(Some(LEASE_NAMESPACE));
        let mut lease = Lease::new(name, Some(LEASE_NAMESPACE));
        lease.spec.holder_identity = Some(name.to_string());
        lease.spec.lease_duration_seconds = Some(GRACE.as_secs() as i32);
        lease.spec.renew_time = Some(MicroTime::now());
        leases.create(&lease).await?;
        let renewing = tokio::spawn({
            let (leases, name) = (leases.clone(), name.to_string());
            async move {
                loop {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    if let Err(error) = renew(&leases, &name).await {
                        eprintln!("k8s-mini: cannot renew the lease of {name}: {error}");
                    }
                }
            }
        });
        Ok(FakeNode {
            leases,
            name: name.to_string(),
            renewing,
        })
    }

    /// Stops renewing after one last renewal; when it was sent.
    async fn stop(self) -> anyhow::Result<Instant> {
        self.renewing.abort();
        let _ = self.renewing.await;
        let last = Instant::now();
        renew(&self.leases, &self.name).await?;
        Ok(last)
    }
}

pub(super) async fn renew(leases: &Api<Lease>, name: &str) -> anyhow::Result<()> {
    leases
        .patch(
            name,
            &Patch::Merge(json!({"spec": {"renewTime": MicroTime::now()}})),
        )
        .await?;
    Ok(())
}
