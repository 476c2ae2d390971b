// Generated from solutions/04-cgroups/src/lib.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
#![allow(unused)]
//! Chapter 04: cgroups.
//!
//! Namespaces decide what a container can *see*; cgroups decide how much it
//! can *use*. This crate gives the rest of k8s-mini one interface over the
//! two cgroup layouts that Linux machines have: [`Cgroups::detect`] finds
//! the layout and the controllers, [`Cgroups::create`] makes a cgroup per
//! container with its [`Limits`] (memory, CPU quota and weight, pids) and
//! runc's device allow-list ([`DEFAULT_DEVICE_RULES`]), a
//! [`Cgroup`] takes processes in, reports [`Usage`] and whether the kernel
//! OOM-killed something, and removal kills what is left and deletes the
//! directories in every hierarchy. [`termination`] turns a process's exit
//! status and the OOM flag into what Kubernetes reports for a terminated
//! container.
//!
//! The node agent (chapter 08) creates one cgroup per container under one
//! per pod, all under `k8s-mini-<instance>`, and removes them when the
//! container or pod goes.

mod bpf;
mod cgroup;
mod cgroups;
mod cpu;
mod devices;
mod error;
mod files;
mod join;
mod layout;
mod limits;
mod name;
mod remove;
mod termination;
mod usage;

pub use bpf::{BpfInsn, attach_device_program, attached_device_programs, device_program};
pub use cgroup::{Cgroup, RecordedProgram};
pub use cgroups::Cgroups;
pub use cpu::{
    CFS_PERIOD_US, CpuQuota, MAX_SHARES, MIN_QUOTA_US, MIN_SHARES, cpu_quota, cpu_shares,
    cpu_weight,
};
pub use devices::{DEFAULT_DEVICE_RULES, DeviceAccess, DeviceKind, DeviceRule, device_allowed};
pub use error::CgroupError;
pub use join::JoinFiles;
pub use layout::{
    CGROUP_ROOT, CGROUP1_MAGIC, CGROUP2_MAGIC, Controller, Mode, TMPFS_MAGIC, Version,
    parse_v1_mounts,
};
pub use limits::{LimitWrite, Limits, MAX_MEMORY_BYTES, MAX_MILLICPU, MAX_PIDS, MIN_MEMORY_BYTES};
pub use name::CgroupName;
pub use process::ExitStatus;
pub use termination::{Termination, TerminationReason, termination};
pub use usage::Usage;
