//! `k8s-mini scheduler`: the scheduler of chapter 09, as its own process.
//! It places the pods that have no node on the nodes the API server knows,
//! and logs every decision on stderr.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;

use crate::chapters::scheduler::{Config, Scheduler};

#[derive(Debug, clap::Args)]
pub struct SchedulerArgs {
    /// The API server to work with
    #[arg(long, default_value = "http://127.0.0.1:6443")]
    server: String,
    /// A file holding the bearer token to send
    #[arg(long, value_name = "FILE")]
    token_file: Option<PathBuf>,
    /// Serve the pods whose spec.schedulerName is this
    #[arg(long, default_value = "default-scheduler")]
    scheduler_name: String,
    /// How much to log: error, warn, info (every decision) or debug
    #[arg(long, default_value = "info")]
    log_level: tracing::Level,
    /// Bindings in flight at once
    #[arg(long, default_value_t = 64)]
    parallel_binds: usize,
}

pub async fn run(args: SchedulerArgs) -> anyhow::Result<i32> {
    crate::connect::init_logging(args.log_level);
    let client = crate::connect::client(&args.server, args.token_file.as_deref())?;
    let config = Config {
        scheduler_name: args.scheduler_name.clone(),
        bind_parallelism: args.parallel_binds,
        ..Config::default()
    };
    let scheduler = Scheduler::start(client, config)
        .await
        .with_context(|| format!("cannot start the scheduler against {}", args.server))?;
    eprintln!(
        "k8s-mini scheduler: placing the pods of {:?} on the nodes of {}",
        args.scheduler_name, args.server
    );
    crate::apiserver::wait_for_signal().await?;
    eprintln!("k8s-mini scheduler: stopping");
    scheduler.stop(Duration::from_secs(5)).await;
    Ok(0)
}
