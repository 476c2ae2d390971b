// Generated from solutions/10-controllers/src/lib.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
#![allow(unused)]
//! Chapter 10: controllers.
//!
//! A controller keeps one kind of object's actual state matching its
//! declared state: it watches (informers), notes which objects need a look
//! (a work queue of keys), and for each key reconciles — reads the desired
//! and the actual state from its caches and writes the difference through
//! the API. The reason for a reconcile is hidden from it on purpose: it
//! must do the right thing from whatever state it finds.
//!
//! - [`controller`]: the pattern itself (the work queue, the `Reconciler`
//!   trait, the runner that feeds one from informers);
//! - [`leader`]: leader election on a Lease, so that of two
//!   controller-managers only one acts;
//! - [`replicaset`]: keeps `replicas` pods of a template;
//! - [`deployment`]: rolls a Deployment's ReplicaSets from one template
//!   to the next;
//! - [`nodelifecycle`]: a node whose lease goes stale is tainted and its
//!   pods evicted;
//! - [`gc`]: dependents go with their owners (ownerReferences);
//! - [`manager`]: all of them in one process, as kube-controller-manager.

pub mod controller;
pub mod deployment;
pub mod events;
pub mod gc;
pub mod leader;
pub mod manager;
pub mod nodelifecycle;
pub mod replicaset;
