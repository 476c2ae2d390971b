//! Chapter 02: namespaces.
//!
//! A namespace gives a process its own view of one kind of kernel resource:
//! its own process ids (PID), hostname (UTS), System V IPC objects (IPC),
//! mount table (mount), network stack (network) and, for rootless use, user
//! and group ids (user). This crate runs a chapter 01 supervised process in
//! new ones.
//!
//! The work between "new namespaces" and "exec the application" cannot be
//! done safely in a multi-threaded tokio process, so it is done by a fresh
//! process: the *init program* (the `k8s-mini` binary itself, re-executed
//! with [`INIT_ARG`], as `runc init` is). [`Runtime::wrap`] turns a chapter 01
//! [`ContainerSpec`](process::ContainerSpec) into one that runs the init
//! program, which then:
//!
//! 1. joins the cgroups it is given (chapter 04 makes them),
//! 2. creates a user namespace and maps ids, when rootless,
//! 3. unshares the other namespaces and forks: the child is PID 1 of the new
//!    PID namespace,
//! 4. PID 1 makes its mounts private, mounts a fresh `/proc`, sets the
//!    hostname, brings up loopback, forks the application and then reaps
//!    zombies and forwards signals to it until it exits,
//! 5. the first process relays signals to PID 1 and finally exits exactly as
//!    the application did, so the supervisor sees the application's status.
//!
//! With a [`Shim`] in the configuration, the first process also holds the
//! application's output and writes its log and its exit status to files,
//! in a session of its own: the container then survives its agent.

mod config;
mod error;
mod extension;
mod init;
mod network;
mod privileges;
mod runtime;
mod setup;
mod shim;
mod signals;
mod stage;
mod userns;

pub use config::{ContainerConfig, IdMapping, Isolation, Namespace, clone_flags};
pub use error::InitError;
pub use extension::{Extension, NoExtension};
pub use init::{ReapResult, reap_children};
pub use network::loopback_up;
pub use privileges::{Privileges, UnsupportedReason};
pub use runtime::{
    CONFIG_VAR, INIT_ARG, Runtime, attach_shim, run_init_if_requested, run_init_with,
};
pub use shim::{Shim, read_exit_file};
pub use signals::{exit_like, is_forwarded};
pub use userns::{id_map_line, write_id_maps};
