// Generated from solutions/07-apiserver/tests/client_fake/mod.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
//! A fake API server for the client's tests, on raw TCP so that a test
//! decides exactly how the bytes go out: in which chunks, with which
//! pauses, and whether the connection ends cleanly or breaks.
//!
//! Every response says `Connection: close`, so each request has its own
//! connection and a broken one never affects the next.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio::task::{JoinHandle, JoinSet};

/// A request as the fake server received it.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// Path and query, as sent.
    pub target: String,
    /// Header names in lower case.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Request {
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("")
    }

    /// A query parameter, decoded.
    pub fn query(&self, key: &str) -> Option<String> {
        let url = reqwest::Url::parse(&format!("http://fake{}", self.target)).unwrap();
        url.query_pairs()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.into_owned())
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap()
    }

    /// `GET /api/v1/pods?watch=1`: method and target, decoded for reading.
    pub fn line(&self) -> String {
        let url = reqwest::Url::parse(&format!("http://fake{}", self.target)).unwrap();
        let query: Vec<String> = url.query_pairs().map(|(k, v)| format!("{k}={v}")).collect();
        if query.is_empty() {
            format!("{} {}", self.method, url.path())
        } else {
            format!("{} {}?{}", self.method, url.path(), query.join("&"))
        }
    }
}

/// What the fake server answers.
pub enum Reply {
    Json(u16, Value),
    Text(u16, String),
    /// A chunked 200 whose steps are written one by one.
    Stream(Vec<Step>),
    /// Waits for the notification, then answers.
    After(Arc<Notify>, Box<Reply>),
}

pub enum Step {
    /// One HTTP chunk, flushed on its own.
    Chunk(String),
    Pause(Duration),
    /// Closes the connection without ending the body: a broken network.
    Break,
    /// Keeps the response open until the client closes the connection.
    Hold,
}

/// One watch event line.
pub fn event(event_type: &str, object: Value) -> String {
    format!("{}\n", json!({"type": event_type, "object": object}))
}

pub fn bookmark(version: &str) -> String {
    event(
        "BOOKMARK",
        json!({"kind": "Pod", "apiVersion": "v1", "metadata": {"resourceVersion": version}}),
    )
}

pub fn expired() -> String {
    event(
        "ERROR",
        status(410, "Expired", "too old resource version: 3 (40)"),
    )
}

pub fn status(code: u16, reason: &str, message: &str) -> Value {
    json!({
        "kind": "Status", "apiVersion": "v1", "metadata": {},
        "status": "Failure", "message": message, "reason": reason, "code": code
    })
}

pub fn pod(name: &str, version: &str) -> Value {
    json!({
        "kind": "Pod", "apiVersion": "v1",
        "metadata": {"name": name, "namespace": "default", "resourceVersion": version,
                     "labels": {"app": if name == "d" { "db" } else { "web" }}},
        "spec": {"containers": [{"name": "main", "image": "k8s-mini/echo"}]}
    })
}

pub fn pod_list(version: &str, items: Vec<Value>) -> Value {
    json!({"kind": "PodList", "apiVersion": "v1", "metadata": {"resourceVersion": version}, "items": items})
}

type Handler = Arc<dyn Fn(&Request) -> Reply + Send + Sync>;

pub struct FakeServer {
    pub addr: SocketAddr,
    requests: Arc<Mutex<Vec<Request>>>,
    held: Arc<AtomicUsize>,
    task: JoinHandle<()>,
}

