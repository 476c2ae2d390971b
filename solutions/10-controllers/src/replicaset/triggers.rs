//! Which ReplicaSets to reconcile when something changes: the trigger
//! functions the runner maps informer changes through. Kubernetes: the
//! `addPod`/`updatePod`/`deletePod` handlers of `replica_set.go`.

use apiserver::client::{Cache, Change, ObjectKey};
use objects::{Pod, ReplicaSet, Resource, Selector};

use super::claim::controller_of;

/// A ReplicaSet changed (or went): reconcile it.
pub fn replicaset_keys(change: &Change<ReplicaSet>) -> Vec<ObjectKey> {
    vec![change.key()]
}

/// The ReplicaSet that controls `pod`, if the cache has it with the uid
/// the reference names (a ReplicaSet deleted and created again under the
/// same name is another one).
fn controller_key(pod: &Pod, replicasets: &Cache<ReplicaSet>) -> Option<ObjectKey> {
    let owner = controller_of(&pod.metadata)?;
    if owner.kind != ReplicaSet::INFO.kind || !owner.api_version.starts_with("apps/") {
        return None;
    }
    let rs = replicasets.get(pod.metadata.namespace(), &owner.name)?;
    (rs.metadata.uid.as_deref() == Some(owner.uid.as_str())).then(|| ObjectKey::of(rs.as_ref()))
}

/// The ReplicaSets of the pod's namespace whose selector matches it: who
/// may adopt an orphan. An empty or broken selector matches nothing.
fn matching_keys(pod: &Pod, replicasets: &Cache<ReplicaSet>) -> Vec<ObjectKey> {
    replicasets
        .list_namespace(pod.metadata.namespace())
        .into_iter()
        .filter(|rs| {
            Selector::from_label_selector(&rs.spec.selector)
                .is_ok_and(|s| !s.is_everything() && s.matches(&pod.metadata.labels))
        })
        .map(|rs| ObjectKey::of(rs.as_ref()))
        .collect()
}

/// The keys to reconcile for one state of a pod: its controller's, or
/// for an orphan every ReplicaSet that may adopt it.
fn keys_for(pod: &Pod, replicasets: &Cache<ReplicaSet>, orphans: bool) -> Vec<ObjectKey> {
    if controller_of(&pod.metadata).is_some() {
        return controller_key(pod, replicasets).into_iter().collect();
    }
    if orphans {
        matching_keys(pod, replicasets)
    } else {
        Vec::new()
    }
}

// ANCHOR: pod_keys
/// A pod changed: the ReplicaSets that must look again. For a new or
/// changed pod, those of its state before and after (a pod that changed
/// hands, or whose labels moved it, concerns both); for a deleted pod its
/// controller only (an orphan that goes changes nobody's count).
pub fn pod_keys(change: &Change<Pod>, replicasets: &Cache<ReplicaSet>) -> Vec<ObjectKey> {
    let mut keys = match change {
        Change::Added(pod) => keys_for(pod, replicasets, true),
        Change::Updated { old, new } => {
            let mut keys = keys_for(new, replicasets, true);
            keys.extend(keys_for(old, replicasets, false));
            keys
        }
        Change::Deleted(pod) => keys_for(pod, replicasets, false),
    };
    keys.sort();
    keys.dedup();
    keys
}
// ANCHOR_END: pod_keys
