//! Chapter 05: pods.
//!
//! A pod is a group of containers that share a network, IPC and UTS
//! namespace, held open by an infra process (the sandbox), with volumes
//! they share and probes that watch them.

pub mod network;
pub mod probe;
