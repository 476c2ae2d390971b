//! What the planners read from a Deployment and its ReplicaSets: desired
//! and actual counts, the strategy, the order of ReplicaSets by age.
//!
//! The API types keep most fields optional (as the wire format does); the
//! server defaults them, so `None` only appears on objects built by hand.
//! These accessors give such objects Kubernetes' defaults. Kubernetes:
//! the `Get*ReplicaCountForReplicaSets` helpers of
//! pkg/controller/deployment/util and `controller.ReplicaSetsByCreationTimestamp`.

use objects::{Deployment, ReplicaSet};

/// `spec.replicas` of a deployment (1 by default).
pub fn desired(deployment: &Deployment) -> i32 {
    deployment.spec.replicas.unwrap_or(1)
}

/// `spec.replicas` of a replica set (1 by default).
pub fn replicas(replica_set: &ReplicaSet) -> i32 {
    replica_set.spec.replicas.unwrap_or(1)
}

/// `status.availableReplicas`: pods ready for at least `minReadySeconds`.
pub fn available(replica_set: &ReplicaSet) -> i32 {
    replica_set.status.available_replicas.unwrap_or(0)
}

/// The sum of `spec.replicas`: the pods asked for.
pub fn total_replicas<'a>(replica_sets: impl IntoIterator<Item = &'a ReplicaSet>) -> i32 {
    replica_sets.into_iter().map(replicas).sum()
}

/// The sum of `status.replicas`: the pods that exist.
pub fn total_actual<'a>(replica_sets: impl IntoIterator<Item = &'a ReplicaSet>) -> i32 {
    replica_sets.into_iter().map(|rs| rs.status.replicas).sum()
}

/// The sum of `status.readyReplicas`.
pub fn total_ready<'a>(replica_sets: impl IntoIterator<Item = &'a ReplicaSet>) -> i32 {
    replica_sets
        .into_iter()
        .map(|rs| rs.status.ready_replicas.unwrap_or(0))
        .sum()
}

/// The sum of `status.availableReplicas`.
pub fn total_available<'a>(replica_sets: impl IntoIterator<Item = &'a ReplicaSet>) -> i32 {
    replica_sets.into_iter().map(available).sum()
}

/// The two strategies a deployment can roll out with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    RollingUpdate,
    Recreate,
}

/// The deployment's strategy; unset means RollingUpdate (the server's
/// default). An unknown type is refused by validation, so it cannot be
/// stored; it reads as RollingUpdate here rather than stalling.
pub fn strategy(deployment: &Deployment) -> Strategy {
    let strategy_type = deployment
        .spec
        .strategy
        .as_ref()
        .and_then(|s| s.strategy_type.as_deref());
    match strategy_type {
        Some("Recreate") => Strategy::Recreate,
        _ => Strategy::RollingUpdate,
    }
}

/// Oldest first, by creation time then name (Kubernetes' order, whose
/// timestamps have whole seconds too).
pub fn sort_oldest_first(replica_sets: &mut [&ReplicaSet]) {
    replica_sets.sort_by(|a, b| {
        (a.metadata.creation_timestamp, a.metadata.name())
            .cmp(&(b.metadata.creation_timestamp, b.metadata.name()))
    });
}

/// The replica sets that still ask for pods.
pub fn active<'a>(replica_sets: impl IntoIterator<Item = &'a ReplicaSet>) -> Vec<&'a ReplicaSet> {
    replica_sets
        .into_iter()
        .filter(|rs| replicas(rs) > 0)
        .collect()
}

/// One ReplicaSet's new size, as a planner decides it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scaling {
    pub name: String,
    pub from: i32,
    pub to: i32,
}

impl Scaling {
    pub fn new(replica_set: &ReplicaSet, to: i32) -> Scaling {
        Scaling {
            name: replica_set.metadata.name().to_string(),
            from: replicas(replica_set),
            to,
        }
    }
}
