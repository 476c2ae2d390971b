//! `k8s-mini bench controllers`: chapter 10's figures, each beside a
//! reference measured in the same run (the machine is shared and noisy,
//! so the ratio is the figure to compare).
//!
//! Everything runs in this process, on loopback: chapter 07's API server
//! (in memory, a port of its own), chapter 09's scheduler, chapter 10's
//! controller-manager (every controller, 5 workers each, no leader
//! election) and, for the parts with real pods, one chapter 08 node agent
//! with a pod runtime of its own. The server, the scheduler with the
//! controller-manager, and the measuring each get threads of their own,
//! as the processes of their own they are in a cluster: on the agent's
//! threads they would wait behind the pods' starts, which are not all
//! asynchronous.
//!
//! 1. Scale-up: a Deployment of `k8s-mini/echo` pods scaled from 0 to
//!    `count`, until a pod informer sees every pod Ready; the reference is
//!    chapter 05's direct burst of as many pods (request to running).
//! 2. Rolling update of half as many pods (maxSurge and maxUnavailable
//!    25 %, the defaults): from the template change until the rollout is
//!    complete; the reference is the scale-up of as many fresh pods
//!    measured the same way.
//! 3. The controllers alone, no agents, a fresh server: `deployments`
//!    Deployments of `replicas` replicas created through the API (64 at a
//!    time), until all their pods exist; the reference is the same number
//!    of pods created by the bench itself (64 at a time) on another fresh
//!    server.
//! 4. Node failure with the configured timers, a fresh server and fake
//!    nodes (no agents): a node whose lease stops being renewed, its
//!    Deployment's pods (faked Ready) recreated and bound to a second node;
//!    what counts is the time beyond the grace period (until the taint)
//!    and beyond the pods' toleration (counted, as the controller counts
//!    it, from the taint's `timeAdded`, which has whole seconds).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures::StreamExt;
use serde_json::{Value, json};

use crate::chapters::apiserver::client::{
    Api, Cache, Client, DeleteParams, Informer, ListParams, Patch,
};
use crate::chapters::apiserver::server::{ApiServer, Config as ServerConfig};
use crate::chapters::controllers::controller::Settings;
use crate::chapters::controllers::manager::{self, ControllerManager};
use crate::chapters::controllers::nodelifecycle::NodeLifecycleConfig;
use crate::chapters::filesystem::image::{ECHO_IMAGE, ImageStore};
use crate::chapters::kubelet::{Config as KubeletConfig, Kubelet};
use crate::chapters::objects::{Deployment, Lease, MicroTime, Namespace, Node, Pod, Resource};
use crate::chapters::pods::PodRuntime;
use crate::chapters::scheduler::{Config as SchedulerConfig, Scheduler};

/// How long one wait may take before the benchmark gives up.
const LIMIT: Duration = Duration::from_secs(120);

/// How long the controllers-alone part may take.
const MANY_LIMIT: Duration = Duration::from_secs(600);

/// Creates in flight at once, for the controllers-alone part and its
/// reference.
const CLIENTS: usize = 64;

const NAMESPACE: &str = "default";

/// The node of the one agent.
const NODE: &str = "bench-node";

/// Part 4's timers: the node monitor grace period, how often nodes are
/// looked at, and the pods' toleration of an unreachable node.
const GRACE: Duration = Duration::from_secs(2);
const MONITOR_PERIOD: Duration = Duration::from_millis(250);
const TOLERATION_SECONDS: u64 = 1;

/// What the run measured, in seconds.
struct Figures {
    scale_up: f64,
    direct_burst: f64,
    rollout: f64,
    fresh_rollout: f64,
    controllers: f64,
    direct_creates: f64,
    failover: Failover,
}

/// Part 4's figures, in seconds.
struct Failover {
    /// From the failing node's last heartbeat until it is tainted.
    tainted: f64,
    /// From the last heartbeat until its pods are bound elsewhere.
    moved: f64,
    /// From the end of the pods' toleration, counted from the taint's
    /// `timeAdded` as the controller counts it, until they are bound
    /// elsewhere. The time has whole seconds (`metav1.Time`, as in
    /// Kubernetes), so the toleration may end up to a second early.
    after_toleration: f64,
}

