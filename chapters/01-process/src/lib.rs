//! Chapter 01's test suite and the helpers its tests share.
//!
//! The tests import the crate under test as `chapter_01::process`: your
//! exercise (`exercises/01-process`) by default, the reference solution
//! (`solutions/01-process`) with `--features solution`.

#[cfg(not(feature = "solution"))]
pub use exercise as process;
#[cfg(feature = "solution")]
pub use solution as process;

use std::path::Path;
use std::time::Duration;

pub use testkit::{guard, is_rfc3339_nanos, readable_log, redact};

use process::Event;

/// Renders events one per line, without process ids (they differ per run).
pub fn timeline(events: &[Event]) -> String {
    events
        .iter()
        .map(|event| match event {
            Event::Started { restart_count, .. } => format!("Started (restart {restart_count})"),
            other => other.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The process ids of the `Started` events.
pub fn started_pids(events: &[Event]) -> Vec<u32> {
    events
        .iter()
        .filter_map(|event| match event {
            Event::Started { pid, .. } => Some(*pid),
            _ => None,
        })
        .collect()
}

/// Reads events until supervision finishes, then waits for the supervisor
/// (raising any panic from inside it, such as a `todo!()`).
pub async fn all_events(mut supervisor: process::Supervisor) -> Vec<Event> {
    let mut events = Vec::new();
    while let Some(event) = supervisor.next_event().await {
        events.push(event);
    }
    events.extend(supervisor.wait().await.expect("the supervisor failed"));
    events
}

/// Reads events until `stop_after` returns true for one, and returns them.
pub async fn events_until(
    supervisor: &mut process::Supervisor,
    stop_after: impl Fn(&Event) -> bool,
) -> Vec<Event> {
    let mut events = Vec::new();
    while let Some(event) = supervisor.next_event().await {
        let done = stop_after(&event);
        events.push(event);
        if done {
            return events;
        }
    }
    panic!(
        "supervision ended before the expected event; events so far:\n{}",
        timeline(&events)
    );
}

/// Waits until the log file holds `text` (the process got that far).
///
/// Gives up after [`LOG_WAIT`]: a process that printed its line long ago
/// but whose log stays empty means the log copying is broken.
pub async fn wait_for_log(log: &Path, text: &str) {
    let deadline = tokio::time::Instant::now() + LOG_WAIT;
    loop {
        let content = std::fs::read_to_string(log).unwrap_or_default();
        if content.contains(text) {
            return;
        }
        if tokio::time::Instant::now() > deadline {
            panic!(
                "the log {} never showed {text:?} (it holds {content:?}): are the process's \
                 lines written to the log (format_log_line, copy_lines)?",
                log.display()
            );
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// How long [`wait_for_log`] waits. Not a performance limit: the lines
/// waited for are printed within milliseconds.
pub const LOG_WAIT: Duration = Duration::from_secs(10);

/// True when no process with this id exists any more: not running, and not
/// a zombie either (signal 0 succeeds on a zombie).
pub fn is_gone(pid: u32) -> bool {
    use nix::sys::signal::kill;
    use nix::unistd::Pid;
    kill(Pid::from_raw(pid as i32), None) == Err(nix::errno::Errno::ESRCH)
}

/// Back-off figures small enough for tests, and deterministic: a reset
/// never happens within a test.
pub fn fast_backoff() -> process::Backoff {
    process::Backoff {
        initial: Duration::from_millis(1),
        max: Duration::from_millis(4),
        reset_after: Duration::from_secs(3600),
    }
}
