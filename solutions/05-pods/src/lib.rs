//! Chapter 05: pods.
//!
//! A pod is a group of containers that share a network, IPC and UTS
//! namespace, held open by an infra process (the sandbox), with volumes
//! they share and probes that watch them.
//!
//! - [`PodRuntime`] runs the pods of one node; [`PodRuntime::run`] starts
//!   one and gives a [`PodHandle`] to follow, exec into and delete it.
//! - [`spec`]: what a pod is made of; [`status`]: how it is doing, in
//!   Kubernetes' terms.
//! - [`network`]: the node's bridge and each pod's veth pair and address.
//! - [`probe`]: startup, liveness and readiness probes.

pub mod network;
pub mod probe;
pub mod spec;
pub mod status;

mod container;
mod error;
mod exec;
mod handle;
pub mod logs;
mod pod;
mod runtime;
mod sandbox;
mod started;
mod validate;
mod volumes;
mod worker;

pub use container::runs_again;
pub use error::PodError;
pub use exec::exec_isolation;
pub use handle::PodHandle;
pub use pod::PodEvent;
pub use runtime::{PodRuntime, RuntimeConfig};
pub use sandbox::namespace_path;
pub use spec::{Container, ContainerPort, PodSpec, Volume, VolumeMount, VolumeSource};
pub use started::wait_for_application;
pub use status::{
    ConditionType, ContainerState, ContainerStatus, PodCondition, PodPhase, PodStatus,
};
pub use validate::{is_dns_label, problems};
pub use volumes::mounts;
