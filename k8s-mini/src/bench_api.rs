//! `k8s-mini bench api`: the API server under load (chapter 07's figures).
//!
//! The server runs as its own process (`k8s-mini apiserver`) on loopback,
//! with its store on disk; this process is the load generator. Side by
//! side, in the same run, the floors they are measured against: an HTTP
//! server that answers a fixed body from memory (what loopback HTTP costs
//! here at all), and a bare append + fdatasync loop (what one durable
//! write costs here).

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures::StreamExt;
use serde_json::json;
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::bench::percentile;

/// How long each measurement runs.
const RUN: Duration = Duration::from_secs(3);

pub async fn run(watchers: usize) -> anyhow::Result<i32> {
    let work = tempfile::Builder::new()
        .prefix("k8s-mini-bench-api-")
        .tempdir()?;
    let (mut server, url) = start_server(work.path()).await?;
    let floor = start_floor().await?;
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .build()?;
    // Reads in one namespace (100 pods, always the same), writes in
    // another, the fan-out in a third: each measurement sees the same data.
    for namespace in ["bench-read", "bench-write", "bench-watch"] {
        let body =
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}});
        ok(http
            .post(format!("{url}/api/v1/namespaces"))
            .json(&body)
            .send()
            .await?)
        .await?;
    }
    let pods = format!("{url}/api/v1/namespaces/bench-read/pods");
    let writes = format!("{url}/api/v1/namespaces/bench-write/pods");
    for n in 0..100 {
        create(&http, &pods, &format!("seed-{n}")).await?;
    }
    println!(
        "{:<44} {:>10} {:>8} {:>8} {:>8}",
        "REQUESTS (loopback, store on disk)", "PER SEC", "P50", "P99", "VS FLOOR"
    );
    let floor_url = format!("http://{floor}/");
    for clients in [1, 100] {
        let url = floor_url.clone();
        let reference = load(&http, clients, move |http, _| {
            let url = url.clone();
            async move { ok(http.get(url).send().await?).await }
        })
        .await?;
        report(
            &format!("HTTP floor (fixed body), {clients} client(s)"),
            &reference,
            None,
        );
        let base = pods.clone();
        let gets = load(&http, clients, move |http, n| {
            let url = format!("{base}/seed-{}", n % 100);
            async move { ok(http.get(url).send().await?).await }
        })
        .await?;
        report(
            &format!("GET a pod, {clients} client(s)"),
            &gets,
            Some(&reference),
        );
        let base = pods.clone();
        let lists = load(&http, clients, move |http, _| {
            let url = base.clone();
            async move { ok(http.get(url).send().await?).await }
        })
        .await?;
        report(
            &format!("LIST 100 pods, {clients} client(s)"),
            &lists,
            Some(&reference),
        );
        let base = writes.clone();
        let creates = load(&http, clients, move |http, n| {
            let url = base.clone();
            let name = format!("c{clients}-{n}");
            async move { create(&http, &url, &name).await }
        })
        .await?;
        report(
            &format!("CREATE a pod (durable), {clients} client(s)"),
            &creates,
            None,
        );
        let base = pods.clone();
        let updates = load(&http, clients, move |http, n| {
            let url = format!("{base}/seed-{}", n % 100);
            async move {
                let patch = json!({"metadata": {"labels": {"n": n.to_string()}}});
                ok(http
                    .patch(url)
                    .header("Content-Type", "application/merge-patch+json")
                    .body(patch.to_string())
                    .send()
                    .await?)
                .await
            }
        })
        .await?;
        report(
            &format!("PATCH a pod (durable), {clients} client(s)"),
            &updates,
            None,
        );
    }
    let fsyncs = fsync_floor(work.path())?;
    println!(
        "{:<44} {:>10.0} {:>7.2}ms",
        "fdatasync floor (append 200 B, sync)",
        fsyncs.0,
        fsyncs.1.as_secs_f64() * 1000.0
    );
    fan_out(&http, &url, watchers).await?;
    let _ = server.kill().await;
    Ok(0)
}

