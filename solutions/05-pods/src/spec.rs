//! What a pod is made of, as the node runtime sees it: the fields of a
//! Kubernetes pod spec that a node acts on, in Rust types. Chapter 08's
//! kubelet fills these from the API objects of chapter 06.

use std::path::PathBuf;
use std::time::Duration;

use cgroups::Limits;
use process::{Backoff, RestartPolicy};

use crate::probe::ContainerProbes;

/// One pod: containers that share a network, IPC and UTS namespace and
/// volumes, started and stopped together.
#[derive(Debug, Clone, PartialEq)]
pub struct PodSpec {
    /// The pod's name: its hostname too, unless `hostname` says otherwise.
    pub name: String,
    pub namespace: String,
    /// Unique among every pod the node ever runs: host resources (cgroups,
    /// directories, addresses) are named after it, not after the name,
    /// because a pod deleted and created again under the same name is
    /// another pod.
    pub uid: String,
    pub hostname: Option<String>,
    /// Run one after another, each to completion, before `containers`.
    pub init_containers: Vec<Container>,
    pub containers: Vec<Container>,
    pub volumes: Vec<Volume>,
    pub restart_policy: RestartPolicy,
    /// Between SIGTERM and SIGKILL when the pod is deleted or a container
    /// is restarted for failing its liveness probe.
    pub termination_grace_period: Duration,
    /// The restart back-off (the kubelet's: 10 s doubling to 300 s).
    pub backoff: Backoff,
    /// Every container's `/etc/resolv.conf`; the host's when `None`. The
    /// kubelet writes the cluster DNS here (chapter 11).
    pub resolv_conf: Option<String>,
    /// Variables every container gets after its own, unless it sets the
    /// same name: the Services' addresses the kubelet found when the pod
    /// started (chapter 11). Not part of what the pod asked for, so not
    /// of its spec hash: a Service made later must not make a running pod
    /// "another spec" when the agent adopts it after a restart.
    pub service_env: Vec<(String, String)>,
}

impl PodSpec {
    /// A pod with these containers and Kubernetes' defaults.
    pub fn new(name: &str, containers: Vec<Container>) -> PodSpec {
        PodSpec {
            name: name.to_string(),
            namespace: "default".to_string(),
            uid: name.to_string(),
            hostname: None,
            init_containers: Vec::new(),
            containers,
            volumes: Vec::new(),
            restart_policy: RestartPolicy::Always,
            termination_grace_period: Duration::from_secs(30),
            backoff: Backoff::KUBERNETES,
            resolv_conf: None,
            service_env: Vec::new(),
        }
    }

    pub fn hostname(&self) -> &str {
        self.hostname.as_deref().unwrap_or(&self.name)
    }

    /// The environment of `container`: its own variables in their order,
    /// then the pod's [`PodSpec::service_env`] that it does not set itself
    /// (its own win on a clash, as in Kubernetes).
    pub fn container_env(&self, container: &Container) -> Vec<(String, String)> {
        let mut env = container.env.clone();
        for (name, value) in &self.service_env {
            if !container.env.iter().any(|(own, _)| own == name) {
                env.push((name.clone(), value.clone()));
            }
        }
        env
    }
}

/// One container of a pod.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Container {
    pub name: String,
    pub image: String,
    /// Replaces the image's entrypoint when not empty.
    pub command: Vec<String>,
    /// Replaces the image's command when not empty.
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
    pub working_dir: Option<String>,
    pub ports: Vec<ContainerPort>,
    pub volume_mounts: Vec<VolumeMount>,
    pub limits: Limits,
    /// Startup, liveness and readiness probes.
    pub probes: ContainerProbes,
}

impl Container {
    pub fn new(name: &str, image: &str) -> Container {
        Container {
            name: name.to_string(),
            image: image.to_string(),
            ..Container::default()
        }
    }

    pub fn command<S: Into<String>>(mut self, line: impl IntoIterator<Item = S>) -> Container {
        self.command = line.into_iter().map(Into::into).collect();
        self
    }

    pub fn env(mut self, key: &str, value: &str) -> Container {
        self.env.push((key.to_string(), value.to_string()));
        self
    }

    pub fn mount(mut self, volume: &str, path: &str) -> Container {
        self.volume_mounts.push(VolumeMount {
            name: volume.to_string(),
            mount_path: path.to_string(),
            read_only: false,
        });
        self
    }
}

/// A port the container listens on. Informational, as in Kubernetes (every
/// port of the pod's address is reachable), but it must be a real port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerPort {
    pub name: Option<String>,
    /// Signed, as the API's int32 is, so that a bad value reaches validation.
    pub container_port: i64,
    pub protocol: String,
}

/// A volume of the pod, shared by the containers that mount it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Volume {
    pub name: String,
    pub source: VolumeSource,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VolumeSource {
    /// An empty directory made for the pod and deleted with it.
    EmptyDir,
    /// A path of the node. Read-only unless `writable`: a writable host
    /// path lets a pod change the node.
    HostPath { path: PathBuf, writable: bool },
}

/// Where a container sees a volume.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolumeMount {
    pub name: String,
    pub mount_path: String,
    pub read_only: bool,
}
