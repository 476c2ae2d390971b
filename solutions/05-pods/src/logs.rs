//! A container's log, read back: the kubelet's "fallback to logs on error"
//! termination message comes from its last lines.

use std::path::Path;

/// The most a termination message holds, as in Kubernetes.
const MESSAGE_LINES: usize = 80;
const MESSAGE_BYTES: usize = 2048;

/// The text of a CRI log (`<time> <stream> <P|F> <text>` per line), with
/// partial lines joined.
pub fn text(log: &str) -> String {
    let mut text = String::new();
    for line in log.lines() {
        let mut fields = line.splitn(4, ' ');
        let (Some(_time), Some(_stream), Some(tag)) = (fields.next(), fields.next(), fields.next())
        else {
            continue;
        };
        text.push_str(fields.next().unwrap_or(""));
        if tag == "F" {
            text.push('\n');
        }
    }
    text
}

/// The last lines of the log at `path`, for the termination message of a
/// container that failed.
pub fn tail(path: &Path) -> String {
    let log = std::fs::read_to_string(path).unwrap_or_default();
    let text = text(&log);
    let lines: Vec<&str> = text.lines().collect();
    let mut tail = lines[lines.len().saturating_sub(MESSAGE_LINES)..].join("\n");
    if tail.len() > MESSAGE_BYTES {
        let mut start = tail.len() - MESSAGE_BYTES;
        while !tail.is_char_boundary(start) {
            start += 1;
        }
        tail = tail[start..].to_string();
    }
    tail
}
