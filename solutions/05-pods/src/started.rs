//! When a container has really started: its init program has built the
//! container (namespaces, root filesystem, mounts) and started the
//! application. Until then `exec` would land in a half-built container and
//! a probe would knock on a door that is not there yet.

use std::time::Duration;

use tokio::time::Instant;

/// The children of a process, from `/proc/<pid>/task/<pid>/children`.
fn children(pid: u32) -> Option<Vec<u32>> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).ok()?;
    Some(
        text.split_whitespace()
            .filter_map(|n| n.parse().ok())
            .collect(),
    )
}

/// Waits until the init started at `stage_zero` has forked the application
/// (chapter 02: stage zero forks PID 1, which builds the container and then
/// forks the application), or until it is gone, for at most `limit`.
/// Returns whether the application was seen.
pub async fn wait_for_application(stage_zero: u32, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    let mut pause = Duration::from_micros(200);
    while Instant::now() < deadline {
        let Some(first) = children(stage_zero) else {
            return false;
        };
        if let Some(&pid_one) = first.first()
            && children(pid_one).is_some_and(|apps| !apps.is_empty())
        {
            return true;
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(5));
    }
    false
}
