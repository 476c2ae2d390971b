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
//!
//! The parts live in `pods` (1 and 2, with the node agent), `many` (3)
//! and `failover` (4).

mod failover;
mod many;
mod pods;

use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::chapters::apiserver::client::Client;
use crate::chapters::apiserver::server::{ApiServer, Config as ServerConfig};
use crate::chapters::controllers::controller::Settings;
use crate::chapters::controllers::manager::{self, ControllerManager};
use crate::chapters::scheduler::{Config as SchedulerConfig, Scheduler};

use failover::failover;
use many::controllers_alone;
use pods::with_agent;

/// How long one wait may take before the benchmark gives up.
pub(super) const LIMIT: Duration = Duration::from_secs(120);

/// How long the controllers-alone part may take.
pub(super) const MANY_LIMIT: Duration = Duration::from_secs(600);

/// Creates in flight at once, for the controllers-alone part and its
/// reference.
pub(super) const CLIENTS: usize = 64;

pub(super) const NAMESPACE: &str = "default";

/// The node of the one agent.
pub(super) const NODE: &str = "bench-node";

/// Part 4's timers: the node monitor grace period, how often nodes are
/// looked at, and the pods' toleration of an unreachable node.
pub(super) const GRACE: Duration = Duration::from_secs(2);
pub(super) const MONITOR_PERIOD: Duration = Duration::from_millis(250);
pub(super) const TOLERATION_SECONDS: u64 = 1;

/// What the run measured, in seconds.
pub(super) struct Figures {
    scale_up: f64,
    direct_burst: f64,
    rollout: f64,
    fresh_rollout: f64,
    controllers: f64,
    direct_creates: f64,
    failover: Failover,
}

/// Part 4's figures, in seconds.
pub(super) struct Failover {
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

pub(super) fn print_table(count: usize, deployments: usize, replicas: usize, figures: &Figures) {
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
pub(super) struct Cluster {
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
pub(crate) struct Threads(Option<tokio::runtime::Runtime>);

impl Threads {
    pub(crate) fn new(name: &str) -> std::io::Result<Threads> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name(name)
            .enable_all()
            .build()?;
        Ok(Threads(Some(runtime)))
    }

    pub(crate) fn spawn<F>(&self, future: F) -> tokio::task::JoinHandle<F::Output>
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

/// Polls `done` every 5 ms until it holds, or `limit` runs out.
pub(super) async fn wait_until(
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