/// What a measurement found.
struct Figures {
    per_second: f64,
    p50: Duration,
    p99: Duration,
}

fn report(name: &str, figures: &Figures, floor: Option<&Figures>) {
    let ratio = floor
        .map(|floor| format!("{:.2}x", figures.per_second / floor.per_second))
        .unwrap_or_default();
    println!(
        "{name:<44} {:>10.0} {:>6.2}ms {:>6.2}ms {ratio:>8}",
        figures.per_second,
        figures.p50.as_secs_f64() * 1000.0,
        figures.p99.as_secs_f64() * 1000.0,
    );
}

/// Checks the answer and reads its body (a connection goes back to the
/// pool only once its body is read).
async fn ok(response: reqwest::Response) -> anyhow::Result<()> {
    let status = response.status();
    response.bytes().await?;
    if !status.is_success() {
        bail!("the server answered {status}");
    }
    Ok(())
}

async fn create(http: &reqwest::Client, url: &str, name: &str) -> anyhow::Result<()> {
    let pod = json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "labels": {"app": "bench"}},
        "spec": {"containers": [{"name": "c", "image": "k8s-mini/echo"}]},
    });
    ok(http.post(url).json(&pod).send().await?).await
}

/// `clients` tasks each sending one request after another for [`RUN`];
/// every request must succeed.
async fn load<F, Fut>(http: &reqwest::Client, clients: usize, request: F) -> anyhow::Result<Figures>
where
    F: Fn(reqwest::Client, u64) -> Fut + Send + Sync + 'static + Clone,
    Fut: std::future::Future<Output = anyhow::Result<()>> + Send,
{
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let tasks = (0..clients).map(|_| {
        let (http, next, request) = (http.clone(), next.clone(), request.clone());
        tokio::spawn(async move {
            let mut latencies = Vec::new();
            while started.elapsed() < RUN {
                let n = next.fetch_add(1, Ordering::Relaxed);
                let sent = Instant::now();
                request(http.clone(), n).await?;
                latencies.push(sent.elapsed());
            }
            anyhow::Ok(latencies)
        })
    });
    let mut all = Vec::new();
    for task in futures::future::join_all(tasks).await {
        all.extend(task??);
    }
    let elapsed = started.elapsed();
    all.sort();
    Ok(Figures {
        per_second: all.len() as f64 / elapsed.as_secs_f64(),
        p50: percentile(&all, 0.50),
        p99: percentile(&all, 0.99),
    })
}

