//! Every write the server acknowledged survives `kill -9`, and the store
//! comes back consistent.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chapter_07::guard;
use serde_json::json;
use tokio::process::Child;

const SERVER: &str = env!("CARGO_BIN_EXE_apiserver");

/// Starts the server on `dir`; returns it and its address once it serves.
async fn start(dir: &std::path::Path) -> (Child, String) {
    chapter_07::start_server_program(SERVER, &[dir]).await
}

#[tokio::test]
async fn acknowledged_writes_survive_kill_9() {
    guard(kill_9()).await
}

async fn kill_9() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut server, url) = start(tmp.path()).await;
    let http = reqwest::Client::new();
    let acknowledged = Arc::new(Mutex::new(BTreeSet::new()));
    let mut writers = Vec::new();
    for writer in 0..16 {
        let (http, url, acknowledged) = (http.clone(), url.clone(), acknowledged.clone());
        writers.push(tokio::spawn(async move {
            for n in 0.. {
                let name = format!("w{writer}-{n}");
                let pod = json!({
                    "apiVersion": "v1", "kind": "Pod",
                    "metadata": {"name": name},
                    "spec": {"containers": [{"name": "c", "image": "k8s-mini/echo"}]},
                });
                let sent = http
                    .post(format!("{url}/api/v1/namespaces/default/pods"))
                    .json(&pod)
                    .send()
                    .await;
                match sent {
                    Ok(response) if response.status() == 201 => {
                        acknowledged.lock().unwrap().insert(name);
                    }
                    Ok(response) => panic!("a write failed: {}", response.status()),
                    // The server is gone: stop writing.
                    Err(_) => return,
                }
            }
        }));
    }
    // Kill it in the middle of the stream, once a good number is in.
    while acknowledged.lock().unwrap().len() < 2000 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let pid = server.id().expect("the server runs");
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .expect("the server can be killed");
    let _ = server.wait().await;
    for writer in writers {
        writer.await.expect("a writer ends cleanly");
    }
    let acknowledged = acknowledged.lock().unwrap().clone();

    let (server, url) = start(tmp.path()).await;
    let list: serde_json::Value = http
        .get(format!("{url}/api/v1/namespaces/default/pods"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let stored: BTreeSet<String> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["metadata"]["name"].as_str().unwrap().to_string())
        .collect();
    let lost: Vec<_> = acknowledged.difference(&stored).collect();
    assert!(
        lost.is_empty(),
        "{} acknowledged writes lost: {lost:?}",
        lost.len()
    );
    // At most the writes in flight (one per writer) were stored without
    // their acknowledgement reaching the client.
    let extra = stored.difference(&acknowledged).count();
    assert!(
        extra <= 16,
        "{extra} writes stored that nobody sent or saw acknowledged"
    );
    // Consistent: every stored pod reads back whole, and new writes go on
    // with higher resourceVersions.
    let list_version: u64 = list["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    for name in stored.iter().take(50) {
        let got = http
            .get(format!("{url}/api/v1/namespaces/default/pods/{name}"))
            .send()
            .await
            .unwrap();
        assert_eq!(got.status(), 200, "{name} reads back");
    }
    let after: serde_json::Value = http
        .post(format!("{url}/api/v1/namespaces/default/pods"))
        .json(&json!({
            "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "after"},
            "spec": {"containers": [{"name": "c", "image": "k8s-mini/echo"}]},
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let after_version: u64 = after["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        after_version > list_version,
        "resourceVersions go on after the restart"
    );
    drop(server);
}
