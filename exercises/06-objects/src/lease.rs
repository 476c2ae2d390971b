// Generated from solutions/06-objects/src/lease.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
//! Leases (`coordination.k8s.io/v1`): a named claim that one holder keeps
//! renewing. Each kubelet renews `kube-node-lease/<node>` as its heartbeat
//! (cheaper than rewriting the whole Node status); leader election uses
//! leases in `kube-system`.

use crate::meta::ObjectMeta;
use crate::time::MicroTime;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Lease {
    #[serde(default)]
    pub api_version: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: LeaseSpec,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LeaseSpec {
    /// Who holds the lease: the node's name for a node lease.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holder_identity: Option<String>,
    /// How long the holder's claim lasts after `renewTime` (40 s for nodes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease_duration_seconds: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acquire_time: Option<MicroTime>,
    /// The heartbeat itself, with microseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renew_time: Option<MicroTime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease_transitions: Option<i32>,
}