pub async fn run(
    count: usize,
    deployments: usize,
    replicas: usize,
    data_dir: &Path,
) -> anyhow::Result<i32> {
    if !nix::unistd::geteuid().is_root() {
        bail!(
            "the scale-up runs real pods (network namespaces, a bridge, cgroups): run it with sudo"
        );
    }
    if count < 2 || deployments == 0 || replicas == 0 {
        bail!("--count must be at least 2, --deployments and --replicas at least 1");
    }
    if cfg!(debug_assertions) {
        eprintln!(
            "note: a debug build; for figures worth quoting use `cargo run --release -p k8s-mini -- bench controllers`"
        );
    }
    let store = crate::image::open_store(data_dir)?;
    let work = tempfile::Builder::new()
        .prefix("k8s-mini-bench-controllers-")
        .tempdir()?;
    let pid = std::process::id();
    let direct =
        crate::bench_pod_start::node_runtime(&format!("bench-{pid}"), &store, work.path())?;
    let agent_runtime =
        match crate::bench_pod_start::node_runtime(&format!("bench-cm-{pid}"), &store, work.path())
        {
            Ok(runtime) => runtime,
            Err(error) => {
                if let Err(left) = crate::bench_pod_start::remove_runtime(direct).await {
                    eprintln!("k8s-mini: {left:#}");
                }
                return Err(error);
            }
        };
    let with_pods = with_agent(count, &store, &direct, &agent_runtime, work.path()).await;
    // Whatever happened, nothing of either instance stays behind.
    let removed = [
        crate::bench_pod_start::remove_runtime(direct).await,
        crate::bench_pod_start::remove_runtime(agent_runtime).await,
    ];
    let (scale_up, direct_burst, rollout, fresh_rollout) = with_pods?;
    for removal in removed {
        removal?;
    }
    let (controllers, direct_creates) = controllers_alone(deployments, replicas).await?;
    let failover = failover(count.min(10)).await?;
    print_table(
        count,
        deployments,
        replicas,
        &Figures {
            scale_up,
            direct_burst,
            rollout,
            fresh_rollout,
            controllers,
            direct_creates,
            failover,
        },
    );
    Ok(0)
}

fn print_table(count: usize, deployments: usize, replicas: usize, figures: &Figures) {
    let half = count / 2;
    let pods = deployments * replicas;
    println!("{:<66} {:>8} {:>8}", "TIME TO CONVERGE", "SECONDS", "RATIO");
    let row = |name: String, seconds: f64, ratio: f64| {
        println!("{name:<66} {seconds:>8.3} {ratio:>7.2}x");
    };
    row(
        format!("deployment 0 -> {count} pods, all Ready (one node agent)"),
        figures.scale_up,
        figures.scale_up / figures.direct_burst,
    );
    row(
        format!("  reference: chapter 05's direct burst of {count} pods"),
        figures.direct_burst,
        1.0,
    );
    row(
        format!("rolling update of {half} pods (25% surge, 25% unavailable)"),
        figures.rollout,
        figures.rollout / figures.fresh_rollout,
    );
    row(
        format!("  reference: deployment 0 -> {half} pods, rollout complete"),
        figures.fresh_rollout,
        1.0,
    );
    row(
        format!("{deployments} deployments x {replicas}: all {pods} pods exist (no agents)"),
        figures.controllers,
        figures.controllers / figures.direct_creates,
    );
    row(
        format!("  reference: the {pods} pods created directly ({CLIENTS} at once)"),
        figures.direct_creates,
        1.0,
    );
    let timers = GRACE.as_secs_f64() + TOLERATION_SECONDS as f64;
    let failover = &figures.failover;
    row(
        "node failure: node tainted unreachable, from its last heartbeat".into(),
        failover.tainted,
        failover.tainted / GRACE.as_secs_f64(),
    );
    row(
        format!(
            "  reference: grace {} s (nodes looked at every {} ms)",
            GRACE.as_secs(),
            MONITOR_PERIOD.as_millis()
        ),
        GRACE.as_secs_f64(),
        1.0,
    );
    row(
        format!(
            "node failure: {} pods bound elsewhere, from the last heartbeat",
            count.min(10)
        ),
        failover.moved,
        failover.moved / timers,
    );
    row(
        format!(
            "  reference: grace {} s + toleration {TOLERATION_SECONDS} s",
            GRACE.as_secs()
        ),
        timers,
        1.0,
    );
    println!(
        "{:<66} {:>8.3}",
        "  of which after the toleration ran out (taint's whole seconds)",
        failover.after_toleration
    );
}

