//! `k8s-mini bench`: container start-to-exit latency, side by side with
//! references in the same run (chapter 04's figures).
//!
//! Each round runs `/bin/true` from the busybox image once per contender,
//! in turn, so that all of them see the same machine load:
//! - k8s-mini: every namespace, an overlay root entered with pivot_root,
//!   /proc, /dev, /sys, masked paths, dropped capabilities, a cgroup with
//!   memory, CPU and pids limits; cleanup included;
//! - k8s-mini without the cgroup: the same container, to show what joining
//!   a cgroup costs on its own (on cgroup v1, moving a process into a
//!   cgroup waits for an RCU grace period, milliseconds on a quiet machine);
//! - `unshare --pid --fork --mount --uts --ipc --net chroot ROOTFS /bin/true`;
//! - `runc run` on a bundle of the same root filesystem.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::chapters::cgroups::{CgroupName, Cgroups, Limits};
use crate::chapters::filesystem::{ContainerRequest, Containers};
use crate::chapters::namespaces::{Isolation, Runtime};
use crate::chapters::process::{Event, RestartPolicy, Supervisor};

#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// What to measure: containers against unshare and runc (chapter 04),
    /// bursts of pods against bursts of bare containers (chapter 05), the
    /// API server under load (chapter 07), pod start through the API
    /// against the direct burst (chapter 08), the scheduler (chapter 09),
    /// the controllers (chapter 10) or the Service proxy against going
    /// straight to the pod (chapter 11)
    #[arg(value_enum, default_value = "containers")]
    what: What,
    /// Pods and pod-start: how many bursts of --count; proxy: how many
    /// rounds of every case, each way
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// Api only: how many watchers an event fans out to
    #[arg(long, default_value_t = 100)]
    watchers: usize,
    /// Pods only: how many starts may be in flight at once [default: all
    /// of --count, a burst]
    #[arg(long)]
    parallel: Option<usize>,
    /// Containers: each contender starts this many; pods and pod-start:
    /// the size of a burst; controllers: the scale-up; proxy: the
    /// connections of the many-connection case [default: 50; 100 for
    /// pod-start and controllers]
    #[arg(long)]
    count: Option<usize>,
    /// Controllers only: how many Deployments the controllers alone
    /// (no agents) get at once
    #[arg(long, default_value_t = 1000)]
    deployments: usize,
    /// Controllers only: the replicas of each of --deployments
    #[arg(long, default_value_t = 10)]
    replicas: usize,
    /// Scheduler only: how many Node objects
    #[arg(long, default_value_t = 1000)]
    nodes: usize,
    /// Scheduler only: how many pods to bind
    #[arg(long, default_value_t = 10000)]
    pods: usize,
    /// Proxy only: how long each request case runs, per round and way
    #[arg(long, default_value_t = 3.0)]
    seconds: f64,
    /// Proxy only: the size of the bulk transfer, in MiB
    #[arg(long, default_value_t = 1024)]
    bulk_mib: u64,
    /// Leave runc out (when it is not installed)
    #[arg(long)]
    no_runc: bool,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum What {
    Containers,
    Pods,
    Api,
    /// Pod start through the API server and a node agent, against
    /// chapter 05's direct burst
    PodStart,
    Scheduler,
    /// Deployments scaled, rolled out and failed over by chapter 10's
    /// controllers (one node agent), each against a reference; --count is
    /// the scale-up [default: 100]
    Controllers,
    /// Chapter 11's Service proxy against straight to the pod: small HTTP
    /// requests over 1 and --count connections for --seconds, and one
    /// bulk transfer of --bulk-mib, per round (needs root)
    Proxy,
}

pub async fn run(args: BenchArgs, data_dir: &Path) -> anyhow::Result<i32> {
    let count = args.count.unwrap_or(match args.what {
        What::PodStart | What::Controllers => 100,
        _ => 50,
    });
    match args.what {
        What::Pods => {
            let parallel = args.parallel.unwrap_or(count);
            return crate::bench_pods::run(count, args.rounds, parallel, data_dir).await;
        }
        What::PodStart => return crate::bench_pod_start::run(count, args.rounds, data_dir).await,
        What::Api => return crate::bench_api::run(args.watchers).await,
        What::Scheduler => return crate::bench_scheduler::run(args.nodes, args.pods).await,
        What::Controllers => {
            return crate::bench_controllers::run(count, args.deployments, args.replicas, data_dir)
                .await;
        }
        What::Proxy => {
            return crate::bench_proxy::run(args.rounds, args.seconds, count, args.bulk_mib).await;
        }
        What::Containers => {}
    }
    if !nix::unistd::geteuid().is_root() {
        bail!("the benchmark compares against unshare and runc, which need root: run it with sudo");
    }
    if cfg!(debug_assertions) {
        eprintln!(
            "note: this is a debug build; for figures worth quoting use `cargo run --release -p k8s-mini -- bench`"
        );
    }
    let store = crate::image::open_store(data_dir)?;
    let image = store
        .get("busybox")
        .context("the benchmark runs /bin/true from the busybox image")?;
    let work = tempfile::Builder::new()
        .prefix("k8s-mini-bench-")
        .tempdir()?;
    let instance = format!("bench-{}", std::process::id());
    let program = std::env::current_exe()?;
    let containers = Containers::new(
        Runtime::new(&program, &instance),
        store,
        work.path().join("containers"),
    )?;
    let cgroups = Cgroups::detect()?;
    let bundle = if args.no_runc {
        None
    } else {
        Some(runc_bundle(work.path(), &image.rootfs)?)
    };

    let mut k8s_mini = Vec::new();
    let mut no_cgroup = Vec::new();
    let mut unshare = Vec::new();
    let mut runc = Vec::new();
    eprint!("{count} rounds: ");
    for round in 0..count {
        let name = format!("c{round}");
        k8s_mini.push(time_k8s_mini(&containers, Some(&cgroups), &instance, &name).await?);
        let name = format!("n{round}");
        no_cgroup.push(time_k8s_mini(&containers, None, &instance, &name).await?);
        unshare.push(time_command(
            Command::new("unshare")
                .args([
                    "--pid", "--fork", "--mount", "--uts", "--ipc", "--net", "chroot",
                ])
                .arg(&image.rootfs)
                .arg("/bin/true"),
        )?);
        if let Some(bundle) = &bundle {
            let state = work.path().join("runc-state");
            runc.push(time_command(
                Command::new("runc")
                    .arg("--root")
                    .arg(&state)
                    .args(["run", "--bundle"])
                    .arg(bundle)
                    .arg(format!("{instance}-{round}")),
            )?);
        }
        if round % 10 == 9 {
            eprint!("{} ", round + 1);
        }
    }
    eprintln!();
    cgroups.remove(&CgroupName::instance(&instance)?)?;
    let reference = median(&mut k8s_mini);
    println!(
        "{:<44} {:>10} {:>10} {:>10}",
        "CONTENDER (start /bin/true, wait, clean up)", "MEDIAN", "P90", "VS K8S-MINI"
    );
    report(
        "k8s-mini (all namespaces, overlay, cgroup)",
        &mut k8s_mini,
        reference,
    );
    report("k8s-mini without the cgroup", &mut no_cgroup, reference);
    report(
        "unshare ... chroot (namespaces, no root fs)",
        &mut unshare,
        reference,
    );
    if !runc.is_empty() {
        report("runc run (bundle of the same rootfs)", &mut runc, reference);
    }
    Ok(0)
}