/// `watchers` watches of pods; events are written one at a time, and each
/// watcher notes how long after the write was sent it saw the event.
async fn fan_out(http: &reqwest::Client, url: &str, watchers: usize) -> anyhow::Result<()> {
    let pods = format!("{url}/api/v1/namespaces/bench-watch/pods");
    let list: serde_json::Value = http.get(&pods).send().await?.json().await?;
    let version = list["metadata"]["resourceVersion"]
        .as_str()
        .context("a list has a resourceVersion")?
        .to_string();
    let sent: Arc<std::sync::Mutex<std::collections::HashMap<String, Instant>>> = Arc::default();
    let done = Arc::new(AtomicBool::new(false));
    let events = 100;
    let mut tasks = Vec::new();
    for _ in 0..watchers {
        let response = http
            .get(format!("{pods}?watch=1&resourceVersion={version}"))
            .send()
            .await?;
        let (sent, done) = (sent.clone(), done.clone());
        tasks.push(tokio::spawn(async move {
            let mut delays = Vec::new();
            let mut body = response.bytes_stream();
            let mut buffer = Vec::new();
            while delays.len() < events && !done.load(Ordering::Relaxed) {
                let Ok(Some(Ok(chunk))) =
                    tokio::time::timeout(Duration::from_secs(10), body.next()).await
                else {
                    break;
                };
                let now = Instant::now();
                buffer.extend_from_slice(&chunk);
                while let Some(end) = buffer.iter().position(|b| *b == b'\n') {
                    let line: Vec<u8> = buffer.drain(..=end).collect();
                    // The name, without parsing the whole event: this
                    // process plays 100 clients on the server's two cores.
                    let Some(name) = pod_name(&line) else {
                        continue;
                    };
                    if let Some(at) = sent.lock().unwrap().get(name) {
                        delays.push(now - *at);
                    }
                }
            }
            delays
        }));
    }
    // Let every watch reach the server before the first event.
    tokio::time::sleep(Duration::from_millis(500)).await;
    for n in 0..events {
        let name = format!("fan-{n}");
        sent.lock().unwrap().insert(name.clone(), Instant::now());
        let pod = json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "labels": {"fan": "out"}},
            "spec": {"containers": [{"name": "c", "image": "k8s-mini/echo"}]},
        });
        ok(http.post(&pods).json(&pod).send().await?).await?;
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let mut delays = Vec::new();
    for task in futures::future::join_all(tasks).await {
        delays.extend(task?);
    }
    done.store(true, Ordering::Relaxed);
    if delays.len() < watchers * events {
        bail!(
            "only {} of {} events reached the watchers",
            delays.len(),
            watchers * events
        );
    }
    delays.sort();
    println!(
        "{:<44} {:>10} {:>6.2}ms {:>6.2}ms",
        format!("write to event, {watchers} watchers x {events}"),
        delays.len(),
        percentile(&delays, 0.50).as_secs_f64() * 1000.0,
        percentile(&delays, 0.99).as_secs_f64() * 1000.0,
    );
    Ok(())
}

/// The first `"name":"..."` of an event line: the object's (the server
/// writes metadata's fields in order, and the name comes before any other).
fn pod_name(line: &[u8]) -> Option<&str> {
    let text = std::str::from_utf8(line).ok()?;
    let start = text.find("\"name\":\"")? + 8;
    let end = start + text[start..].find('"')?;
    Some(&text[start..end])
}

/// `k8s-mini apiserver` as a child process, on a free port.
pub(crate) async fn start_server(
    dir: &std::path::Path,
) -> anyhow::Result<(tokio::process::Child, String)> {
    let program = std::env::current_exe()?;
    let mut child = tokio::process::Command::new(program)
        .arg("--data-dir")
        .arg(dir)
        .args(["apiserver", "--listen", "127.0.0.1:0"])
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()?;
    let mut lines = BufReader::new(child.stderr.take().context("stderr")?).lines();
    while let Some(line) = lines.next_line().await? {
        if let Some(rest) = line.split("serving the Kubernetes API on ").nth(1) {
            let url = rest
                .split_whitespace()
                .next()
                .context("an address")?
                .to_string();
            return Ok((child, url));
        }
    }
    bail!("the API server ended before it served")
}

/// The HTTP floor: a server that answers every request with the same
/// small JSON, from memory.
async fn start_floor() -> anyhow::Result<std::net::SocketAddr> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    let app = axum::Router::new().fallback(|| async {
        (
            [("content-type", "application/json")],
            r#"{"kind":"Status","apiVersion":"v1","status":"Success"}"#,
        )
    });
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(address)
}

/// Appends of 200 bytes, each followed by fdatasync, for a second: syncs
/// per second and the median time of one.
fn fsync_floor(dir: &std::path::Path) -> anyhow::Result<(f64, Duration)> {
    let mut file = std::fs::File::create(dir.join("fsync-floor"))?;
    let record = [b'x'; 200];
    let mut times = Vec::new();
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(1) {
        let at = Instant::now();
        file.write_all(&record)?;
        file.sync_data()?;
        times.push(at.elapsed());
    }
    let per_second = times.len() as f64 / started.elapsed().as_secs_f64();
    times.sort();
    Ok((per_second, times[times.len() / 2]))
}
