//! `k8s-mini bench proxy`: chapter 11's Service proxy against going
//! straight to the endpoint, side by side in one run (the issue's
//! benchmark; the measurements appendix has the figures).
//!
//! Everything runs in this process, as root (the proxy makes an
//! interface): chapter 07's API server (in memory, loopback), the proxy
//! (a unique instance, on worker threads of its own as the process of its
//! own kube-proxy is), and the "pod" (also on threads of its own): a
//! keep-alive HTTP/1.1 responder and a bulk sender on 127.0.250.2. A
//! selector-less Service with a pinned ClusterIP in 10.96.250.0/24 and an
//! EndpointSlice written here point at them; nothing is sent to the
//! ClusterIP before the proxy listens on it and it is a local address
//! (else the packets would take the default route out of the machine).
//!
//! The client (this process's own runtime) is the same code both ways;
//! only the address differs. Each round runs every case on both paths,
//! one after the other, the first path alternating from round to round,
//! after an unmeasured warm-up, so that both see the same machine:
//! 1. small requests (GET, a 3-byte answer) over 1 connection, for
//!    `seconds`: requests per second and latency percentiles;
//! 2. the same over `connections` connections at once;
//! 3. one connection reading `bulk` bytes that the sender writes at once:
//!    the throughput.
//!
//! The traffic's two ends live in `load`, the tables in `report`.
//!
//! Kubernetes' own network benchmark (perf-tests'
//! `network/benchmarks/netperf`) compares the same way: iperf and netperf
//! between two pods of one node by Pod IP, then by the Service's virtual
//! IP.

mod load;
mod report;

use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::json;
use tokio::net::TcpListener;

use crate::bench_controllers::Threads;
use crate::chapters::apiserver::client::{Api, Client};
use crate::chapters::apiserver::server::{ApiServer, Config as ServerConfig};
use crate::chapters::objects::{EndpointSlice, Resource, Service};
use crate::chapters::services::proxy::interface::is_local;
use crate::chapters::services::proxy::table::Protocol;
use crate::chapters::services::proxy::{Config as ProxyConfig, Proxy};

use load::Requests;
use report::{plural, print_table};

/// The "pod"'s address: loopback, away from the chapter's tests' blocks.
const POD_IP: Ipv4Addr = Ipv4Addr::new(127, 0, 250, 2);

/// The Service's ports.
const HTTP_PORT: u16 = 80;
const BULK_PORT: u16 = 81;

/// How long the proxy may take to serve the Service.
const SETUP_LIMIT: Duration = Duration::from_secs(30);

/// The two ways to the pod.
#[derive(Clone, Copy)]
enum Way {
    Direct = 0,
    Proxy = 1,
}

/// Everything one run measured, by way ([`Way`] as the index).
#[derive(Default)]
struct Figures {
    one: [Requests; 2],
    many: [Requests; 2],
    bulk: [Vec<Duration>; 2],
}

pub async fn run(
    rounds: usize,
    seconds: f64,
    connections: usize,
    bulk_mib: u64,
) -> anyhow::Result<i32> {
    if !nix::unistd::geteuid().is_root() {
        bail!(
            "the proxy puts the ClusterIP on a network interface of its own, which needs root: run it with sudo"
        );
    }
    if rounds == 0 || connections == 0 || bulk_mib == 0 || !(seconds > 0.0 && seconds <= 600.0) {
        bail!(
            "--rounds, --count and --bulk-mib must be at least 1, --seconds above 0 (at most 600)"
        );
    }
    if cfg!(debug_assertions) {
        eprintln!(
            "note: a debug build; for figures worth quoting use `cargo run --release -p k8s-mini -- bench proxy`"
        );
    }
    let length = Duration::from_secs_f64(seconds);
    let size = bulk_mib << 20;
    let lab = Lab::start(size).await?;
    let work = async {
        lab.serve().await?;
        measure(&lab, rounds, length, connections, size).await
    };
    // Ctrl-C or SIGTERM ends the run early, and the cleanup below still
    // runs: a ClusterIP left on an interface would outlive the process.
    let measured = tokio::select! {
        measured = work => measured,
        signal = crate::apiserver::wait_for_signal() => {
            signal.and_then(|()| Err(anyhow::anyhow!("interrupted")))
        }
    };
    // Whatever happened, the interface and its ClusterIP go.
    lab.stop().await;
    let figures = measured?;
    print_table(rounds, length, connections, bulk_mib, figures);
    Ok(0)
}

/// The API server, the proxy and the pod of one run.
struct Lab {
    server: ApiServer,
    client: Client,
    proxy: Proxy,
    proxy_threads: Threads,
    /// The pod's servers run until these threads go.
    _pod_threads: Threads,
    direct: [SocketAddr; 2],
    cluster: [SocketAddr; 2],
}

