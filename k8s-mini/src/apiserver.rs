//! `k8s-mini apiserver`: the Kubernetes API server of chapter 07, alone.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;

use crate::chapters::apiserver::server::{
    ApiServer, Config, DEFAULT_NODE_PORT_RANGE, DEFAULT_SERVICE_CIDR, Ipv4Cidr, PortRange,
};

#[derive(Debug, clap::Args)]
pub struct ApiServerArgs {
    /// Address and port to listen on (loopback unless you mean otherwise)
    #[arg(long, default_value = "127.0.0.1:6443")]
    listen: SocketAddr,
    /// A file holding the bearer token every request must carry (kubectl
    /// sends tokens only over https, so this is for other clients)
    #[arg(long, value_name = "FILE")]
    token_file: Option<PathBuf>,
    /// Keep nothing on disk (for experiments: everything is lost at exit)
    #[arg(long)]
    in_memory: bool,
    /// The CIDR Services' ClusterIPs come from (IPv4, /12 to /30); the
    /// cluster DNS expects its tenth address
    #[arg(long, value_name = "CIDR", default_value = DEFAULT_SERVICE_CIDR)]
    service_cluster_ip_range: Ipv4Cidr,
    /// The ports NodePort Services open on every node, as FIRST-LAST
    #[arg(long, value_name = "RANGE", default_value = DEFAULT_NODE_PORT_RANGE)]
    service_node_port_range: PortRange,
}

pub async fn run(args: ApiServerArgs, data_dir: &Path) -> anyhow::Result<i32> {
    let token = match &args.token_file {
        Some(path) => {
            let token = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the token file {}", path.display()))?;
            let token = token.trim().to_string();
            anyhow::ensure!(
                !token.is_empty(),
                "the token file {} is empty",
                path.display()
            );
            Some(token)
        }
        None => None,
    };
    if !args.listen.ip().is_loopback() && token.is_none() {
        eprintln!(
            "k8s-mini: warning: listening on {} without --token-file: anyone who can reach it can change the cluster",
            args.listen
        );
    }
    let config = Config {
        listen: args.listen,
        data_dir: (!args.in_memory).then(|| data_dir.to_path_buf()),
        token,
        service_cluster_ip_range: args.service_cluster_ip_range,
        service_node_port_range: args.service_node_port_range,
        ..Config::default()
    };
    let server = ApiServer::start(config).await?;
    eprintln!(
        "k8s-mini apiserver: serving the Kubernetes API on {} (data in {})",
        server.url(),
        if args.in_memory {
            "memory".to_string()
        } else {
            data_dir.join("store").display().to_string()
        }
    );
    tokio::select! {
        result = wait_for_signal() => result?,
    }
    eprintln!("k8s-mini apiserver: stopping");
    server.stop(Duration::from_secs(5)).await;
    Ok(0)
}

pub async fn wait_for_signal() -> anyhow::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut terminate = signal(SignalKind::terminate())?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate.recv() => {}
    }
    Ok(())
}
