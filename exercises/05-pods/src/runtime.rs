// Generated from solutions/05-pods/src/runtime.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
//! The pod runtime of one node: what every pod on it shares.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use cgroups::{CgroupName, Cgroups};
use filesystem::Containers;
use filesystem::image::ImageStore;
use namespaces::Runtime;

use crate::network::NodeNetwork;
use crate::record::{PodRecord, spec_hash};
use crate::spec::PodSpec;
use crate::{PodError, PodHandle, worker};

/// Runs pods on this node: their sandboxes, containers, cgroups, volumes
/// and addresses.
pub struct PodRuntime {
    pub(crate) instance: String,
    pub(crate) pods_dir: PathBuf,
    pub(crate) containers: Containers,
    pub(crate) cgroups: Cgroups,
    pub(crate) network: Option<NodeNetwork>,
}

/// A pod found on disk after a restart of the agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedPod {
    pub uid: String,
    /// Empty when the agent died before it wrote the record.
    pub name: String,
    pub namespace: String,
    /// The fingerprint of the spec it was started from, if recorded.
    pub spec_hash: Option<String>,
}

/// Where a pod runtime keeps things and what it builds on.
pub struct RuntimeConfig {
    /// The cluster instance: it names every cgroup, directory and
    /// interface, so that two clusters (or tests) never collide.
    pub instance: String,
    /// The program to re-execute as the containers' init (chapter 02): the
    /// binary that calls `filesystem::run_init_if_requested` first thing.
    pub init_program: PathBuf,
    pub images: ImageStore,
    /// Pods' directories (volumes, logs, container layers) go below.
    pub state_dir: PathBuf,
    /// The pod network; without one, pods have only their loopback.
    pub network: Option<NodeNetwork>,
}

impl PodRuntime {
    pub fn new(config: RuntimeConfig) -> Result<Arc<PodRuntime>, PodError> {
        if !nix::unistd::geteuid().is_root() {
            return Err(PodError::NotRoot);
        }
        let pods_dir = config.state_dir.join("pods").join(&config.instance);
        std::fs::create_dir_all(&pods_dir).map_err(|source| PodError::io(&pods_dir, source))?;
        let runtime = Runtime::new(&config.init_program, &config.instance);
        let containers =
            Containers::new(runtime, config.images, config.state_dir.join("containers"))?;
        Ok(Arc::new(PodRuntime {
            instance: config.instance,
            pods_dir,
            containers,
            cgroups: Cgroups::detect()?,
            network: config.network,
        }))
    }

    /// Starts making and running the pod, and returns at once: follow it
    /// through the handle's status. A pod this node cannot run (an invalid
    /// spec) is Failed at once with the reason in its status, as the
    /// kubelet rejects a pod at admission.
    pub fn run(self: &Arc<Self>, spec: PodSpec) -> PodHandle {
        worker::start(self.clone(), spec)
    }

    // ANCHOR: adopt
    /// The pods a previous agent of this node left, found from their
    /// directories and state records: after a restart, the kubelet adopts
    /// those it still wants ([`PodRuntime::adopt`]) and discards the others
    /// ([`PodRuntime::discard`]).
    pub fn recorded_pods(&self) -> Vec<RecordedPod> {
        let Ok(entries) = std::fs::read_dir(&self.pods_dir) else {
            return Vec::new();
        };
        let mut pods: Vec<RecordedPod> = entries
            .flatten()
            .filter(|entry| entry.file_type().is_ok_and(|kind| kind.is_dir()))
            .map(|entry| {
                let uid = entry.file_name().to_string_lossy().into_owned();
                let record = PodRecord::load(&entry.path());
                RecordedPod {
                    spec_hash: record.as_ref().map(|record| record.spec_hash.clone()),
                    name: record
                        .as_ref()
                        .map(|record| record.name.clone())
                        .unwrap_or_default(),
                    namespace: record.map(|record| record.namespace).unwrap_or_default(),
                    uid,
                }
            })
            .collect();
        pods.sort_by(|a, b| a.uid.cmp(&b.uid));
        pods
    }

    /// Takes over the pod `spec` that a previous agent left running: the
    /// same container processes (not restarted), restart counts, logs and
    /// address; probes start again, and crashes are restarted with the
    /// same back-off. A container that ended while no agent ran is
    /// reported with its exit status, and restarted as its policy says.
    ///
    /// Refused when there is no record of the pod, or when it was started
    /// from another spec (discard it and run the new one).
    pub fn adopt(self: &Arc<Self>, spec: PodSpec) -> Result<PodHandle, PodError> {
        let record = PodRecord::load(&self.pod_dir(&spec.uid)).ok_or_else(|| PodError::Start {
            what: format!("the adoption of pod {}", spec.uid),
            message: "no state record of it on this node".into(),
        })?;
        if record.spec_hash != spec_hash(&spec) {
            return Err(PodError::Start {
                what: format!("the adoption of pod {}", spec.uid),
                message: "it was started from another spec".into(),
            });
        }
        Ok(worker::adopt(self.clone(), spec, record))
    }

    /// Removes a pod a previous agent left that nobody wants any more:
    /// SIGTERM to its containers, `grace` for them to end, then nothing of
    /// it is left (processes, cgroups, root filesystems, address,
    /// directory, logs).
    pub async fn discard(&self, uid: &str, grace: Duration) -> Result<(), PodError> {
        worker::discard(self, uid, grace).await
    }
    // ANCHOR_END: adopt

    pub fn instance(&self) -> &str {
        &self.instance
    }

    pub fn network(&self) -> Option<&NodeNetwork> {
        self.network.as_ref()
    }

    /// The pod's directory: volumes, logs, container layers.
    pub fn pod_dir(&self, uid: &str) -> PathBuf {
        self.pods_dir.join(uid)
    }

    pub(crate) fn pod_cgroup(&self, uid: &str) -> Result<CgroupName, PodError> {
        Ok(CgroupName::new(&self.instance, &["pods", uid])?)
    }

    /// Removes what is left of the runtime itself once every pod is
    /// deleted: the node's network (bridge, allocations), the instance's
    /// cgroup and directories.
    pub fn remove(self) -> Result<(), PodError> {
        if let Some(network) = self.network {
            network.remove()?;
        }
        self.cgroups
            .remove(&CgroupName::instance(&self.instance)?)?;
        remove_empty(&self.pods_dir);
        remove_empty(&self.containers.instance_dir());
        Ok(())
    }
}

fn remove_empty(dir: &Path) {
    let _ = std::fs::remove_dir(dir);
}
