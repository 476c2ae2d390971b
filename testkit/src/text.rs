use std::future::Future;
use std::path::Path;
use std::time::Duration;

/// How long one test may take before it is called stuck. Not a performance
/// limit: a guard, so that an unfinished hole fails the test instead of
/// hanging the suite.
pub const TEST_LIMIT: Duration = Duration::from_secs(60);

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

/// A CRI log made readable and repeatable: each entry as
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
    let pattern = b"dddd-dd-ddTdd:dd:dd.dddddddddZ";
    bytes.len() == pattern.len()
        && bytes
            .iter()
            .zip(pattern)
            .all(|(&byte, &expected)| match expected {
                b'd' => byte.is_ascii_digit(),
                other => byte == other,
            })
}

/// Long runs of one character are summarised, so that a 16 KiB line does
/// not drown a snapshot.
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

/// Merges `patch` into `target` as a JSON merge patch does (RFC 7386,
/// without deleting on null): how the suites build fixtures from a base
/// object and the fields one test changes.
pub fn merge_json(target: &mut serde_json::Value, patch: serde_json::Value) {
    use serde_json::Value;
    match (target, patch) {
        (Value::Object(target), Value::Object(patch)) => {
            for (key, value) in patch {
                merge_json(target.entry(key).or_insert(Value::Null), value);
            }
        }
        (target, patch) => *target = patch,
    }
}
