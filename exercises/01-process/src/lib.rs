// Generated from solutions/01-process/src/lib.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
#![allow(unused)]
//! Chapter 01: process supervision.
//!
//! Everything an orchestrator does ends in one place: a process on a machine
//! that somebody has to start, watch, restart and stop. This crate is that
//! somebody for a single process. [`Supervisor::start`] spawns a
//! [`ContainerSpec`], copies its output into a log file in the CRI log format,
//! restarts it according to its [`RestartPolicy`] with capped exponential
//! [`Backoff`], stops it gracefully (SIGTERM, a grace period, SIGKILL) and
//! reports every step as an [`Event`].
//!
//! Later chapters wrap the same supervisor in namespaces (02), a root
//! filesystem (03) and cgroups (04), and the node agent (08) runs one per
//! container.

mod backoff;
mod command;
mod error;
mod event;
mod exit;
mod logs;
mod policy;
mod spec;
mod stop;
mod supervisor;

pub use backoff::{Backoff, CrashLoop};
pub use command::{DEFAULT_PATH, resolve_command};
pub use error::SpawnError;
pub use event::{Event, FinishReason};
pub use exit::ExitStatus;
pub use logs::{MAX_LOG_LINE, Stream, copy_lines, format_log_line};
pub use policy::RestartPolicy;
pub use spec::ContainerSpec;
pub use stop::{StopOutcome, stop_gracefully};
pub use supervisor::Supervisor;
