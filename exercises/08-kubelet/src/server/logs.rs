// Generated from solutions/08-kubelet/src/server/logs.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
//! `GET /containerLogs/{namespace}/{pod}/{container}`: a container's CRI
//! log file read back as `kubectl logs` shows it.

use std::path::PathBuf;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, SecondsFormat, Utc};
use futures::SinkExt;
use futures::channel::mpsc;
use pods::{ContainerState, PodIo};
use tokio::io::AsyncReadExt;

use super::Query;

/// How often a followed log is read again for new lines.
const FOLLOW_EVERY: Duration = Duration::from_millis(100);

/// One entry of a CRI log file: `<time> <stream> <P|F> <content>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub time: DateTime<Utc>,
    /// `stdout` or `stderr`.
    pub stream: String,
    /// A piece of a longer line (`P`) that the next entry continues.
    pub partial: bool,
    pub content: Vec<u8>,
}

/// One line of the container's output, its pieces joined, with the time
/// of its first piece.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    pub time: DateTime<Utc>,
    pub content: Vec<u8>,
}

/// What `kubectl logs` asks for, as query parameters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogOptions {
    pub follow: bool,
    pub previous: bool,
    /// `--tail`: only the last lines.
    pub tail_lines: Option<usize>,
    /// `--timestamps`: each line starts with its time.
    pub timestamps: bool,
    /// `--since` / `--since-time`: only lines written at or after.
    pub since: Option<DateTime<Utc>>,
    /// `--limit-bytes`: at most this much output.
    pub limit_bytes: Option<usize>,
}

impl LogOptions {
    /// Reads the kubelet's query parameters; `now` resolves `sinceSeconds`.
    pub fn from_query(query: &Query, now: DateTime<Utc>) -> Result<LogOptions, String> {
        let number = |key: &str| -> Result<Option<i64>, String> {
            query
                .first(key)
                .map(|value| {
                    value
                        .parse::<i64>()
                        .map_err(|_| format!("{key} must be a whole number, not {value:?}"))
                })
                .transpose()
        };
        let non_negative = |key: &str| -> Result<Option<usize>, String> {
            match number(key)? {
                Some(value) if value < 0 => Err(format!("{key} must not be negative")),
                other => Ok(other.map(|value| value as usize)),
            }
        };
        let mut since = match number("sinceSeconds")? {
            Some(seconds) if seconds < 1 => {
                return Err("sinceSeconds must be greater than 0".into());
            }
            Some(seconds) => Some(now - chrono::Duration::seconds(seconds)),
            None => None,
        };
        if let Some(time) = query.first("sinceTime") {
            let time = DateTime::parse_from_rfc3339(time)
                .map_err(|_| format!("sinceTime is not an RFC 3339 time: {time:?}"))?;
            since = Some(time.with_timezone(&Utc));
        }
        Ok(LogOptions {
            follow: query.flag("follow"),
            previous: query.flag("previous"),
            tail_lines: non_negative("tailLines")?,
            timestamps: query.flag("timestamps"),
            since,
            limit_bytes: non_negative("limitBytes")?,
        })
    }
}

/// Parses one entry of a CRI log file (without its newline); `None` for a
/// line that is not one (a torn write, say).
pub fn parse_entry(line: &[u8]) -> Option<Entry> {
    let mut fields = line.splitn(4, |byte| *byte == b' ');
    let time = std::str::from_utf8(fields.next()?).ok()?;
    let time = DateTime::parse_from_rfc3339(time).ok()?.with_timezone(&Utc);
    let stream = std::str::from_utf8(fields.next()?).ok()?.to_string();
    let partial = match fields.next()? {
        b"P" => true,
        b"F" => false,
        _ => return None,
    };
    Some(Entry {
        time,
        stream,
        partial,
        content: fields.next().unwrap_or_default().to_vec(),
    })
}

/// Joins the pieces of partial lines into whole lines, entry by entry.
#[derive(Debug, Default)]
pub struct Joiner {
    pending: Option<LogLine>,
}

impl Joiner {
    /// Takes the next entry; returns the line it completes, if it does.
    pub fn push(&mut self, entry: Entry) -> Option<LogLine> {
        let line = match self.pending.take() {
            Some(mut line) => {
                line.content.extend_from_slice(&entry.content);
                line
            }
            None => LogLine {
                time: entry.time,
                content: entry.content,
            },
        };
        if entry.partial {
            self.pending = Some(line);
            None
        } else {
            Some(line)
        }
    }
}

/// A time as Go's `time.RFC3339Nano` writes it (the kubelet's
/// `--timestamps` prefix): UTC, `Z`, the fraction without trailing zeros.
pub fn go_rfc3339_nano(time: DateTime<Utc>) -> String {
    let full = time.to_rfc3339_opts(SecondsFormat::Nanos, true);
    let (seconds, fraction) = full
        .trim_end_matches('Z')
        .split_once('.')
        .unwrap_or((&full, ""));
    let fraction = fraction.trim_end_matches('0');
    match fraction {
        "" => format!("{seconds}Z"),
        _ => format!("{seconds}.{fraction}Z"),
    }
}

