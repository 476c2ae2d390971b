// Generated from solutions/05-pods/src/sandbox.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
//! The pod sandbox: an infra container running `k8s-mini/pause`, whose only
//! job is to hold the pod's network, IPC and UTS namespaces open while the
//! pod's containers come and go.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use cgroups::{Cgroup, CgroupName, Limits};
use filesystem::image::PAUSE_IMAGE;
use filesystem::{ContainerRequest, ContainerRoot, EtcFiles};
use namespaces::{Isolation, Namespace, Shim};
use process::{Event, RestartPolicy, Supervisor};

use crate::record::{ProcessRecord, async_pidfd, pidfd_exited, pidfd_signal};
use crate::{PodError, PodRuntime};

/// A running sandbox.
pub struct Sandbox {
    /// `None` for a sandbox adopted from an agent that died: then `pidfd`
    /// follows its pause process.
    supervisor: Option<Supervisor>,
    pidfd: Option<std::os::fd::OwnedFd>,
    /// The sandbox's first process (the init's stage zero): it made the
    /// namespaces, so `/proc/<pid>/ns/*` are the pod's.
    pid: u32,
    root: ContainerRoot,
    cgroup: Cgroup,
}

impl Sandbox {
    /// Starts the pause container in new namespaces, in the pod's cgroup,
    /// and waits until its namespaces exist.
    pub async fn start(
        runtime: &PodRuntime,
        uid: &str,
        hostname: &str,
        cgroup_name: &CgroupName,
    ) -> Result<Sandbox, PodError> {
        let cgroup = runtime.cgroups.create(cgroup_name, &Limits::default())?;
        let mut isolation = Isolation::container(false);
        isolation.hostname = Some(hostname.to_string());
        isolation.cgroup_procs = cgroup.procs_files();
        let request = ContainerRequest {
            name: format!("{uid}-pause"),
            image: PAUSE_IMAGE.to_string(),
            etc: EtcFiles {
                hostname: hostname.to_string(),
                ..EtcFiles::default()
            },
            ..ContainerRequest::default()
        };
        let (mut spec, root) = match runtime.containers.create(&request, &isolation) {
            Ok(made) => made,
            Err(error) => {
                let _ = cgroup.remove();
                return Err(error.into());
            }
        };
        spec.restart_policy = RestartPolicy::Never;
        spec.log_path = root.plan.dir.join("pause.log");
        // Like the containers, the sandbox outlives the agent.
        let shim = Shim {
            log_path: spec.log_path.clone(),
            exit_file: root.plan.dir.join("pause.exit"),
        };
        if let Err(message) = namespaces::attach_shim(&mut spec, shim) {
            let _ = root.remove();
            let _ = cgroup.remove();
            return Err(PodError::Start {
                what: "the pod sandbox".into(),
                message,
            });
        }
        let started = async {
            let mut supervisor =
                Supervisor::start(spec)
                    .await
                    .map_err(|error| PodError::Start {
                        what: "the pod sandbox".into(),
                        message: error.to_string(),
                    })?;
            let pid = loop {
                match supervisor.next_event().await {
                    Some(Event::Started { pid, .. }) => break pid,
                    Some(Event::StartFailed { error }) => {
                        return Err(PodError::Start {
                            what: "the pod sandbox".into(),
                            message: error,
                        });
                    }
                    Some(_) => continue,
                    None => {
                        return Err(PodError::Start {
                            what: "the pod sandbox".into(),
                            message: "it ended at once".into(),
                        });
                    }
                }
            };
            wait_for_own_namespace(pid).await?;
            wait_for_pause(pid).await?;
            Ok((supervisor, pid))
        };
        match started.await {
            Ok((supervisor, pid)) => Ok(Sandbox {
                supervisor: Some(supervisor),
                pidfd: None,
                pid,
                root,
                cgroup,
            }),
            Err(error) => {
                let _ = cgroup.kill_all();
                let _ = root.remove();
                let _ = cgroup.remove();
                Err(error)
            }
        }
    }

    /// The sandbox a dead agent left, if its pause process still runs:
    /// `process` and `plan` from the pod's record.
    pub(crate) fn adopt(
        runtime: &PodRuntime,
        uid: &str,
        process: ProcessRecord,
        plan: filesystem::rootfs::RootfsPlan,
    ) -> Option<Sandbox> {
        let pidfd = process.open()?;
        let name = CgroupName::new(runtime.instance(), &["pods", uid, "pause"]).ok()?;
        Some(Sandbox {
            supervisor: None,
            pidfd: Some(pidfd),
            pid: process.pid,
            root: ContainerRoot { plan },
            cgroup: runtime.cgroups.open(&name),
        })
    }

