// Generated from solutions/08-kubelet/src/lease.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
//! The node's heartbeat: a Lease `kube-node-lease/<node>` that the agent
//! renews every few seconds. Writing a small lease is much cheaper than
//! writing the whole Node status, which carries images and conditions; the
//! node controller reads the lease's `renewTime` to tell whether the node
//! is alive. Kubernetes: `pkg/kubelet/nodelease` and client-go's
//! `leaderelection` (which uses leases the same way).

use objects::meta::OwnerReference;
use objects::{Lease, MicroTime, Node, Resource};

/// The namespace that holds one lease per node.
pub const NODE_LEASE_NAMESPACE: &str = "kube-node-lease";

/// How long a node's claim lasts after a renewal: four missed renewals.
pub const NODE_LEASE_DURATION_SECONDS: i32 = 40;

/// A new node lease, owned by its Node so that deleting the Node deletes
/// the lease too.
pub fn new_lease(node: &Node) -> Lease {
    let mut lease = Lease::new(node.metadata.name(), Some(NODE_LEASE_NAMESPACE));
    if let Some(uid) = &node.metadata.uid {
        lease.metadata.owner_references = vec![OwnerReference {
            api_version: "v1".into(),
            kind: "Node".into(),
            name: node.metadata.name().to_string(),
            uid: uid.clone(),
            ..OwnerReference::default()
        }];
    }
    lease
}

// ANCHOR: renew
/// The lease to write at `now`, held by `holder` for `duration_seconds`,
/// from the lease as stored (or [`new_lease`]'s for a first write). A
/// change of holder is a transition: it counts one more and restarts
/// `acquireTime`.
pub fn renew(mut lease: Lease, holder: &str, duration_seconds: i32, now: MicroTime) -> Lease {
    todo!(
        "exercise 6: the lease renewed at `now` by `holder`: holder, duration and renewTime set; acquireTime and leaseTransitions changed only when the holder changes"
    )
}
// ANCHOR_END: renew