/// One line as `kubectl logs` prints it: its content and a newline, after
/// its time when `timestamps` is asked for.
pub fn format_line(line: &LogLine, timestamps: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(line.content.len() + 32);
    if timestamps {
        out.extend_from_slice(go_rfc3339_nano(line.time).as_bytes());
        out.push(b' ');
    }
    out.extend_from_slice(&line.content);
    out.push(b'\n');
    out
}

// ANCHOR: render
/// The output of `kubectl logs` for the lines of a log: those written at
/// or after `options.since` (all without one), of these the last
/// `options.tail_lines` (all without it), each as [`format_line`] writes
/// it, with its timestamp when `options.timestamps` is set.
pub fn render(lines: &[LogLine], options: &LogOptions) -> Vec<u8> {
    todo!(
        "exercise 7: the bytes `kubectl logs` prints for these lines: those at or after `since`, the last `tail_lines` of them, each formatted with or without its timestamp"
    )
}
// ANCHOR_END: render

/// Which run of the container a request reads, or the error (status and
/// message, in the kubelet's words) that says why there is none.
fn choose_run(
    pod: &PodIo,
    container: &str,
    previous: bool,
) -> Result<(u32, PathBuf), (StatusCode, String)> {
    let name = pod.name().to_string();
    let status = pod.status();
    let Some(line) = status.container(container) else {
        return Err((
            StatusCode::BAD_REQUEST,
            format!("container {container:?} in pod {name:?} is not valid"),
        ));
    };
    if previous {
        if line.restart_count == 0 {
            return Err((
                StatusCode::BAD_REQUEST,
                format!("previous terminated container {container:?} in pod {name:?} not found"),
            ));
        }
        let run = line.restart_count - 1;
        return Ok((run, pod.log_path(container, run)));
    }
    let run = line.restart_count;
    let path = pod.log_path(container, run);
    if let ContainerState::Waiting { reason, .. } = &line.state
        && !path.exists()
    {
        return Err((
            StatusCode::BAD_REQUEST,
            format!("container {container:?} in pod {name:?} is waiting to start: {reason}"),
        ));
    }
    Ok((run, path))
}

/// Whether run `run` of the container is still the one running (so its
/// log may still grow).
fn still_running(pod: &PodIo, container: &str, run: u32) -> bool {
    pod.status()
        .container(container)
        .is_some_and(|line| line.state.is_running() && line.restart_count == run)
}

/// The log of one container, all at once or followed.
pub async fn serve(pod: PodIo, container: String, options: LogOptions) -> Response {
    let (run, path) = match choose_run(&pod, &container, options.previous) {
        Ok(chosen) => chosen,
        Err((status, message)) => return (status, message).into_response(),
    };
    let (mut sender, receiver) = mpsc::channel::<Result<Bytes, std::io::Error>>(16);
    tokio::spawn(async move {
        if let Err(error) = stream(&pod, &container, run, path, &options, &mut sender).await {
            let _ = sender.send(Err(error)).await;
        }
    });
    (
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        Body::from_stream(receiver),
    )
        .into_response()
}

/// Sends the log's lines, then (following) the new ones until the run
/// ends or the reader goes away.
async fn stream(
    pod: &PodIo,
    container: &str,
    run: u32,
    path: PathBuf,
    options: &LogOptions,
    sender: &mut mpsc::Sender<Result<Bytes, std::io::Error>>,
) -> std::io::Result<()> {
    let mut file = match tokio::fs::File::open(&path).await {
        Ok(file) => Some(file),
        // Started a moment ago: nothing written yet.
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => None,
        Err(error) => return Err(error),
    };
    let mut budget = options.limit_bytes.unwrap_or(usize::MAX);
    let mut joiner = Joiner::default();
    let mut unread = Vec::new();
    let mut first = true;
    loop {
        // Checked before reading: whatever the run wrote before it ended
        // is in the file by then.
        let running = options.follow && still_running(pod, container, run);
        if file.is_none() {
            file = tokio::fs::File::open(&path).await.ok();
        }
        if let Some(file) = &mut file {
            file.read_to_end(&mut unread).await?;
        }
        // Only whole entries: the last one may be half written.
        let whole = unread
            .iter()
            .rposition(|byte| *byte == b'\n')
            .map_or(0, |end| end + 1);
        let lines: Vec<LogLine> = unread[..whole]
            .split(|byte| *byte == b'\n')
            .filter_map(parse_entry)
            .filter_map(|entry| joiner.push(entry))
            .collect();
        unread.drain(..whole);
        let mut out = match first {
            true => render(&lines, options),
            // The tail applies to what was there at first, not to new lines.
            false => render(
                &lines,
                &LogOptions {
                    tail_lines: None,
                    ..options.clone()
                },
            ),
        };
        first = false;
        out.truncate(budget);
        budget -= out.len();
        if !out.is_empty() && sender.send(Ok(Bytes::from(out))).await.is_err() {
            return Ok(());
        }
        if !running || budget == 0 {
            return Ok(());
        }
        tokio::time::sleep(FOLLOW_EVERY).await;
        if sender.is_closed() {
            return Ok(());
        }
    }
}
