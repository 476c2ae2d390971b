// Generated from solutions/05-pods/src/probe/mod.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
//! Liveness, readiness and startup probes: exec, HTTP GET and TCP socket.
//!
//! A running process is not necessarily a working one. The kubelet asks
//! each container, over and over, whether it has started, whether it still
//! works and whether it can take traffic, and acts on the answers: a
//! container that stops working is restarted, one that cannot take traffic
//! is left out of its Services.
//!
//! - [`spec`]: what a probe is, with the Kubernetes fields and defaults.
//! - [`threshold`]: single runs become a verdict only after a run of equal
//!   results.
//! - [`http`], [`tcp`], [`exec`]: one run of each kind of probe.
//! - [`container`]: the probes of one container on tokio, startup first.

pub mod container;
pub mod exec;
pub mod http;
pub mod outcome;
pub mod spec;
pub mod target;
pub mod tcp;
pub mod threshold;

pub use container::{ContainerProbes, ProbeError, ProbeEvent, ProbeHandle, ProbeState};
pub use exec::{BoxFuture, Exec, ExecOutput, run_command};
pub use outcome::Outcome;
pub use spec::{Action, HttpGet, HttpHeader, InvalidProbe, Probe, ProbeKind, TcpSocket};
pub use target::Target;
pub use threshold::{Status, Tracker};
