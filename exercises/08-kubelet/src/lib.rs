// Generated from solutions/08-kubelet/src/lib.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
#![allow(unused)]
//! Chapter 08: the node agent (kubelet).
//!
//! It makes a machine a node of the cluster: it registers a Node with what
//! the machine has, keeps a Lease fresh as its heartbeat, and turns the
//! pods the API binds to it into pods that run, through chapter 05's
//! runtime, reporting their status and events back to the API server.
//!
//! - [`qos`], [`resources`]: QoS classes, cgroup limits, admission.
//! - [`plan`]: the sync decision for one pod; [`status`]: the pod's status
//!   in the API's terms, written only when it changed.
//! - [`lease`], [`node`]: the heartbeat and the Node object.
//! - [`translate`], [`images`], [`events`]: from the API's pod to the
//!   runtime's, missing images, and what `kubectl describe` shows.
//! - [`dns`], [`service_env`]: how a pod finds Services (chapter 11): its
//!   resolv.conf and its Service environment variables.
//! - [`config_env`], [`config_volumes`]: ConfigMaps and Secrets as
//!   environment variables and as files.
//! - [`agent`]: the running agent ([`Kubelet`]); [`server`]: the node's
//!   logs and exec server.

pub mod agent;
pub mod config_env;
pub mod config_volumes;
pub mod dns;
pub mod events;
pub mod hooks;
pub mod images;
pub mod lease;
pub mod node;
pub mod plan;
pub mod qos;
pub mod resources;
pub mod server;
pub mod service_env;
pub mod status;
pub mod translate;

pub use agent::{Config, Kubelet, KubeletError, PodTable};
