//! `k8s-mini bench pod-start`: pod start through the API (chapter 08's
//! figures), side by side with chapter 05's direct burst in the same run.
//!
//! Each round runs two bursts of `count` pods of one `k8s-mini/echo`
//! container, one after the other (each goes first every other round,
//! after a warm-up burst that is not measured), so that both see the same
//! machine:
//! 1. direct: chapter 05's runtime is asked for the pods at once, and
//!    each pod's time runs from its request until every container runs
//!    (`bench pods`' own burst);
//! 2. through the API: an API server in this process (store in memory,
//!    loopback) and chapter 08's node agent for one node, also in this
//!    process with a runtime of its own; the pods are created at once
//!    through chapter 07's client with `spec.nodeName` set (no scheduler),
//!    and each pod's time runs from just before its create request until a
//!    pod informer first sees it Running with every container running:
//!    the watch that brings the pod to the agent, the agent's sync, the
//!    same start as the direct burst, the status write, the watch that
//!    brings the status back.
//!
//! What the API adds shows as the ratio of the two; a third row splits
//! the time through the API at the moment the pod's containers ran on the
//! node (the start time its runtime reports): before it, the watch to the
//! agent and the start itself; after it, the status on its way back.
//!
//! After each burst every pod is deleted (grace 2 s), and the next burst
//! waits until nothing of them is left; at the end the agent is drained
//! and both runtimes, their networks and cgroups are removed.

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context, bail};
use futures::future::join_all;
use serde_json::json;

use crate::chapters::apiserver::client::{
    Api, Changes, Client, DeleteParams, Informer, ListParams,
};
use crate::chapters::apiserver::server::{ApiServer, Config as ServerConfig};
use crate::chapters::filesystem::image::{ECHO_IMAGE, ImageStore};
use crate::chapters::kubelet::{Config as KubeletConfig, Kubelet, PodTable};
use crate::chapters::objects::Pod;
use crate::chapters::pods::network::{self, NodeConfig, NodeNetwork};
use crate::chapters::pods::{ContainerState, PodRuntime, RuntimeConfig};

/// How long one burst, or the deletion of one, may take before the
/// benchmark gives up.
const LIMIT: Duration = Duration::from_secs(60);

/// The namespace of the pods created through the API.
const NAMESPACE: &str = "default";

/// The node the pods created through the API are bound to.
const NODE: &str = "bench-node";

pub async fn run(count: usize, rounds: usize, data_dir: &Path) -> anyhow::Result<i32> {
    if !nix::unistd::geteuid().is_root() {
        bail!("pods need root (network namespaces, a bridge, cgroups): run it with sudo");
    }
    if count == 0 || rounds == 0 {
        bail!("--count and --rounds must be at least 1");
    }
    if cfg!(debug_assertions) {
        eprintln!(
            "note: a debug build; for figures worth quoting use `cargo run --release -p k8s-mini -- bench pod-start`"
        );
    }
    let store = crate::image::open_store(data_dir)?;
    let work = tempfile::Builder::new()
        .prefix("k8s-mini-bench-pod-start-")
        .tempdir()?;
    let pid = std::process::id();
    let direct = node_runtime(&format!("bench-{pid}"), &store, work.path())?;
    let through = match node_runtime(&format!("bench-api-{pid}"), &store, work.path()) {
        Ok(runtime) => runtime,
        Err(error) => {
            if let Err(left) = remove_runtime(direct).await {
                eprintln!("k8s-mini: {left:#}");
            }
            return Err(error);
        }
    };
    let measured = with_agent(count, rounds, &store, &direct, &through, work.path()).await;
    // Whatever happened, nothing of either instance stays behind.
    let removed = [remove_runtime(direct).await, remove_runtime(through).await];
    let mut samples = measured?;
    for removal in removed {
        removal?;
    }
    let title = format!("{count} x {rounds}, ALL AT ONCE: CREATE TO RUNNING");
    println!("{title:<52} {:>9} {:>9} {:>9}", "P50", "P99", "MAX");
    let direct_figures = crate::bench_pods::figures(&mut samples.direct);
    let api_figures = crate::bench_pods::figures(&mut samples.api);
    let on_node_figures = crate::bench_pods::figures(&mut samples.on_node);
    crate::bench_pods::print_row("direct (chapter 05 runtime, k8s-mini/echo)", direct_figures);
    crate::bench_pods::print_row("through the API (one node agent, watch)", api_figures);
    crate::bench_pods::print_row("  of which until it runs on the node", on_node_figures);
    println!(
        "{:<52} {:>8.2}x {:>8.2}x {:>8.2}x",
        "through the API / direct",
        api_figures.0 / direct_figures.0,
        api_figures.1 / direct_figures.1,
        api_figures.2 / direct_figures.2
    );
    Ok(0)
}