impl Lab {
    async fn start(size: u64) -> anyhow::Result<Lab> {
        let pod_threads = Threads::new("bench-pod")?;
        let pod = pod_threads.spawn(async move {
            let http = TcpListener::bind((POD_IP, 0)).await?;
            let bulk = TcpListener::bind((POD_IP, 0)).await?;
            let addresses = [http.local_addr()?, bulk.local_addr()?];
            tokio::spawn(load::http_server(http));
            tokio::spawn(load::bulk_server(bulk, size));
            std::io::Result::Ok(addresses)
        });
        let direct = pod
            .await?
            .with_context(|| format!("cannot listen on {POD_IP}"))?;
        let server = ApiServer::start(ServerConfig {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            data_dir: None,
            ..ServerConfig::default()
        })
        .await
        .context("the API server does not start")?;
        let pid = std::process::id();
        let config = ProxyConfig {
            instance: format!("bench-proxy-{pid}"),
            ..ProxyConfig::default()
        };
        let proxy_threads = Threads::new("bench-proxy")?;
        let started = match Client::new(&server.url()) {
            Ok(client) => proxy_threads
                .spawn(Proxy::start(client.clone(), config))
                .await
                .map_err(anyhow::Error::from)
                .and_then(|proxy| Ok((client, proxy.context("the proxy does not start")?))),
            Err(error) => Err(error.into()),
        };
        let (client, proxy) = match started {
            Ok(started) => started,
            Err(error) => {
                server.stop(Duration::from_secs(5)).await;
                return Err(error);
            }
        };
        // A block of its own (the chapter's tests use 10.96.2NN.0/24), a
        // host from the pid, so that two runs at once do not collide.
        let ip = Ipv4Addr::new(10, 96, 250, 10 + (pid % 240) as u8);
        let cluster = [HTTP_PORT, BULK_PORT].map(|port| SocketAddr::from((ip, port)));
        Ok(Lab {
            server,
            client,
            proxy,
            proxy_threads,
            _pod_threads: pod_threads,
            direct,
            cluster,
        })
    }

    /// The Service and its EndpointSlice, then waits until the proxy
    /// listens on the ClusterIP and it is a local address.
    async fn serve(&self) -> anyhow::Result<()> {
        let ip = self.cluster[0].ip().to_string();
        let [http, bulk] = self.direct.map(|address| address.port());
        let mut service: Service = serde_json::from_value(json!({
            "metadata": {"name": "bench", "namespace": "default"},
            "spec": {"clusterIP": ip, "ports": [
                {"name": "http", "port": HTTP_PORT, "targetPort": http},
                {"name": "bulk", "port": BULK_PORT, "targetPort": bulk}]}
        }))?;
        service.set_type_meta();
        let mut slice: EndpointSlice = serde_json::from_value(json!({
            "metadata": {"name": "bench-1", "namespace": "default",
                "labels": {"kubernetes.io/service-name": "bench"}},
            "addressType": "IPv4",
            "endpoints": [{"addresses": [POD_IP.to_string()], "conditions": {"ready": true}}],
            "ports": [{"name": "http", "port": http, "protocol": "TCP"},
                      {"name": "bulk", "port": bulk, "protocol": "TCP"}]
        }))?;
        slice.set_type_meta();
        Api::<Service>::namespaced(&self.client, "default")
            .create(&service)
            .await
            .context("cannot create the Service")?;
        Api::<EndpointSlice>::namespaced(&self.client, "default")
            .create(&slice)
            .await
            .context("cannot create the EndpointSlice")?;
        let wanted = self.cluster.map(|address| match address {
            SocketAddr::V4(address) => address,
            SocketAddr::V6(_) => unreachable!("an IPv4 ClusterIP"),
        });
        let mut applied = self.proxy.applied();
        let listening = applied.wait_for(|applied| {
            wanted
                .iter()
                .all(|address| applied.is_listening(*address, Protocol::Tcp))
        });
        let listening = tokio::time::timeout(SETUP_LIMIT, listening)
            .await
            .is_ok_and(|found| found.is_ok());
        if !listening {
            bail!(
                "the proxy did not listen on {} within {SETUP_LIMIT:?}: {:?}",
                self.cluster[0].ip(),
                applied.borrow().failing
            );
        }
        let deadline = Instant::now() + SETUP_LIMIT;
        while !is_local(*wanted[0].ip()) {
            if Instant::now() >= deadline {
                bail!("{ip} is not a local address after {SETUP_LIMIT:?}");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Ok(())
    }

    fn http(&self, way: Way) -> SocketAddr {
        [self.direct[0], self.cluster[0]][way as usize]
    }

    fn bulk(&self, way: Way) -> SocketAddr {
        [self.direct[1], self.cluster[1]][way as usize]
    }

    /// Stops the proxy (which removes its interface, and the ClusterIP
    /// with it), then the server; the pod goes with its threads.
    async fn stop(self) {
        let limit = Duration::from_secs(10);
        if let Err(error) = self.proxy_threads.spawn(self.proxy.stop(limit)).await {
            eprintln!("k8s-mini: the proxy did not stop cleanly: {error}");
        }
        self.server.stop(Duration::from_secs(5)).await;
    }
}

async fn measure(
    lab: &Lab,
    rounds: usize,
    length: Duration,
    connections: usize,
    size: u64,
) -> anyhow::Result<Figures> {
    // A transfer may run at 100 MB/s at worst before it counts as hung.
    let bulk_limit = Duration::from_secs(30 + size / 100_000_000);
    eprint!("warm-up... ");
    for way in [Way::Direct, Way::Proxy] {
        load::requests(
            lab.http(way),
            connections,
            length.min(Duration::from_secs(1)),
        )
        .await?;
        load::bulk(lab.bulk(way), size, bulk_limit).await?;
    }
    eprintln!();
    let mut figures = Figures::default();
    for round in 0..rounds {
        let ways = match round % 2 {
            0 => [Way::Direct, Way::Proxy],
            _ => [Way::Proxy, Way::Direct],
        };
        eprint!("round {}/{rounds}: 1 connection... ", round + 1);
        for way in ways {
            let measured = load::requests(lab.http(way), 1, length).await?;
            figures.one[way as usize].add(measured);
        }
        eprint!("{connections} connection{}... ", plural(connections));
        for way in ways {
            let measured = load::requests(lab.http(way), connections, length).await?;
            figures.many[way as usize].add(measured);
        }
        eprint!("{} MiB... ", size >> 20);
        for way in ways {
            figures.bulk[way as usize].push(load::bulk(lab.bulk(way), size, bulk_limit).await?);
        }
        eprintln!("done");
    }
    Ok(figures)
}
