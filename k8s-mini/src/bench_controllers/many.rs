//! The controllers alone, no agents: many Deployments against the same
//! pods created directly.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures::StreamExt;
use serde_json::json;

use crate::chapters::apiserver::client::{Api, Client, Informer, ListParams};
use crate::chapters::controllers::manager;
use crate::chapters::objects::{Deployment, Pod};

use super::{CLIENTS, Cluster, MANY_LIMIT, NAMESPACE, wait_until};

/// Part 3: the reference on a fresh server without controllers, then
/// the controllers on another fresh server; seconds until all pods exist.
pub(super) async fn controllers_alone(
    deployments: usize,
    replicas: usize,
) -> anyhow::Result<(f64, f64)> {
    let total = deployments * replicas;
    eprint!("reference: {total} pods created directly... ");
    let cluster = Cluster::start(false, None).await?;
    let pods = cluster.client.api::<Pod>(Some(NAMESPACE));
    let direct = create_many(&cluster.client, total, total, |n| {
        let (pods, pod) = (pods.clone(), many_pod(n, replicas));
        async move { anyhow::Ok(pods.create(&pod?).await.map(drop)?) }
    })
    .await;
    cluster.stop().await;
    let (direct, writes) = direct?;
    eprintln!("{direct:.2} s, {writes} writes");

    eprint!("{deployments} deployments x {replicas} through the controllers... ");
    let cluster = Cluster::start(false, Some(manager::Options::default())).await?;
    let api = cluster.client.api::<Deployment>(Some(NAMESPACE));
    let controlled = create_many(&cluster.client, deployments, total, |n| {
        let (api, deployment) = (api.clone(), many_deployment(n, replicas));
        async move { anyhow::Ok(api.create(&deployment?).await.map(drop)?) }
    })
    .await;
    cluster.stop().await;
    let (controlled, writes) = controlled?;
    eprintln!("{controlled:.2} s, {writes} writes");
    Ok((controlled, direct))
}

/// Runs `create` for `0..requests` (`CLIENTS` at once) and times it
/// until a pod informer holds `count` pods; the seconds, and the writes
/// the store took meanwhile (its revision went up by one for each).
pub(super) async fn create_many<F, Fut>(
    client: &Client,
    requests: usize,
    count: usize,
    create: F,
) -> anyhow::Result<(f64, u64)>
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    let pods = client.api::<Pod>(Some(NAMESPACE));
    let informer = Informer::new(pods.clone(), ListParams::default());
    if !informer.wait_for_sync().await {
        bail!("the pod informer did not list the pods");
    }
    let cache = informer.cache();
    let before = revision(&pods).await?;
    let started = Instant::now();
    let results = futures::stream::iter((0..requests).map(create))
        .buffer_unordered(CLIENTS)
        .collect::<Vec<_>>()
        .await;
    for result in results {
        result?;
    }
    let mut last_report = Instant::now();
    let waited = wait_until(MANY_LIMIT, "every pod", || {
        if last_report.elapsed() > Duration::from_secs(5) {
            eprint!("{} pods... ", cache.len());
            last_report = Instant::now();
        }
        cache.len() >= count
    })
    .await;
    let elapsed = started.elapsed();
    informer.stop().await;
    waited?;
    let writes = revision(&pods).await?.saturating_sub(before);
    Ok((elapsed.as_secs_f64(), writes))
}

/// The store's revision: the resourceVersion of a list.
pub(super) async fn revision(pods: &Api<Pod>) -> anyhow::Result<u64> {
    let list = pods.list(&ListParams::default().limit(1)).await?;
    list.metadata
        .resource_version
        .as_deref()
        .and_then(|version| version.parse().ok())
        .context("a list without a numeric resourceVersion")
}

/// The pods of part 3: `replicas` for each app, as its Deployments make.
pub(super) fn many_pod(n: usize, replicas: usize) -> anyhow::Result<Pod> {
    let app = format!("app-{:05}", n / replicas);
    Ok(serde_json::from_value(json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": format!("{app}-{}", n % replicas), "namespace": NAMESPACE,
            "labels": {"app": app}},
        "spec": {"containers": [{"name": "main", "image": "busybox"}]},
    }))?)
}

/// Deployment `n` of part 3, whose pods are those of [`many_pod`].
pub(super) fn many_deployment(n: usize, replicas: usize) -> anyhow::Result<Deployment> {
    let app = format!("app-{n:05}");
    Ok(serde_json::from_value(json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": app, "namespace": NAMESPACE},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": app}},
            "template": {
                "metadata": {"labels": {"app": app}},
                "spec": {"containers": [{"name": "main", "image": "busybox"}]},
            },
        },
    }))?)
}
