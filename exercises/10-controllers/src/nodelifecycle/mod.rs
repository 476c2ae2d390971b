// Generated from solutions/10-controllers/src/nodelifecycle/mod.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
//! Node lifecycle: a node whose agent stops reporting is marked, and its
//! pods go elsewhere. Kubernetes: the node lifecycle controller and the
//! taint eviction controller of kube-controller-manager.
//!
//! - [`health`]: is the agent still reporting; the Unknown conditions and
//!   the taints that follow (pure);
//! - [`eviction`]: when a pod must leave a NoExecute-tainted node (pure);
//! - [`controller`]: the reconcile of one node: status, taints, pods.

pub mod controller;
pub mod eviction;
pub mod health;

pub use controller::{NodeLifecycleConfig, NodeLifecycleController, registration};
pub use eviction::{Eviction, eviction};
