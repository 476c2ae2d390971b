//! `k8s-mini node`: the node agent of chapter 08 as its own process. It
//! registers the node with the API server, keeps its lease fresh, runs the
//! pods bound to it, and serves their logs and exec on the node's address.
//!
//! Stopping it (Ctrl-C, SIGTERM) leaves the pods running, as stopping a
//! kubelet does, and so does killing it: the next run adopts those the API
//! still wants (same processes, same restart counts) and removes the
//! others. With `--drain-on-exit` it deletes them before it ends.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use nix::fcntl::{Flock, FlockArg};

use crate::chapters::kubelet::resources::Allocatable;
use crate::chapters::kubelet::{Config, Kubelet, node, server};
use crate::chapters::pods::network::{self, NodeConfig, NodeNetwork, Subnet};
use crate::chapters::pods::{PodRuntime, RuntimeConfig};
use crate::chapters::process::Backoff;
use crate::duration::parse_duration;
use crate::quantity::{parse_cpu, parse_memory};

#[derive(Debug, clap::Args)]
pub struct NodeArgs {
    /// The API server's URL
    #[arg(long, value_name = "URL")]
    server: String,
    /// The node's name (its Node object, its lease)
    #[arg(long)]
    name: String,
    /// A file holding the bearer token for the API server
    #[arg(long, value_name = "FILE")]
    token_file: Option<PathBuf>,
    /// The node's address: its InternalIP, where its logs and exec server
    /// listens
    #[arg(long, default_value = "127.0.0.1")]
    address: IpAddr,
    /// The port of the logs and exec server (0: any free port)
    #[arg(long, default_value_t = 10250)]
    port: u16,
    /// The node's pod subnet [default: a free /24 of 10.244.0.0/16]
    #[arg(long, value_name = "CIDR")]
    pod_cidr: Option<Subnet>,
    /// CPU offered to pods [default: the machine's cpus]
    #[arg(long, value_parser = parse_cpu)]
    cpu: Option<i64>,
    /// Memory offered to pods [default: the machine's memory]
    #[arg(long, value_parser = parse_memory)]
    memory: Option<u64>,
    /// How many pods at most
    #[arg(long, default_value_t = node::DEFAULT_MAX_PODS)]
    max_pods: u64,
    /// Renew the node's lease this often
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    lease_interval: Duration,
    /// Write the node's status at least this often (and on every change)
    #[arg(long, default_value = "1m", value_parser = parse_duration)]
    status_interval: Duration,
    /// The first wait before restarting a crashed container (doubles
    /// with each crash)
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    backoff: Duration,
    /// The longest wait before restarting a crashed container
    #[arg(long, default_value = "300s", value_parser = parse_duration)]
    max_backoff: Duration,
    /// Delete every pod of this node when stopping (without it, they keep
    /// running, for the next run to adopt)
    #[arg(long)]
    drain_on_exit: bool,
    /// The cluster DNS that pods (dnsPolicy ClusterFirst) resolve with:
    /// the kube-dns Service's ClusterIP; empty: the node's resolv.conf
    #[arg(long, default_value = "10.96.0.10", value_name = "IP")]
    cluster_dns: String,
    /// The cluster's domain: pods search `<ns>.svc.<domain>`,
    /// `svc.<domain>` and `<domain>`
    #[arg(long, default_value = "cluster.local")]
    cluster_domain: String,
}

/// The instance name of a node's pods: cgroups, directories and
/// interfaces carry it.
fn instance(name: &str) -> String {
    format!("node-{name}")
}

/// A /24 of 10.244.0.0/16 that no interface of this machine uses, the
/// first one from the bottom, or from the top when `from_top` (the pod
/// benchmark takes its subnets from the top, away from the nodes').
pub(crate) fn free_subnet(from_top: bool) -> anyhow::Result<Subnet> {
    let output = std::process::Command::new("ip")
        .args(["-4", "-o", "addr", "show"])
        .output()
        .context("cannot list this machine's addresses with `ip`")?;
    let used = String::from_utf8_lossy(&output.stdout).into_owned();
    let free = |third: &u8| !used.contains(&format!("inet 10.244.{third}."));
    let third = if from_top {
        (0..=255u8).rev().find(free)
    } else {
        (0..=255u8).find(free)
    };
    match third {
        Some(third) => Ok(format!("10.244.{third}.0/24").parse()?),
        None => bail!("every /24 of 10.244.0.0/16 is in use on this machine"),
    }
}

/// The machine-wide lock under which an agent picks its pod subnet and
/// puts it on its bridge (`/run/k8s-mini/subnets.lock`).
fn subnet_lock() -> anyhow::Result<Flock<std::fs::File>> {
    let dir = Path::new("/run/k8s-mini");
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let path = dir.join("subnets.lock");
    let file =
        std::fs::File::create(&path).with_context(|| format!("cannot open {}", path.display()))?;
    Flock::lock(file, FlockArg::LockExclusive)
        .map_err(|(_, errno)| anyhow::anyhow!("cannot lock {}: {errno}", path.display()))
}

