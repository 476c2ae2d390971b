//! The cluster DNS: Kubernetes' CoreDNS with its `kubernetes` plugin, in
//! small. Pods find Services by name (`web.default.svc.cluster.local`)
//! because their resolv.conf names this server; it answers those names
//! from its caches of Services and EndpointSlices (chapter 07 informers)
//! and forwards every other name to the host's resolver.
//!
//! - [`name`]: what a query name asks for (pure).
//! - [`catalog`]: the cached objects the answers come from.
//! - [`answer`]: the records for it, from the cached objects (pure).
//! - [`forward`]: names outside the cluster, to the upstream resolver.
//! - [`handler`]: one query's bytes in, one reply's bytes out.
//! - [`server`]: the UDP and TCP sockets and their tasks.
//! - [`register`]: the `kube-system/kube-dns` Service and its endpoints,
//!   which point at this server.
//!
//! One DNS per cluster is the design: it registers itself as the only
//! endpoint of `kube-dns`, and a second one would take that over.

pub mod answer;
pub mod catalog;
pub mod forward;
pub mod handler;
pub mod name;
pub mod register;
pub mod server;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use apiserver::client::{Cache, Client, ClientError, Informer, ListParams};
use hickory_proto::rr::Name;
use objects::discovery::SERVICE_NAME_LABEL;
use objects::{EndpointSlice, Service};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// The DNS wire format (hickory-proto), for clients and tests of this server.
pub use hickory_proto as proto;

pub use answer::{Reply, TTL, Zone};
pub use catalog::{Catalog, StaticCatalog};
pub use handler::{Handler, Transport};
pub use name::ClusterName;

/// What the DNS serves and where.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where to listen, UDP and TCP alike (port 0: any free port). The
    /// proxy carries the Service's port 53 here, so no privileged port
    /// is needed.
    pub listen: SocketAddr,
    /// The cluster domain (`cluster.local`, the kubelet's `--cluster-domain`).
    pub domain: String,
    /// The ClusterIP of `kube-system/kube-dns`: what pods' resolv.conf names.
    pub cluster_ip: Ipv4Addr,
    /// Where names outside the cluster go; `None`: the first nameserver of
    /// the host's /etc/resolv.conf.
    pub upstream: Option<SocketAddr>,
    /// How long an upstream may take before the client gets SERVFAIL.
    pub forward_timeout: Duration,
    /// Queries (UDP) and connections (TCP) served at once.
    pub max_in_flight: usize,
    /// How long to wait for the first list of Services and EndpointSlices.
    pub sync_timeout: Duration,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            listen: (Ipv4Addr::LOCALHOST, 1053).into(),
            domain: "cluster.local".to_string(),
            cluster_ip: Ipv4Addr::new(10, 96, 0, 10),
            upstream: None,
            forward_timeout: Duration::from_secs(2),
            max_in_flight: 1024,
            sync_timeout: Duration::from_secs(30),
        }
    }
}

/// Why the DNS could not start.
#[derive(Debug, thiserror::Error)]
pub enum DnsError {
    #[error("bad cluster domain {0:?}")]
    Domain(String),
    #[error("cannot listen on {0}: {1}")]
    Bind(SocketAddr, std::io::Error),
    #[error("the Services and EndpointSlices could not be listed in time: {0}")]
    Sync(String),
    #[error("cannot register the kube-dns Service: {0}")]
    Register(#[from] ClientError),
}

/// The caches of a running server, read for every in-zone query.
struct InformerCatalog {
    services: Cache<Service>,
    slices: Cache<EndpointSlice>,
}

impl Catalog for InformerCatalog {
    fn service(&self, namespace: &str, name: &str) -> Option<Arc<Service>> {
        self.services.get(namespace, name)
    }

    fn slices(&self, namespace: &str, service: &str) -> Vec<Arc<EndpointSlice>> {
        let mut slices = self.slices.list_namespace(namespace);
        slices.retain(|slice| catalog::slice_of(slice, service));
        slices
    }

