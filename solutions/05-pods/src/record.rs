//! The state record of one pod, on disk: what a node agent started again
//! after a crash needs to adopt the pod's running processes instead of
//! starting them a second time, and to remove everything of a pod nobody
//! wants any more.
//!
//! Written atomically (a temporary file renamed over the old one) on every
//! change, so that an agent killed at any moment leaves a whole record.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use filesystem::rootfs::RootfsPlan;
use serde::{Deserialize, Serialize};

use crate::spec::PodSpec;
use crate::status::ContainerState;

/// The record's file name in the pod's directory.
pub(crate) const RECORD_FILE: &str = "state.json";

/// One process, named so that a reused pid is not mistaken for it: the
/// pid and the time it started (field 22 of `/proc/<pid>/stat`, in clock
/// ticks since boot).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessRecord {
    pub pid: u32,
    pub start_time: u64,
}

impl ProcessRecord {
    /// The record of the live process `pid`, if it lives.
    pub fn of(pid: u32) -> Option<ProcessRecord> {
        Some(ProcessRecord {
            pid,
            start_time: start_time(pid)?,
        })
    }

    /// A pidfd for the recorded process if it still runs: opened first,
    /// then checked, so that a pid reused in between is caught (the pidfd
    /// then names the newcomer, whose start time differs).
    pub fn open(&self) -> Option<OwnedFd> {
        let pidfd = pidfd_open(self.pid)?;
        (start_time(self.pid) == Some(self.start_time)).then_some(pidfd)
    }
}

/// What the record keeps of one container.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ContainerRecord {
    /// The last run started (its number names its log, root and exit
    /// file); `None` before the first.
    pub run: Option<u32>,
    pub restart_count: u32,
    /// Restarts in the current crash loop, for the back-off.
    pub crash_loop: u32,
    /// The shim (chapter 02's first process) of the run, while it runs.
    pub shim: Option<ProcessRecord>,
    pub started_at: Option<SystemTime>,
    /// The run's root filesystem and cgroup files, for exec and cleanup.
    pub plan: Option<RootfsPlan>,
    pub cgroup_procs: Vec<PathBuf>,
    /// How the last run ended.
    pub last_termination: Option<ContainerState>,
    /// How the run before it ended: the status's last state once the
    /// container has ended for good.
    #[serde(default)]
    pub previous_termination: Option<ContainerState>,
    /// When the next run is due, while waiting out a back-off.
    pub restart_at: Option<SystemTime>,
    /// Set once the container has ended for good: whether it succeeded.
    pub done: Option<bool>,
}

/// What the record keeps of one pod.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PodRecord {
    pub uid: String,
    pub name: String,
    pub namespace: String,
    /// [`spec_hash`] of the spec the pod was started with: adopting it
    /// under another spec would run what nobody asked for.
    pub spec_hash: String,
    pub sandbox: Option<ProcessRecord>,
    pub sandbox_plan: Option<RootfsPlan>,
    pub pod_ip: Option<IpAddr>,
    /// Every container has ended for good and the sandbox and address are
    /// gone: the pod only waits for its deletion.
    #[serde(default)]
    pub ended: bool,
    /// By container name (init and app containers have distinct names).
    pub containers: BTreeMap<String, ContainerRecord>,
}

impl PodRecord {
    pub fn new(spec: &PodSpec) -> PodRecord {
        PodRecord {
            uid: spec.uid.clone(),
            name: spec.name.clone(),
            namespace: spec.namespace.clone(),
            spec_hash: spec_hash(spec),
            ..PodRecord::default()
        }
    }

    /// Writes the record into `dir` atomically.
    pub fn save(&self, dir: &Path) -> std::io::Result<()> {
        let path = dir.join(RECORD_FILE);
        let temporary = dir.join(format!("{RECORD_FILE}.tmp"));
        let json = serde_json::to_vec_pretty(self).expect("a record is always valid JSON");
        std::fs::write(&temporary, json)?;
        std::fs::rename(&temporary, &path)
    }

    /// The record in `dir`, if there is a readable one.
    pub fn load(dir: &Path) -> Option<PodRecord> {
        let bytes = std::fs::read(dir.join(RECORD_FILE)).ok()?;
        serde_json::from_slice(&bytes).ok()
    }
}

