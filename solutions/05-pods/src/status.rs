//! A pod's status as Kubernetes reports it: a phase, conditions, and the
//! state of every container.

use std::net::IpAddr;
use std::time::SystemTime;

use process::RestartPolicy;

/// The pod's place in its life, summed up from its containers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PodPhase {
    /// Accepted, but not every container has started yet (init containers
    /// running, images missing, the sandbox being made).
    Pending,
    /// Every container has started and at least one is running, starting
    /// or restarting.
    Running,
    /// Every container ended with exit code 0 and none will restart.
    Succeeded,
    /// Every container ended, at least one in failure, and none will
    /// restart.
    Failed,
}

/// A container's state, one of three, with what Kubernetes tells about it.
/// Serializable: the pod's state record keeps the last termination.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ContainerState {
    /// Not running: being created, or waiting to be restarted.
    Waiting {
        reason: String,
        message: String,
    },
    Running {
        started_at: SystemTime,
    },
    Terminated {
        exit_code: i32,
        /// The signal that killed it, if one did.
        signal: Option<i32>,
        /// Completed, Error or OOMKilled.
        reason: String,
        message: String,
        started_at: Option<SystemTime>,
        finished_at: SystemTime,
    },
}

impl ContainerState {
    pub fn waiting(reason: &str, message: impl Into<String>) -> ContainerState {
        ContainerState::Waiting {
            reason: reason.to_string(),
            message: message.into(),
        }
    }

    pub fn is_running(&self) -> bool {
        matches!(self, ContainerState::Running { .. })
    }

    /// The exit code, if the container has terminated.
    pub fn exit_code(&self) -> Option<i32> {
        match self {
            ContainerState::Terminated { exit_code, .. } => Some(*exit_code),
            _ => None,
        }
    }
}

/// One container's line in the pod's status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerStatus {
    pub name: String,
    pub image: String,
    pub state: ContainerState,
    /// How the previous run ended, once there was one.
    pub last_state: Option<ContainerState>,
    /// Running, started, and passing its readiness probe (if it has one).
    pub ready: bool,
    /// Running and past its startup probe (if it has one).
    pub started: bool,
    /// How many times it was started again after the first time.
    pub restart_count: u32,
}

impl ContainerStatus {
    pub fn new(name: &str, image: &str) -> ContainerStatus {
        ContainerStatus {
            name: name.to_string(),
            image: image.to_string(),
            state: ContainerState::waiting("ContainerCreating", ""),
            last_state: None,
            ready: false,
            started: false,
            restart_count: 0,
        }
    }
}

/// The conditions Kubernetes reports for a pod, in its order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConditionType {
    /// The sandbox exists and its network is configured.
    PodReadyToStartContainers,
    /// Every init container has completed.
    Initialized,
    /// Every container is ready.
    ContainersReady,
    /// The pod can serve: Services send it traffic.
    Ready,
    /// The pod is bound to this node.
    PodScheduled,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodCondition {
    pub kind: ConditionType,
    pub status: bool,
    /// Why it is false (for example `ContainersNotReady`).
    pub reason: Option<String>,
    pub message: Option<String>,
    pub last_transition: SystemTime,
}

/// Everything a node reports about one pod.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodStatus {
    pub phase: PodPhase,
    pub conditions: Vec<PodCondition>,
    /// Why the pod failed as a whole, when it did (`reason`, `message`).
    pub reason: Option<String>,
    pub message: Option<String>,
    /// The pod's address on the pod network (none without one).
    pub pod_ip: Option<IpAddr>,
    pub start_time: SystemTime,
    pub init_container_statuses: Vec<ContainerStatus>,
    pub container_statuses: Vec<ContainerStatus>,
}

// ANCHOR: phase
/// The pod's phase, as the kubelet computes it from the state of each
/// container.
///
/// Init containers first: until the last of them has succeeded, the pod
/// is Pending, or Failed if one failed and will not be run again
/// (`restart_policy` Never). Then the app containers: any still waiting
/// for a first start makes the pod Pending; any running makes it
/// Running. When every container has stopped, the restart policy decides:
/// with Always they will run again (Running); otherwise the pod is
/// Succeeded when all succeeded, Failed when some failed and Never applies,
/// and Running under OnFailure (the failed ones will run again).
pub fn phase(
    init_containers: &[ContainerStatus],
    containers: &[ContainerStatus],
    restart_policy: RestartPolicy,
) -> PodPhase {
    // exercise 6: the pod's phase from the state of each of its containers, as the doc comment describes
    // hint: Go through the doc comment's rules in order: the init containers first, then the app containers. Counting the app containers by state answers all of its questions.
    // hint: An init container that exited 0 is done; one that failed under Never fails the pod; any other keeps the pod Pending. For the app containers count running, waiting (Waiting without a last_state: never started), stopped (Terminated, or Waiting with a last_state: it ran) and, among the stopped, those that exited 0.
    // hint: Any waiting → Pending; else any running → Running; else none stopped → Pending; else by policy: Always → Running; all stopped succeeded → Succeeded; Never → Failed; OnFailure → Running.
    for init in init_containers {
        match init.state.exit_code() {
            Some(0) => continue,
            Some(_) if restart_policy == RestartPolicy::Never => return PodPhase::Failed,
            _ => return PodPhase::Pending,
        }
    }
    let (mut running, mut waiting, mut stopped, mut succeeded) = (0, 0, 0, 0);
    for container in containers {
        match &container.state {
            ContainerState::Running { .. } => running += 1,
            ContainerState::Terminated { exit_code, .. } => {
                stopped += 1;
                if *exit_code == 0 {
                    succeeded += 1;
                }
            }
            ContainerState::Waiting { .. } => match &container.last_state {
                // Waiting to be restarted: it has run.
                Some(last) => {
                    stopped += 1;
                    if last.exit_code() == Some(0) {
                        succeeded += 1;
                    }
                }
                None => waiting += 1,
            },
        }
    }
    if waiting > 0 {
        PodPhase::Pending
    } else if running > 0 {
        PodPhase::Running
    } else if stopped == 0 {
        PodPhase::Pending
    } else {
        match restart_policy {
            RestartPolicy::Always => PodPhase::Running,
            _ if succeeded == stopped => PodPhase::Succeeded,
            RestartPolicy::Never => PodPhase::Failed,
            RestartPolicy::OnFailure => PodPhase::Running,
        }
    }
}
// ANCHOR_END: phase

