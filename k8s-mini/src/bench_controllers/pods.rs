//! The parts with real pods: a node agent in this process, a Deployment
//! scaled up, then rolled.

use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::{Value, json};

use crate::chapters::apiserver::client::{
    Api, Cache, Client, DeleteParams, Informer, ListParams, Patch,
};
use crate::chapters::controllers::manager::{self};
use crate::chapters::filesystem::image::{ECHO_IMAGE, ImageStore};
use crate::chapters::kubelet::{Config as KubeletConfig, Kubelet};
use crate::chapters::objects::{Deployment, Pod};
use crate::chapters::pods::PodRuntime;

use super::{Cluster, LIMIT, NAMESPACE, NODE, Threads, wait_until};

/// Parts 1 and 2: the cluster with one node agent around them; all
/// stopped (the agent drained) whatever they end with.
pub(super) async fn with_agent(
    count: usize,
    store: &ImageStore,
    direct: &Arc<PodRuntime>,
    through: &Arc<PodRuntime>,
    work: &Path,
) -> anyhow::Result<(f64, f64, f64, f64)> {
    // The measuring (and the direct reference burst) on threads of its
    // own too: on these, it would wait behind the agent's pod starts.
    let measuring = Threads::new("bench")?;
    let cluster = Cluster::start(true, Some(manager::Options::default())).await?;
    let mut config = KubeletConfig::new(NODE, IpAddr::V4(Ipv4Addr::LOCALHOST), work.to_path_buf());
    config.pod_cidr = through
        .network()
        .map(|network| network.config().pod_cidr.to_string());
    // The agent has a connection pool of its own, as it would in a
    // process of its own.
    let agent = match Client::new(&cluster.server.url()) {
        Ok(client) => Kubelet::start(client, through.clone(), store.clone(), config)
            .await
            .map_err(anyhow::Error::from),
        Err(error) => Err(error.into()),
    };
    let agent = match agent {
        Ok(agent) => agent,
        Err(error) => {
            cluster.stop().await;
            return Err(error);
        }
    };
    let measured = measuring
        .spawn(with_pods(
            count,
            cluster.client.clone(),
            direct.clone(),
            through.clone(),
        ))
        .await
        .map_err(anyhow::Error::from)
        .and_then(|measured| measured);
    drop(measuring);
    agent.drain().await;
    cluster.stop().await;
    measured
}

pub(super) async fn with_pods(
    count: usize,
    client: Client,
    direct: Arc<PodRuntime>,
    through: Arc<PodRuntime>,
) -> anyhow::Result<(f64, f64, f64, f64)> {
    let pods = client.api::<Pod>(Some(NAMESPACE));
    let deployments = client.api::<Deployment>(Some(NAMESPACE));
    let pod_informer = Informer::new(pods.clone(), ListParams::default());
    let deployment_informer = Informer::new(deployments.clone(), ListParams::default());
    for synced in [
        pod_informer.wait_for_sync().await,
        deployment_informer.wait_for_sync().await,
    ] {
        if !synced {
            bail!("the informers did not list the pods and deployments");
        }
    }
    let all_at_once = tokio::sync::Semaphore::new(count);
    // Not measured: the first pods of a runtime pay for its caches.
    eprint!("warm-up: {count} pods direct... ");
    crate::bench_pods::pod_burst(&direct, 0, count, &all_at_once).await?;
    eprintln!("done");

    eprint!("reference: {count} pods direct... ");
    let burst = crate::bench_pods::pod_burst(&direct, 1, count, &all_at_once).await?;
    let direct_burst = burst.iter().max().copied().unwrap_or_default();
    eprintln!("{:.2} s", direct_burst.as_secs_f64());

    let pod_cache = pod_informer.cache();
    let deployment_cache = deployment_informer.cache();
    eprint!("deployment 0 -> {count}... ");
    create_empty(&deployments, &deployment_cache, "scale").await?;
    let started = Instant::now();
    scale(&deployments, "scale", count).await?;
    // On the way, when the last pod was created, and bound: the
    // controllers' and the scheduler's share of the time.
    let (mut created, mut bound) = (None, None);
    wait_until(LIMIT, "every pod Ready", || {
        let pods = pod_cache.list();
        let scaled = || pods.iter().filter(|pod| has_label(pod, "scale"));
        if created.is_none() && scaled().count() >= count {
            created = Some(started.elapsed());
        }
        if bound.is_none() && scaled().filter(|pod| pod.spec.node_name.is_some()).count() >= count {
            bound = Some(started.elapsed());
        }
        scaled().filter(|pod| is_ready(pod)).count() >= count
    })
    .await?;
    let scale_up = started.elapsed();
    let seconds = |time: Option<Duration>| time.unwrap_or(scale_up).as_secs_f64();
    eprint!(
        "all created after {:.2} s, bound after {:.2} s, Ready after {:.2} s; deleting... ",
        seconds(created),
        seconds(bound),
        scale_up.as_secs_f64()
    );
    delete_deployment(&deployments, "scale", &pod_cache, &through).await?;
    eprintln!("done");

    let half = count / 2;
    eprint!("deployment 0 -> {half}... ");
    create_empty(&deployments, &deployment_cache, "roll").await?;
    let started = Instant::now();
    let generation = scale(&deployments, "roll", half).await?;
    wait_until(LIMIT, "the rollout to complete", || {
        rolled_out(&deployment_cache, "roll", half, generation)
    })
    .await?;
    let fresh_rollout = started.elapsed();
    eprint!("{:.2} s; rolling update... ", fresh_rollout.as_secs_f64());
    let started = Instant::now();
    let changed = deployments
        .patch(
            "roll",
            &Patch::Merge(
                json!({"spec": {"template": {"spec": {"containers": [container("2")]}}}}),
            ),
        )
        .await?;
    let generation = changed.metadata.generation.unwrap_or_default();
    wait_until(LIMIT, "the rolling update to complete", || {
        rolled_out(&deployment_cache, "roll", half, generation)
    })
    .await?;
    let rollout = started.elapsed();
    eprint!("{:.2} s; deleting... ", rollout.as_secs_f64());
    delete_deployment(&deployments, "roll", &pod_cache, &through).await?;
    eprintln!("done");
    pod_informer.stop().await;
    deployment_informer.stop().await;
    Ok((
        scale_up.as_secs_f64(),
        direct_burst.as_secs_f64(),
        rollout.as_secs_f64(),
        fresh_rollout.as_secs_f64(),
    ))
}

