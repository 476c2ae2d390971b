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

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(lifecycle: Value) -> Pod {
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": "p"},
            "spec": {"containers": [
                {"name": "a", "image": "busybox", "lifecycle": lifecycle},
                {"name": "b", "image": "busybox"}
            ]}
        }))
        .unwrap()
    }

    #[test]
    fn hooks_are_read_per_container() {
        let hooks = pre_stop_hooks(&pod(
            serde_json::json!({"preStop": {"sleep": {"seconds": 3}}}),
        ));
        assert_eq!(
            hooks,
            vec![("a".to_string(), Ok(PreStop::Sleep(Duration::from_secs(3))))]
        );
        let hooks = pre_stop_hooks(&pod(
            serde_json::json!({"preStop": {"exec": {"command": ["sh", "-c", "sleep 1"]}}}),
        ));
        assert_eq!(
            hooks[0].1,
            Ok(PreStop::Exec(vec![
                "sh".into(),
                "-c".into(),
                "sleep 1".into()
            ]))
        );
        let hooks = pre_stop_hooks(&pod(
            serde_json::json!({"preStop": {"httpGet": {"port": 80}}}),
        ));
        assert!(hooks[0].1.is_err());
        assert!(pre_stop_hooks(&pod(serde_json::json!({"postStart": {}}))).is_empty());
    }

    #[test]
    fn sigterm_keeps_at_least_two_seconds_of_the_grace() {
        let s = Duration::from_secs;
        assert_eq!(grace_after_hooks(s(30), s(5)), s(25));
        assert_eq!(grace_after_hooks(s(30), s(40)), s(2));
        assert_eq!(grace_after_hooks(s(1), s(5)), s(1));
        assert_eq!(grace_after_hooks(s(0), s(0)), s(0));
    }
}
