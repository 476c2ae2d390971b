// Generated from solutions/10-controllers/src/controller/trigger.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
//! Triggers: which keys a change of a watched object queues.
//!
//! A controller watches its own kind and the kinds it manages. A change of
//! its own object queues that object ([`itself`]); a change of a managed
//! object (a pod) queues the object that controls it (its ReplicaSet),
//! found through the ownerReference marked `controller: true`
//! ([`controller_owner`]), as client-go's `handler.EnqueueRequestForOwner`
//! and the ReplicaSet controller's `resolveControllerRef` do. Triggers are
//! pure functions of the change: they decide *which* keys, the queue
//! decides *when*.

use apiserver::client::{Cache, Change, ObjectKey};
use objects::Resource;
use objects::meta::{ObjectMeta, OwnerReference};

/// The object itself: the trigger of a controller's primary kind.
pub fn itself<K: Resource>(change: &Change<K>) -> Vec<ObjectKey> {
    vec![change.key()]
}

/// The ownerReference with `controller: true`, if any (at most one may
/// have it).
pub fn controller_ref(meta: &ObjectMeta) -> Option<&OwnerReference> {
    meta.owner_references
        .iter()
        .find(|owner| owner.controller == Some(true))
}

/// The key of the object of kind `kind` that controls `meta`'s object: the
/// owner named by its controller ownerReference, in the same namespace
/// (owners of namespaced objects live in their namespace). `None` when it
/// has no controller, or one of another kind.
pub fn controller_key(meta: &ObjectMeta, kind: &str) -> Option<ObjectKey> {
    let owner = controller_ref(meta)?;
    (owner.kind == kind).then(|| ObjectKey {
        namespace: meta.namespace().to_string(),
        name: owner.name.clone(),
    })
}

/// The controllers of kind `kind` a change concerns: the object's
/// controller now, and, for an update that changed it (a pod released or
/// adopted), the one before too, so both recount.
pub fn controller_owner<K: Resource>(kind: &str) -> impl Fn(&Change<K>) -> Vec<ObjectKey> + use<K> {
    let kind = kind.to_string();
    move |change| {
        let mut keys = Vec::new();
        if let Change::Updated { old, .. } = change {
            keys.extend(controller_key(old.metadata(), &kind));
        }
        if let Some(key) = controller_key(change.object().metadata(), &kind)
            && !keys.contains(&key)
        {
            keys.push(key);
        }
        keys
    }
}

/// [`controller_owner`], keeping only owners that are in `owners` with the
/// UID the reference names: a reference to an owner deleted and created
/// again under the same name points at an object that no longer exists,
/// and must not make the new one count the pod as its own.
pub fn controller_owner_checked<K: Resource, O: Resource>(
    kind: &str,
    owners: Cache<O>,
) -> impl Fn(&Change<K>) -> Vec<ObjectKey> + use<K, O> {
    let kind = kind.to_string();
    move |change| {
        let mut metas = Vec::new();
        if let Change::Updated { old, .. } = change {
            metas.push(old.metadata());
        }
        metas.push(change.object().metadata());
        let mut keys: Vec<ObjectKey> = Vec::new();
        for meta in metas {
            let Some(reference) = controller_ref(meta).filter(|owner| owner.kind == kind) else {
                continue;
            };
            let Some(owner) = owners.get(meta.namespace(), &reference.name) else {
                continue;
            };
            let key = ObjectKey::of(owner.as_ref());
            if owner.metadata().uid.as_deref() == Some(reference.uid.as_str())
                && !keys.contains(&key)
            {
                keys.push(key);
            }
        }
        keys
    }
}
