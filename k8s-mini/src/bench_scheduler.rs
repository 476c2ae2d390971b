//! `k8s-mini bench scheduler`: chapter 09's figures.
//!
//! 1. Through the API server: the server (`k8s-mini apiserver`, store on
//!    disk) and the scheduler (`k8s-mini scheduler`) run as processes of
//!    their own; this process creates the Node objects (no agents) and the
//!    pods, measuring on the way the raw create rate of the server, the
//!    floor a scheduler that writes one binding per pod is held to; then
//!    it starts the scheduler and counts, on a watch, the pods that get a
//!    node.
//! 2. The algorithm alone, in this process: filters and scores over a
//!    snapshot of 1,000 and 5,000 nodes, no API at all, to show how a
//!    scheduling cycle scales with the cluster.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures::StreamExt;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::chapters::objects::{Node, Pod};
use crate::chapters::scheduler::node_info::{PodInfo, Snapshot};
use crate::chapters::scheduler::{Rng, default_plugins, schedule};

/// How long the API run may take before the benchmark gives up.
const LIMIT: Duration = Duration::from_secs(300);

pub async fn run(nodes: usize, pods: usize) -> anyhow::Result<i32> {
    if cfg!(debug_assertions) {
        eprintln!("note: a debug build; run with --release for meaningful figures");
    }
    let work = tempfile::Builder::new()
        .prefix("k8s-mini-bench-scheduler-")
        .tempdir()?;
    let (mut server, url) = crate::bench_api::start_server(work.path()).await?;
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .build()?;
    println!("API server at {url} (store on disk); {nodes} nodes, {pods} pods");

    let started = Instant::now();
    let node_url = format!("{url}/api/v1/nodes");
    create_all(&http, nodes, 64, |n| (node_url.clone(), node_json(n))).await?;
    // A node's status goes through its status subresource.
    create_all(&http, nodes, 64, |n| {
        (
            format!("{url}/api/v1/nodes/node-{n:05}/status"),
            node_json(n),
        )
    })
    .await?;
    println!(
        "  {nodes} nodes created in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let pod_url = format!("{url}/api/v1/namespaces/default/pods");
    let started = Instant::now();
    create_all(&http, pods, 64, |n| (pod_url.clone(), pod_json(n))).await?;
    let create_rate = pods as f64 / started.elapsed().as_secs_f64();
    println!("  {pods} pods created at {create_rate:.0}/s (64 clients): the floor");

    // Watch from now on: every pod that gets a node.
    let list: Value = http
        .get(format!("{pod_url}?limit=1"))
        .send()
        .await?
        .json()
        .await?;
    let version = list["metadata"]["resourceVersion"]
        .as_str()
        .context("a resourceVersion")?
        .to_string();
    let watch = http
        .get(format!(
            "{pod_url}?watch=1&resourceVersion={version}&timeoutSeconds=600"
        ))
        .send()
        .await?;
    let scheduler_start = Instant::now();
    let mut scheduler = start_scheduler(&url).await?;
    let mut bound: HashSet<String> = HashSet::new();
    let mut first: Option<Instant> = None;
    let mut stream = watch.bytes_stream();
    let mut buffer = Vec::new();
    let mut last_report = Instant::now();
    while bound.len() < pods {
        let chunk = tokio::time::timeout_at((scheduler_start + LIMIT).into(), stream.next()).await;
        let Ok(Some(chunk)) = chunk else {
            bail!("only {} of {pods} pods bound within {LIMIT:?}", bound.len());
        };
        buffer.extend_from_slice(&chunk?);
        while let Some(end) = buffer.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = buffer.drain(..=end).collect();
            let Ok(event) = serde_json::from_slice::<Value>(&line) else {
                continue;
            };
            let object = &event["object"];
            if object["spec"]["nodeName"].is_string()
                && let Some(name) = object["metadata"]["name"].as_str()
            {
                first.get_or_insert_with(Instant::now);
                bound.insert(name.to_string());
            }
        }
        if last_report.elapsed() > Duration::from_secs(2) {
            println!("  ... {} bound", bound.len());
            last_report = Instant::now();
        }
    }
    let total = scheduler_start.elapsed();
    let first = first.unwrap_or(scheduler_start);
    let steady = first.elapsed();
    let _ = scheduler.start_kill();
    let _ = scheduler.wait().await;
    let _ = server.start_kill();
    let _ = server.wait().await;
    println!(
        "{:<58} {:>10} {:>10}",
        "THROUGH THE API (separate processes)", "PODS/S", "VS FLOOR"
    );
    println!(
        "{:<58} {:>10.0} {:>10}",
        "API server: create a pod (64 clients), the floor", create_rate, "1.00"
    );
    let rate = pods as f64 / steady.as_secs_f64();
    println!(
        "{:<58} {:>10.0} {:>10.2}",
        format!("scheduler: {pods} pods bound, first to last bind"),
        rate,
        rate / create_rate
    );
    let with_start = pods as f64 / total.as_secs_f64();
    println!(
        "{:<58} {:>10.0} {:>10.2}",
        "scheduler: the same, counting its start (list, sync)",
        with_start,
        with_start / create_rate
    );

    println!(
        "\n{:<58} {:>10} {:>10}",
        "THE ALGORITHM ALONE (in process)", "PODS/S", "US/POD"
    );
    for nodes in [1_000, 5_000] {
        let (placed, elapsed) = algorithm_alone(nodes);
        let rate = placed as f64 / elapsed.as_secs_f64();
        println!(
            "{:<58} {:>10.0} {:>10.1}",
            format!("{nodes} nodes, {placed} pods"),
            rate,
            elapsed.as_secs_f64() * 1e6 / placed as f64
        );
    }
    Ok(0)
}