impl FakeServer {
    /// Listens on a free loopback port and answers with `handler`.
    pub async fn start(handler: impl Fn(&Request) -> Reply + Send + Sync + 'static) -> FakeServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let held = Arc::new(AtomicUsize::new(0));
        let handler: Handler = Arc::new(handler);
        let task = tokio::spawn({
            let requests = Arc::clone(&requests);
            let held = Arc::clone(&held);
            async move {
                // Owned here, so that aborting this task ends every connection.
                let mut connections = JoinSet::new();
                loop {
                    let (socket, _) = listener.accept().await.unwrap();
                    let handler = Arc::clone(&handler);
                    let requests = Arc::clone(&requests);
                    let held = Arc::clone(&held);
                    connections.spawn(serve(socket, handler, requests, held));
                    while connections.try_join_next().is_some() {}
                }
            }
        });
        FakeServer {
            addr,
            requests,
            held,
            task,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }

    /// The requests so far, as `METHOD path?query` lines.
    pub fn lines(&self) -> Vec<String> {
        self.requests().iter().map(Request::line).collect()
    }

    /// How many responses are held open (see [`Step::Hold`]) with their
    /// client still connected.
    pub fn held(&self) -> usize {
        self.held.load(Ordering::SeqCst)
    }

    /// Waits until `condition` holds, failing the test after 10 s (a
    /// guard against hanging, not a measurement).
    pub async fn wait_until(&self, what: &str, condition: impl Fn(&FakeServer) -> bool) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while !condition(self) {
            assert!(
                tokio::time::Instant::now() < deadline,
                "gave up waiting until {what}; requests: {:#?}",
                self.lines()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(
    socket: TcpStream,
    handler: Handler,
    requests: Arc<Mutex<Vec<Request>>>,
    held: Arc<AtomicUsize>,
) {
    let mut socket = BufReader::new(socket);
    let Some(request) = read_request(&mut socket).await else {
        return;
    };
    requests.lock().unwrap().push(request.clone());
    let mut reply = handler(&request);
    while let Reply::After(notify, inner) = reply {
        notify.notified().await;
        reply = *inner;
    }
    let (code, content_type, body) = match reply {
        Reply::Json(code, value) => (code, "application/json", value.to_string()),
        Reply::Text(code, text) => (code, "text/plain", text),
        Reply::Stream(steps) => return stream(socket, steps, held).await,
        Reply::After(..) => unreachable!(),
    };
    let head = format!(
        "HTTP/1.1 {code} {}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        reason(code),
        body.len()
    );
    let socket = socket.get_mut();
    let _ = socket.write_all(head.as_bytes()).await;
    let _ = socket.write_all(body.as_bytes()).await;
    let _ = socket.shutdown().await;
}

async fn stream(mut socket: BufReader<TcpStream>, steps: Vec<Step>, held: Arc<AtomicUsize>) {
    let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
    let writer = socket.get_mut();
    if writer.write_all(head.as_bytes()).await.is_err() {
        return;
    }
    let _ = writer.flush().await;
    for step in steps {
        match step {
            Step::Chunk(data) => {
                let chunk = format!("{:x}\r\n{data}\r\n", data.len());
                if writer.write_all(chunk.as_bytes()).await.is_err() {
                    return;
                }
                let _ = writer.flush().await;
            }
            Step::Pause(duration) => tokio::time::sleep(duration).await,
            Step::Break => return,
            Step::Hold => {
                held.fetch_add(1, Ordering::SeqCst);
                let mut buffer = [0u8; 64];
                // Until the client closes (0) or resets (Err).
                while let Ok(n) = socket.read(&mut buffer).await {
                    if n == 0 {
                        break;
                    }
                }
                held.fetch_sub(1, Ordering::SeqCst);
                return;
            }
        }
    }
    let _ = writer.write_all(b"0\r\n\r\n").await;
    let _ = writer.shutdown().await;
}

async fn read_request(socket: &mut BufReader<TcpStream>) -> Option<Request> {
    let mut line = String::new();
    socket.read_line(&mut line).await.ok()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let target = parts.next()?.to_string();
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        socket.read_line(&mut line).await.ok()?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':')?;
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
    }
    let length: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    socket.read_exact(&mut body).await.ok()?;
    Some(Request {
        method,
        target,
        headers,
        body: String::from_utf8(body).ok()?,
    })
}

fn reason(code: u16) -> &'static str {
    match code {
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        404 => "Not Found",
        409 => "Conflict",
        410 => "Gone",
        422 => "Unprocessable Entity",
        503 => "Service Unavailable",
        _ => "Whatever",
    }
}
