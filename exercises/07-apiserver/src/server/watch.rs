// Generated from solutions/07-apiserver/src/server/watch.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
//! `?watch=1`: a stream of changes, one JSON event per line, over a chunked
//! response that stays open.

use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures::FutureExt;
use objects::Time;
use objects::resource::{Object, ResourceInfo};
use objects::table::{IncludeObject, to_table};
use tokio::sync::mpsc;

use super::Server;
use super::errors::{ApiError, ApiResult};
use super::handlers::Filter;
use super::objects::{from_entry, with_resource_version};
use super::paths::prefix;
use super::request::Call;
use crate::store::{Change, ChangeKind, Entry, Revision, StoreError, Watcher};

/// How long a watch lasts when the client does not say (Kubernetes picks
/// 30 to 60 minutes).
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30 * 60);
/// Events waiting for a slow connection before the watch is ended.
const SEND_BUFFER: usize = 64;

struct Session {
    info: &'static ResourceInfo,
    filter: Filter,
    table: Option<IncludeObject>,
    bookmarks: bool,
    bookmark_every: Duration,
}

pub async fn serve(server: &Server, call: Call) -> ApiResult<Response> {
    let info = call.target.info;
    let filter = Filter::from_query(info, &call.query)?;
    let timeout = call
        .query
        .number("timeoutSeconds")?
        .map_or(DEFAULT_TIMEOUT, |seconds| {
            Duration::from_secs(seconds.max(0) as u64)
        });
    let bookmarks = call.query.flag("allowWatchBookmarks")?;
    let prefix = prefix(info, call.target.namespace.as_deref());
    let (sender, receiver) = mpsc::channel::<Bytes>(SEND_BUFFER);
    let mut session = Session {
        info,
        filter,
        table: call
            .wants_table
            .then(|| IncludeObject::parse(call.query.get("includeObject"))),
        bookmarks,
        bookmark_every: server.bookmark_every,
    };
    // The starting point: after a given resourceVersion, or (none, or "0")
    // the current state as ADDED events and then what comes after it.
    let start = match call.query.resource_version()? {
        Some(revision) if revision > 0 => Start::After(revision),
        _ => Start::Now,
    };
    let (watcher, initial) = match start {
        Start::After(revision) => match server.store.watch(&prefix, revision) {
            Ok(watcher) => (Some(watcher), Vec::new()),
            Err(StoreError::Expired { requested, oldest }) => {
                let status = objects::Status::expired(format!(
                    "too old resource version: {requested} ({oldest})"
                ));
                let line = event_line(
                    "ERROR",
                    &serde_json::to_vec(&status).expect("statuses serialize"),
                );
                let _ = sender.try_send(line);
                (None, Vec::new())
            }
            Err(error) => return Err(ApiError::from_store(error, info, "")),
        },
        Start::Now => {
            let (entries, revision) = server.store.list(&prefix);
            let watcher = server
                .store
                .watch(&prefix, revision)
                .map_err(|error| ApiError::from_store(error, info, ""))?;
            (Some(watcher), entries)
        }
    };
    if let Some(watcher) = watcher {
        let store = server.store.clone();
        let stopping = server.stopping.clone();
        tokio::spawn(async move {
            let work = async {
                for (key, entry) in initial {
                    let change = Change {
                        kind: ChangeKind::Created,
                        key,
                        entry,
                        prev: None,
                    };
                    if let Some(line) = session.line(&change)
                        && sender.send(line).await.is_err()
                    {
                        return;
                    }
                }
                forward(&mut session, watcher, &store, &sender, stopping).await;
            };
            let _ = tokio::time::timeout(timeout, work).await;
        });
    }
    let stream = tokio_stream(receiver);
    let mut response = (StatusCode::OK, Body::from_stream(stream)).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Ok(response)
}

enum Start {
    After(Revision),
    Now,
}

/// Moves changes from the store to the connection until the client goes,
/// the server stops, or the watcher is dropped for lagging behind.
async fn forward(
    session: &mut Session,
    mut watcher: Watcher,
    store: &crate::store::Store,
    sender: &mpsc::Sender<Bytes>,
    mut stopping: tokio::sync::watch::Receiver<bool>,
) {
    let mut bookmark = tokio::time::interval(session.bookmark_every);
    bookmark.tick().await;
    loop {
        tokio::select! {
            change = watcher.next() => {
                let Some(change) = change else { return };
                if let Some(line) = session.line(&change)
                    && sender.send(line).await.is_err()
                {
                    return;
                }
            }
            _ = bookmark.tick(), if session.bookmarks => {
                // Everything up to this revision has reached us if nothing
                // is waiting in the watcher now.
                let revision = store.revision();
                match watcher.next().now_or_never() {
                    None => {
                        if sender.send(bookmark_line(session.info, revision)).await.is_err() {
                            return;
                        }
                    }
                    Some(None) => return,
                    Some(Some(change)) => {
                        if let Some(line) = session.line(&change)
                            && sender.send(line).await.is_err()
                        {
                            return;
                        }
                    }
                }
            }
            _ = stopped(&mut stopping) => return,
            _ = sender.closed() => return,
        }
    }
}

impl Session {
    // ANCHOR: line
    /// The event line for a change, as this client sees it through its
    /// selectors, from whether the object matched before the change and
    /// whether it matches after: an object that starts matching is ADDED,
    /// one that stops is DELETED, one that matches throughout is MODIFIED,
    /// and a change the client cannot see is no event at all.
    fn line(&self, change: &Change) -> Option<Bytes> {
        todo!(
            "exercise 8: the event line that this watcher sees for `change`, through its selectors, or None when it sees nothing"
        )
    }
    // ANCHOR_END: line

    fn body(&self, entry: &Entry) -> Vec<u8> {
        match self.table {
            None => with_resource_version(&entry.value, entry.mod_revision),
            Some(include) => {
                let object: Object = from_entry(self.info, entry);
                let mut table = to_table(self.info, &[object], Time::now(), include);
                table.metadata.resource_version = Some(entry.mod_revision.to_string());
                serde_json::to_vec(&table).expect("tables serialize")
            }
        }
    }
}

/// Resolves once the server is stopping.
pub async fn stopped(stopping: &mut tokio::sync::watch::Receiver<bool>) {
    let _ = stopping.wait_for(|stop| *stop).await;
}

fn event_line(kind: &str, object: &[u8]) -> Bytes {
    let mut line = Vec::with_capacity(object.len() + 32);
    line.extend_from_slice(b"{\"type\":\"");
    line.extend_from_slice(kind.as_bytes());
    line.extend_from_slice(b"\",\"object\":");
    line.extend_from_slice(object);
    line.extend_from_slice(b"}\n");
    Bytes::from(line)
}

/// A BOOKMARK carries only the kind and the resourceVersion.
fn bookmark_line(info: &ResourceInfo, revision: Revision) -> Bytes {
    let object = serde_json::json!({
        "kind": info.kind,
        "apiVersion": info.api_version(),
        "metadata": {"resourceVersion": revision.to_string()},
    });
    event_line(
        "BOOKMARK",
        &serde_json::to_vec(&object).expect("bookmarks serialize"),
    )
}

fn tokio_stream(
    mut receiver: mpsc::Receiver<Bytes>,
) -> impl futures::Stream<Item = Result<Bytes, std::io::Error>> {
    futures::stream::poll_fn(move |context| receiver.poll_recv(context).map(|next| next.map(Ok)))
}
