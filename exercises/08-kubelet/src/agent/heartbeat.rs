// Generated from solutions/08-kubelet/src/agent/heartbeat.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
//! Registration and heartbeats: the Node is created (or taken over) at
//! start; then its lease is renewed every `lease_interval`, and its status
//! written when it changes or when `status_interval` has passed.
//! Kubernetes: `kubelet_node_status.go` and `nodelease`.

use std::sync::Arc;
use std::time::Duration;

use apiserver::client::{Client, ClientError};
use objects::{Lease, MicroTime, Node, Time};
use tokio::sync::watch;
use tokio::time::Instant;

use super::{Config, KubeletError, Shared};
use crate::lease::{NODE_LEASE_DURATION_SECONDS, NODE_LEASE_NAMESPACE, new_lease, renew};
use crate::node::{
    NodeFacts, build_node, conditions, observe_pressure, status_changed, system_info,
};

fn facts(config: &Config) -> NodeFacts {
    NodeFacts {
        name: config.name.clone(),
        address: config.address,
        hostname: config.hostname.clone(),
        pod_cidr: config.pod_cidr.clone(),
        capacity: config.capacity,
        port: config.port,
        info: system_info(),
    }
}

/// The node as it should be now: registration's fields and fresh
/// conditions, over what is stored (`stored`'s metadata, its taints and
/// cordon, which others own).
fn desired(config: &Config, stored: Option<&Node>) -> Node {
    let mut node = build_node(&facts(config));
    let old_conditions = stored
        .map(|n| n.status.conditions.as_slice())
        .unwrap_or(&[]);
    node.status.conditions = conditions(
        old_conditions,
        observe_pressure(&config.data_dir),
        Time::now(),
    );
    if let Some(stored) = stored {
        let labels = std::mem::take(&mut node.metadata.labels);
        node.metadata = stored.metadata.clone();
        node.metadata.labels.extend(labels);
        node.spec.unschedulable = stored.spec.unschedulable;
        node.spec.taints = stored.spec.taints.clone();
        node.spec.provider_id = stored.spec.provider_id.clone();
        if node.spec.pod_cidr.is_none() {
            node.spec.pod_cidr = stored.spec.pod_cidr.clone();
            node.spec.pod_cidrs = stored.spec.pod_cidrs.clone();
        }
    }
    node
}

/// Registers the node, waiting for an API server that is down or
/// restarting as the kubelet does (an agent started again after a crash
/// must come back to adopt its pods, whenever the server does); any
/// other error ends it.
pub(super) async fn register(client: &Client, config: &Config) -> Result<Node, KubeletError> {
    let mut wait = Duration::from_millis(250);
    loop {
        match register_once(client, config).await {
            Err(KubeletError::Register { source, .. }) if source.is_unavailable() => {
                eprintln!(
                    "kubelet: cannot register node {} yet (retrying in {wait:?}): {source}",
                    config.name
                );
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(Duration::from_secs(8));
            }
            done => return done,
        }
    }
}

/// Creates the Node, or updates the one a previous run registered; then
/// writes its status (a create does not: status is a subresource).
async fn register_once(client: &Client, config: &Config) -> Result<Node, KubeletError> {
    let api = client.api::<Node>(None);
    let failed = |source| KubeletError::Register {
        node: config.name.clone(),
        source,
    };
    let stored = match api.create(&desired(config, None)).await {
        Ok(node) => node,
        Err(error) if error.is_already_exists() => {
            let stored = api.get(&config.name).await.map_err(failed)?;
            api.replace(&desired(config, Some(&stored)))
                .await
                .map_err(failed)?
        }
        Err(error) => return Err(failed(error)),
    };
    api.replace_status(&desired(config, Some(&stored)))
        .await
        .map_err(failed)
}

/// Renews the lease: creates it the first time, updates it afterwards.
async fn renew_lease(client: &Client, node: &Node, config: &Config) -> Result<(), ClientError> {
    let api = client.api::<Lease>(Some(NODE_LEASE_NAMESPACE));
    let now = MicroTime::now();
    match api.get_opt(&config.name).await? {
        Some(stored) => {
            api.replace(&renew(
                stored,
                &config.name,
                NODE_LEASE_DURATION_SECONDS,
                now,
            ))
            .await?;
        }
        None => {
            let lease = renew(
                new_lease(node),
                &config.name,
                NODE_LEASE_DURATION_SECONDS,
                now,
            );
            api.create(&lease).await?;
        }
    }
    Ok(())
}

/// Writes the node's status if it changed, or if the last write is older
/// than `status_interval`; returns the stored node.
async fn update_status(
    client: &Client,
    node: Node,
    config: &Config,
    last_write: &mut Instant,
) -> Result<Node, ClientError> {
    let api = client.api::<Node>(None);
    let stored = api.get(&config.name).await?;
    let wanted = desired(config, Some(&stored));
    let due = last_write.elapsed() >= config.status_interval;
    if !due && !status_changed(&stored, &wanted) {
        return Ok(node);
    }
    let written = api.replace_status(&wanted).await?;
    *last_write = Instant::now();
    Ok(written)
}

/// The heartbeat loop: lease, then status, every `lease_interval`.
pub(super) async fn run(shared: Arc<Shared>, mut node: Node, mut stop: watch::Receiver<bool>) {
    let config = &shared.config;
    let client = &shared.client;
    let mut last_write = Instant::now();
    let status_check = config.lease_interval.min(Duration::from_secs(10));
    let mut lease_due = Instant::now();
    let mut status_due = Instant::now() + status_check;
    loop {
        let next = lease_due.min(status_due);
        tokio::select! {
            _ = tokio::time::sleep_until(next) => {}
            _ = stop.changed() => return,
        }
        let now = Instant::now();
        if now >= lease_due {
            if let Err(error) = renew_lease(client, &node, config).await {
                eprintln!("kubelet: cannot renew the node lease: {error}");
            }
            lease_due = now + config.lease_interval;
        }
        if now >= status_due {
            match update_status(client, node.clone(), config, &mut last_write).await {
                Ok(written) => node = written,
                Err(error) => eprintln!("kubelet: cannot update the node status: {error}"),
            }
            status_due = now + status_check;
        }
    }
}
