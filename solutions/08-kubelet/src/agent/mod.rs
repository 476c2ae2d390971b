//! The running agent: registration and heartbeats ([`heartbeat`]), and the
//! sync loop ([`sync`]) that makes the pods bound to this node run here.
//!
//! ```text
//!  API server ──watch pods (spec.nodeName=NAME)──▶ informer cache
//!                                                      │ change / 1 s tick
//!                                                      ▼
//!                          per pod: plan(api pod, running?) ──▶ Start │ Report │ Stop │ Remove
//!                                                      │
//!                 chapter 05 PodRuntime ◀── run / stop ┘
//!                          │ status changes
//!                          ▼
//!      merge_status ──changed?──▶ PUT pods/NAME/status, POST events
//! ```
//!
//! [`Kubelet::stop`] leaves the pods alone, as stopping a kubelet does
//! (and so does a crash): chapter 05's containers outlive the agent under
//! their shims, and the next agent adopts those the API still wants, same
//! processes and restart counts, and discards the others (the sync loop's
//! `adopt`). [`Kubelet::drain`] deletes them instead.

mod heartbeat;
mod sync;

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use apiserver::client::{Client, Informer, ListParams, ObjectKey};
use filesystem::image::ImageStore;
use objects::Pod;
use pods::{PodHandle, PodRuntime};
use process::Backoff;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::resources::{Allocatable, Requests};

/// How the agent runs.
#[derive(Debug, Clone)]
pub struct Config {
    /// The Node's name.
    pub name: String,
    /// The node's address: `InternalIP`, every pod's `hostIP`.
    pub address: IpAddr,
    pub hostname: String,
    /// The node's pod subnet (`spec.podCIDR`), from chapter 05's network.
    pub pod_cidr: Option<String>,
    /// What pods may use; [`crate::node::machine_capacity`] by default.
    pub capacity: Allocatable,
    /// Where the pods' data lives: disk pressure is measured there.
    pub data_dir: PathBuf,
    /// The port of the node's logs and exec server, advertised in
    /// `status.daemonEndpoints`.
    pub port: u16,
    /// Renew the node's lease this often (the kubelet: 10 s).
    pub lease_interval: Duration,
    /// Write the node's status at least this often, and at once when it
    /// changes (the kubelet: 1 minute when nothing changes).
    pub status_interval: Duration,
    /// The crash-loop back-off of containers (10 s doubling to 300 s).
    pub backoff: Backoff,
    /// The back-off between tries of a missing image.
    pub image_backoff: Backoff,
    /// How often every pod is looked at even without a change (the
    /// kubelet's PLEG relists every second).
    pub resync: Duration,
    /// The cluster DNS that `ClusterFirst` pods resolve with (the
    /// kubelet's `--cluster-dns`); `None`: they get the node's resolv.conf.
    pub cluster_dns: Option<IpAddr>,
    /// The cluster's domain (`--cluster-domain`): pods' search domains.
    pub cluster_domain: String,
}

impl Config {
    /// The kubelet's defaults for a node `name` at `address`.
    pub fn new(name: &str, address: IpAddr, data_dir: PathBuf) -> Config {
        Config {
            name: name.to_string(),
            address,
            hostname: name.to_string(),
            pod_cidr: None,
            capacity: crate::node::machine_capacity(),
            data_dir,
            port: 0,
            lease_interval: Duration::from_secs(10),
            status_interval: Duration::from_secs(60),
            backoff: Backoff::KUBERNETES,
            image_backoff: Backoff::KUBERNETES,
            resync: Duration::from_secs(1),
            cluster_dns: None,
            cluster_domain: "cluster.local".to_string(),
        }
    }
}

/// Why the agent could not start.
#[derive(Debug, thiserror::Error)]
pub enum KubeletError {
    #[error("cannot register node {node}: {source}")]
    Register {
        node: String,
        source: apiserver::client::ClientError,
    },
}

/// A pod this node runs.
pub(crate) struct Running {
    pub uid: String,
    pub handle: Arc<PodHandle>,
    pub requests: Requests,
    /// Wakes the sync loop on every status change of the pod.
    pub watcher: JoinHandle<()>,
    /// How many of the runtime's events were already posted.
    pub events_posted: usize,
    /// The last status written, so that it is not written twice.
    pub written: Option<objects::pod::PodStatus>,
}

/// One pod's place in the table: what runs, what failed to start.
#[derive(Default)]
pub(crate) struct Slot {
    pub running: Option<Running>,
    /// The uid of a pod refused here (admission, spec): never started.
    pub refused: Option<String>,
    /// A pod waiting for a missing image: its uid, the failed tries, and
    /// when to try again.
    pub pulling: Option<(String, u32, tokio::time::Instant)>,
    /// A pod waiting for a ConfigMap or Secret: its uid and the message
    /// last reported, so that a wait is reported once, not every pass.
    pub config_waiting: Option<(String, String)>,
}

