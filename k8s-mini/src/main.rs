//! `k8s-mini`: the orchestrator the workshop's chapters add up to.
//!
//! Each subcommand is assembled from the reference solutions in
//! `solutions/` (or, with a `learner-NN` feature, from your exercise).

mod chapters;
mod duration;
mod run;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "k8s-mini",
    version,
    about = "A small but real Kubernetes, built chapter by chapter"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a command under supervision: restarts with back-off, logs,
    /// graceful stop (chapter 01)
    Run(run::RunArgs),
}

fn main() -> std::process::ExitCode {
    // Before anything else, and before any thread exists: this process may
    // be the init program of a container (chapter 02).
    chapters::namespaces::run_init_if_requested();
    let cli = Cli::parse();
    let learner = chapters::learner_chapters();
    if !learner.is_empty() {
        eprintln!(
            "k8s-mini: built with YOUR code for chapter(s) {}",
            learner.join(", ")
        );
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("k8s-mini: cannot start the async runtime: {error}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Run(args) => run::run(args).await,
        }
    });
    match result {
        Ok(code) => std::process::ExitCode::from(u8::try_from(code).unwrap_or(1)),
        Err(error) => {
            eprintln!("k8s-mini: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