// ANCHOR: conditions
/// The values of the pod's conditions (transition times aside): the sandbox
/// and its network are up; every init container completed; every container
/// ready; and Ready, which is ContainersReady (Kubernetes adds readiness
/// gates). PodScheduled is true: a node only runs pods bound to it.
pub fn condition_values(
    sandbox_ready: bool,
    init_containers: &[ContainerStatus],
    containers: &[ContainerStatus],
) -> Vec<(ConditionType, bool, Option<&'static str>)> {
    let initialized = init_containers
        .iter()
        .all(|init| init.state.exit_code() == Some(0));
    let ready = containers.iter().all(|container| container.ready);
    let not = |value: bool, reason: &'static str| (!value).then_some(reason);
    vec![
        (
            ConditionType::PodReadyToStartContainers,
            sandbox_ready,
            None,
        ),
        (
            ConditionType::Initialized,
            initialized,
            not(initialized, "ContainersNotInitialized"),
        ),
        (
            ConditionType::ContainersReady,
            ready,
            not(ready, "ContainersNotReady"),
        ),
        (
            ConditionType::Ready,
            ready,
            not(ready, "ContainersNotReady"),
        ),
        (ConditionType::PodScheduled, true, None),
    ]
}
// ANCHOR_END: conditions

impl PodStatus {
    /// The status of a pod just accepted: Pending, nothing running.
    pub fn pending(init: &[ContainerStatus], containers: &[ContainerStatus]) -> PodStatus {
        let now = SystemTime::now();
        let mut status = PodStatus {
            phase: PodPhase::Pending,
            conditions: Vec::new(),
            reason: None,
            message: None,
            pod_ip: None,
            start_time: now,
            init_container_statuses: init.to_vec(),
            container_statuses: containers.to_vec(),
        };
        status.update_conditions(false, now);
        status
    }

    /// Recomputes the conditions, keeping the transition time of those
    /// whose value did not change.
    pub fn update_conditions(&mut self, sandbox_ready: bool, now: SystemTime) {
        let values = condition_values(
            sandbox_ready,
            &self.init_container_statuses,
            &self.container_statuses,
        );
        self.conditions = values
            .into_iter()
            .map(|(kind, status, reason)| {
                let previous = self.conditions.iter().find(|old| old.kind == kind);
                let last_transition = match previous {
                    Some(old) if old.status == status => old.last_transition,
                    _ => now,
                };
                PodCondition {
                    kind,
                    status,
                    reason: reason.map(str::to_string),
                    message: reason.map(|_| self.not_ready_message(kind)),
                    last_transition,
                }
            })
            .collect();
    }

    /// Kubernetes' message for a false condition: which containers hold it
    /// back.
    fn not_ready_message(&self, kind: ConditionType) -> String {
        let (what, statuses) = match kind {
            ConditionType::Initialized => ("incomplete", &self.init_container_statuses),
            _ => ("with unready status", &self.container_statuses),
        };
        let names: Vec<&str> = statuses
            .iter()
            .filter(|status| match kind {
                ConditionType::Initialized => status.state.exit_code() != Some(0),
                _ => !status.ready,
            })
            .map(|status| status.name.as_str())
            .collect();
        let noun = if kind == ConditionType::Initialized {
            "init containers"
        } else {
            "containers"
        };
        format!("{noun} {what}: [{}]", names.join(" "))
    }

    /// The condition of this kind, if reported.
    pub fn condition(&self, kind: ConditionType) -> Option<bool> {
        self.conditions
            .iter()
            .find(|condition| condition.kind == kind)
            .map(|condition| condition.status)
    }

    pub fn container(&self, name: &str) -> Option<&ContainerStatus> {
        self.init_container_statuses
            .iter()
            .chain(&self.container_statuses)
            .find(|status| status.name == name)
    }
}