/// A fingerprint of the spec, stable across builds and runs (FNV-1a over
/// its debug form: the spec's types are plain data).
pub fn spec_hash(spec: &PodSpec) -> String {
    // The Service variables are what the node found at the start, not what
    // the pod asked for (see `PodSpec::service_env`).
    let asked = PodSpec {
        service_env: Vec::new(),
        ..spec.clone()
    };
    let text = format!("{asked:?}");
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in text.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{hash:016x}")
}

/// Field 22 of `/proc/<pid>/stat`: when the process started.
fn start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces and parentheses: count
    // from the last ')'.
    let after = &stat[stat.rfind(')')? + 1..];
    after.split_whitespace().nth(19)?.parse().ok()
}

fn pidfd_open(pid: u32) -> Option<OwnedFd> {
    // SAFETY: pidfd_open takes a pid and flags; the descriptor is ours.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid as libc::pid_t, 0) };
    if fd < 0 {
        return None;
    }
    // SAFETY: a fresh descriptor that nobody else owns.
    Some(unsafe { OwnedFd::from_raw_fd(fd as libc::c_int) })
}

/// Sends `signal` through a pidfd: never to a process that reused the pid.
pub(crate) fn pidfd_signal(pidfd: &OwnedFd, signal: libc::c_int) {
    // SAFETY: a valid pidfd; no siginfo; flags 0.
    unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            pidfd.as_raw_fd(),
            signal,
            std::ptr::null::<libc::siginfo_t>(),
            0,
        )
    };
}

/// Registers a pidfd with tokio, to wait for the process's end.
pub(crate) fn async_pidfd(pidfd: OwnedFd) -> Option<tokio::io::unix::AsyncFd<OwnedFd>> {
    // SAFETY: an OwnedFd keeps its one descriptor open, unchanged, until
    // it is dropped with the AsyncFd.
    unsafe {
        tokio::io::unix::AsyncFd::register_with_interest(pidfd, tokio::io::Interest::READABLE)
    }
    .ok()
}

/// Waits until the process behind `pidfd` has exited (a pidfd polls
/// readable then, for a child and for any other process alike).
pub(crate) async fn pidfd_exited(pidfd: &tokio::io::unix::AsyncFd<OwnedFd>) {
    loop {
        match pidfd.readable().await {
            Ok(mut guard) => {
                guard.retain_ready();
                return;
            }
            Err(_) => {
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_recognised_and_a_changed_start_time_is_not() {
        let me = ProcessRecord::of(std::process::id()).unwrap();
        assert!(me.open().is_some());
        let reused = ProcessRecord {
            start_time: me.start_time + 1,
            ..me
        };
        assert!(reused.open().is_none());
    }

    #[test]
    fn a_record_is_saved_whole_and_loaded_back() {
        let tmp = tempfile::tempdir().unwrap();
        let spec = PodSpec::new("web", vec![]);
        let mut record = PodRecord::new(&spec);
        record.containers.insert(
            "app".into(),
            ContainerRecord {
                run: Some(2),
                restart_count: 2,
                ..ContainerRecord::default()
            },
        );
        record.save(tmp.path()).unwrap();
        assert_eq!(PodRecord::load(tmp.path()), Some(record));
        assert!(!tmp.path().join(format!("{RECORD_FILE}.tmp")).exists());
    }

    #[test]
    fn the_spec_hash_follows_the_spec() {
        let spec = PodSpec::new("web", vec![]);
        let mut other = spec.clone();
        other.name = "db".into();
        assert_eq!(spec_hash(&spec), spec_hash(&spec.clone()));
        assert_ne!(spec_hash(&spec), spec_hash(&other));
    }

    #[test]
    fn the_service_variables_found_at_start_are_not_part_of_the_spec() {
        let spec = PodSpec::new("web", vec![]);
        let mut later = spec.clone();
        later.service_env = vec![("DB_SERVICE_HOST".into(), "10.96.0.7".into())];
        assert_eq!(spec_hash(&spec), spec_hash(&later));
        let mut resolver = spec.clone();
        resolver.resolv_conf = Some("nameserver 10.96.0.10\n".into());
        assert_ne!(spec_hash(&spec), spec_hash(&resolver));
    }
}
