// Generated from solutions/10-controllers/src/nodelifecycle/controller.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
//! The reconcile of one node. Every `monitor_period` (and on any change of
//! the node, its lease or its pods) it checks that the node's agent still
//! reports. After `grace_period` of silence its conditions go Unknown, its
//! pods stop counting as ready (Services stop sending them traffic), and
//! it gets the `unreachable` taints; a NoExecute taint then evicts each pod
//! once its toleration runs out (300 s by default, from the API server's
//! admission). An agent that comes back sets Ready=True again, and the
//! taints go. Kubernetes: `monitorNodeHealth`, `MarkPodsNotReady`,
//! `doNoExecuteTaintingPass` and the taint eviction controller.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use apiserver::client::{Api, Cache, Change, Client, ClientError, DeleteParams, Informer};
use objects::{Lease, Node, Pod, Time};

use super::eviction::{Eviction, eviction};
use super::health::{Heartbeat, condition, unknown_conditions, wanted_taints};
use crate::controller::{Action, Controller, ObjectKey, Reconciler};
use crate::events::Recorder;
use crate::manager::{Context, Registration};

/// Where node agents renew their leases.
pub const NODE_LEASE_NAMESPACE: &str = "kube-node-lease";

#[derive(Debug, Clone, Copy)]
pub struct NodeLifecycleConfig {
    /// Silence after which a node is unreachable (Kubernetes'
    /// `--node-monitor-grace-period`, 40 s).
    pub grace_period: Duration,
    /// How often a node is looked at without a change (5 s).
    pub monitor_period: Duration,
}

impl Default for NodeLifecycleConfig {
    fn default() -> Self {
        NodeLifecycleConfig {
            grace_period: Duration::from_secs(40),
            monitor_period: Duration::from_secs(5),
        }
    }
}

pub struct NodeLifecycleController {
    client: Client,
    nodes: Cache<Node>,
    leases: Cache<Lease>,
    pods: Cache<Pod>,
    config: NodeLifecycleConfig,
    heartbeats: Mutex<HashMap<String, Heartbeat>>,
    events: Recorder,
}

impl NodeLifecycleController {
    /// The controller, fed by the node, lease (`kube-node-lease`) and pod
    /// informers: a lease or a pod queues its node.
    pub fn build(
        client: &Client,
        nodes: &Arc<Informer<Node>>,
        leases: &Arc<Informer<Lease>>,
        pods: &Arc<Informer<Pod>>,
        config: NodeLifecycleConfig,
    ) -> Controller<NodeLifecycleController> {
        let controller = NodeLifecycleController {
            client: client.clone(),
            nodes: nodes.cache(),
            leases: leases.cache(),
            pods: pods.cache(),
            config,
            heartbeats: Mutex::default(),
            events: Recorder::new(client, "node-controller"),
        };
        Controller::new("node-lifecycle", controller, nodes)
            .watches(leases, lease_node)
            .watches(pods, pod_node)
    }

    /// The heartbeat as of now, remembered for the next look.
    fn heartbeat(&self, node: &Node, now: Instant) -> Heartbeat {
        let lease = self.leases.get(NODE_LEASE_NAMESPACE, node.metadata.name());
        // Poisoned only by a panic in another reconcile: the map is still
        // sound (one insert at a time).
        let mut heartbeats = self.heartbeats.lock().unwrap_or_else(|e| e.into_inner());
        let name = node.metadata.name().to_string();
        let heartbeat = Heartbeat::observe(heartbeats.get(&name), node, lease.as_deref(), now);
        heartbeats.insert(name, heartbeat.clone());
        heartbeat
    }

    /// Conditions to Unknown, the node's pods not ready.
    async fn mark_unknown(&self, node: &Node) -> Result<Node, ClientError> {
        let mut updated = node.clone();
        updated.status.conditions = unknown_conditions(&node.status.conditions, &Time::now());
        let api: Api<Node> = Api::all(&self.client);
        let written = api.replace_status(&updated).await?;
        let name = node.metadata.name();
        self.events
            .normal(
                &written,
                "NodeNotReady",
                &format!("Node {name} status is now: NodeNotReady"),
            )
            .await;
        for pod in self.pods_on(name) {
            self.mark_pod_not_ready(&pod).await?;
        }
        Ok(written)
    }

