//! Chapter 01's test suite and the helpers its tests share.
//!
//! The tests import the crate under test as `chapter_01::process`: your
//! exercise (`exercises/01-process`) by default, the reference solution
//! (`solutions/01-process`) with `--features solution`.

#[cfg(not(feature = "solution"))]
pub use exercise as process;
#[cfg(feature = "solution")]
pub use solution as process;

use std::future::Future;
use std::path::Path;
use std::time::Duration;

use process::Event;

/// How long one test may take before it is called stuck. Not a performance
/// limit: a guard, so that an unfinished hole fails the test instead of
/// hanging the suite.
pub const TEST_LIMIT: Duration = Duration::from_secs(30);

/// Runs a test body under [`TEST_LIMIT`].
pub async fn guard<T>(body: impl Future<Output = T>) -> T {
    match tokio::time::timeout(TEST_LIMIT, body).await {
        Ok(value) => value,
        Err(_) => panic!(
            "this test did not finish within {TEST_LIMIT:?}: something is waiting forever \
             (a process that is never stopped, or a wait that never ends)"
        ),
    }
}

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
pub async fn wait_for_log(log: &Path, text: &str) {
    loop {
        let content = std::fs::read_to_string(log).unwrap_or_default();
        if content.contains(text) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// A log file made readable and repeatable: each CRI entry as
/// `<stream> <P|F> <content>`, with the timestamp checked and dropped, and
/// stdout entries before stderr entries (the order between the two streams
/// is up to the scheduler; within one stream it is fixed).
pub fn readable_log(content: &str) -> String {
    let mut stdout = Vec::new();
    let mut stderr = Vec::new();
    for entry in content.lines() {
        let (time, rest) = entry
            .split_once(' ')
            .unwrap_or_else(|| panic!("log entry without a space: {entry:?}"));
        assert!(
            is_rfc3339_nanos(time),
            "log entry {entry:?} should start with an RFC 3339 UTC time with nanoseconds, \
             like 2024-05-01T12:00:00.123456789Z"
        );
        let line = shorten(rest);
        match rest.split(' ').next() {
            Some("stdout") => stdout.push(line),
            Some("stderr") => stderr.push(line),
            _ => panic!("log entry {entry:?}: the stream should be stdout or stderr"),
        }
    }
    stdout.extend(stderr);
    stdout.join("\n")
}

/// `2024-05-01T12:00:00.123456789Z`: fixed width, nanoseconds, UTC.
pub fn is_rfc3339_nanos(time: &str) -> bool {
    let bytes = time.as_bytes();
    let digits =
        |range: std::ops::Range<usize>| range.into_iter().all(|i| bytes[i].is_ascii_digit());
    bytes.len() == 30
        && digits(0..4)
        && bytes[4] == b'-'
        && digits(5..7)
        && bytes[7] == b'-'
        && digits(8..10)
        && bytes[10] == b'T'
        && digits(11..13)
        && bytes[13] == b':'
        && digits(14..16)
        && bytes[16] == b':'
        && digits(17..19)
        && bytes[19] == b'.'
        && digits(20..29)
        && bytes[29] == b'Z'
}

/// Long runs of one character are summarised, so that a 16 KiB line does
/// not drown the snapshot.
fn shorten(text: &str) -> String {
    match text.rsplit_once(' ') {
        Some((head, content)) if content.len() > 80 => {
            let first = content.chars().next().unwrap_or(' ');
            if content.chars().all(|c| c == first) {
                format!("{head} <{} x {first:?}>", content.len())
            } else {
                format!("{head} <{} bytes>", content.len())
            }
        }
        _ => text.to_string(),
    }
}

/// Replaces a temporary directory's path, which changes every run.
pub fn redact(text: &str, dir: &Path) -> String {
    text.replace(&dir.display().to_string(), "[tmp]")
}

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
