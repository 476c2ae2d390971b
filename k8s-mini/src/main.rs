//! `k8s-mini`: the orchestrator the workshop's chapters add up to.
//!
//! Each subcommand is assembled from the reference solutions in
//! `solutions/` (or, with a `learner-NN` feature, from your exercise).

mod apiserver;
mod bench;
mod bench_api;
mod bench_controllers;
mod bench_pod_start;
mod bench_pods;
mod bench_proxy;
mod bench_scheduler;
mod chapters;
mod connect;
mod container;
mod controller_manager;
mod data_dir;
mod dns;
mod duration;
mod image;
mod node;
mod proxy;
mod quantity;
mod reset;
mod run;
mod scheduler;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// The API server allocates and frees small objects on many threads at
/// once; glibc's allocator spent a fifth of its time on that under load
/// (perf), mimalloc a fraction of it.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Debug, Parser)]
#[command(
    name = "k8s-mini",
    version,
    about = "A small but real Kubernetes, built chapter by chapter"
)]
struct Cli {
    /// Where images and containers' state are kept
    /// [default: /var/lib/k8s-mini for root, else ~/.local/share/k8s-mini]
    #[arg(long, global = true, env = "K8S_MINI_DATA_DIR", value_name = "DIR")]
    data_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a command under supervision: restarts with back-off, logs,
    /// graceful stop (chapter 01), optionally in a container (02-04)
    Run(run::RunArgs),
    /// Manage the local image store (chapter 03)
    #[command(subcommand)]
    Image(image::ImageCommand),
    /// Measure container start latency against unshare and runc, or pod
    /// start latency in bursts
    Bench(bench::BenchArgs),
    /// Serve the Kubernetes API (chapter 07): kubectl and the official
    /// clients work against it
    Apiserver(apiserver::ApiServerArgs),
    /// Run the node agent (chapter 08): register a node, keep its lease,
    /// run the pods bound to it
    Node(node::NodeArgs),
    /// Run the scheduler (chapter 09): bind the pods that have no node to
    /// the nodes that fit them best
    Scheduler(scheduler::SchedulerArgs),
    /// Run the controllers (chapter 10): ReplicaSets, Deployments, node
    /// lifecycle (pods off dead nodes), garbage collection; with leader
    /// election, so that of several only one acts
    ControllerManager(controller_manager::ControllerManagerArgs),
    /// Run the cluster DNS (chapter 11): answer Services' names, register
    /// as kube-system/kube-dns, forward other names to the host's resolver
    Dns(dns::DnsArgs),
    /// Run the Service proxy (chapter 11): make each Service's ClusterIP
    /// and NodePorts reach its ready endpoints, on this node
    Proxy(proxy::ProxyArgs),
    /// Remove what crashed runs left behind: container directories and
    /// cgroups whose processes are gone
    Reset(reset::ResetArgs),
}

fn block_on(work: impl std::future::Future<Output = anyhow::Result<i32>>) -> anyhow::Result<i32> {
    tokio::runtime::Runtime::new()
        .map_err(|error| anyhow::anyhow!("cannot start the async runtime: {error}"))?
        .block_on(work)
}

fn main() -> std::process::ExitCode {
    // Before anything else, and before any thread exists: this process may
    // be a container's init program, or the program of a built-in image
    // (chapters 02 and 03).
    chapters::filesystem::run_init_if_requested();
    let cli = Cli::parse();
    let learner = chapters::learner_chapters();
    if !learner.is_empty() {
        eprintln!(
            "k8s-mini: built with YOUR code for chapter(s) {}",
            learner.join(", ")
        );
    }
    let data_dir = cli.data_dir.unwrap_or_else(data_dir::default_data_dir);
    let result = match cli.command {
        Command::Image(command) => image::run(command, &data_dir),
        Command::Reset(args) => reset::run(args, &data_dir),
        Command::Run(args) => block_on(run::run(args, &data_dir)),
        Command::Bench(args) => block_on(bench::run(args, &data_dir)),
        Command::Apiserver(args) => block_on(apiserver::run(args, &data_dir)),
        Command::Scheduler(args) => block_on(scheduler::run(args)),
        Command::ControllerManager(args) => block_on(controller_manager::run(args)),
        Command::Dns(args) => block_on(dns::run(args)),
        Command::Node(args) => block_on(node::run(args, &data_dir)),
        Command::Proxy(args) => block_on(proxy::run(args, &data_dir)),
    };
    match result {
        Ok(code) => std::process::ExitCode::from(u8::try_from(code).unwrap_or(1)),
        Err(error) => {
            eprintln!("k8s-mini: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
