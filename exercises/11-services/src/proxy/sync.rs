// Generated from solutions/11-services/src/proxy/sync.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
//! The proxy's loop: after every change to a Service or an EndpointSlice
//! (a burst of changes costs one pass), and every `resync` without one, it
//! rebuilds the service table from the informers' caches and makes the
//! node match it: the ClusterIPs on the interface, the balancers' endpoints,
//! the listeners. A port it cannot open (a NodePort some other program
//! holds) is a log line and a Warning event on the Service, tried again on
//! every pass; the rest is served all the same. (A port is opened, and so
//! found taken, only while its Service has a ready endpoint.)
//!
//! Kubernetes: kube-proxy's `syncProxyRules`, run by a `BoundedFrequencyRunner`
//! on changes and every `--sync-period`, from its Service and
//! EndpointSlice config handlers.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::sync::Arc;

use apiserver::client::{Api, Changes, Client, Informer, ListParams};
use controllers::events::Recorder;
use objects::{EndpointSlice, Service};
use pods::network::Subnet;
use tokio::sync::watch;

use super::balancer::Balancer;
use super::interface::ServiceInterface;
use super::listeners::{self, ListenKey, Listeners};
use super::table;
use super::{Applied, Config, Shared};

/// The component named in the events (kube-proxy's).
const COMPONENT: &str = "kube-proxy";
/// The event reason for a port that cannot be opened.
pub const FAILED_TO_BIND: &str = "FailedToBindPort";

pub(crate) struct Runtime {
    config: Config,
    shared: Arc<Shared>,
    interface: ServiceInterface,
    listeners: Listeners,
    recorder: Arc<Recorder>,
    services: Informer<Service>,
    slices: Informer<EndpointSlice>,
    service_changes: Changes<Service>,
    slice_changes: Changes<EndpointSlice>,
    applied: watch::Sender<Arc<Applied>>,
    /// The sockets that failed to open, with the message last reported.
    failing: BTreeMap<ListenKey, String>,
    generation: u64,
}

impl Runtime {
    pub fn new(
        client: Client,
        config: Config,
        shared: Arc<Shared>,
        interface: ServiceInterface,
        applied: watch::Sender<Arc<Applied>>,
    ) -> Runtime {
        let (services, service_changes) =
            Informer::with_changes(Api::<Service>::all(&client), ListParams::default());
        let (slices, slice_changes) =
            Informer::with_changes(Api::<EndpointSlice>::all(&client), ListParams::default());
        Runtime {
            listeners: Listeners::new(Arc::clone(&shared)),
            recorder: Arc::new(Recorder::new(&client, COMPONENT)),
            config,
            shared,
            interface,
            services,
            slices,
            service_changes,
            slice_changes,
            applied,
            failing: BTreeMap::new(),
            generation: 0,
        }
    }