    async fn mark_pod_not_ready(&self, pod: &Pod) -> Result<(), ClientError> {
        let mut updated = pod.clone();
        let Some(ready) = updated
            .status
            .conditions
            .iter_mut()
            .find(|c| c.condition_type == "Ready" && c.status != "False")
        else {
            return Ok(());
        };
        ready.status = "False".into();
        ready.last_transition_time = Some(Time::now());
        let api: Api<Pod> = Api::namespaced(&self.client, pod.metadata.namespace());
        match api.replace_status(&updated).await {
            Err(error) if error.is_not_found() => Ok(()),
            other => other.map(drop),
        }
    }

    fn pods_on(&self, node: &str) -> Vec<Arc<Pod>> {
        self.pods
            .list()
            .into_iter()
            .filter(|pod| pod.spec.node_name.as_deref() == Some(node))
            .collect()
    }

    /// Deletes the pods whose tolerations ran out; the time of the next
    /// eviction, if one is pending.
    async fn evict(&self, node: &Node) -> Result<Option<Duration>, ClientError> {
        let now = chrono::Utc::now();
        let mut next: Option<Duration> = None;
        for pod in self.pods_on(node.metadata.name()) {
            if pod.metadata.deletion_timestamp.is_some() {
                continue;
            }
            match eviction(&pod.spec.tolerations, &node.spec.taints, now) {
                Eviction::Never => {}
                Eviction::At(deadline) => {
                    let wait = (deadline - now).to_std().unwrap_or_default();
                    next = Some(next.map_or(wait, |n| n.min(wait)));
                }
                Eviction::Now => {
                    let key = format!("{}/{}", pod.metadata.namespace(), pod.metadata.name());
                    self.events
                        .normal(
                            pod.as_ref(),
                            "TaintManagerEviction",
                            &format!("Marking for deletion Pod {key}"),
                        )
                        .await;
                    let api: Api<Pod> = Api::namespaced(&self.client, pod.metadata.namespace());
                    match api
                        .delete(pod.metadata.name(), &DeleteParams::default())
                        .await
                    {
                        Err(error) if !error.is_not_found() => return Err(error),
                        _ => tracing::info!(pod = %key, "evicted"),
                    }
                }
            }
        }
        Ok(next)
    }
}

impl Reconciler for NodeLifecycleController {
    type Error = ClientError;

    async fn reconcile(&self, key: &ObjectKey) -> Result<Action, ClientError> {
        let Some(node) = self.nodes.get("", &key.name) else {
            let mut heartbeats = self.heartbeats.lock().unwrap_or_else(|e| e.into_inner());
            heartbeats.remove(&key.name);
            return Ok(Action::await_change());
        };
        let mut node = node.as_ref().clone();
        let now = Instant::now();
        let left = self
            .heartbeat(&node, now)
            .left(self.config.grace_period, now);
        let ready = condition(&node, "Ready").map(|c| c.status.clone());
        if left.is_zero() && ready.as_deref() != Some("Unknown") {
            tracing::info!(node = %key.name, "the node stopped reporting");
            node = self.mark_unknown(&node).await?;
        }
        let taints = wanted_taints(&node, &Time::now());
        if taints != node.spec.taints {
            node.spec.taints = taints;
            let api: Api<Node> = Api::all(&self.client);
            node = api.replace(&node).await?;
        }
        let next_eviction = self.evict(&node).await?;
        let mut wait = self.config.monitor_period;
        if !left.is_zero() {
            wait = wait.min(left);
        }
        if let Some(eviction) = next_eviction {
            wait = wait.min(eviction.max(Duration::from_millis(100)));
        }
        Ok(Action::requeue(wait))
    }
}

/// The controller as the manager runs it, on the shared informers.
pub fn registration(config: NodeLifecycleConfig) -> Registration {
    Registration::new(
        "nodelifecycle",
        move |context: Context, shutdown| async move {
            let nodes = context.informers.get::<Node>();
            let leases = context.informers.get::<Lease>();
            let pods = context.informers.get::<Pod>();
            NodeLifecycleController::build(&context.client, &nodes, &leases, &pods, config)
                .settings(context.settings)
                .run(shutdown)
                .await
        },
    )
}

/// A lease in `kube-node-lease` queues its node.
fn lease_node(change: &Change<Lease>) -> Vec<ObjectKey> {
    let lease = change.object();
    if lease.metadata.namespace() != NODE_LEASE_NAMESPACE {
        return Vec::new();
    }
    vec![ObjectKey {
        namespace: String::new(),
        name: lease.metadata.name().to_string(),
    }]
}

/// A pod queues the node it is bound to.
fn pod_node(change: &Change<Pod>) -> Vec<ObjectKey> {
    change
        .object()
        .spec
        .node_name
        .iter()
        .map(|node| ObjectKey {
            namespace: String::new(),
            name: node.clone(),
        })
        .collect()
}
