//! `k8s-mini bench pods`: pod start latency for a burst of pods on one
//! node (chapter 05's figures), side by side with a burst of bare
//! containers of the same image, so that the pod's own cost (sandbox,
//! network, joining namespaces) shows as a ratio.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::bail;

use crate::bench::percentile;
use futures::future::join_all;

use crate::chapters::cgroups::{CgroupName, Cgroups, Limits};
use crate::chapters::filesystem::image::ECHO_IMAGE;
use crate::chapters::filesystem::{ContainerRequest, Containers};
use crate::chapters::namespaces::{Isolation, Runtime};
use crate::chapters::pods::network::{NodeConfig, NodeNetwork};
use crate::chapters::pods::{
    Container, PodHandle, PodRuntime, PodSpec, RuntimeConfig, wait_for_application,
};
use crate::chapters::process::{Event, Supervisor};

/// How long one start may take before the benchmark gives up on it.
const LIMIT: Duration = Duration::from_secs(60);

pub async fn run(
    count: usize,
    rounds: usize,
    parallel: usize,
    data_dir: &std::path::Path,
) -> anyhow::Result<i32> {
    let parallel = Arc::new(tokio::sync::Semaphore::new(parallel.clamp(1, count.max(1))));
    if !nix::unistd::geteuid().is_root() {
        bail!("pods need root (network namespaces, a bridge, cgroups): run it with sudo");
    }
    let store = crate::image::open_store(data_dir)?;
    let program = std::env::current_exe()?;
    let work = tempfile::Builder::new()
        .prefix("k8s-mini-bench-")
        .tempdir()?;
    let instance = format!("bench-{}", std::process::id());
    let network = NodeNetwork::ensure(NodeConfig {
        instance: instance.clone(),
        pod_cidr: crate::node::free_subnet(true)?,
        cluster_cidrs: Vec::new(),
        data_dir: work.path().to_path_buf(),
        netns: None,
    })?;
    let runtime = PodRuntime::new(RuntimeConfig {
        instance: instance.clone(),
        init_program: program.clone(),
        images: store.clone(),
        state_dir: work.path().to_path_buf(),
        network: Some(network),
    })?;
    let containers = Containers::new(
        Runtime::new(&program, &instance),
        store,
        work.path().join("bare"),
    )?;
    let cgroups = Cgroups::detect()?;
    let (mut pods, mut bare) = (Vec::new(), Vec::new());
    for round in 1..=rounds {
        eprint!("round {round}/{rounds}: {count} containers... ");
        let burst = container_burst(&containers, &cgroups, &instance, round, count, &parallel);
        bare.extend(burst.await?);
        eprintln!("{count} pods...");
        pods.extend(pod_burst(&runtime, round, count, &parallel).await?);
    }
    Arc::try_unwrap(runtime)
        .map_err(|_| anyhow::anyhow!("a pod is still running"))?
        .remove()?;
    cgroups.remove(&CgroupName::instance(&instance)?)?;
    let at_once = parallel.available_permits();
    let title = format!("{count} x {rounds}, {at_once} AT ONCE: REQUEST TO RUNNING");
    println!("{title:<52} {:>9} {:>9} {:>9}", "P50", "P99", "MAX");
    let bare_figures = figures(&mut bare);
    let pod_figures = figures(&mut pods);
    print_row("container alone (k8s-mini/echo, cgroup)", bare_figures);
    print_row("pod (sandbox, network, k8s-mini/echo)", pod_figures);
    println!(
        "{:<52} {:>8.2}x {:>8.2}x {:>8.2}x",
        "pod / container",
        pod_figures.0 / bare_figures.0,
        pod_figures.1 / bare_figures.1,
        pod_figures.2 / bare_figures.2
    );
    Ok(0)
}

/// `count` pods requested at once (as many at a time as `parallel`
/// allows); each one's time from its request until every container of it
/// runs. They are all deleted (grace 2 s) before it returns. `bench
/// pod-start` runs this burst beside its own through the API.
pub(crate) async fn pod_burst(
    runtime: &Arc<PodRuntime>,
    round: usize,
    count: usize,
    parallel: &tokio::sync::Semaphore,
) -> anyhow::Result<Vec<Duration>> {
    let starts = (0..count).map(|n| async move {
        let _turn = parallel.acquire().await.expect("the semaphore stays open");
        let started = Instant::now();
        let spec = PodSpec::new(
            &format!("bench-{round}-{n}"),
            vec![Container::new("echo", ECHO_IMAGE)],
        );
        let pod = runtime.run(spec);
        let running = pod
            .wait_for(LIMIT, |status| {
                status
                    .container_statuses
                    .iter()
                    .all(|container| container.state.is_running())
            })
            .await
            .map(|_| started.elapsed());
        (pod, running)
    });
    let started: Vec<(PodHandle, _)> = join_all(starts).await;
    let mut results = Vec::new();
    let mut deletions = Vec::new();
    for (pod, running) in started {
        results.push(running.map_err(|status| anyhow::anyhow!("a pod did not start: {status:?}")));
        deletions.push(pod.delete(Some(Duration::from_secs(2))));
    }
    join_all(deletions).await;
    results.into_iter().collect()
}

/// `count` bare containers of the same image, each in its cgroup, started
/// at once; each one's time until its application process exists.
async fn container_burst(
    containers: &Containers,
    cgroups: &Cgroups,
    instance: &str,
    round: usize,
    count: usize,
    parallel: &tokio::sync::Semaphore,
) -> anyhow::Result<Vec<Duration>> {
    let runs = (0..count).map(|n| async move {
        let turn = parallel.acquire().await.expect("the semaphore stays open");
        let started = Instant::now();
        let name = format!("bare-{round}-{n}");
        let cgroup = cgroups.create(&CgroupName::new(instance, &[&name])?, &Limits::default())?;
        let mut isolation = Isolation::container(false);
        isolation.cgroup_procs = cgroup.procs_files();
        let request = ContainerRequest {
            name: name.clone(),
            image: ECHO_IMAGE.into(),
            ..ContainerRequest::default()
        };
        let (mut spec, root) = containers.create(&request, &isolation)?;
        spec.restart_policy = crate::chapters::process::RestartPolicy::Never;
        let mut supervisor = Supervisor::start(spec).await?;
        let Some(Event::Started { pid, .. }) = supervisor.next_event().await else {
            bail!("container {name} did not start");
        };
        // The sign chapter 05 waits for before it calls a container Running.
        let running = wait_for_application(pid, LIMIT).await;
        let elapsed = started.elapsed();
        drop(turn);
        supervisor.stop(Duration::from_secs(2));
        supervisor.wait().await?;
        root.remove()?;
        cgroup.remove()?;
        if !running {
            bail!("container {name} ended before its application started");
        }
        anyhow::Ok(elapsed)
    });
    join_all(runs).await.into_iter().collect()
}

/// p50, p99 and max, in milliseconds.
pub(crate) fn figures(samples: &mut [Duration]) -> (f64, f64, f64) {
    samples.sort();
    let at = |q: f64| percentile(samples, q).as_secs_f64() * 1000.0;
    (at(0.50), at(0.99), at(1.0))
}

pub(crate) fn print_row(name: &str, (p50, p99, max): (f64, f64, f64)) {
    println!("{name:<52} {p50:>7.1}ms {p99:>7.1}ms {max:>7.1}ms");
}
