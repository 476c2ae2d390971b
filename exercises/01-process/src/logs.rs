// Generated from solutions/01-process/src/logs.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
use std::fmt;
use std::io::Write;
use std::path::Path;

use chrono::{DateTime, SecondsFormat, Utc};

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, BufReader};

use crate::SpawnError;

/// Lines longer than this are split into partial (`P`) entries, as the
/// kubelet does, so one runaway line cannot take unbounded memory.
pub const MAX_LOG_LINE: usize = 16 * 1024;

/// Which output of the process a log line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stream {
    Stdout,
    Stderr,
}

impl fmt::Display for Stream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
        })
    }
}

// ANCHOR: format_log_line
/// One entry of the CRI log format that the kubelet reads:
/// `<RFC 3339 time, nanoseconds, UTC> <stream> <P|F> <content>\n`.
///
/// `F` marks the end of a line; `P` a piece of a longer line that goes on in
/// the next entry. The content is copied byte for byte, without its newline.
pub fn format_log_line(
    time: DateTime<Utc>,
    stream: Stream,
    partial: bool,
    content: &[u8],
) -> Vec<u8> {
    todo!(
        "exercise 5: one CRI log entry: `<time> <stream> <P|F> <content>` and a newline, as bytes"
    )
}
// ANCHOR_END: format_log_line

/// Opens (creating it and its directory if needed) the log file a process's
/// output is appended to; one file per container, shared by its restarts.
///
/// Synchronous on purpose: creating and opening a local file takes
/// microseconds, while each trip through tokio's blocking pool costs far
/// more on every container start.
pub(crate) fn open_log(path: &Path) -> Result<std::fs::File, SpawnError> {
    let error = |source| SpawnError::Log {
        path: path.to_path_buf(),
        source,
    };
    if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty())
        && let Err(source) = std::fs::create_dir_all(dir)
    {
        return Err(error(explain_dir_error(dir, source)));
    }
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(error)
}

// ANCHOR: copy_lines
/// Copies a process's output into its log, one entry per line, until the
/// process closes the stream.
///
/// Each entry is one `write` to the file, so the log can be read while the
/// process runs, and both streams can append to the same file: `O_APPEND`
/// keeps their entries whole. The write is synchronous on purpose: one small
/// append to a local file takes microseconds, while a trip through tokio's
/// blocking pool per line would cost far more for a chatty process.
pub async fn copy_lines(
    output: impl AsyncRead + Unpin,
    stream: Stream,
    mut log: std::fs::File,
) -> std::io::Result<()> {
    let mut output = BufReader::new(output);
    let mut line = Vec::new();
    loop {
        line.clear();
        let read = (&mut output)
            .take(MAX_LOG_LINE as u64)
            .read_until(b'\n', &mut line)
            .await?;
        if read == 0 {
            return Ok(());
        }
        let complete = line.last() == Some(&b'\n');
        if complete {
            line.pop();
        }
        // A line cut at the limit goes on in the next entry; one that ends
        // without a newline at end of file is still a whole line.
        let partial = !complete && read == MAX_LOG_LINE;
        log.write_all(&format_log_line(Utc::now(), stream, partial, &line))?;
    }
}
// ANCHOR_END: copy_lines

/// `create_dir_all` fails with "File exists" when a file stands where a
/// directory should be; say which file instead.
fn explain_dir_error(dir: &Path, source: std::io::Error) -> std::io::Error {
    let blocker = dir
        .ancestors()
        .find(|ancestor| ancestor.exists())
        .filter(|ancestor| !ancestor.is_dir());
    match blocker {
        Some(file) => std::io::Error::other(format!("{} is not a directory", file.display())),
        None => source,
    }
}
