//! `k8s-mini proxy`: the Service proxy of chapter 11, one per node (as
//! kube-proxy). It puts every ClusterIP on an interface of its own and
//! carries each ClusterIP:port, and each NodePort on the node's addresses,
//! to the Service's ready endpoints. Stopping it (Ctrl-C, SIGTERM) closes
//! the listeners and lets the connections it carries finish (up to
//! `--drain-timeout`; a second signal cuts them), so that a proxy started
//! meanwhile takes over the interface and the new connections: a restart
//! cuts no established connection. The last one out removes the interface.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use nix::fcntl::{Flock, FlockArg};

use crate::chapters::pods::network::{Subnet, dummy_name};
use crate::chapters::services::proxy::{Config, Proxy};
use crate::duration::parse_duration;

#[derive(Debug, clap::Args)]
pub struct ProxyArgs {
    /// The API server to work with
    #[arg(long, value_name = "URL", default_value = "http://127.0.0.1:6443")]
    server: String,
    /// A file holding the bearer token to send
    #[arg(long, value_name = "FILE")]
    token_file: Option<PathBuf>,
    /// Listen on NodePorts only on this node's addresses within these
    /// subnets (comma-separated CIDRs, e.g. 127.0.0.0/8) [default: every
    /// address]
    #[arg(long, value_name = "CIDRS", value_delimiter = ',')]
    nodeport_addresses: Vec<Subnet>,
    /// Names this proxy's interface (kmsvc-<tag>) and lock: one proxy per
    /// instance
    #[arg(long, default_value = "proxy", value_name = "NAME")]
    instance: String,
    /// How long a UDP client's association lives without traffic
    #[arg(long, default_value = "10s", value_name = "DURATION", value_parser = parse_duration)]
    udp_timeout: Duration,
    /// Sync this often without a change (retries ports that were taken)
    #[arg(long, default_value = "10s", value_name = "DURATION", value_parser = parse_duration)]
    sync_period: Duration,
    /// On stop, let established connections finish for this long before
    /// cutting them
    #[arg(long, default_value = "30s", value_name = "DURATION", value_parser = parse_duration)]
    drain_timeout: Duration,
    /// How much to log: error, warn, info (listeners opened and closed) or
    /// debug (every sync and connection)
    #[arg(long, default_value = "info")]
    log_level: tracing::Level,
}

pub async fn run(args: ProxyArgs, data_dir: &Path) -> anyhow::Result<i32> {
    crate::connect::init_logging(args.log_level);
    let client = crate::connect::client(&args.server, args.token_file.as_deref())?;
    let lock = lock_when_free(&args.instance, data_dir).await?;
    let config = Config {
        instance: args.instance.clone(),
        nodeport_addresses: args.nodeport_addresses.clone(),
        udp_idle: args.udp_timeout,
        resync: args.sync_period.max(Duration::from_millis(100)),
        ..Config::default()
    };
    let proxy = Proxy::start(client, config)
        .await
        .with_context(|| format!("cannot start the proxy against {}", args.server))?;
    let nodeports = match args.nodeport_addresses.as_slice() {
        [] => "every address".to_string(),
        subnets => subnets
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", "),
    };
    eprintln!(
        "k8s-mini proxy: serving the Services of {} (ClusterIPs on {}, NodePorts on {nodeports})",
        args.server,
        proxy.interface()
    );
    crate::apiserver::wait_for_signal().await?;
    eprintln!(
        "k8s-mini proxy: stopping: no new connections; the established ones may finish for {:?} (a second Ctrl-C cuts them)",
        args.drain_timeout
    );
    let cut = proxy.cutter();
    let second = tokio::spawn(async move {
        if crate::apiserver::wait_for_signal().await.is_ok() {
            eprintln!("k8s-mini proxy: cutting the connections");
            cut();
        }
    });
    let mut lock = Some(lock);
    let interface = proxy.drain(args.drain_timeout, || drop(lock.take())).await;
    second.abort();
    // A successor holds the lock: the interface is its now.
    match (interface, self::lock(&args.instance, data_dir)) {
        (Some(interface), Ok(_free)) => interface.remove()?,
        (Some(interface), Err(_)) => {
            eprintln!(
                "k8s-mini proxy: a new proxy took over {}",
                dummy_name(&args.instance)
            );
            interface.keep();
        }
        (None, _) => {}
    }
    eprintln!("k8s-mini proxy: stopped");
    Ok(0)
}

/// A proxy restarted while the old one stops: the old one lets go of the
/// instance as soon as its listeners are closed, so wait a little.
async fn lock_when_free(instance: &str, data_dir: &Path) -> anyhow::Result<Flock<File>> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let mut said = false;
    loop {
        match lock(instance, data_dir) {
            Ok(lock) => return Ok(lock),
            Err(error) if tokio::time::Instant::now() >= deadline => return Err(error),
            Err(error) => {
                if !said {
                    eprintln!("k8s-mini proxy: {error}; waiting up to 10 s for it to stop");
                    said = true;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

fn lock_path(instance: &str, data_dir: &Path) -> PathBuf {
    data_dir.join("proxies").join(format!("{instance}.lock"))
}

/// Holds the instance for this run: a second proxy of the same instance
/// would take the first one's interface away.
fn lock(instance: &str, data_dir: &Path) -> anyhow::Result<Flock<File>> {
    let path = lock_path(instance, data_dir);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let file = File::create(&path).with_context(|| format!("cannot open {}", path.display()))?;
    Flock::lock(file, FlockArg::LockExclusiveNonblock).map_err(|(_, errno)| {
        anyhow::anyhow!(
            "another `k8s-mini proxy --instance {instance}` runs here ({}): {errno}",
            dummy_name(instance)
        )
    })
}

/// Whether a `k8s-mini proxy` of `instance` runs (holds its lock), for
/// `k8s-mini reset`, which must not take a live proxy's interface away.
pub fn running(instance: &str, data_dir: &Path) -> bool {
    let Ok(file) = File::open(lock_path(instance, data_dir)) else {
        return false;
    };
    Flock::lock(file, FlockArg::LockSharedNonblock).is_err()
}
