// Generated from solutions/07-apiserver/src/client/watch.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
//! Watch streams: newline-delimited JSON events over one long chunked
//! response, and a watch that resumes after its connection ends.
//!
//! The body of a watch is a sequence of lines, one event each:
//!
//! ```text
//! {"type":"ADDED","object":{"kind":"Pod",...,"metadata":{"resourceVersion":"12",...}}}
//! {"type":"BOOKMARK","object":{"kind":"Pod","apiVersion":"v1","metadata":{"resourceVersion":"15"}}}
//! {"type":"ERROR","object":{"kind":"Status","code":410,"reason":"Expired",...}}
//! ```
//!
//! HTTP chunks and lines are unrelated: a chunk may hold half an event or
//! several, so the decoder buffers bytes until a newline.

use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::stream::{self, BoxStream, Stream, StreamExt};
use objects::{Resource, Status, WatchEvent, WatchEventType};
use serde::Deserialize;
use serde_json::Value;

use super::api::Api;
use super::error::{shorten, status_from_answer};
use super::{ClientError, ListParams};

/// The events of one watch request, in order. ERROR events arrive as
/// `Err(ClientError::Api(status))`; the stream ends with the response.
pub type WatchStream<K> = BoxStream<'static, Result<WatchEvent<K>, ClientError>>;

/// Splits a byte stream into lines.
#[derive(Debug, Default)]
pub struct LineBuffer {
    buffer: Vec<u8>,
}

impl LineBuffer {
    /// Adds `chunk` and returns the lines it completes, without their
    /// newline; blank lines (keep-alives) are skipped.
    pub fn push(&mut self, chunk: &[u8]) -> Vec<Vec<u8>> {
        let mut lines = Vec::new();
        let mut searched = self.buffer.len();
        self.buffer.extend_from_slice(chunk);
        while let Some(offset) = self.buffer[searched..].iter().position(|b| *b == b'\n') {
            let end = searched + offset;
            let line: Vec<u8> = self.buffer.drain(..=end).take(end).collect();
            if !line.trim_ascii().is_empty() {
                lines.push(line);
            }
            searched = 0;
        }
        lines
    }

    /// What is left after the last newline, if anything but blanks.
    pub fn finish(&mut self) -> Option<Vec<u8>> {
        let rest = std::mem::take(&mut self.buffer);
        (!rest.trim_ascii().is_empty()).then_some(rest)
    }
}

#[derive(Deserialize)]
struct RawEvent {
    #[serde(rename = "type")]
    event_type: WatchEventType,
    object: Value,
}

/// One line of a watch, typed. A BOOKMARK carries only a resourceVersion,
/// so it becomes an empty object of the kind with that version.
pub fn decode_event<K: Resource>(line: &[u8]) -> Result<WatchEvent<K>, ClientError> {
    let raw: RawEvent = serde_json::from_slice(line).map_err(|error| ClientError::Decode {
        error,
        body: shorten(&String::from_utf8_lossy(line)),
    })?;
    let object = match raw.event_type {
        WatchEventType::Error => {
            let body = serde_json::to_vec(&raw.object).expect("JSON values serialize");
            let status: Status = status_from_answer(500, &body);
            return Err(status.into());
        }
        WatchEventType::Bookmark => {
            let version = raw.object["metadata"]["resourceVersion"]
                .as_str()
                .unwrap_or("");
            let mut object = K::default();
            object.set_type_meta();
            object.metadata_mut().resource_version = Some(version.to_string());
            object
        }
        _ => serde_json::from_value(raw.object).map_err(|error| ClientError::Decode {
            error,
            body: shorten(&String::from_utf8_lossy(line)),
        })?,
    };
    Ok(WatchEvent {
        event_type: raw.event_type,
        object,
    })
}

struct Decoding<K> {
    body: BoxStream<'static, reqwest::Result<bytes::Bytes>>,
    lines: LineBuffer,
    ready: VecDeque<Result<WatchEvent<K>, ClientError>>,
    ended: bool,
}

/// The events of a watch response.
pub(crate) fn decode_stream<K: Resource>(response: reqwest::Response) -> WatchStream<K> {
    let state = Decoding {
        body: response.bytes_stream().boxed(),
        lines: LineBuffer::default(),
        ready: VecDeque::new(),
        ended: false,
    };
    stream::unfold(state, |mut state| async move {
        loop {
            if let Some(item) = state.ready.pop_front() {
                return Some((item, state));
            }
            if state.ended {
                return None;
            }
            match state.body.next().await {
                Some(Ok(chunk)) => {
                    for line in state.lines.push(&chunk) {
                        state.ready.push_back(decode_event(&line));
                    }
                }
                Some(Err(error)) => {
                    state.ended = true;
                    state.ready.push_back(Err(error.into()));
                }
                None => {
                    state.ended = true;
                    if let Some(rest) = state.lines.finish() {
                        let item = match decode_event(&rest) {
                            Err(ClientError::Decode { .. }) => Err(ClientError::TruncatedWatch),
                            other => other,
                        };
                        state.ready.push_back(item);
                    }
                }
            }
        }
    })
    .boxed()
}