/// A pod runtime of its own for `instance`: a free pod subnet from the
/// top of 10.244.0.0/16 (away from the nodes'), its bridge, its state
/// under `work`.
pub(crate) fn node_runtime(
    instance: &str,
    store: &ImageStore,
    work: &Path,
) -> anyhow::Result<Arc<PodRuntime>> {
    // Both runtimes route only their own subnet: the same work for a pod
    // of either (a node agent's also routes the cluster's ranges).
    let network = NodeNetwork::ensure(NodeConfig {
        instance: instance.to_string(),
        pod_cidr: crate::node::free_subnet(true)?,
        cluster_cidrs: Vec::new(),
        data_dir: work.to_path_buf(),
        netns: None,
    })
    .with_context(|| format!("cannot make the pod network of {instance}"))?;
    let runtime = PodRuntime::new(RuntimeConfig {
        instance: instance.to_string(),
        init_program: std::env::current_exe()?,
        images: store.clone(),
        state_dir: work.to_path_buf(),
        network: Some(network),
    });
    match runtime {
        Ok(runtime) => Ok(runtime),
        Err(error) => {
            // The network went down with the failed runtime, its bridge
            // did not: remove it as `k8s-mini reset` would.
            let _ = network::remove_leftovers(instance, work, None);
            Err(error).with_context(|| format!("cannot make the pod runtime of {instance}"))
        }
    }
}

