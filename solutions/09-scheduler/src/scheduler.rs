//! The scheduler as a running component: informers on pods and nodes in,
//! bindings, pod conditions and events out.
//!
//! One task owns the [`Snapshot`] and the [`SchedulingQueue`] and
//! alternates between applying what the informers report and scheduling
//! one pod at a time; because changes are applied only between cycles,
//! each cycle sees the cluster as it was when it started. Binding is the
//! slow part (a durable write on the API server), so it runs in tasks of
//! its own, many at once, while the loop goes on with the next pod: the
//! pod is *assumed* on its node in the snapshot at once, and forgotten
//! again if the binding fails (kube-scheduler's assume/bind split).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use apiserver::client::{Api, Cache, Change, Client, ClientError, Informer, ListParams, Patch};
use objects::{Event, Node, Pod, Time};
use serde_json::json;
use tokio::sync::{Semaphore, mpsc, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tracing::{debug, info, warn};

use crate::algorithm::schedule;
use crate::events::{EventWrite, Recorder};
use crate::node_info::{PodInfo, Snapshot};
use crate::queue::{INITIAL_BACKOFF, MAX_BACKOFF, SchedulingQueue};
use crate::rng::Rng;
use crate::score::{ScorePlugin, default_plugins};

/// How the scheduler is set up.
pub struct Config {
    /// The `spec.schedulerName` this scheduler serves.
    pub scheduler_name: String,
    /// The scoring policy.
    pub plugins: Vec<Box<dyn ScorePlugin>>,
    /// Breaks ties between equally good nodes.
    pub rng: Rng,
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
    /// Bindings in flight at once.
    pub bind_parallelism: usize,
    /// How long to wait for the first list of pods and nodes.
    pub sync_timeout: Duration,
    /// Record a `Scheduled` event for every bound pod, as kube-scheduler does.
    pub scheduled_events: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            scheduler_name: crate::DEFAULT_SCHEDULER.to_string(),
            plugins: default_plugins(),
            rng: Rng::from_time(),
            initial_backoff: INITIAL_BACKOFF,
            max_backoff: MAX_BACKOFF,
            bind_parallelism: 64,
            sync_timeout: Duration::from_secs(30),
            scheduled_events: true,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("the informers did not sync within {timeout:?}: {last_error}")]
    Sync {
        timeout: Duration,
        last_error: String,
    },
}

/// Counters a caller (the benchmark, a test) can read.
#[derive(Debug, Default)]
pub struct Stats {
    pub bound: AtomicU64,
    pub unschedulable: AtomicU64,
    pub bind_errors: AtomicU64,
}

/// A running scheduler; dropping it stops it.
pub struct Scheduler {
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
    stats: Arc<Stats>,
}

impl Scheduler {
    /// Starts the informers, waits until both have listed, and starts
    /// scheduling (must be called within a tokio runtime).
    pub async fn start(client: Client, config: Config) -> Result<Scheduler, StartError> {
        let pods_api: Api<Pod> = Api::all(&client);
        // Finished pods take nothing on their node: not even listed.
        let params = ListParams::default().fields("status.phase!=Succeeded,status.phase!=Failed");
        let (pods, pod_changes) = Informer::with_changes(pods_api.clone(), params);
        let (nodes, node_changes) =
            Informer::with_changes(Api::all(&client), ListParams::default());
        for (synced, error) in [
            (
                tokio::time::timeout(config.sync_timeout, pods.wait_for_sync()).await,
                pods.last_error(),
            ),
            (
                tokio::time::timeout(config.sync_timeout, nodes.wait_for_sync()).await,
                nodes.last_error(),
            ),
        ] {
            if !matches!(synced, Ok(true)) {
                return Err(StartError::Sync {
                    timeout: config.sync_timeout,
                    last_error: error.unwrap_or_else(|| "no answer".into()),
                });
            }
        }
        let (stop, stopping) = watch::channel(false);
        let stats = Arc::new(Stats::default());
        let (bound_sender, bound) = mpsc::unbounded_channel();
        let (writes, write_queue) = mpsc::channel(1000);
        tokio::spawn(write_events(client.clone(), write_queue));
        let driver = Driver {
            queue: SchedulingQueue::new(config.initial_backoff, config.max_backoff),
            binds: Arc::new(Semaphore::new(config.bind_parallelism.max(1))),
            config,
            pods_api,
            pod_cache: pods.cache(),
            snapshot: Snapshot::new(),
            assumed: Default::default(),
            recorder: Recorder::default(),
            bound_sender,
            writes,
            stats: Arc::clone(&stats),
        };
        let task =
            tokio::spawn(driver.run(pods, nodes, pod_changes, node_changes, bound, stopping));
        Ok(Scheduler {
            stop,
            task: Some(task),
            stats,
        })
    }

    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// Stops scheduling; bindings in flight are abandoned after `limit`.
    pub async fn stop(mut self, limit: Duration) {
        let _ = self.stop.send(true);
        if let Some(mut task) = self.task.take()
            && tokio::time::timeout(limit, &mut task).await.is_err()
        {
            task.abort();
            let _ = task.await;
        }
    }
}

