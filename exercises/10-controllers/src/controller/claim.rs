// Generated from solutions/10-controllers/src/controller/claim.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
//! Which objects a controller manages: those whose controller
//! ownerReference names it (by uid) and that its selector still matches.
//! An orphan that matches is adopted, one of its own that no longer
//! matches is released, and another controller's is never touched. The
//! ReplicaSet controller claims pods this way, the Deployment controller
//! ReplicaSets. Pure: the controllers send the patches.
//!
//! Kubernetes: `ClaimObject` in `pkg/controller/controller_ref_manager.go`.

use objects::{ObjectMeta, OwnerReference, Resource, Selector};

use super::trigger::controller_ref;

/// What an owner does with one object of its namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// Its own, and the selector matches: it counts.
    Owned,
    /// An orphan that matches: it becomes the owner's.
    Adopt,
    /// Its own, but the selector no longer matches: let go of it.
    Release,
    /// Someone else's, or not its to take.
    Ignore,
}

// ANCHOR: claim
/// What `owner` (whose selector is `selector`) does with `object`: one
/// controlled by another uid is ignored; one controlled by `owner` is
/// owned while the selector matches, released when it does not (unless
/// `owner` is being deleted: the garbage collector is taking its
/// dependents away); an orphan is adopted when it matches, neither it nor
/// `owner` is being deleted, and it is in the owner's namespace.
pub fn claim(owner: &ObjectMeta, selector: &Selector, object: &ObjectMeta) -> Claim {
    let matches = selector.matches(&object.labels);
    let owner_deleting = owner.deletion_timestamp.is_some();
    match controller_ref(object) {
        Some(reference) if owner.uid.as_deref() != Some(reference.uid.as_str()) => Claim::Ignore,
        Some(_) if matches => Claim::Owned,
        Some(_) if owner_deleting => Claim::Ignore,
        Some(_) => Claim::Release,
        None if owner_deleting || !matches => Claim::Ignore,
        None if object.deletion_timestamp.is_some() => Claim::Ignore,
        None if object.namespace() != owner.namespace() => Claim::Ignore,
        None => Claim::Adopt,
    }
}
// ANCHOR_END: claim

/// Whether `owner` (by uid) is the controller of `object`.
pub fn is_controlled_by(object: &ObjectMeta, owner: &ObjectMeta) -> bool {
    controller_ref(object).is_some_and(|r| owner.uid.as_deref() == Some(r.uid.as_str()))
}

/// The controller ownerReference an owner puts on what it creates:
/// deleting the owner in the foreground waits for them
/// (`blockOwnerDeletion`).
pub fn controller_reference<O: Resource>(owner: &O) -> OwnerReference {
    OwnerReference {
        api_version: O::INFO.api_version(),
        kind: O::INFO.kind.to_string(),
        name: owner.metadata().name().to_string(),
        uid: owner.metadata().uid.clone().unwrap_or_default(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    }
}
