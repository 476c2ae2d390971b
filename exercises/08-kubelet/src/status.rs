// Generated from solutions/08-kubelet/src/status.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
//! Pod status in the API's terms: chapter 05's [`pods::PodStatus`] (what
//! the runtime sees) becomes the `status` of the API's Pod, and it is
//! written through the status subresource only when it changed.
//! Kubernetes: the kubelet's `generateAPIPodStatus` and its status
//! manager's `isPodStatusByKubeletEqual`.

use std::time::SystemTime;

use objects::Time;
use objects::pod::{
    ContainerState, ContainerStateRunning, ContainerStateTerminated, ContainerStateWaiting,
    ContainerStatus, PodCondition, PodIp, PodStatus,
};

/// What the kubelet knows beside the runtime's status.
#[derive(Debug, Clone, Default)]
pub struct Context<'a> {
    /// The pod's uid: container ids are made from it.
    pub uid: &'a str,
    /// The node's address (`status.hostIP`).
    pub host_ip: &'a str,
    /// `status.qosClass`.
    pub qos_class: &'a str,
}

pub fn time(at: SystemTime) -> Time {
    Time(chrono::DateTime::<chrono::Utc>::from(at))
}

/// The API's form of one container state.
pub fn state(state: &pods::ContainerState, container_id: Option<String>) -> ContainerState {
    match state {
        pods::ContainerState::Waiting { reason, message } => ContainerState {
            waiting: Some(ContainerStateWaiting {
                reason: Some(reason.clone()),
                message: (!message.is_empty()).then(|| message.clone()),
            }),
            ..ContainerState::default()
        },
        pods::ContainerState::Running { started_at } => ContainerState {
            running: Some(ContainerStateRunning {
                started_at: Some(time(*started_at)),
            }),
            ..ContainerState::default()
        },
        pods::ContainerState::Terminated {
            exit_code,
            signal,
            reason,
            message,
            started_at,
            finished_at,
        } => ContainerState {
            terminated: Some(ContainerStateTerminated {
                exit_code: *exit_code,
                signal: *signal,
                reason: Some(reason.clone()),
                message: (!message.is_empty()).then(|| message.clone()),
                started_at: started_at.map(time),
                finished_at: Some(time(*finished_at)),
                container_id,
            }),
            ..ContainerState::default()
        },
    }
}

/// The id of one run of a container, as `containerID` shows it: the
/// runtime's name, the pod, the container, the run.
pub fn container_id(uid: &str, name: &str, run: u32) -> String {
    format!("k8s-mini://{uid}/{name}/{run}")
}

/// The image id the node reports: the local store has no digests, so the
/// stored image's name stands for it.
pub fn image_id(image: &str) -> String {
    format!("k8s-mini://{image}")
}

fn container_status(line: &pods::ContainerStatus, uid: &str) -> ContainerStatus {
    let has_run = !matches!(line.state, pods::ContainerState::Waiting { .. });
    let id = has_run.then(|| container_id(uid, &line.name, line.restart_count));
    let previous = line.restart_count.checked_sub(1);
    ContainerStatus {
        name: line.name.clone(),
        state: Some(state(&line.state, id.clone())),
        // Kubernetes always writes `lastState`, empty before a restart.
        last_state: Some(match (&line.last_state, previous) {
            (Some(last), Some(run)) => state(last, Some(container_id(uid, &line.name, run))),
            (Some(last), None) => state(last, None),
            (None, _) => ContainerState::default(),
        }),
        ready: line.ready,
        restart_count: line.restart_count as i32,
        image: line.image.clone(),
        image_id: if has_run {
            image_id(&line.image)
        } else {
            String::new()
        },
        container_id: id,
        started: Some(line.started),
    }
}

/// The API status of a pod the runtime reports `runtime` for.
pub fn api_status(runtime: &pods::PodStatus, context: &Context) -> PodStatus {
    let phase = match runtime.phase {
        pods::PodPhase::Pending => "Pending",
        pods::PodPhase::Running => "Running",
        pods::PodPhase::Succeeded => "Succeeded",
        pods::PodPhase::Failed => "Failed",
    };
    let conditions = runtime
        .conditions
        .iter()
        .map(|condition| PodCondition {
            condition_type: format!("{:?}", condition.kind),
            status: if condition.status { "True" } else { "False" }.to_string(),
            last_probe_time: None,
            last_transition_time: Some(time(condition.last_transition)),
            reason: condition.reason.clone(),
            message: condition.message.clone(),
        })
        .collect();
    let pod_ip = runtime.pod_ip.map(|ip| ip.to_string());
    PodStatus {
        phase: Some(phase.to_string()),
        conditions,
        message: runtime.message.clone(),
        reason: runtime.reason.clone(),
        host_ip: Some(context.host_ip.to_string()),
        host_ips: vec![PodIp {
            ip: context.host_ip.to_string(),
        }],
        pod_ips: pod_ip.iter().map(|ip| PodIp { ip: ip.clone() }).collect(),
        pod_ip,
        start_time: Some(time(runtime.start_time)),
        init_container_statuses: runtime
            .init_container_statuses
            .iter()
            .map(|line| container_status(line, context.uid))
            .collect(),
        container_statuses: runtime
            .container_statuses
            .iter()
            .map(|line| container_status(line, context.uid))
            .collect(),
        qos_class: Some(context.qos_class.to_string()),
        nominated_node_name: None,
    }
}

/// The status of a pod refused at admission: Failed at once, with why.
pub fn rejected(reason: &str, message: &str, context: &Context) -> PodStatus {
    PodStatus {
        phase: Some("Failed".into()),
        reason: Some(reason.into()),
        message: Some(message.into()),
        host_ip: Some(context.host_ip.to_string()),
        host_ips: vec![PodIp {
            ip: context.host_ip.to_string(),
        }],
        start_time: Some(Time::now()),
        qos_class: Some(context.qos_class.to_string()),
        ..PodStatus::default()
    }
}

// ANCHOR: merge_status
/// The status to write over `old` (the API's), from `ours` (the
/// runtime's, translated): `None` when nothing changed, so that a steady
/// pod costs the API server no writes. What the kubelet does not own
/// survives: conditions others set (the scheduler's PodScheduled, say),
/// the order of the conditions, the first `startTime`, and the
/// `lastTransitionTime` of every condition whose status did not change.
pub fn merge_status(old: &PodStatus, mut ours: PodStatus) -> Option<PodStatus> {
    todo!(
        "exercise 5: the status to write (ours, keeping from `old` the startTime, the unchanged conditions' lastTransitionTime, the conditions we do not report and their order), or None when that equals `old`"
    )
}
// ANCHOR_END: merge_status