impl Drop for Scheduler {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// What a binding task reports back.
struct Bound {
    key: String,
    pod: Arc<Pod>,
    node: String,
    result: Result<(), ClientError>,
}

struct Driver {
    config: Config,
    pods_api: Api<Pod>,
    pod_cache: Cache<Pod>,
    snapshot: Snapshot,
    queue: SchedulingQueue,
    /// Pods whose binding is in flight.
    assumed: std::collections::HashSet<String>,
    recorder: Recorder,
    binds: Arc<Semaphore>,
    bound_sender: mpsc::UnboundedSender<Bound>,
    writes: mpsc::Sender<Write>,
    stats: Arc<Stats>,
}

fn is_terminal(pod: &Pod) -> bool {
    matches!(pod.status.phase.as_deref(), Some("Succeeded" | "Failed"))
}

impl Driver {
    // ANCHOR: run
    async fn run(
        mut self,
        // Held so their tasks live as long as the loop.
        _pods: Informer<Pod>,
        _nodes: Informer<Node>,
        mut pod_changes: mpsc::UnboundedReceiver<Change<Pod>>,
        mut node_changes: mpsc::UnboundedReceiver<Change<Node>>,
        mut bound: mpsc::UnboundedReceiver<Bound>,
        mut stopping: watch::Receiver<bool>,
    ) {
        loop {
            // Everything that happened so far goes into the snapshot
            // before the next cycle starts.
            while let Ok(change) = node_changes.try_recv() {
                self.node_changed(change);
            }
            while let Ok(change) = pod_changes.try_recv() {
                self.pod_changed(change);
            }
            while let Ok(result) = bound.try_recv() {
                self.bind_finished(result);
            }
            if let Some(key) = self.queue.pop(Instant::now().into_std()) {
                self.schedule_one(&key);
                // Let the binding tasks run between cycles.
                tokio::task::yield_now().await;
                continue;
            }
            let wakeup = self.queue.next_wakeup().map(Instant::from_std);
            tokio::select! {
                _ = stopping.wait_for(|stop| *stop) => return,
                Some(change) = node_changes.recv() => self.node_changed(change),
                Some(change) = pod_changes.recv() => self.pod_changed(change),
                Some(result) = bound.recv() => self.bind_finished(result),
                _ = sleep_until(wakeup) => {}
            }
        }
    }
    // ANCHOR_END: run

    fn responsible_for(&self, pod: &Pod) -> bool {
        pod.spec
            .scheduler_name
            .as_deref()
            .unwrap_or(crate::DEFAULT_SCHEDULER)
            == self.config.scheduler_name
    }

    fn pod_changed(&mut self, change: Change<Pod>) {
        let now = Instant::now().into_std();
        let key = change.key().to_string();
        let (pod, relevant) = match &change {
            Change::Deleted(_) => {
                debug!(pod = %key, "pod deleted");
                self.pod_gone(&key, now);
                return;
            }
            Change::Added(pod) => (pod, true),
            // Only a change of what the scheduler looks at may change its
            // answer: not the status it writes itself.
            Change::Updated { old, new } => (
                new,
                old.spec != new.spec || old.metadata.labels != new.metadata.labels,
            ),
        };
        if is_terminal(pod) {
            self.pod_gone(&key, now);
            return;
        }
        if let Some(node) = &pod.spec.node_name {
            self.assumed.remove(&key);
            self.queue.remove(&key);
            if self.snapshot.placement(&key) != Some(node.as_str()) || relevant {
                self.snapshot.place(&key, node, PodInfo::of(pod));
            }
            return;
        }
        if relevant
            && pod.metadata.deletion_timestamp.is_none()
            && self.responsible_for(pod)
            && !self.assumed.contains(&key)
        {
            self.queue.add(&key, now);
        }
    }

