// Generated from solutions/04-cgroups/src/error.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
use std::io;
use std::path::PathBuf;

use crate::{Controller, Version};

/// Why a cgroup operation failed. Every variant names the field, controller
/// or path at fault: "Permission denied" alone does not say which file.
#[derive(Debug, thiserror::Error)]
pub enum CgroupError {
    #[error("invalid limit {field}: {problem}")]
    InvalidLimit {
        field: &'static str,
        problem: String,
    },
    #[error("invalid cgroup name {name:?}: {problem}")]
    InvalidName { name: String, problem: String },
    #[error(
        "{} is not a cgroup filesystem (filesystem type {magic:#x}); mount one, for example \
         `mount -t cgroup2 none /sys/fs/cgroup`",
        path.display()
    )]
    NotMounted { path: PathBuf, magic: u64 },
    #[error(
        "the {controller} controller is not available ({version}); k8s-mini needs memory, cpu \
         and pids (and on v1 also cpuacct and devices)"
    )]
    MissingController {
        controller: Controller,
        version: Version,
    },
    #[error("cannot {action} {}: {source}{}", path.display(), advice(path, source))]
    Io {
        action: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    #[error(
        "cannot {action} {}: {source}{}{}",
        path.display(),
        if source.raw_os_error() == Some(libc::EPERM) {
            " (device programs need root: CAP_SYS_ADMIN)"
        } else {
            ""
        },
        if verifier_log.is_empty() { String::new() } else { format!("\nthe verifier said:\n{verifier_log}") }
    )]
    DeviceProgram {
        action: &'static str,
        path: PathBuf,
        source: io::Error,
        /// What the kernel's verifier said about a program it refused.
        verifier_log: String,
    },
    #[error(
        "processes {pids:?} are still in {} after {rounds} rounds of SIGKILL",
        path.display()
    )]
    StillRunning {
        path: PathBuf,
        pids: Vec<u32>,
        rounds: u32,
    },
}

impl CgroupError {
    pub(crate) fn io(action: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        CgroupError::Io {
            action,
            path: path.into(),
            source,
        }
    }
}

/// The usual causes of the errors people hit first.
fn advice(path: &std::path::Path, error: &io::Error) -> &'static str {
    match error.kind() {
        io::ErrorKind::PermissionDenied | io::ErrorKind::ReadOnlyFilesystem => {
            " (managing cgroups needs root and a writable /sys/fs/cgroup)"
        }
        io::ErrorKind::ResourceBusy if path.ends_with("cgroup.subtree_control") => {
            " (a v2 cgroup that holds processes cannot hand controllers down: \
             move them into a child cgroup first)"
        }
        _ => "",
    }
}