/// A running pod as the table lends it: uid, handle, requests.
type Published = (String, Arc<PodHandle>, Requests);

/// The pods of this node, by namespace and name. The logs and exec server
/// finds handles here.
#[derive(Clone, Default)]
pub struct PodTable {
    slots: Arc<Mutex<BTreeMap<ObjectKey, Arc<tokio::sync::Mutex<Slot>>>>>,
    /// The pods asked for a pass of their worker that it has not begun
    /// yet: a pod's worker takes these up before it lets go of its slot.
    requested: Arc<Mutex<BTreeSet<ObjectKey>>>,
    /// Handles and requests of the running pods, readable without waiting
    /// for a pod's slot (which a slow stop may hold).
    handles: Arc<Mutex<BTreeMap<ObjectKey, Published>>>,
}

/// A lock whose holder panicked (a learner's `todo!()` inside a task) is
/// still usable: the table's maps are consistent after every statement.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl PodTable {
    /// The handle of the pod `namespace/name` running here, and its uid.
    pub fn handle(&self, namespace: &str, name: &str) -> Option<(String, Arc<PodHandle>)> {
        let key = ObjectKey {
            namespace: namespace.to_string(),
            name: name.to_string(),
        };
        lock(&self.handles)
            .get(&key)
            .map(|(uid, handle, _)| (uid.clone(), handle.clone()))
    }

    /// The keys of every pod running here.
    pub fn keys(&self) -> Vec<ObjectKey> {
        lock(&self.handles).keys().cloned().collect()
    }

    pub(crate) fn slot(&self, key: &ObjectKey) -> Arc<tokio::sync::Mutex<Slot>> {
        lock(&self.slots).entry(key.clone()).or_default().clone()
    }

    pub(crate) fn slot_keys(&self) -> Vec<ObjectKey> {
        lock(&self.slots).keys().cloned().collect()
    }

    /// Asks for a pass of the pod's worker.
    pub(crate) fn request(&self, key: &ObjectKey) {
        lock(&self.requested).insert(key.clone());
    }

    /// Takes a request for a pass of the pod's worker, if there is one.
    pub(crate) fn take_request(&self, key: &ObjectKey) -> bool {
        lock(&self.requested).remove(key)
    }

    /// Whether a pass of the pod's worker was asked for and not begun.
    pub(crate) fn is_requested(&self, key: &ObjectKey) -> bool {
        lock(&self.requested).contains(key)
    }

    /// Forgets an empty slot.
    pub(crate) fn forget(&self, key: &ObjectKey) {
        lock(&self.slots).remove(key);
    }

    pub(crate) fn publish(&self, key: &ObjectKey, running: &Running) {
        lock(&self.handles).insert(
            key.clone(),
            (
                running.uid.clone(),
                running.handle.clone(),
                running.requests,
            ),
        );
    }

    pub(crate) fn unpublish(&self, key: &ObjectKey) {
        lock(&self.handles).remove(key);
    }

    /// What the pods still running here request (pods whose containers
    /// have all ended for good no longer count), and how many they are.
    pub(crate) fn in_use(&self, except: &ObjectKey) -> (Requests, u64) {
        let handles = lock(&self.handles);
        let mut used = Requests::default();
        let mut count = 0;
        for (key, (_, handle, requests)) in handles.iter() {
            let finished = matches!(
                handle.status().phase,
                pods::PodPhase::Succeeded | pods::PodPhase::Failed
            );
            if key == except || finished {
                continue;
            }
            used.cpu_millis += requests.cpu_millis;
            used.memory_bytes += requests.memory_bytes;
            count += 1;
        }
        (used, count)
    }
}

/// The logs and exec server finds the pods it serves in the table.
impl crate::server::PodLookup for PodTable {
    fn find(&self, namespace: &str, name: &str) -> Option<pods::PodIo> {
        self.handle(namespace, name).map(|(_, handle)| handle.io())
    }
}

/// What the agent's tasks share.
pub(crate) struct Shared {
    pub config: Config,
    pub client: Client,
    pub runtime: Arc<PodRuntime>,
    pub images: ImageStore,
    pub table: PodTable,
    pub cache: apiserver::client::Cache<Pod>,
    /// Every Service, for the Service environment variables of the pods
    /// that start.
    pub services: apiserver::client::Cache<objects::Service>,
    /// Every ConfigMap and Secret, for the pods' environment and volumes
    /// (the kubelet watches only those its pods use; a small cluster's
    /// are few).
    pub config_maps: apiserver::client::Cache<objects::ConfigMap>,
    pub secrets: apiserver::client::Cache<objects::Secret>,
    /// The node's address as text: every pod's `hostIP`.
    pub host_ip: String,
    /// Posts the pods' events.
    pub recorder: crate::events::Recorder,
    /// Keys to sync soon: the pods' watchers send here.
    pub wake: tokio::sync::mpsc::UnboundedSender<ObjectKey>,
}