/// Schedules pods on `nodes` identical nodes for at most 5 s (or 10,000
/// pods): how many, and how long it took.
fn algorithm_alone(nodes: usize) -> (usize, Duration) {
    let mut snapshot = Snapshot::new();
    for n in 0..nodes {
        let node: Node = serde_json::from_value(node_json(n)).expect("a node");
        snapshot.set_node(Arc::new(node));
    }
    let plugins = default_plugins();
    let mut rng = Rng::seeded(1);
    let started = Instant::now();
    let mut placed = 0;
    while placed < 10_000 && started.elapsed() < Duration::from_secs(5) {
        let pod: Pod = serde_json::from_value(pod_json(placed)).expect("a pod");
        let decision = schedule(&pod, &snapshot, &plugins, &mut rng).expect("it fits");
        snapshot.place(
            &format!(
                "default/{}",
                pod.metadata.name.as_deref().unwrap_or_default()
            ),
            &decision.node,
            PodInfo::of(&pod),
        );
        placed += 1;
    }
    (placed, started.elapsed())
}

fn node_json(n: usize) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": format!("node-{n:05}"), "labels": {"kubernetes.io/hostname": format!("node-{n:05}")}},
        "status": {
            "capacity": {"cpu": "32", "memory": "128Gi", "pods": "110"},
            "allocatable": {"cpu": "32", "memory": "128Gi", "pods": "110"},
            "conditions": [{"type": "Ready", "status": "True"}],
        },
    })
}

/// Pods of 100 "deployments" (same labels), as a real cluster has.
fn pod_json(n: usize) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": format!("pod-{n:05}"), "namespace": "default", "labels": {"app": format!("app-{}", n % 100)}},
        "spec": {"containers": [{"name": "main", "image": "busybox",
            "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}}}]},
    })
}

/// Sends `count` requests (`POST` for collections, `PUT` for a status),
/// `clients` at a time.
async fn create_all(
    http: &reqwest::Client,
    count: usize,
    clients: usize,
    request: impl Fn(usize) -> (String, Value),
) -> anyhow::Result<()> {
    let requests = futures::stream::iter((0..count).map(|n| {
        let (url, body) = request(n);
        let http = http.clone();
        async move {
            let builder = if url.ends_with("/status") {
                http.put(url)
            } else {
                http.post(url)
            };
            let response = builder.json(&body).send().await?;
            if !response.status().is_success() {
                bail!("{}: {}", response.status(), response.text().await?);
            }
            anyhow::Ok(())
        }
    }))
    .buffer_unordered(clients);
    let results: Vec<anyhow::Result<()>> = requests.collect().await;
    results.into_iter().collect()
}

async fn start_scheduler(url: &str) -> anyhow::Result<tokio::process::Child> {
    let mut child = tokio::process::Command::new(std::env::current_exe()?)
        .args(["scheduler", "--server", url, "--log-level", "warn"])
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()?;
    let mut lines = BufReader::new(child.stderr.take().context("stderr")?).lines();
    while let Some(line) = lines.next_line().await? {
        if line.contains("placing the pods") {
            // Keep reading its stderr, or it blocks once the pipe is full.
            tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
            return Ok(child);
        }
    }
    bail!("the scheduler ended before it started")
}
