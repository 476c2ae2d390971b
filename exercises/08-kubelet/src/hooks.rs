// Generated from solutions/08-kubelet/src/hooks.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
//! Container lifecycle hooks: `lifecycle.preStop`, which the kubelet runs
//! before it sends SIGTERM to a container (`sleep` or `exec`; k8s-mini has
//! no `httpGet` hook). A preStop sleep is how a pod behind a Service goes
//! without a failed request: the endpoints controller and every proxy
//! drop the terminating pod while it still serves, and only then does the
//! process hear SIGTERM.

use objects::Pod;
use serde_json::Value;
use std::time::Duration;

/// A container's preStop hook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PreStop {
    /// `lifecycle.preStop.sleep.seconds`.
    Sleep(Duration),
    /// `lifecycle.preStop.exec.command`, run in the container.
    Exec(Vec<String>),
}

/// Each container's preStop hook, in the spec's order. A hook the kubelet
/// cannot run (httpGet, tcpSocket, or malformed) is skipped with its
/// reason, as the kubelet records a FailedPreStopHook event and goes on.
pub fn pre_stop_hooks(pod: &Pod) -> Vec<(String, Result<PreStop, String>)> {
    pod.spec
        .containers
        .iter()
        .filter_map(|container| {
            let hook = container.lifecycle.as_ref()?.get("preStop")?;
            Some((container.name.clone(), parse(hook)))
        })
        .collect()
}

fn parse(hook: &Value) -> Result<PreStop, String> {
    if let Some(sleep) = hook.get("sleep") {
        let seconds = sleep
            .get("seconds")
            .and_then(Value::as_u64)
            .ok_or("preStop.sleep.seconds must be a whole number of seconds")?;
        return Ok(PreStop::Sleep(Duration::from_secs(seconds)));
    }
    if let Some(exec) = hook.get("exec") {
        let command: Option<Vec<String>> =
            exec.get("command").and_then(Value::as_array).map(|words| {
                words
                    .iter()
                    .filter_map(|word| word.as_str().map(str::to_string))
                    .collect()
            });
        return match command {
            Some(command) if !command.is_empty() => Ok(PreStop::Exec(command)),
            _ => Err("preStop.exec.command must be a list of strings".into()),
        };
    }
    Err("only sleep and exec preStop hooks are supported".into())
}

/// What is left of the grace period for SIGTERM once the hooks took
/// `spent`: the kubelet gives a container at least 2 s after its hook.
pub fn grace_after_hooks(grace: Duration, spent: Duration) -> Duration {
    grace
        .saturating_sub(spent)
        .max(Duration::from_secs(2).min(grace))
}