    /// What the pod's record keeps of the sandbox.
    pub(crate) fn record(&self) -> (Option<ProcessRecord>, filesystem::rootfs::RootfsPlan) {
        (ProcessRecord::of(self.pid), self.root.plan.clone())
    }

    /// The process holding the pod's namespaces.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// `/proc/<pid>/ns/<kind>` of the sandbox, for containers to join.
    pub fn namespace(&self, kind: Namespace) -> PathBuf {
        namespace_path(self.pid, kind)
    }

    /// The pod's network namespace.
    pub fn netns(&self) -> PathBuf {
        self.namespace(Namespace::Network)
    }

    /// Stops the pause process (it exits on SIGTERM) and removes the
    /// sandbox's directory and cgroup.
    pub async fn stop(self) -> Result<(), PodError> {
        let grace = Duration::from_secs(2);
        match self.supervisor {
            Some(supervisor) => {
                supervisor.stop(grace);
                let _ = supervisor.wait().await;
            }
            None => {
                let pidfd = self.pidfd.and_then(async_pidfd);
                if let Some(pidfd) = pidfd {
                    pidfd_signal(pidfd.get_ref(), libc::SIGTERM);
                    let _ = tokio::time::timeout(grace, pidfd_exited(&pidfd)).await;
                }
            }
        }
        self.cgroup.kill_all()?;
        self.root.remove()?;
        self.cgroup.remove()?;
        Ok(())
    }
}

/// The file of one of a process's namespaces.
pub fn namespace_path(pid: u32, kind: Namespace) -> PathBuf {
    let file = match kind {
        Namespace::Pid => "pid_for_children",
        Namespace::Uts => "uts",
        Namespace::Ipc => "ipc",
        Namespace::Mount => "mnt",
        Namespace::Network => "net",
        Namespace::User => "user",
        Namespace::Cgroup => "cgroup",
    };
    PathBuf::from(format!("/proc/{pid}/ns/{file}"))
}

/// The sandbox's first process makes its namespaces a moment after it
/// starts; until then its namespace files are ours. Wait until its network
/// namespace differs from this process's.
async fn wait_for_own_namespace(pid: u32) -> Result<(), PodError> {
    let ours = namespace_id(&namespace_path(std::process::id(), Namespace::Network));
    let theirs = namespace_path(pid, Namespace::Network);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match namespace_id(&theirs) {
            Some(id) if Some(id.clone()) != ours => return Ok(()),
            None => {
                return Err(PodError::Start {
                    what: "the pod sandbox".into(),
                    message: "it ended before making its namespaces".into(),
                });
            }
            Some(_) => {}
        }
        if Instant::now() > deadline {
            return Err(PodError::Start {
                what: "the pod sandbox".into(),
                message: "it did not make its namespaces within 10 s".into(),
            });
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// Waits until the pause program runs, which is when the sandbox's
/// setup is done: the namespaces exist as soon as the first stage has
/// unshared them, but the hostname is set and the loopback device brought
/// up only after that, by the sandbox's PID 1. A container that joined
/// before would see the host's hostname, or no working `lo`.
async fn wait_for_pause(pid: u32) -> Result<(), PodError> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if descendants(pid, 3).iter().any(|child| runs_pause(*child)) {
            return Ok(());
        }
        if !std::path::Path::new(&format!("/proc/{pid}")).exists() {
            return Err(PodError::Start {
                what: "the pod sandbox".into(),
                message: "it ended before the pause program started".into(),
            });
        }
        if Instant::now() > deadline {
            return Err(PodError::Start {
                what: "the pod sandbox".into(),
                message: "its pause program did not start within 10 s".into(),
            });
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// The processes below `pid`, at most `depth` generations down, from each
/// thread's `children` file.
fn descendants(pid: u32, depth: u32) -> Vec<u32> {
    if depth == 0 {
        return Vec::new();
    }
    let children: Vec<u32> = std::fs::read_dir(format!("/proc/{pid}/task"))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|task| std::fs::read_to_string(task.path().join("children")).ok())
        .flat_map(|text| {
            text.split_whitespace()
                .filter_map(|child| child.parse().ok())
                .collect::<Vec<u32>>()
        })
        .collect();
    let deeper: Vec<u32> = children
        .iter()
        .flat_map(|child| descendants(*child, depth - 1))
        .collect();
    children.into_iter().chain(deeper).collect()
}

/// Whether `pid` has exec'd the pause program (its arguments name it).
fn runs_pause(pid: u32) -> bool {
    std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|cmdline| {
        cmdline
            .split(|byte| *byte == 0)
            .any(|arg| arg == filesystem::programs::PAUSE_ARG.as_bytes())
    })
}

/// A namespace's identity, as its file's link target says (`net:[4026...]`).
fn namespace_id(path: &std::path::Path) -> Option<String> {
    std::fs::read_link(path)
        .ok()
        .map(|target| target.display().to_string())
}