/// One container of the busybox image running /bin/true, from nothing to
/// nothing: directory, cgroup (when `cgroups` is given), start, exit,
/// removal.
async fn time_k8s_mini(
    containers: &Containers,
    cgroups: Option<&Cgroups>,
    instance: &str,
    name: &str,
) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let limits = Limits {
        memory_bytes: Some(64 << 20),
        cpu_limit_millis: Some(1000),
        cpu_request_millis: None,
        pids_max: Some(100),
    };
    let cgroup = match cgroups {
        Some(cgroups) => Some(cgroups.create(&CgroupName::new(instance, &[name])?, &limits)?),
        None => None,
    };
    let mut isolation = Isolation::container(false);
    if let Some(cgroup) = &cgroup {
        isolation.cgroup_procs = cgroup.procs_files();
    }
    let request = ContainerRequest {
        name: name.to_string(),
        image: "busybox".into(),
        command: vec!["/bin/true".into()],
        ..ContainerRequest::default()
    };
    let (mut spec, root) = containers.create(&request, &isolation)?;
    spec.restart_policy = RestartPolicy::Never;
    let mut supervisor = Supervisor::start(spec).await?;
    let mut status = None;
    while let Some(event) = supervisor.next_event().await {
        if let Event::Exited { status: exit } = event {
            status = Some(exit);
        }
    }
    supervisor.wait().await?;
    root.remove()?;
    if let Some(cgroup) = cgroup {
        cgroup.remove()?;
    }
    let elapsed = started.elapsed();
    match status {
        Some(status) if status.success() => Ok(elapsed),
        other => bail!(
            "the k8s-mini container ended with {other:?}; see {}",
            containers.dir(name).display()
        ),
    }
}

fn time_command(command: &mut Command) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let output = command
        .stdin(Stdio::null())
        .output()
        .context("cannot run a reference")?;
    let elapsed = started.elapsed();
    if !output.status.success() {
        bail!(
            "{command:?} failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(elapsed)
}

/// A runc bundle whose root is the image's root filesystem, read-only,
/// running /bin/true without a terminal.
fn runc_bundle(work: &Path, rootfs: &Path) -> anyhow::Result<PathBuf> {
    let bundle = work.join("bundle");
    std::fs::create_dir_all(&bundle)?;
    let status = Command::new("runc")
        .arg("spec")
        .current_dir(&bundle)
        .status()
        .context("runc is not installed: apt-get install runc, or use --no-runc")?;
    if !status.success() {
        bail!("`runc spec` failed");
    }
    let path = bundle.join("config.json");
    let mut config: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path)?)?;
    config["root"]["path"] = rootfs.display().to_string().into();
    config["root"]["readonly"] = true.into();
    config["process"]["args"] = serde_json::json!(["/bin/true"]);
    config["process"]["terminal"] = false.into();
    std::fs::write(&path, serde_json::to_string_pretty(&config)?)?;
    Ok(bundle)
}

/// The `q` quantile (0.5 the median, 1.0 the maximum) of samples sorted
/// from fastest to slowest; every benchmark reports with this one.
pub fn percentile(sorted: &[Duration], q: f64) -> Duration {
    sorted[((sorted.len() as f64 * q) as usize).min(sorted.len() - 1)]
}

fn median(samples: &mut [Duration]) -> Duration {
    samples.sort();
    percentile(samples, 0.5)
}

fn report(name: &str, samples: &mut [Duration], reference: Duration) {
    samples.sort();
    let median = percentile(samples, 0.5);
    let p90 = percentile(samples, 0.9);
    let ratio = median.as_secs_f64() / reference.as_secs_f64();
    println!(
        "{name:<44} {:>8.2}ms {:>8.2}ms {:>9.2}x",
        median.as_secs_f64() * 1000.0,
        p90.as_secs_f64() * 1000.0,
        ratio
    );
}
