//! How a ReplicaSet controller sees its own writes arrive: pod changes
//! from the informer lower the expectations of the ReplicaSet that
//! controls the pod (Kubernetes: the `addPod`, `updatePod` and `deletePod`
//! handlers calling `CreationObserved` and `DeletionObserved`).

use std::sync::{Mutex, Weak};
use std::time::Duration;

use apiserver::client::{Change, Changes, ObjectKey};
use objects::Pod;

use super::claim::controller_of;
use super::expectations::Expectations;
use super::lock;

/// How often pod changes are applied to the expectations when no
/// reconcile does it (so that the channel never grows without bound).
pub const OBSERVE_EVERY: Duration = Duration::from_secs(5);

/// Applies the pod changes received so far to the expectations: a new
/// pod is a creation seen, a pod gone or going a deletion seen, for the
/// ReplicaSet that controls it.
pub fn observe(changes: &Mutex<Changes<Pod>>, expectations: &Mutex<Expectations>) {
    let mut changes = lock(changes);
    let mut expectations = lock(expectations);
    while let Ok(change) = changes.try_recv() {
        observe_change(&change, &mut expectations);
    }
}

/// The ReplicaSet key a pod's controller reference names, if any.
fn owner_key(pod: &Pod) -> Option<ObjectKey> {
    controller_of(&pod.metadata)
        .filter(|owner| owner.kind == "ReplicaSet")
        .map(|owner| ObjectKey {
            namespace: pod.metadata.namespace().to_string(),
            name: owner.name.clone(),
        })
}

/// One change's effect on the expectations (Kubernetes' pod handlers).
pub fn observe_change(change: &Change<Pod>, expectations: &mut Expectations) {
    let deleted = |pod: &Pod, expectations: &mut Expectations| {
        if let Some(key) = owner_key(pod) {
            expectations.deletion_observed(&key, pod.metadata.uid.as_deref().unwrap_or_default());
        }
    };
    match change {
        Change::Added(pod) if pod.metadata.deletion_timestamp.is_some() => {
            deleted(pod, expectations)
        }
        Change::Added(pod) => {
            if let Some(key) = owner_key(pod) {
                expectations.creation_observed(&key);
            }
        }
        Change::Updated { old, new } => {
            if new.metadata.deletion_timestamp.is_some()
                && old.metadata.deletion_timestamp.is_none()
            {
                deleted(new, expectations);
                deleted(old, expectations);
            }
        }
        Change::Deleted(pod) => deleted(pod, expectations),
    }
}

/// Applies pod changes every few seconds until the controller is dropped.
pub async fn observe_periodically(
    changes: Weak<Mutex<Changes<Pod>>>,
    expectations: Weak<Mutex<Expectations>>,
) {
    loop {
        tokio::time::sleep(OBSERVE_EVERY).await;
        let (Some(changes), Some(expectations)) = (changes.upgrade(), expectations.upgrade())
        else {
            return;
        };
        observe(&changes, &expectations);
    }
}
