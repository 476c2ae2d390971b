//! The per-node Service proxy: makes each Service's ClusterIP:port, and
//! NodePort on the node's addresses, reach the Service's ready endpoints.
//!
//! Kubernetes: kube-proxy, in the manner of its old userspace mode (one
//! listener per Service port, connections copied by the proxy) behind
//! ClusterIPs bound to a dummy interface, as its IPVS mode binds them. No
//! packet filter, no forwarding, no NAT: a packet for a ClusterIP is
//! delivered locally to the proxy's socket on it.
//!
//! - [`table`]: what to serve, from the Services and EndpointSlices (pure).
//! - [`balancer`]: which endpoint a new connection goes to (pure).
//! - [`listeners`]: the sockets the table asks for, opened and closed.
//! - [`tcp`], [`udp`]: serving one Service port; [`splice`]: the copy.
//! - [`interface`]: the interface that holds the ClusterIPs.
//! - [`sync`]: the loop that keeps all of it matching the API.
//!
//! What a client sees: round robin over the ready endpoints, a refused
//! dial tried again on the next endpoint, terminating endpoints getting no
//! new connection, `sessionAffinity: ClientIP` keeping a client on its
//! endpoint, and a Service port without a ready endpoint refused at once.
//! An endpoint change applies to new connections; established ones go on.
//! The endpoints see the node's address as the client's (the proxy dials
//! them), as under the userspace kube-proxy. The proxy holds both ends of
//! every connection, so a stop cuts them; a drain ([`Proxy::drain`])
//! closes the listeners and lets the connections finish instead, while a
//! restarted proxy takes over the interface and the new connections.

pub mod balancer;
pub mod interface;
pub mod listeners;
pub mod splice;
mod sync;
pub mod table;
pub mod tcp;
mod udp;

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddrV4};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use apiserver::client::Client;
use pods::network::Subnet;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinHandle;

use balancer::Balancer;
use interface::{InterfaceError, ServiceInterface};
use listeners::ListenKey;
use table::{ServicePortName, ServiceTable};

pub use sync::FAILED_TO_BIND;

/// How the proxy is set up.
#[derive(Debug, Clone)]
pub struct Config {
    /// Names the proxy's interface (`kmsvc-<tag>`, alias
    /// `k8s-mini/<instance>`): one proxy per instance and network
    /// namespace.
    pub instance: String,
    /// Listen on NodePorts on the node's addresses in these subnets
    /// (kube-proxy's `--nodeport-addresses`); empty: on every address
    /// (0.0.0.0).
    pub nodeport_addresses: Vec<Subnet>,
    /// How long a UDP association lives without traffic.
    pub udp_idle: Duration,
    /// Connections proxied at once; more wait in the kernel's backlog.
    pub max_connections: usize,
    /// How often the proxy syncs without a change: it retries the ports
    /// it could not open and puts back an interface someone removed.
    pub resync: Duration,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            instance: "proxy".to_string(),
            nodeport_addresses: Vec::new(),
            udp_idle: Duration::from_secs(10),
            max_connections: 16_384,
            resync: Duration::from_secs(10),
        }
    }
}

/// What the proxy did on its last sync, for logs and tests.
#[derive(Debug, Clone, Default)]
pub struct Applied {
    /// How many syncs happened (0: none yet, the caches are not synced).
    pub generation: u64,
    pub table: ServiceTable,
    pub listening: Vec<ListenKey>,
    /// The sockets that could not be opened, and why.
    pub failing: Vec<(ListenKey, String)>,
}

impl Applied {
    pub fn is_listening(&self, address: SocketAddrV4, protocol: table::Protocol) -> bool {
        self.listening.contains(&ListenKey { address, protocol })
    }
}

/// What the listeners and the sync loop share.
pub(crate) struct Shared {
    balancers: Mutex<HashMap<ServicePortName, Balancer>>,
    connections: Arc<Semaphore>,
    /// True once the proxy cuts its connections (a stop, or a drain that
    /// ran out of time): every connection ends.
    cut: watch::Receiver<bool>,
    udp_idle: Duration,
}

impl Shared {
    /// The endpoint for a new connection of `client` to `name`.
    fn pick(
        &self,
        name: &ServicePortName,
        client: IpAddr,
        failed: &[SocketAddrV4],
    ) -> Option<SocketAddrV4> {
        // A learner's `todo!()` panics under this lock: recover it, the
        // balancers stay consistent between calls.
        let mut balancers = self.balancers.lock().unwrap_or_else(|e| e.into_inner());
        balancers
            .get_mut(name)?
            .pick(client, Instant::now(), failed)
    }
}