    /// A pod is gone (or finished): its resources are free, which may let
    /// unschedulable pods fit.
    fn pod_gone(&mut self, key: &str, now: std::time::Instant) {
        let was_placed = self.snapshot.placement(key).is_some();
        self.snapshot.forget(key);
        self.queue.remove(key);
        self.assumed.remove(key);
        self.recorder.forget(key);
        if was_placed {
            self.queue.move_all(now);
        }
    }

    fn node_changed(&mut self, change: Change<Node>) {
        let now = Instant::now().into_std();
        match change {
            Change::Added(node) => {
                info!(node = node.metadata.name(), "node added");
                self.snapshot.set_node(node);
                self.queue.move_all(now);
            }
            Change::Updated { old, new } => {
                let conditions = |n: &Node| {
                    n.status
                        .conditions
                        .iter()
                        .map(|c| (c.condition_type.clone(), c.status.clone()))
                        .collect::<Vec<_>>()
                };
                // Heartbeats change only timestamps: no reason to retry.
                let relevant = old.spec != new.spec
                    || old.metadata.labels != new.metadata.labels
                    || old.status.allocatable != new.status.allocatable
                    || conditions(&old) != conditions(&new);
                self.snapshot.set_node(new);
                if relevant {
                    self.queue.move_all(now);
                }
            }
            Change::Deleted(node) => {
                info!(node = node.metadata.name(), "node deleted");
                self.snapshot.remove_node(node.metadata.name());
            }
        }
    }

    // ANCHOR: schedule_one
    fn schedule_one(&mut self, key: &str) {
        let (namespace, name) = key.split_once('/').unwrap_or(("", key));
        let Some(pod) = self.pod_cache.get(namespace, name) else {
            return;
        };
        if pod.spec.node_name.is_some() || pod.metadata.deletion_timestamp.is_some() {
            return;
        }
        let now = Instant::now().into_std();
        match schedule(
            &pod,
            &self.snapshot,
            &self.config.plugins,
            &mut self.config.rng,
        ) {
            Ok(decision) => {
                info!(
                    pod = %key,
                    node = %decision.node,
                    score = decision.score,
                    feasible = decision.feasible,
                    nodes = self.snapshot.node_count(),
                    "assigned"
                );
                self.snapshot.place(key, &decision.node, PodInfo::of(&pod));
                self.assumed.insert(key.to_string());
                self.spawn_bind(key.to_string(), pod, decision.node);
            }
            Err(error) => {
                info!(pod = %key, reason = %error.message, "unschedulable");
                self.stats.unschedulable.fetch_add(1, Ordering::Relaxed);
                self.queue.failed(key, true, now);
                self.report_unschedulable(&pod, &error.message);
            }
        }
    }
    // ANCHOR_END: schedule_one

    fn spawn_bind(&self, key: String, pod: Arc<Pod>, node: String) {
        let api = Api::<Pod>::namespaced(self.pods_api.client(), pod.metadata.namespace());
        let binds = Arc::clone(&self.binds);
        let done = self.bound_sender.clone();
        tokio::spawn(async move {
            let _permit = binds.acquire_owned().await;
            let binding = json!({
                "apiVersion": "v1",
                "kind": "Binding",
                "metadata": {"name": pod.metadata.name(), "namespace": pod.metadata.namespace()},
                "target": {"apiVersion": "v1", "kind": "Node", "name": node},
            });
            let result = api
                .create_subresource(pod.metadata.name(), "binding", &binding)
                .await
                .map(|_| ());
            let _ = done.send(Bound {
                key,
                pod,
                node,
                result,
            });
        });
    }