/// An API server of its own (in memory, on its own threads), with the
/// scheduler and the controller-manager when asked for.
struct Cluster {
    /// The server's threads, for as long as it runs.
    _server_threads: Threads,
    /// The scheduler's and the controller-manager's threads.
    control: Threads,
    server: ApiServer,
    client: Client,
    scheduler: Option<Scheduler>,
    manager: Option<ControllerManager>,
}

impl Cluster {
    async fn start(scheduler: bool, manager: Option<manager::Options>) -> anyhow::Result<Cluster> {
        // Every component gets threads of its own, as the process of its
        // own it is in a cluster: on this runtime's threads, they would
        // wait behind the pods' starts, which are not all asynchronous.
        let threads = Threads::new("apiserver")?;
        let control = Threads::new("control-plane")?;
        let server = threads
            .spawn(ApiServer::start(ServerConfig {
                listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
                data_dir: None,
                ..ServerConfig::default()
            }))
            .await?;
        let server = server?;
        let mut cluster = Cluster {
            client: Client::new(&server.url())?,
            _server_threads: threads,
            control,
            server,
            scheduler: None,
            manager: None,
        };
        if let Err(error) = cluster.start_components(scheduler, manager).await {
            cluster.stop().await;
            return Err(error);
        }
        Ok(cluster)
    }

    /// Each component gets a connection pool of its own, as it would in a
    /// process of its own.
    async fn start_components(
        &mut self,
        scheduler: bool,
        manager: Option<manager::Options>,
    ) -> anyhow::Result<()> {
        let url = self.server.url();
        if scheduler {
            let start = Scheduler::start(Client::new(&url)?, SchedulerConfig::default());
            self.scheduler = Some(
                self.control
                    .spawn(start)
                    .await?
                    .context("the scheduler does not start")?,
            );
        }
        if let Some(options) = manager {
            let config = manager::Config {
                leader_election: None,
                // As `k8s-mini controller-manager` runs them.
                settings: Settings {
                    workers: 5,
                    ..Settings::default()
                },
                controllers: manager::default_controllers(&options),
            };
            let start = ControllerManager::start(Client::new(&url)?, config);
            self.manager = Some(
                self.control
                    .spawn(start)
                    .await?
                    .context("the controller-manager does not start")?,
            );
        }
        Ok(())
    }

    async fn stop(self) {
        let limit = Duration::from_secs(5);
        if let Some(manager) = self.manager {
            let _ = self.control.spawn(manager.stop(limit)).await;
        }
        if let Some(scheduler) = self.scheduler {
            let _ = self.control.spawn(scheduler.stop(limit)).await;
        }
        drop(self.control);
        self.server.stop(limit).await;
    }
}

/// Two worker threads for one component, shut down without waiting when
/// dropped (a runtime dropped in another's task would block it).
struct Threads(Option<tokio::runtime::Runtime>);

impl Threads {
    fn new(name: &str) -> std::io::Result<Threads> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name(name)
            .enable_all()
            .build()?;
        Ok(Threads(Some(runtime)))
    }

    fn spawn<F>(&self, future: F) -> tokio::task::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.0
            .as_ref()
            .expect("running until dropped")
            .spawn(future)
    }
}

impl Drop for Threads {
    fn drop(&mut self) {
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_background();
        }
    }
}