/// The one container of the bench's pods; `version` in its environment
/// makes a new template.
pub(super) fn container(version: &str) -> Value {
    json!({"name": "echo", "image": ECHO_IMAGE, "env": [{"name": "VERSION", "value": version}]})
}

/// Deployment `name` of `replicas` echo pods, the default strategy
/// (RollingUpdate, 25 % / 25 %); its pods go within 2 s when deleted.
pub(super) fn deployment(name: &str, replicas: usize) -> anyhow::Result<Deployment> {
    Ok(serde_json::from_value(json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": NAMESPACE},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"terminationGracePeriodSeconds": 2, "containers": [container("1")]},
            },
        },
    }))?)
}

/// Creates Deployment `name` with no replicas and waits until its
/// controller has seen it, so that what is timed next is the scaling.
pub(super) async fn create_empty(
    deployments: &Api<Deployment>,
    cache: &Cache<Deployment>,
    name: &str,
) -> anyhow::Result<()> {
    let created = deployments.create(&deployment(name, 0)?).await?;
    let generation = created.metadata.generation.unwrap_or_default();
    wait_until(LIMIT, "the deployment's controller", || {
        cache
            .get(NAMESPACE, name)
            .is_some_and(|deployment| deployment.status.observed_generation >= Some(generation))
    })
    .await
}

/// Sets the Deployment's replicas; its new generation.
pub(super) async fn scale(
    deployments: &Api<Deployment>,
    name: &str,
    replicas: usize,
) -> anyhow::Result<i64> {
    let changed = deployments
        .patch(name, &Patch::Merge(json!({"spec": {"replicas": replicas}})))
        .await
        .with_context(|| format!("cannot scale deployment {name}"))?;
    Ok(changed.metadata.generation.unwrap_or_default())
}

pub(super) fn is_ready(pod: &Pod) -> bool {
    pod.metadata.deletion_timestamp.is_none()
        && pod
            .status
            .conditions
            .iter()
            .any(|condition| condition.condition_type == "Ready" && condition.status == "True")
}

pub(super) fn has_label(pod: &Pod, app: &str) -> bool {
    pod.metadata.labels.get("app").map(String::as_str) == Some(app)
}

/// `kubectl rollout status`'s test: the controller saw the latest spec,
/// and every replica is updated and available, with no old one left.
pub(super) fn rolled_out(
    cache: &Cache<Deployment>,
    name: &str,
    replicas: usize,
    generation: i64,
) -> bool {
    let Some(deployment) = cache.get(NAMESPACE, name) else {
        return false;
    };
    let status = &deployment.status;
    let replicas = Some(replicas as i32);
    status.observed_generation >= Some(generation)
        && status.updated_replicas == replicas
        && status.available_replicas == replicas
        && status.replicas == replicas
}

/// Deletes the Deployment (its ReplicaSets and pods after it, by the
/// garbage collector), then waits until none of its pods is left in the
/// API or on the node.
pub(super) async fn delete_deployment(
    deployments: &Api<Deployment>,
    name: &str,
    pods: &Cache<Pod>,
    runtime: &PodRuntime,
) -> anyhow::Result<()> {
    deployments
        .delete(name, &DeleteParams::background())
        .await
        .with_context(|| format!("cannot delete deployment {name}"))?;
    wait_until(LIMIT, "the deployment's pods to go", || {
        pods.is_empty() && runtime.recorded_pods().is_empty()
    })
    .await
}
