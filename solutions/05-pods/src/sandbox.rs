//! The pod sandbox: an infra container running `k8s-mini/pause`, whose only
//! job is to hold the pod's network, IPC and UTS namespaces open while the
//! pod's containers come and go.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use cgroups::{Cgroup, CgroupName, Limits};
use filesystem::image::PAUSE_IMAGE;
use filesystem::{ContainerRequest, ContainerRoot, EtcFiles};
use namespaces::{Isolation, Namespace};
use process::{Event, RestartPolicy, Supervisor};

use crate::{PodError, PodRuntime};

/// A running sandbox.
pub struct Sandbox {
    supervisor: Supervisor,
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
            Ok((supervisor, pid))
        };
        match started.await {
            Ok((supervisor, pid)) => Ok(Sandbox {
                supervisor,
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
        self.supervisor.stop(Duration::from_secs(2));
        let _ = self.supervisor.wait().await;
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

/// A namespace's identity, as its file's link target says (`net:[4026...]`).
fn namespace_id(path: &std::path::Path) -> Option<String> {
    std::fs::read_link(path)
        .ok()
        .map(|target| target.display().to_string())
}