/// Gets the node's instance ready for this run, and holds it: the lock
/// returned says that no other `k8s-mini node` of this name runs. The pods
/// a previous run left (killed, or stopped without a drain) keep running
/// for the agent to adopt or discard one by one, so nothing of theirs is
/// touched here; only an instance without any pod left (its interfaces,
/// address allocations, cgroups) is cleared, as `k8s-mini reset
/// --instance` does.
fn take_instance(instance: &str, data_dir: &Path) -> anyhow::Result<Flock<std::fs::File>> {
    let pods_dir = data_dir.join("pods").join(instance);
    let has_pods = std::fs::read_dir(&pods_dir).is_ok_and(|mut entries| entries.next().is_some());
    let lock = || -> anyhow::Result<Flock<std::fs::File>> {
        std::fs::create_dir_all(&pods_dir)
            .with_context(|| format!("cannot create {}", pods_dir.display()))?;
        let dir = std::fs::File::open(&pods_dir)
            .with_context(|| format!("cannot open {}", pods_dir.display()))?;
        Flock::lock(dir, FlockArg::LockExclusiveNonblock).map_err(|(_, errno)| {
            anyhow::anyhow!(
                "another `k8s-mini node` with this name (instance {instance}) runs here: {errno}"
            )
        })
    };
    if has_pods {
        return lock();
    }
    // A run that never had a pod, or drained them all: a lock taken
    // first keeps a concurrent agent from being reset under it.
    let held = lock()?;
    crate::reset::reset_instance(instance, data_dir)?;
    drop(held);
    lock()
}

/// The pod subnet of the instance's bridge, kept from a previous run: its
/// adopted pods have their addresses there.
fn kept_subnet(instance: &str) -> Option<Subnet> {
    let bridge = network::bridge_name(instance);
    let output = std::process::Command::new("ip")
        .args(["-4", "-o", "addr", "show", "dev", &bridge])
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&output.stdout);
    let cidr = text
        .split_whitespace()
        .skip_while(|word| *word != "inet")
        .nth(1)?;
    let (address, prefix) = cidr.split_once('/')?;
    let address: std::net::Ipv4Addr = address.parse().ok()?;
    let prefix: u8 = prefix.parse().ok().filter(|prefix| *prefix <= 32)?;
    let network = std::net::Ipv4Addr::from(u32::from(address) & network::mask(prefix));
    format!("{network}/{prefix}").parse().ok()
}

pub async fn run(args: NodeArgs, data_dir: &Path) -> anyhow::Result<i32> {
    if !nix::unistd::geteuid().is_root() {
        bail!(
            "the node agent runs pods, which need root (namespaces, a bridge, cgroups): run it with sudo"
        );
    }
    let client = crate::connect::client(&args.server, args.token_file.as_deref())?;
    let instance = instance(&args.name);
    let _instance_lock = take_instance(&instance, data_dir)?;
    // Two agents starting at once must not pick the same free subnet: the
    // choice and the bridge that takes it happen under one machine-wide
    // lock, released once the bridge has its address.
    let choosing = subnet_lock()?;
    let pod_cidr = match args.pod_cidr.or_else(|| kept_subnet(&instance)) {
        Some(cidr) => cidr,
        None => free_subnet(false)?,
    };
    let images = crate::image::open_store(data_dir)?;
    let network = NodeNetwork::ensure(NodeConfig {
        instance: instance.clone(),
        pod_cidr,
        cluster_cidrs: vec!["10.244.0.0/16".parse()?, "10.96.0.0/16".parse()?],
        data_dir: data_dir.to_path_buf(),
        netns: None,
    })
    .context("cannot make the node's pod network")?;
    drop(choosing);
    let runtime = PodRuntime::new(RuntimeConfig {
        instance: instance.clone(),
        init_program: std::env::current_exe()?,
        images: images.clone(),
        state_dir: data_dir.to_path_buf(),
        network: Some(network),
    })?;
    let listener = tokio::net::TcpListener::bind(SocketAddr::new(args.address, args.port))
        .await
        .with_context(|| format!("cannot listen on {}:{}", args.address, args.port))?;
    let port = listener.local_addr()?.port();
    let machine = node::machine_capacity();
    let mut config = Config::new(&args.name, args.address, data_dir.to_path_buf());
    config.hostname = args.name.clone();
    config.pod_cidr = Some(pod_cidr.to_string());
    config.capacity = Allocatable {
        cpu_millis: args.cpu.map_or(machine.cpu_millis, |m| m.max(0) as u64),
        memory_bytes: args.memory.unwrap_or(machine.memory_bytes),
        pods: args.max_pods,
    };
    config.port = port;
    config.lease_interval = args.lease_interval;
    config.status_interval = args.status_interval;
    config.backoff = Backoff {
        initial: args.backoff,
        max: args.max_backoff,
        ..Backoff::KUBERNETES
    };
    config.image_backoff = config.backoff;
    config.cluster_dns = match args.cluster_dns.trim() {
        "" => None,
        ip => Some(
            ip.parse()
                .with_context(|| format!("bad --cluster-dns {ip:?}: expected an IP address"))?,
        ),
    };
    config.cluster_domain = args.cluster_domain.clone();
    let kubelet = Kubelet::start(client, runtime.clone(), images, config).await?;
    let (stop_server, server_stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(server::serve(listener, Arc::new(kubelet.pods()), async {
        let _ = server_stopped.await;
    }));
    eprintln!(
        "k8s-mini node: node {} registered with {}; pods on {pod_cidr}, logs and exec on {}:{port}",
        args.name, args.server, args.address
    );
    wait_for_signal().await?;
    let _ = stop_server.send(());
    let _ = server.await;
    if args.drain_on_exit {
        eprintln!("k8s-mini node: deleting this node's pods");
        kubelet.drain().await;
    } else {
        kubelet.stop().await;
    }
    // Pods hold the runtime: it can go only when none is left.
    match Arc::try_unwrap(runtime) {
        Ok(runtime) => runtime.remove()?,
        Err(_) => eprintln!(
            "k8s-mini node: stopped; its pods are left to the next run (--drain-on-exit deletes them)"
        ),
    }
    Ok(0)
}

async fn wait_for_signal() -> anyhow::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut terminate = signal(SignalKind::terminate())?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate.recv() => {}
    }
    Ok(())
}