/// A running proxy. Dropping it stops it too, without waiting.
pub struct Proxy {
    /// Ends the sync loop and closes the listeners.
    stop: watch::Sender<bool>,
    /// Ends the connections.
    cut: Arc<watch::Sender<bool>>,
    /// Says when the listeners are closed.
    closed: watch::Receiver<bool>,
    task: Option<JoinHandle<ServiceInterface>>,
    applied: watch::Receiver<Arc<Applied>>,
    interface: String,
}

impl Proxy {
    /// Creates the interface for the ClusterIPs, starts the informers on
    /// Services and EndpointSlices, and serves from their first sync on.
    pub async fn start(client: Client, config: Config) -> Result<Proxy, StartError> {
        validate(&config.instance)?;
        let interface = ServiceInterface::create(&config.instance)?;
        let name = interface.name().to_string();
        let (stop, stopping) = watch::channel(false);
        let (cut, cutting) = watch::channel(false);
        let (closed_sender, closed) = watch::channel(false);
        let shared = Arc::new(Shared {
            balancers: Mutex::default(),
            connections: Arc::new(Semaphore::new(config.max_connections.max(1))),
            cut: cutting,
            udp_idle: config.udp_idle,
        });
        let (applied_sender, applied) = watch::channel(Arc::new(Applied::default()));
        let runtime = sync::Runtime::new(client, config, shared, interface, applied_sender);
        let task = tokio::spawn(runtime.run(stopping, closed_sender));
        Ok(Proxy {
            stop,
            cut: Arc::new(cut),
            closed,
            task: Some(task),
            applied,
            interface: name,
        })
    }

    /// The interface holding the ClusterIPs.
    pub fn interface(&self) -> &str {
        &self.interface
    }

    /// The last sync's outcome, changing with every sync.
    pub fn applied(&self) -> watch::Receiver<Arc<Applied>> {
        self.applied.clone()
    }

    /// Closes the listeners, cuts the connections, removes the interface;
    /// aborts whatever is left after `limit`.
    pub async fn stop(mut self, limit: Duration) {
        let _ = self.cut.send(true);
        let _ = self.stop.send(true);
        if let Some(interface) = self.finish(limit).await
            && let Err(error) = interface.remove()
        {
            tracing::error!(%error, "cannot remove the interface");
        }
    }

    /// Closes the listeners, calls `closed` (a successor may start now),
    /// and lets the established connections finish for up to `limit`
    /// before it cuts them. Returns the interface, which still holds the
    /// ClusterIPs: the caller removes it, or keeps it for a successor
    /// that has taken it over.
    pub async fn drain(
        mut self,
        limit: Duration,
        closed: impl FnOnce(),
    ) -> Option<ServiceInterface> {
        let _ = self.stop.send(true);
        let _ = self.closed.wait_for(|closed| *closed).await;
        closed();
        let waited = match self.task.as_mut() {
            Some(task) => tokio::time::timeout(limit, task).await,
            None => return None,
        };
        match waited {
            Ok(interface) => {
                self.task = None;
                interface.ok()
            }
            Err(_) => {
                tracing::warn!("connections still open after {limit:?}: cutting them");
                let _ = self.cut.send(true);
                self.finish(Duration::from_secs(5)).await
            }
        }
    }

    /// Cuts the connections when called, even while [`Proxy::drain`] waits
    /// for them (a second Ctrl-C).
    pub fn cutter(&self) -> impl FnOnce() + Send + 'static {
        let cut = Arc::clone(&self.cut);
        move || {
            let _ = cut.send(true);
        }
    }

    /// Waits for the loop's end (aborting it after `limit`), and takes the
    /// interface back.
    async fn finish(&mut self, limit: Duration) -> Option<ServiceInterface> {
        let mut task = self.task.take()?;
        match tokio::time::timeout(limit, &mut task).await {
            Ok(interface) => interface.ok(),
            Err(_) => {
                // Aborting drops the loop, whose interface removes itself.
                task.abort();
                let _ = task.await;
                None
            }
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.cut.send(true);
        let _ = self.stop.send(true);
        // Aborting drops the loop, whose interface removes itself.
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("bad instance name {0:?}: it must be 1 to 200 characters without '/'")]
    Instance(String),
    #[error(transparent)]
    Interface(#[from] InterfaceError),
}

fn validate(instance: &str) -> Result<(), StartError> {
    if instance.is_empty() || instance.len() > 200 || instance.contains('/') {
        return Err(StartError::Instance(instance.to_string()));
    }
    Ok(())
}
