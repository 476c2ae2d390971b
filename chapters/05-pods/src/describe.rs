//! A pod's status and events as text a learner can read in a snapshot,
//! with the times left out (they differ on every run).

use std::fmt::Write;

use crate::pods::{ContainerState, ContainerStatus, PodEvent, PodStatus};

/// Phase, conditions, and one line per container, like a short
/// `kubectl describe pod`.
pub fn describe(status: &PodStatus) -> String {
    let mut text = format!("Phase: {:?}\n", status.phase);
    if let Some(reason) = &status.reason {
        writeln!(text, "Reason: {reason}").unwrap();
    }
    if let Some(message) = &status.message {
        writeln!(text, "Message: {message}").unwrap();
    }
    let conditions: Vec<String> = status
        .conditions
        .iter()
        .map(|condition| {
            let value = if condition.status { "True" } else { "False" };
            format!("{:?}={value}", condition.kind)
        })
        .collect();
    writeln!(text, "Conditions: {}", conditions.join(" ")).unwrap();
    for (title, lines) in [
        ("Init containers", &status.init_container_statuses),
        ("Containers", &status.container_statuses),
    ] {
        if lines.is_empty() {
            continue;
        }
        writeln!(text, "{title}:").unwrap();
        for line in lines {
            writeln!(text, "  {}", container_line(line)).unwrap();
        }
    }
    text
}

fn container_line(line: &ContainerStatus) -> String {
    let mut text = format!("{}: {}", line.name, state(&line.state));
    if line.state.is_running() {
        let started = if line.started {
            "started"
        } else {
            "not started"
        };
        let ready = if line.ready { "ready" } else { "not ready" };
        write!(text, ", {started}, {ready}").unwrap();
    }
    write!(text, ", restarts {}", line.restart_count).unwrap();
    if let Some(last) = &line.last_state {
        write!(text, "; last state {}", state(last)).unwrap();
    }
    text
}

fn state(state: &ContainerState) -> String {
    match state {
        ContainerState::Waiting { reason, message } if message.is_empty() => {
            format!("Waiting ({reason})")
        }
        ContainerState::Waiting { reason, message } => format!("Waiting ({reason}: {message})"),
        ContainerState::Running { .. } => "Running".to_string(),
        ContainerState::Terminated {
            exit_code,
            reason,
            message,
            ..
        } => {
            let mut text = format!("Terminated ({reason}, exit code {exit_code})");
            if !message.is_empty() {
                write!(text, ": {}", message.trim_end()).unwrap();
            }
            text
        }
    }
}

/// The pod's events, one per line: `Reason: message`.
pub fn events(events: &[PodEvent]) -> String {
    events
        .iter()
        .map(|event| format!("{}: {}\n", event.reason, event.message))
        .collect()
}
