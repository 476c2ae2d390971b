use std::path::Path;
use std::time::Duration;

use process::{Event, Supervisor};

/// How long [`wait_for_log`] waits for its line. Not a performance limit:
/// the lines waited for come within milliseconds when all is well.
pub const LOG_WAIT: Duration = Duration::from_secs(10);

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

/// Reads events until supervision finishes.
pub async fn all_events(mut supervisor: Supervisor) -> Vec<Event> {
    let mut events = Vec::new();
    while let Some(event) = supervisor.next_event().await {
        events.push(event);
    }
    events.extend(supervisor.wait().await.expect("the supervisor failed"));
    events
}

/// Waits until the log file holds `text`, or supervision has finished
/// (then the test's snapshot shows what happened instead). Returns the
/// events read meanwhile.
///
/// Gives up after [`LOG_WAIT`] (a process that restarts forever without
/// printing the line would otherwise hold the test until its guard fires).
pub async fn wait_for_log(supervisor: &mut Supervisor, log: &Path, text: &str) -> Vec<Event> {
    let mut events = Vec::new();
    let deadline = tokio::time::Instant::now() + LOG_WAIT;
    loop {
        let found = std::fs::read_to_string(log)
            .unwrap_or_default()
            .contains(text);
        if found || tokio::time::Instant::now() > deadline {
            return events;
        }
        tokio::select! {
            event = supervisor.next_event() => match event {
                Some(event) => events.push(event),
                None => return events,
            },
            () = tokio::time::sleep(Duration::from_millis(5)) => {}
        }
    }
}

/// Events and a (readable) log as one text, indented under headings.
pub fn report(events: &[Event], log: &str) -> String {
    let log = if log.is_empty() { "(empty)" } else { log };
    format!(
        "events:\n{}\nlog:\n{}",
        indent(&timeline(events)),
        indent(log)
    )
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|line| format!("  {line}\n"))
        .collect::<String>()
        .trim_end()
        .to_string()
}