    fn bind_finished(&mut self, bound: Bound) {
        let Bound {
            key,
            pod,
            node,
            result,
        } = bound;
        let now = Instant::now().into_std();
        match result {
            Ok(()) => {
                self.stats.bound.fetch_add(1, Ordering::Relaxed);
                self.queue.succeeded(&key);
                if self.config.scheduled_events {
                    let message = format!("Successfully assigned {key} to {node}");
                    let write = self.recorder.record(&pod, "Normal", "Scheduled", &message);
                    self.send(Write::Event(write));
                }
            }
            Err(error) => {
                self.stats.bind_errors.fetch_add(1, Ordering::Relaxed);
                warn!(pod = %key, node = %node, %error, "binding failed");
                self.assumed.remove(&key);
                // Unless the informer already saw the pod bound, the
                // assumption was wrong: free what it took, try again later.
                let cached = self
                    .pod_cache
                    .get(pod.metadata.namespace(), pod.metadata.name());
                match cached {
                    Some(current) if current.spec.node_name.is_some() => {}
                    Some(_) => {
                        self.snapshot.forget(&key);
                        self.queue.failed(&key, false, now);
                    }
                    None => self.snapshot.forget(&key),
                }
            }
        }
    }

    /// PodScheduled=False with reason Unschedulable (only when it says
    /// something new) and a FailedScheduling event.
    fn report_unschedulable(&mut self, pod: &Pod, message: &str) {
        let current = pod
            .status
            .conditions
            .iter()
            .find(|c| c.condition_type == "PodScheduled");
        let unchanged = current.is_some_and(|c| {
            c.status == "False"
                && c.reason.as_deref() == Some("Unschedulable")
                && c.message.as_deref() == Some(message)
        });
        if !unchanged {
            let transition = match current {
                Some(c) if c.status == "False" => c.last_transition_time,
                _ => None,
            }
            .unwrap_or_else(Time::now);
            self.send(Write::Condition {
                namespace: pod.metadata.namespace().to_string(),
                name: pod.metadata.name().to_string(),
                patch: json!({"status": {"conditions": [{
                    "type": "PodScheduled",
                    "status": "False",
                    "reason": "Unschedulable",
                    "message": message,
                    "lastProbeTime": null,
                    "lastTransitionTime": transition,
                }]}}),
            });
        }
        let write = self
            .recorder
            .record(pod, "Warning", "FailedScheduling", message);
        self.send(Write::Event(write));
    }

    /// Hands a write to the writer task; when it is 1,000 writes behind,
    /// the write is dropped (as client-go's event broadcaster drops
    /// events) rather than slowing scheduling down.
    fn send(&self, write: Write) {
        if self.writes.try_send(write).is_err() {
            debug!("event and status writes are behind: one dropped");
        }
    }
}

/// A write that is not on the scheduling path.
enum Write {
    Event(EventWrite),
    Condition {
        namespace: String,
        name: String,
        patch: serde_json::Value,
    },
}

/// Writes events and conditions, up to 16 at once.
async fn write_events(client: Client, mut writes: mpsc::Receiver<Write>) {
    let limit = Arc::new(Semaphore::new(16));
    while let Some(write) = writes.recv().await {
        let Ok(permit) = Arc::clone(&limit).acquire_owned().await else {
            return;
        };
        let client = client.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let result = match write {
                Write::Event(EventWrite::Create(event)) => {
                    let namespace = event.metadata.namespace().to_string();
                    Api::<Event>::namespaced(&client, &namespace)
                        .create(&event)
                        .await
                        .map(|_| ())
                }
                Write::Event(EventWrite::Bump {
                    namespace,
                    name,
                    count,
                    last_timestamp,
                }) => Api::<Event>::namespaced(&client, &namespace)
                    .patch(
                        &name,
                        &Patch::Merge(json!({"count": count, "lastTimestamp": last_timestamp})),
                    )
                    .await
                    .map(|_| ()),
                Write::Condition {
                    namespace,
                    name,
                    patch,
                } => Api::<Pod>::namespaced(&client, &namespace)
                    .patch_status(&name, &Patch::Strategic(patch))
                    .await
                    .map(|_| ()),
            };
            if let Err(error) = result
                && !error.is_not_found()
            {
                warn!(%error, "could not write an event or a pod condition");
            }
        });
    }
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