/// Where a resuming watch stands: the last version it saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Position {
    pub resource_version: String,
}

/// What a resuming watch does after an item of its stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Keep reading this connection.
    Continue,
    /// Drop this connection and watch again from [`Position`], after a pause.
    Reconnect,
    /// The history is gone (410): the caller must list again. The watch ends.
    Stop,
}

impl Position {
    // ANCHOR: observe
    /// Takes note of `item` and says what to do next. Every event moves
    /// the position to its object's resourceVersion, a BOOKMARK too
    /// (that is what bookmarks are for: a quiet watch still moves on, so
    /// a resume does not ask for history the server has dropped).
    pub fn observe<K: Resource>(&mut self, item: &Result<WatchEvent<K>, ClientError>) -> Next {
        todo!(
            "exercise 5: take note of one item of the watch stream and say what to do next: continue, reconnect or stop"
        )
    }
    // ANCHOR_END: observe
}

/// Pauses between reconnections: doubling from a quarter second up to
/// 30 s, back to the start once events flow again, so that a server that
/// is down is not hammered and one that is back is found quickly.
#[derive(Debug, Clone)]
pub(crate) struct Backoff {
    next: Duration,
}

impl Backoff {
    const FIRST: Duration = Duration::from_millis(250);
    const MAX: Duration = Duration::from_secs(30);

    pub(crate) fn new() -> Backoff {
        Backoff { next: Self::FIRST }
    }

    pub(crate) fn next_delay(&mut self) -> Duration {
        let delay = self.next;
        self.next = (self.next * 2).min(Self::MAX);
        delay
    }

    pub(crate) fn reset(&mut self) {
        self.next = Self::FIRST;
    }
}

/// A connection that ends sooner than this without an event is suspect
/// (a server refusing watches politely); a quiet watch that reached its
/// `timeoutSeconds` is not.
const QUICK_END: Duration = Duration::from_secs(1);

struct Resuming<K> {
    api: Api<K>,
    params: ListParams,
    position: Position,
    current: Option<WatchStream<K>>,
    backoff: Backoff,
    pause: Option<Duration>,
    /// Whether the current connection delivered anything, and when it
    /// opened: a watch the server ends at once without a word, again and
    /// again, is paused like an error.
    delivered: bool,
    opened: tokio::time::Instant,
    stopped: bool,
}

/// A watch that outlives its connections, as client-go's reflector
/// watches: when a connection ends (the server's `timeoutSeconds`, a
/// restart, a broken network) it watches again from the last
/// resourceVersion it saw, so no event is lost or repeated.
///
/// Errors are passed on as items, and the watch goes on after them (with
/// a growing pause), except a 410 Expired: the versions it would resume
/// from are gone, so it yields that error and ends, and the caller lists
/// again and starts a new watch from the list's version.
pub struct ResumingWatch<K> {
    inner: BoxStream<'static, Result<WatchEvent<K>, ClientError>>,
}

impl<K: Resource> ResumingWatch<K> {
    pub(crate) fn new(api: Api<K>, params: ListParams, resource_version: &str) -> ResumingWatch<K> {
        let state = Resuming {
            api,
            params,
            position: Position {
                resource_version: resource_version.to_string(),
            },
            current: None,
            backoff: Backoff::new(),
            pause: None,
            delivered: false,
            opened: tokio::time::Instant::now(),
            stopped: false,
        };
        ResumingWatch {
            inner: stream::unfold(state, next_item).boxed(),
        }
    }
}

async fn next_item<K: Resource>(
    mut state: Resuming<K>,
) -> Option<(Result<WatchEvent<K>, ClientError>, Resuming<K>)> {
    loop {
        if state.stopped {
            return None;
        }
        let Some(current) = state.current.as_mut() else {
            if let Some(pause) = state.pause.take() {
                tokio::time::sleep(pause).await;
            }
            match state
                .api
                .watch(&state.params, &state.position.resource_version)
                .await
            {
                Ok(stream) => {
                    state.current = Some(stream);
                    state.delivered = false;
                    state.opened = tokio::time::Instant::now();
                }
                Err(error) => {
                    let item = Err(error);
                    state.after(&item);
                    return Some((item, state));
                }
            }
            continue;
        };
        match current.next().await {
            Some(item) => {
                state.delivered = true;
                state.after(&item);
                return Some((item, state));
            }
            None => {
                // The server ended the watch: resume at once, unless it
                // ended at once without a word (then pause, as after an error).
                state.current = None;
                if !state.delivered && state.opened.elapsed() < QUICK_END {
                    state.pause = Some(state.backoff.next_delay());
                }
            }
        }
    }
}

impl<K: Resource> Resuming<K> {
    fn after(&mut self, item: &Result<WatchEvent<K>, ClientError>) {
        match self.position.observe(item) {
            Next::Continue => self.backoff.reset(),
            Next::Reconnect => {
                self.current = None;
                self.pause = Some(self.backoff.next_delay());
            }
            Next::Stop => {
                self.current = None;
                self.stopped = true;
            }
        }
    }
}

impl<K> Stream for ResumingWatch<K> {
    type Item = Result<WatchEvent<K>, ClientError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.poll_next_unpin(cx)
    }
}
