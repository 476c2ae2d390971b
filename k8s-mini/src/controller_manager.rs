//! `k8s-mini controller-manager`: the controllers of chapter 10 and the
//! endpoints controller of chapter 11 in one process, as
//! kube-controller-manager. Several may run at once: they elect a leader
//! on the Lease `kube-system/k8s-mini-controller-manager`, only the
//! leader runs the controllers, and another takes over within the
//! lease duration when it dies. A leader that loses its lease exits (a
//! fresh process starts as a follower, with fresh caches); a stopped one
//! (Ctrl-C, SIGTERM) releases the lease first, so the next takes over at
//! once.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::ArgAction;

use crate::chapters::controllers::controller::Settings;
use crate::chapters::controllers::leader::{self, Leadership};
use crate::chapters::controllers::manager::{self, ControllerManager, Ended};
use crate::chapters::controllers::nodelifecycle::NodeLifecycleConfig;
use crate::duration::parse_duration;

#[derive(Debug, clap::Args)]
pub struct ControllerManagerArgs {
    /// The API server to work with
    #[arg(long, value_name = "URL", default_value = "http://127.0.0.1:6443")]
    server: String,
    /// A file holding the bearer token to send
    #[arg(long, value_name = "FILE")]
    token_file: Option<PathBuf>,
    /// This process's name in the lease [default: <hostname>_<pid>]
    #[arg(long, value_name = "ID")]
    identity: Option<String>,
    /// Elect a leader, so that of several controller-managers only one acts
    #[arg(long, default_value_t = true, action = ArgAction::Set, value_name = "BOOL")]
    leader_elect: bool,
    /// How long followers wait after the leader's last renewal before
    /// taking over
    #[arg(long, default_value = "15s", value_name = "DURATION", value_parser = parse_duration)]
    lease_duration: Duration,
    /// How long the leader keeps trying to renew before it gives up
    #[arg(long, default_value = "10s", value_name = "DURATION", value_parser = parse_duration)]
    renew_deadline: Duration,
    /// How often to try to acquire, or renew, the lease
    #[arg(long, default_value = "2s", value_name = "DURATION", value_parser = parse_duration)]
    retry_period: Duration,
    /// Reconciles at once, per controller (of different objects)
    #[arg(long, default_value_t = 5, value_name = "N")]
    workers: usize,
    /// Reconcile every object this often even without a change (0: never)
    #[arg(long, default_value = "30s", value_name = "DURATION", value_parser = parse_duration)]
    resync_period: Duration,
    /// How long a node's agent may be silent before the node is
    /// unreachable (tainted; its pods evicted once their tolerations run
    /// out, 300 s unless they say otherwise). Keep it several times the
    /// agents' --lease-interval (Kubernetes: 40 s against 10 s), or
    /// healthy nodes flap
    #[arg(long, default_value = "40s", value_name = "DURATION", value_parser = parse_duration)]
    node_monitor_grace_period: Duration,
    /// How often each node is looked at without a change
    #[arg(long, default_value = "5s", value_name = "DURATION", value_parser = parse_duration)]
    node_monitor_period: Duration,
    /// How much to log: error, warn, info or debug (every reconcile)
    #[arg(long, default_value = "info")]
    log_level: tracing::Level,
}

/// kube-controller-manager's identity is `<hostname>_<uuid>`: unique
/// among the candidates. The pid is unique on this machine.
fn default_identity() -> String {
    let host = nix::unistd::gethostname()
        .ok()
        .and_then(|name| name.into_string().ok())
        .unwrap_or_else(|| "localhost".into());
    format!("{host}_{}", std::process::id())
}

pub async fn run(args: ControllerManagerArgs) -> anyhow::Result<i32> {
    crate::connect::init_logging(args.log_level);
    let client = crate::connect::client(&args.server, args.token_file.as_deref())?;
    let identity = args.identity.clone().unwrap_or_else(default_identity);
    let election = args.leader_elect.then(|| leader::Config {
        lease_duration: args.lease_duration,
        renew_deadline: args.renew_deadline,
        retry_period: args.retry_period,
        ..leader::Config::new(identity.clone())
    });
    let options = manager::Options {
        node_lifecycle: NodeLifecycleConfig {
            grace_period: args.node_monitor_grace_period,
            monitor_period: args.node_monitor_period,
        },
    };
    let mut controllers = manager::default_controllers(&options);
    // Chapter 11: the EndpointSlices and Endpoints of every Service.
    controllers.push(crate::chapters::services::endpoints::registration(
        crate::chapters::services::endpoints::Config::default(),
    ));
    let names = match controllers.len() {
        0 => "none yet".to_string(),
        _ => controllers
            .iter()
            .map(|c| c.name)
            .collect::<Vec<_>>()
            .join(", "),
    };
    let config = manager::Config {
        leader_election: election.clone(),
        settings: Settings {
            workers: args.workers.max(1),
            resync: Some(args.resync_period).filter(|period| !period.is_zero()),
            ..Settings::default()
        },
        controllers,
    };
    let mut manager = ControllerManager::start(client, config)
        .await
        .with_context(|| {
            format!(
                "cannot start the controller-manager against {}",
                args.server
            )
        })?;
    match &election {
        Some(election) => eprintln!(
            "k8s-mini controller-manager: {identity} campaigning for the lease {}/{} (controllers: {names})",
            election.namespace, election.name,
        ),
        None => eprintln!(
            "k8s-mini controller-manager: {identity} without leader election (controllers: {names})"
        ),
    }
    let mut leadership = manager.leadership();
    let signal = crate::apiserver::wait_for_signal();
    tokio::pin!(signal);
    let mut watching = true;
    loop {
        tokio::select! {
            result = &mut signal => {
                result?;
                eprintln!("k8s-mini controller-manager: {identity} stopping");
                return Ok(match manager.stop(Duration::from_secs(5)).await {
                    Ended::Failed(message) => bail!(message),
                    _ => 0,
                });
            }
            changed = leadership.changed(), if watching => {
                if changed.is_err() {
                    // The manager ended: `ended` says how.
                    watching = false;
                    continue;
                }
                if *leadership.borrow_and_update() == Leadership::Leading {
                    eprintln!("k8s-mini controller-manager: {identity} is the leader");
                }
            }
            ended = manager.ended() => return match ended {
                Ended::LostLeadership => {
                    eprintln!("k8s-mini controller-manager: {identity} lost the leadership: exiting");
                    Ok(1)
                }
                Ended::Failed(message) => bail!(message),
                Ended::Stopped => Ok(0),
            },
        }
    }
}