    fn has_services(&self, namespace: &str) -> bool {
        !self.services.list_namespace(namespace).is_empty()
    }
}

/// A running cluster DNS.
pub struct DnsServer {
    local_addr: SocketAddr,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    services: Informer<Service>,
    slices: Informer<EndpointSlice>,
}

impl DnsServer {
    /// Binds the sockets, fills the caches, registers `kube-dns` and starts
    /// answering. Returns once queries are answered from synced caches, so
    /// that no early query gets a wrong NXDOMAIN.
    pub async fn start(client: Client, config: Config) -> Result<DnsServer, DnsError> {
        let domain = config.domain.trim_end_matches('.').to_ascii_lowercase();
        let zone_name = Name::from_ascii(format!("{domain}."))
            .ok()
            .filter(|_| !domain.is_empty())
            .ok_or_else(|| DnsError::Domain(config.domain.clone()))?;
        let (udp, tcp) = server::bind(config.listen)
            .await
            .map_err(|err| DnsError::Bind(config.listen, err))?;
        let local_addr = tcp
            .local_addr()
            .map_err(|err| DnsError::Bind(config.listen, err))?;

        let services = Informer::new(client.api::<Service>(None), ListParams::default());
        let slices = Informer::new(
            client.api::<EndpointSlice>(None),
            ListParams::default().labels(SERVICE_NAME_LABEL),
        );
        let synced = async { services.wait_for_sync().await && slices.wait_for_sync().await };
        if !tokio::time::timeout(config.sync_timeout, synced)
            .await
            .unwrap_or(false)
        {
            let reason = services
                .last_error()
                .or_else(|| slices.last_error())
                .unwrap_or_else(|| "no answer".to_string());
            return Err(DnsError::Sync(reason));
        }

        let mut changes = services.subscribe();
        register::register(&client, config.cluster_ip, advertised(local_addr)).await?;
        // Answer our own name from the first query on: wait until the
        // cache has the Service just written (its watch event may lag).
        let registered = async {
            while let Some(change) = changes.recv().await {
                let key = change.key();
                if key.namespace == register::NAMESPACE && key.name == register::SERVICE {
                    return true;
                }
            }
            false
        };
        if !tokio::time::timeout(config.sync_timeout, registered)
            .await
            .unwrap_or(false)
        {
            return Err(DnsError::Sync(
                "the kube-dns Service never reached the cache".to_string(),
            ));
        }
        drop(changes);

        let upstream = config.upstream.or_else(|| match forward::host_upstream() {
            Ok(upstream) => Some(upstream),
            Err(err) => {
                tracing::warn!("names outside {domain} will get SERVFAIL: {err}");
                None
            }
        });
        let handler = Arc::new(Handler {
            domain,
            zone: Zone {
                domain: zone_name,
                serial: start_serial(),
            },
            catalog: Arc::new(InformerCatalog {
                services: services.cache(),
                slices: slices.cache(),
            }),
            upstream,
            forward_timeout: config.forward_timeout,
        });
        let (stop, stopped) = watch::channel(false);
        let mut tasks = server::spawn(handler, udp, tcp, config.max_in_flight, stopped.clone());
        tasks.push(tokio::spawn(register::keep(
            client,
            config.cluster_ip,
            advertised(local_addr),
            services.subscribe(),
            slices.subscribe(),
            stopped,
        )));
        Ok(DnsServer {
            local_addr,
            stop,
            tasks,
            services,
            slices,
        })
    }

    /// The address it answers on (UDP and TCP).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Stops answering and closes the sockets and the informers.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
        self.services.stop().await;
        self.slices.stop().await;
    }
}

/// The address to publish in the Service's endpoints: the listen address,
/// or loopback when listening on every address (the proxy that carries
/// the ClusterIP here runs on this host).
pub fn advertised(local: SocketAddr) -> SocketAddr {
    let ip = match local.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(std::net::Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    SocketAddr::new(ip, local.port())
}

/// The SOA serial: the start time in seconds, as CoreDNS uses the time of
/// the last change (resolvers only compare serials for zone transfers,
/// which this server does not do).
fn start_serial() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| u32::try_from(elapsed.as_secs() % u64::from(u32::MAX)).unwrap_or(0))
        .unwrap_or(0)
}