/// Removes the runtime once its last pod has let go of it (a pod's task
/// may still be ending): its network, cgroups and directories.
pub(crate) async fn remove_runtime(runtime: Arc<PodRuntime>) -> anyhow::Result<()> {
    let instance = runtime.instance().to_string();
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut runtime = runtime;
    loop {
        match Arc::try_unwrap(runtime) {
            Ok(alone) => {
                return alone
                    .remove()
                    .with_context(|| format!("cannot remove the pod runtime of {instance}"));
            }
            Err(shared) if Instant::now() < deadline => {
                runtime = shared;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(_) => bail!(
                "a pod of {instance} still holds its runtime: see `k8s-mini reset --instance {instance}`"
            ),
        }
    }
}

/// The two ways a burst of pods is started.
#[derive(Clone, Copy)]
enum Contender {
    Direct,
    Api,
}

/// Each pod's time, by contender.
#[derive(Default)]
struct Samples {
    /// Chapter 05's burst.
    direct: Vec<Duration>,
    /// Through the API: until the informer sees the pod running.
    api: Vec<Duration>,
    /// Through the API: until its containers ran on the node (the start
    /// time the node's runtime reports); the rest is the status on its
    /// way back.
    on_node: Vec<Duration>,
}

/// The API server and the node agent around the rounds; both are stopped
/// (the agent drained) whatever the rounds end with.
async fn with_agent(
    count: usize,
    rounds: usize,
    store: &ImageStore,
    direct: &Arc<PodRuntime>,
    through: &Arc<PodRuntime>,
    work: &Path,
) -> anyhow::Result<Samples> {
    // The server gets threads of its own, as the process of its own that
    // it is in a cluster: on this runtime's threads, it would wait behind
    // the pods' starts, which are not all asynchronous.
    let server_threads = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("apiserver")
        .enable_all()
        .build()?;
    let server = server_threads
        .spawn(ApiServer::start(ServerConfig {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            data_dir: None,
            ..ServerConfig::default()
        }))
        .await?;
    let server = match server {
        Ok(server) => server,
        Err(error) => {
            server_threads.shutdown_background();
            return Err(error.into());
        }
    };
    let url = server.url();
    let mut config = KubeletConfig::new(NODE, IpAddr::V4(Ipv4Addr::LOCALHOST), work.to_path_buf());
    config.pod_cidr = through
        .network()
        .map(|network| network.config().pod_cidr.to_string());
    // The agent has a connection pool of its own, as it would in a process
    // of its own.
    let agent = Kubelet::start(Client::new(&url)?, through.clone(), store.clone(), config).await;
    let agent = match agent {
        Ok(agent) => agent,
        Err(error) => {
            server.stop(Duration::from_secs(5)).await;
            server_threads.shutdown_background();
            return Err(error.into());
        }
    };
    let measured = measure(count, rounds, &url, direct, through, &agent.pods()).await;
    agent.drain().await;
    server.stop(Duration::from_secs(5)).await;
    server_threads.shutdown_background();
    measured
}

/// The rounds: a direct burst and a burst through the API in each, after
/// a warm-up.
async fn measure(
    count: usize,
    rounds: usize,
    url: &str,
    direct: &Arc<PodRuntime>,
    through: &PodRuntime,
    on_node: &PodTable,
) -> anyhow::Result<Samples> {
    let client = Client::new(url)?;
    let pods = client.api::<Pod>(Some(NAMESPACE));
    let (informer, mut changes) = Informer::with_changes(pods.clone(), ListParams::default());
    if tokio::time::timeout(LIMIT, informer.wait_for_sync()).await != Ok(true) {
        bail!(
            "the pod informer did not list the pods: {}",
            informer.last_error().unwrap_or_default()
        );
    }
    let all_at_once = tokio::sync::Semaphore::new(count);
    // A burst that is not measured comes first, so that every measured
    // one follows the deletion of another, as all later ones do: the file
    // system allocates more slowly right after many files were deleted.
    eprint!("warm-up: {count} pods direct... ");
    crate::bench_pods::pod_burst(direct, 0, count, &all_at_once).await?;
    eprintln!("done");
    let mut samples = Samples::default();
    for round in 1..=rounds {
        eprint!("round {round}/{rounds}: ");
        // Each contender goes first every other round.
        let mut order = [Contender::Direct, Contender::Api];
        if round % 2 == 0 {
            order.reverse();
        }
        let (mut direct_p99, mut api_p99) = (Duration::ZERO, Duration::ZERO);
        for contender in order {
            match contender {
                Contender::Direct => {
                    eprint!("{count} pods direct... ");
                    let burst =
                        crate::bench_pods::pod_burst(direct, round, count, &all_at_once).await?;
                    direct_p99 = p99(&burst);
                    samples.direct.extend(burst);
                }
                Contender::Api => {
                    eprint!("{count} pods through the API... ");
                    let (burst, started) =
                        api_burst(&pods, &mut changes, on_node, round, count).await?;
                    api_p99 = p99(&burst);
                    samples.api.extend(burst);
                    samples.on_node.extend(started);
                    eprint!("deleting... ");
                    delete_all(&pods, &informer, through, round, count).await?;
                }
            }
        }
        eprintln!(
            "p99 {:.0} ms direct, {:.0} ms through the API",
            direct_p99.as_secs_f64() * 1000.0,
            api_p99.as_secs_f64() * 1000.0
        );
    }
    informer.stop().await;
    Ok(samples)
}

fn p99(samples: &[Duration]) -> Duration {
    let mut sorted = samples.to_vec();
    sorted.sort();
    crate::bench::percentile(&sorted, 0.99)
}

fn pod_name(round: usize, n: usize) -> String {
    format!("api-{round}-{n}")
}

/// A pod of one `k8s-mini/echo` container bound to the node: the agent
/// runs it without a scheduler.
fn pod_object(name: &str) -> anyhow::Result<Pod> {
    let pod = json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": NAMESPACE},
        "spec": {
            "nodeName": NODE,
            "containers": [{"name": "echo", "image": ECHO_IMAGE}],
        },
    });
    Ok(serde_json::from_value(pod)?)
}

/// Whether the API's pod is Running with every container running.
fn is_running(pod: &Pod) -> bool {
    let statuses = &pod.status.container_statuses;
    pod.status.phase.as_deref() == Some("Running")
        && statuses.len() == pod.spec.containers.len()
        && statuses.iter().all(|status| {
            status
                .state
                .as_ref()
                .is_some_and(|state| state.running.is_some())
        })
}