/// Parts 1 and 2: the cluster with one node agent around them; all
/// stopped (the agent drained) whatever they end with.
async fn with_agent(
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

async fn with_pods(
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
fn container(version: &str) -> Value {
    json!({"name": "echo", "image": ECHO_IMAGE, "env": [{"name": "VERSION", "value": version}]})
}

/// Deployment `name` of `replicas` echo pods, the default strategy
/// (RollingUpdate, 25 % / 25 %); its pods go within 2 s when deleted.
fn deployment(name: &str, replicas: usize) -> anyhow::Result<Deployment> {
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
async fn create_empty(
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
async fn scale(deployments: &Api<Deployment>, name: &str, replicas: usize) -> anyhow::Result<i64> {
    let changed = deployments
        .patch(name, &Patch::Merge(json!({"spec": {"replicas": replicas}})))
        .await
        .with_context(|| format!("cannot scale deployment {name}"))?;
    Ok(changed.metadata.generation.unwrap_or_default())
}

fn is_ready(pod: &Pod) -> bool {
    pod.metadata.deletion_timestamp.is_none()
        && pod
            .status
            .conditions
            .iter()
            .any(|condition| condition.condition_type == "Ready" && condition.status == "True")
}

fn has_label(pod: &Pod, app: &str) -> bool {
    pod.metadata.labels.get("app").map(String::as_str) == Some(app)
}

/// `kubectl rollout status`'s test: the controller saw the latest spec,
/// and every replica is updated and available, with no old one left.
fn rolled_out(cache: &Cache<Deployment>, name: &str, replicas: usize, generation: i64) -> bool {
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
async fn delete_deployment(
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

/// Polls `done` every 5 ms until it holds, or `limit` runs out.
async fn wait_until(
    limit: Duration,
    what: &str,
    mut done: impl FnMut() -> bool,
) -> anyhow::Result<()> {
    let deadline = Instant::now() + limit;
    while !done() {
        if Instant::now() >= deadline {
            bail!("gave up waiting for {what} after {limit:?}");
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    Ok(())
}

/// Part 3: the reference on a fresh server without controllers, then
/// the controllers on another fresh server; seconds until all pods exist.
async fn controllers_alone(deployments: usize, replicas: usize) -> anyhow::Result<(f64, f64)> {
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
async fn create_many<F, Fut>(
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
async fn revision(pods: &Api<Pod>) -> anyhow::Result<u64> {
    let list = pods.list(&ListParams::default().limit(1)).await?;
    list.metadata
        .resource_version
        .as_deref()
        .and_then(|version| version.parse().ok())
        .context("a list without a numeric resourceVersion")
}

/// The pods of part 3: `replicas` for each app, as its Deployments make.
fn many_pod(n: usize, replicas: usize) -> anyhow::Result<Pod> {
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
fn many_deployment(n: usize, replicas: usize) -> anyhow::Result<Deployment> {
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

/// Part 4: seconds from the failing node's last heartbeat until `count`
/// replacement pods are bound to the other node.
async fn failover(count: usize) -> anyhow::Result<Failover> {
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

async fn fail_a_node(client: &Client, count: usize) -> anyhow::Result<Failover> {
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

const LEASE_NAMESPACE: &str = "kube-node-lease";

/// When the node got the `unreachable` NoExecute taint that evicts its
/// pods, if it has it.
fn unreachable_since(
    nodes: &Cache<Node>,
    name: &str,
) -> Option<Option<chrono::DateTime<chrono::Utc>>> {
    let node = nodes.get("", name)?;
    let taint = node.spec.taints.iter().find(|taint| {
        taint.key == "node.kubernetes.io/unreachable" && taint.effect == "NoExecute"
    })?;
    Some(taint.time_added.map(|time| time.0))
}

fn bound_to(cache: &Cache<Pod>, node: &str) -> usize {
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
fn failover_deployment(replicas: usize) -> anyhow::Result<Deployment> {
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
struct FakeNode {
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

async fn renew(leases: &Api<Lease>, name: &str) -> anyhow::Result<()> {
    leases
        .patch(
            name,
            &Patch::Merge(json!({"spec": {"renewTime": MicroTime::now()}})),
        )
        .await?;
    Ok(())
}
