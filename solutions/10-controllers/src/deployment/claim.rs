//! Which ReplicaSets a deployment manages: those whose controller
//! ownerReference points at it (by uid) and that its selector still
//! matches. An orphan ReplicaSet that the selector matches is adopted (a
//! deployment deleted with `--cascade=orphan` and created again picks its
//! ReplicaSets back up); one of ours that no longer matches (its labels
//! were edited) is released. Another controller's ReplicaSets are never
//! touched. The rules are the shared ones of [`crate::controller::claim`];
//! the patches are the Deployment's own.
//!
//! Kubernetes: `ControllerRefManager.ClaimReplicaSets`
//! (pkg/controller/controller_ref_manager.go).

use objects::{Deployment, ObjectMeta, OwnerReference, ReplicaSet, Selector};
use serde_json::{Value, json};

pub use crate::controller::claim::Claim;
use crate::controller::claim::{self as shared, controller_reference};

/// Whether `deployment` (by uid) is the controller of `meta`'s object.
pub fn is_controlled_by(meta: &ObjectMeta, deployment: &Deployment) -> bool {
    shared::is_controlled_by(meta, &deployment.metadata)
}

/// What the deployment does with `rs` (the shared claim rules: a
/// deployment being deleted adopts and releases nothing, a ReplicaSet
/// being deleted is not adopted).
pub fn claim(deployment: &Deployment, selector: &Selector, rs: &ReplicaSet) -> Claim {
    shared::claim(&deployment.metadata, selector, &rs.metadata)
}

/// The controller ownerReference a deployment puts on its ReplicaSets.
pub fn controller_ref(deployment: &Deployment) -> OwnerReference {
    controller_reference(deployment)
}

/// The strategic merge patch that adopts `rs` (ownerReferences merge by
/// uid, so the other references stay). The ReplicaSet's uid goes along,
/// as Kubernetes sends it, to name exactly the object that was looked at.
pub fn adopt_patch(deployment: &Deployment, rs: &ReplicaSet) -> Value {
    json!({"metadata": {
        "ownerReferences": [controller_ref(deployment)],
        "uid": rs.metadata.uid,
    }})
}

/// The strategic merge patch that removes the deployment's reference.
pub fn release_patch(deployment: &Deployment, rs: &ReplicaSet) -> Value {
    json!({"metadata": {
        "ownerReferences": [{"$patch": "delete", "uid": deployment.metadata.uid}],
        "uid": rs.metadata.uid,
    }})
}