/// `count` pods created at once through the API; each one's time from
/// just before its create request until the informer sees it running, and
/// until its containers ran on the node.
async fn api_burst(
    pods: &Api<Pod>,
    changes: &mut Changes<Pod>,
    on_node: &PodTable,
    round: usize,
    count: usize,
) -> anyhow::Result<(Vec<Duration>, Vec<Duration>)> {
    // What earlier rounds left in the channel (their deletions) is old news.
    while changes.try_recv().is_ok() {}
    let names: Vec<String> = (0..count).map(|n| pod_name(round, n)).collect();
    let objects = names
        .iter()
        .map(|name| pod_object(name))
        .collect::<anyhow::Result<Vec<Pod>>>()?;
    let creates = async {
        let requests = objects.iter().map(|pod| async move {
            let started = (Instant::now(), SystemTime::now());
            pods.create(pod)
                .await
                .with_context(|| format!("cannot create pod {}", pod.metadata.name()))?;
            anyhow::Ok((pod.metadata.name().to_string(), started))
        });
        join_all(requests)
            .await
            .into_iter()
            .collect::<anyhow::Result<HashMap<String, (Instant, SystemTime)>>>()
    };
    let (started, running) = tokio::try_join!(creates, first_running(changes, &names))?;
    let mut times = (Vec::new(), Vec::new());
    for name in &names {
        let (Some((started, wall_clock)), Some(running)) = (started.get(name), running.get(name))
        else {
            bail!("pod {name} was not measured");
        };
        times.0.push(running.saturating_duration_since(*started));
        let ran = on_node
            .handle(NAMESPACE, name)
            .and_then(|(_, handle)| last_start(&handle.status()))
            .with_context(|| format!("pod {name} runs in the API but not on the node"))?;
        times
            .1
            .push(ran.duration_since(*wall_clock).unwrap_or_default());
    }
    Ok(times)
}

/// When the last of the pod's containers started, as the node's runtime
/// reports it (chapter 05 stamps it once the application runs).
fn last_start(status: &crate::chapters::pods::PodStatus) -> Option<SystemTime> {
    let starts = status
        .container_statuses
        .iter()
        .map(|line| match line.state {
            ContainerState::Running { started_at } => Some(started_at),
            _ => None,
        });
    starts
        .collect::<Option<Vec<SystemTime>>>()?
        .into_iter()
        .max()
}

/// When the informer first reports each of `names` running.
async fn first_running(
    changes: &mut Changes<Pod>,
    names: &[String],
) -> anyhow::Result<HashMap<String, Instant>> {
    let wanted: HashSet<&str> = names.iter().map(String::as_str).collect();
    let mut seen = HashMap::new();
    let deadline = tokio::time::Instant::now() + LIMIT;
    while seen.len() < wanted.len() {
        let change = match tokio::time::timeout_at(deadline, changes.recv()).await {
            Ok(Some(change)) => change,
            Ok(None) => bail!("the pod informer stopped"),
            Err(_) => bail!(
                "only {} of {} pods ran through the API within {LIMIT:?}",
                seen.len(),
                wanted.len()
            ),
        };
        let now = Instant::now();
        let pod = change.object();
        let name = pod.metadata.name();
        if matches!(
            change,
            crate::chapters::apiserver::client::Change::Deleted(_)
        ) {
            if wanted.contains(name) && !seen.contains_key(name) {
                bail!("pod {name} was deleted before it ran");
            }
            continue;
        }
        if wanted.contains(name) && is_running(pod) {
            seen.entry(name.to_string()).or_insert(now);
        }
    }
    Ok(seen)
}

/// Deletes the round's pods through the API (grace 2 s, as the direct
/// burst's), then waits until they are gone from the API and the agent's
/// runtime has nothing of them left.
async fn delete_all(
    pods: &Api<Pod>,
    informer: &Informer<Pod>,
    runtime: &PodRuntime,
    round: usize,
    count: usize,
) -> anyhow::Result<()> {
    let params = DeleteParams {
        grace_period_seconds: Some(2),
        ..DeleteParams::default()
    };
    let deletions = (0..count).map(|n| {
        let params = &params;
        async move {
            let name = pod_name(round, n);
            match pods.delete(&name, params).await {
                Ok(_) => Ok(()),
                Err(error) if error.is_not_found() => Ok(()),
                Err(error) => Err(error).with_context(|| format!("cannot delete pod {name}")),
            }
        }
    });
    join_all(deletions)
        .await
        .into_iter()
        .collect::<anyhow::Result<()>>()?;
    let cache = informer.cache();
    let deadline = Instant::now() + LIMIT;
    loop {
        let in_api = cache.list_namespace(NAMESPACE).len();
        let on_node = runtime.recorded_pods().len();
        if in_api == 0 && on_node == 0 {
            return Ok(());
        }
        if Instant::now() >= deadline {
            bail!(
                "{in_api} pod(s) still in the API and {on_node} on the node {LIMIT:?} after their deletion"
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
