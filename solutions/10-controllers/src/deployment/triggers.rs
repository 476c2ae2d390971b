//! Which deployments a change concerns: the keys the work queue gets.
//! They read the caches but write nothing.
//!
//! - a Deployment: itself;
//! - a ReplicaSet: the deployment that controls it (its controller
//!   ownerReference, the uid checked against the cached deployment: a
//!   deployment deleted and created again under the same name is another
//!   object), the previous controller too when that changed, and for an
//!   orphan, every deployment whose selector matches it (one may adopt it);
//! - a Pod: only Recreate waits on pods (no new pod before the old ones
//!   are gone), so a pod that goes away or finishes wakes the Recreate
//!   deployment that owns its ReplicaSet.
//!
//! Kubernetes: the event handlers of deployment_controller.go
//! (`addReplicaSet`, `updateReplicaSet`, `deleteReplicaSet`, `deletePod`).

use apiserver::client::{Cache, Change, ObjectKey};
use objects::{Deployment, OwnerReference, Pod, ReplicaSet, Selector};

use super::counts::{Strategy, strategy};
use crate::controller::trigger::controller_ref as controller_of;

/// A Deployment change: its own key.
pub fn for_deployment(change: &Change<Deployment>) -> Vec<ObjectKey> {
    vec![change.key()]
}

/// The cached deployment `reference` points at, if it is that very
/// deployment (kind and uid).
fn resolve(
    deployments: &Cache<Deployment>,
    namespace: &str,
    reference: &OwnerReference,
) -> Option<ObjectKey> {
    if reference.kind != "Deployment" {
        return None;
    }
    let deployment = deployments.get(namespace, &reference.name)?;
    (deployment.metadata.uid.as_deref() == Some(reference.uid.as_str()))
        .then(|| ObjectKey::of(deployment.as_ref()))
}

/// The deployments of the namespace whose (non-empty) selector matches `rs`.
fn matching(deployments: &Cache<Deployment>, rs: &ReplicaSet) -> Vec<ObjectKey> {
    deployments
        .list_namespace(rs.metadata.namespace())
        .iter()
        .filter(|d| {
            Selector::from_label_selector(&d.spec.selector)
                .is_ok_and(|s| !s.is_everything() && s.matches(&rs.metadata.labels))
        })
        .map(|d| ObjectKey::of(d.as_ref()))
        .collect()
}

/// A ReplicaSet change: its controller, or the deployments that may adopt it.
pub fn for_replica_set(
    change: &Change<ReplicaSet>,
    deployments: &Cache<Deployment>,
) -> Vec<ObjectKey> {
    let rs = change.object();
    let namespace = rs.metadata.namespace();
    let current = controller_of(&rs.metadata);
    let mut keys = Vec::new();
    match change {
        Change::Added(_) | Change::Deleted(_) => {
            if let Some(reference) = current {
                keys.extend(resolve(deployments, namespace, reference));
            } else if matches!(change, Change::Added(_)) && rs.metadata.deletion_timestamp.is_none()
            {
                keys.extend(matching(deployments, rs));
            }
        }
        Change::Updated { old, new } => {
            let previous = controller_of(&old.metadata);
            if previous != current
                && let Some(reference) = previous
            {
                keys.extend(resolve(deployments, namespace, reference));
            }
            if let Some(reference) = current {
                keys.extend(resolve(deployments, namespace, reference));
            } else if previous != current || old.metadata.labels != new.metadata.labels {
                keys.extend(matching(deployments, rs));
            }
        }
    }
    keys.sort();
    keys.dedup();
    keys
}

/// A Pod change: the Recreate deployment owning its ReplicaSet, when the
/// pod is gone or finished.
pub fn for_pod(
    change: &Change<Pod>,
    replica_sets: &Cache<ReplicaSet>,
    deployments: &Cache<Deployment>,
) -> Vec<ObjectKey> {
    let pod = change.object();
    let finished = |pod: &Pod| matches!(pod.status.phase.as_deref(), Some("Succeeded" | "Failed"));
    let relevant = match change {
        Change::Deleted(_) => true,
        Change::Updated { old, new } => finished(new) && !finished(old),
        Change::Added(_) => false,
    };
    if !relevant {
        return Vec::new();
    }
    let namespace = pod.metadata.namespace();
    let Some(reference) = controller_of(&pod.metadata).filter(|r| r.kind == "ReplicaSet") else {
        return Vec::new();
    };
    let Some(rs) = replica_sets.get(namespace, &reference.name) else {
        return Vec::new();
    };
    if rs.metadata.uid.as_deref() != Some(reference.uid.as_str()) {
        return Vec::new();
    }
    let Some(key) = controller_of(&rs.metadata).and_then(|r| resolve(deployments, namespace, r))
    else {
        return Vec::new();
    };
    let recreate = deployments
        .get(&key.namespace, &key.name)
        .is_some_and(|d| strategy(&d) == Strategy::Recreate);
    if recreate { vec![key] } else { Vec::new() }
}
