//! `k8s-mini dns`: the cluster DNS of chapter 11, as its own process. It
//! answers `<service>.<namespace>.svc.<domain>` from the API server's
//! Services and EndpointSlices, forwards other names to the host's
//! resolver, and registers itself as the endpoint of `kube-system/kube-dns`
//! (one DNS per cluster), whose ClusterIP the pods' resolv.conf names.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;

use crate::chapters::services::dns::{Config, DnsServer};

#[derive(Debug, clap::Args)]
pub struct DnsArgs {
    /// The API server to work with
    #[arg(long, default_value = "http://127.0.0.1:6443")]
    server: String,
    /// A file holding the bearer token to send
    #[arg(long, value_name = "FILE")]
    token_file: Option<PathBuf>,
    /// Where to answer, UDP and TCP (the proxy carries the kube-dns
    /// Service's port 53 here, so no privileged port is needed)
    #[arg(long, default_value = "127.0.0.1:1053", value_name = "ADDR:PORT")]
    listen: SocketAddr,
    /// The ClusterIP of the kube-dns Service (the tenth address of the
    /// service CIDR): what the nodes' --cluster-dns names
    #[arg(long, default_value = "10.96.0.10", value_name = "IP")]
    cluster_ip: Ipv4Addr,
    /// The cluster's domain, as the nodes' --cluster-domain
    #[arg(long, default_value = "cluster.local")]
    cluster_domain: String,
    /// Where to send names outside the cluster domain
    /// [default: the first nameserver of /etc/resolv.conf, port 53]
    #[arg(long, value_name = "ADDR:PORT")]
    upstream: Option<SocketAddr>,
    /// How long an upstream may take before the client gets SERVFAIL
    #[arg(long, default_value = "2s", value_parser = crate::duration::parse_duration)]
    forward_timeout: Duration,
    /// How much to log: error, warn, info or debug (every failed forward)
    #[arg(long, default_value = "info")]
    log_level: tracing::Level,
}

pub async fn run(args: DnsArgs) -> anyhow::Result<i32> {
    crate::connect::init_logging(args.log_level);
    let client = crate::connect::client(&args.server, args.token_file.as_deref())?;
    let config = Config {
        listen: args.listen,
        domain: args.cluster_domain.clone(),
        cluster_ip: args.cluster_ip,
        upstream: args.upstream,
        forward_timeout: args.forward_timeout,
        ..Config::default()
    };
    let dns = DnsServer::start(client, config)
        .await
        .with_context(|| format!("cannot start the cluster DNS against {}", args.server))?;
    eprintln!(
        "k8s-mini dns: serving {} on {} (UDP and TCP), reached at {}:53",
        args.cluster_domain,
        dns.local_addr(),
        args.cluster_ip
    );
    crate::apiserver::wait_for_signal().await?;
    eprintln!("k8s-mini dns: stopping");
    dns.stop().await;
    Ok(0)
}
