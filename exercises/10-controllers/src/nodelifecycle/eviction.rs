// Generated from solutions/10-controllers/src/nodelifecycle/eviction.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
//! When a pod must leave a node with NoExecute taints, pure. Kubernetes:
//! `pkg/controller/tainteviction/taint_eviction.go` and
//! `getMinTolerationTime`: a pod that does not tolerate every NoExecute
//! taint goes at once; one that tolerates them for a while goes when the
//! shortest of those whiles is over; one that tolerates them for ever
//! stays.

use chrono::{DateTime, Utc};
use objects::node::Taint;
use objects::pod::Toleration;
use scheduler::taints::tolerates;

use super::health::NO_EXECUTE;

/// What to do with one pod on a tainted node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Eviction {
    /// Delete it now.
    Now,
    /// Delete it at this time, unless the taints go first.
    At(DateTime<Utc>),
    /// It may stay.
    Never,
}

// ANCHOR: eviction
/// When a pod with `tolerations` must leave a node with `taints`. Each
/// NoExecute taint counts from its `timeAdded` (or `now` when it has
/// none); a `tolerationSeconds` below zero counts as zero.
pub fn eviction(tolerations: &[Toleration], taints: &[Taint], now: DateTime<Utc>) -> Eviction {
    todo!(
        "exercise 7: when a pod with these tolerations must leave a node with these taints: now, at a time, or never"
    )
}
// ANCHOR_END: eviction