    /// Serves until `stop` turns true, then closes the listeners (and says
    /// so on `closed`) and waits for the connections to end. Returns the
    /// interface, for the caller to remove or to keep.
    pub async fn run(
        mut self,
        mut stop: watch::Receiver<bool>,
        closed: watch::Sender<bool>,
    ) -> ServiceInterface {
        // An empty cache before the first list means "not known yet":
        // serving from it would drop every Service for a moment.
        let synced = async {
            self.services.wait_for_sync().await;
            self.slices.wait_for_sync().await;
        };
        tokio::select! {
            () = stopped(&mut stop) => return self.shutdown(closed).await,
            () = synced => {}
        }
        let mut resync = tokio::time::interval(self.config.resync);
        resync.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            self.sync();
            tokio::select! {
                () = stopped(&mut stop) => break,
                Some(_) = self.service_changes.recv() => {}
                Some(_) = self.slice_changes.recv() => {}
                _ = resync.tick() => {}
            }
            // What else came meanwhile is in the caches already.
            while self.service_changes.try_recv().is_ok() {}
            while self.slice_changes.try_recv().is_ok() {}
        }
        self.shutdown(closed).await
    }

    // ANCHOR: sync
    /// One pass: the table, then the interface (a listener on a ClusterIP
    /// needs the address first), the balancers, the listeners.
    fn sync(&mut self) {
        let services = self.services.cache().list();
        let slices = self.slices.cache().list();
        let table = table::build(
            services.iter().map(AsRef::as_ref),
            slices.iter().map(AsRef::as_ref),
        );
        let addresses = table.cluster_ips();
        if let Err(error) = self
            .interface
            .ensure()
            .and_then(|()| self.interface.set_addresses(&addresses))
        {
            tracing::error!(%error, "cannot put the ClusterIPs on the interface");
        }
        self.update_balancers(&table);
        let node_addresses = node_addresses(&self.config.nodeport_addresses, self.interface.name());
        let wanted = listeners::desired(&table, &node_addresses);
        let failed = self.listeners.reconcile(&wanted);
        let mut failing = BTreeMap::new();
        for (key, name, error) in failed {
            let message = format!("cannot listen on {key} for {name}: {error}");
            if self.failing.get(&key) != Some(&message) {
                tracing::warn!("{message}");
                if let Some(service) = self.services.cache().get(&name.namespace, &name.name) {
                    let recorder = Arc::clone(&self.recorder);
                    let message = message.clone();
                    tokio::spawn(async move {
                        recorder.warning(&*service, FAILED_TO_BIND, &message).await;
                    });
                }
            }
            failing.insert(key, message);
        }
        self.failing = failing;
        self.generation += 1;
        tracing::debug!(generation = self.generation, "synced:\n{table}");
        let _ = self.applied.send(Arc::new(Applied {
            generation: self.generation,
            table,
            listening: self.listeners.keys(),
            failing: self
                .failing
                .iter()
                .map(|(key, message)| (*key, message.clone()))
                .collect(),
        }));
    }
    // ANCHOR_END: sync

    /// New endpoints for every balancer, a balancer for every new Service
    /// port, none for a gone one.
    fn update_balancers(&self, table: &table::ServiceTable) {
        let mut balancers = self
            .shared
            .balancers
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        balancers.retain(|name, _| table.ports.contains_key(name));
        for (name, info) in &table.ports {
            match balancers.get_mut(name) {
                Some(balancer) => balancer.update(&info.endpoints, info.affinity),
                None => {
                    balancers.insert(name.clone(), Balancer::new(&info.endpoints, info.affinity));
                }
            }
        }
    }

    /// Closes the listeners and waits for the connections, which end on
    /// their own (a drain) or when cut (a stop).
    async fn shutdown(mut self, closed: watch::Sender<bool>) -> ServiceInterface {
        self.listeners.close_all();
        let _ = closed.send(true);
        self.services.stop().await;
        self.slices.stop().await;
        let all = u32::try_from(self.config.max_connections.max(1)).unwrap_or(u32::MAX);
        let _ = self.shared.connections.acquire_many(all).await;
        self.interface
    }
}

/// Until the stop signal (or its sender is gone).
pub(crate) async fn stopped(stop: &mut watch::Receiver<bool>) {
    // The guard `wait_for` returns must not live across an await.
    let _ = stop.wait_for(|stop| *stop).await.is_ok();
}

/// Where NodePorts are listened on: everywhere, or the node's addresses
/// in `subnets` (not the ClusterIPs on the proxy's own interface).
fn node_addresses(subnets: &[Subnet], own_interface: &str) -> Vec<Ipv4Addr> {
    if subnets.is_empty() {
        return vec![Ipv4Addr::UNSPECIFIED];
    }
    let mut found: Vec<Ipv4Addr> = nix::ifaddrs::getifaddrs()
        .map(|addresses| {
            addresses
                .filter(|address| address.interface_name != own_interface)
                .filter_map(|address| {
                    address
                        .address
                        .and_then(|a| a.as_sockaddr_in().map(|a| a.ip()))
                })
                .filter(|ip| subnets.iter().any(|subnet| subnet.contains(*ip)))
                .collect()
        })
        .unwrap_or_else(|error| {
            tracing::error!(%error, "cannot list the node's addresses");
            Vec::new()
        });
    found.sort();
    found.dedup();
    found
}