/// The node agent of one node.
pub struct Kubelet {
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    informer: Option<Arc<Informer<Pod>>>,
    services: Option<Arc<Informer<objects::Service>>>,
    config_maps: Option<Arc<Informer<objects::ConfigMap>>>,
    secrets: Option<Arc<Informer<objects::Secret>>>,
}

impl Kubelet {
    /// Registers the node, then starts the heartbeats and the sync loop.
    /// Returns once the node is registered; pods start shortly after.
    pub async fn start(
        client: Client,
        runtime: Arc<PodRuntime>,
        images: ImageStore,
        config: Config,
    ) -> Result<Kubelet, KubeletError> {
        let node = heartbeat::register(&client, &config).await?;
        let (stop, stopped) = watch::channel(false);
        let pods = client.api::<Pod>(None);
        let params = ListParams::default().fields(&format!("spec.nodeName={}", config.name));
        let (informer, changes) = Informer::with_changes(pods, params);
        let (wake, woken) = tokio::sync::mpsc::unbounded_channel();
        let services = Arc::new(Informer::new(
            client.api::<objects::Service>(None),
            ListParams::default(),
        ));
        let config_maps = Arc::new(Informer::new(
            client.api::<objects::ConfigMap>(None),
            ListParams::default(),
        ));
        let secrets = Arc::new(Informer::new(
            client.api::<objects::Secret>(None),
            ListParams::default(),
        ));
        let shared = Arc::new(Shared {
            host_ip: config.address.to_string(),
            recorder: crate::events::Recorder::new(client.clone(), &config.name),
            config,
            client,
            runtime,
            images,
            table: PodTable::default(),
            cache: informer.cache(),
            services: services.cache(),
            config_maps: config_maps.cache(),
            secrets: secrets.cache(),
            wake,
        });
        // The sync loop adopts the previous run's pods once the informer
        // has listed the API's (it lets go of the informer then).
        let informer = Arc::new(informer);
        // Pods start once the Services are known too, as the kubelet
        // waits for its Service informer: a pod started before would miss
        // the variables of Services that already exist.
        let synced = {
            let informer = informer.clone();
            let services = services.clone();
            let config_maps = config_maps.clone();
            let secrets = secrets.clone();
            async move {
                informer.wait_for_sync().await
                    && services.wait_for_sync().await
                    && config_maps.wait_for_sync().await
                    && secrets.wait_for_sync().await
            }
        };
        let tasks = vec![
            tokio::spawn(heartbeat::run(shared.clone(), node, stopped.clone())),
            tokio::spawn(sync::run(shared.clone(), changes, woken, stopped, synced)),
        ];
        Ok(Kubelet {
            shared,
            stop,
            tasks,
            informer: Some(informer),
            services: Some(services),
            config_maps: Some(config_maps),
            secrets: Some(secrets),
        })
    }

    /// The pods running here, for the logs and exec server.
    pub fn pods(&self) -> PodTable {
        self.shared.table.clone()
    }

    /// Stops the agent and leaves its pods alone (see the module's doc).
    pub async fn stop(mut self) {
        self.stop_tasks().await;
    }

    /// Stops the agent and deletes every pod it runs, each within its
    /// grace period; their API objects stay (another agent may run them).
    pub async fn drain(mut self) {
        self.stop_tasks().await;
        let table = &self.shared.table;
        let stops = table.keys().into_iter().filter_map(|key| {
            let (_, handle) = table.handle(&key.namespace, &key.name)?;
            table.unpublish(&key);
            Some(async move { handle.stop(None).await })
        });
        futures::future::join_all(stops).await;
        for key in table.slot_keys() {
            let slot = table.slot(&key);
            let mut slot = slot.lock().await;
            if let Some(running) = slot.running.take() {
                running.watcher.abort();
                sync::remove_config_volumes(&self.shared, &running.uid);
            }
        }
    }

    async fn stop_tasks(&mut self) {
        self.stop.send_replace(true);
        for task in self.tasks.drain(..) {
            let _ = task.await;
        }
        // The sync loop has ended: the informer is ours alone again (were
        // it not, dropping it would stop it all the same).
        if let Some(informer) = self.informer.take().and_then(Arc::into_inner) {
            informer.stop().await;
        }
        if let Some(services) = self.services.take().and_then(Arc::into_inner) {
            services.stop().await;
        }
        if let Some(config_maps) = self.config_maps.take().and_then(Arc::into_inner) {
            config_maps.stop().await;
        }
        if let Some(secrets) = self.secrets.take().and_then(Arc::into_inner) {
            secrets.stop().await;
        }
    }
}
