//! A node agent in a process of its own (`src/bin/pod-agent.rs`), so that
//! a test can kill it with SIGKILL as a crash would, and start another
//! that adopts what it left.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use filesystem::image::ImageStore;
use process::{Backoff, RestartPolicy};

use crate::pods::network::{NodeConfig, NodeNetwork, Subnet};
use crate::pods::{Container, PodRuntime, PodSpec, RuntimeConfig};

/// The node's pod network as [`Lab`](crate::Lab) makes it: the agent
/// process must make the very same one.
pub fn node_config(instance: &str, pod_cidr: Subnet, data_dir: &Path) -> NodeConfig {
    NodeConfig {
        instance: instance.to_string(),
        pod_cidr,
        // Every test's subnet, and the book's service CIDR.
        cluster_cidrs: vec![
            "10.251.0.0/16".parse().expect("a subnet"),
            "10.96.0.0/16".parse().expect("a subnet"),
        ],
        data_dir: data_dir.to_path_buf(),
        netns: None,
    }
}

/// What the agent process is told on its command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentArgs {
    pub init_program: PathBuf,
    pub state_dir: PathBuf,
    pub instance: String,
    pub subnet: Subnet,
}

impl AgentArgs {
    pub fn to_args(&self) -> Vec<String> {
        vec![
            self.init_program.display().to_string(),
            self.state_dir.display().to_string(),
            self.instance.clone(),
            self.subnet.to_string(),
        ]
    }

    pub fn parse(args: &[String]) -> Option<AgentArgs> {
        match args {
            [init, state, instance, subnet] => Some(AgentArgs {
                init_program: init.into(),
                state_dir: state.into(),
                instance: instance.clone(),
                subnet: subnet.parse().ok()?,
            }),
            _ => None,
        }
    }

    /// The pod runtime of the node, on the images the lab installed.
    pub fn runtime(&self) -> Arc<PodRuntime> {
        let images = ImageStore::open(&self.state_dir.join("images")).expect("an image store");
        let network =
            NodeNetwork::ensure(node_config(&self.instance, self.subnet, &self.state_dir))
                .expect("the node's pod network");
        PodRuntime::new(RuntimeConfig {
            instance: self.instance.clone(),
            init_program: self.init_program.clone(),
            images,
            state_dir: self.state_dir.clone(),
            network: Some(network),
        })
        .expect("a pod runtime")
    }
}

/// A pod with a fixed uid (both agents must see the same spec), a short
/// grace period and a quick back-off.
fn pod(uid: &str, policy: RestartPolicy, container: Container) -> PodSpec {
    let mut spec = PodSpec::new(uid, vec![container]);
    spec.uid = uid.to_string();
    spec.restart_policy = policy;
    spec.termination_grace_period = Duration::from_secs(5);
    spec.backoff = Backoff {
        initial: Duration::from_millis(100),
        max: Duration::from_secs(1),
        reset_after: Duration::from_secs(600),
    };
    spec
}

/// The pods the first agent runs: one that logs on and on (adopted),
/// one that exits with code 3 a moment after it starts, while no agent
/// runs (adopted, its exit reported), one nobody wants after the restart
/// (discarded), and one that completed before (adopted as it ended).
pub fn agent_pods() -> Vec<PodSpec> {
    let ticking = "i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.1; done";
    vec![
        pod(
            "keeper",
            RestartPolicy::Always,
            Container::new("app", "busybox").command(["sh", "-c", ticking]),
        ),
        pod(
            "quitter",
            RestartPolicy::Never,
            Container::new("app", "busybox").command(["sh", "-c", "sleep 3; exit 3"]),
        ),
        pod(
            "unwanted",
            RestartPolicy::Always,
            Container::new("app", "busybox").command(["sleep", "3600"]),
        ),
        pod(
            "finisher",
            RestartPolicy::Never,
            Container::new("app", "busybox").command(["sh", "-c", "echo done"]),
        ),
    ]
}

/// The application of a container whose shim (chapter 02's first
/// process) is `shim`: the shim's child is PID 1, whose child it is.
pub fn application_pid(shim: u32) -> Option<u32> {
    let children = |pid: u32| -> Option<u32> {
        std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
            .ok()?
            .split_whitespace()
            .next()?
            .parse()
            .ok()
    };
    children(children(shim)?)
}
