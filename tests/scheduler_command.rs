//! `k8s-mini scheduler` end to end: the built binary against the built API
//! server, both processes of their own; it binds a pod, logs the decision
//! on stderr, and stops on SIGTERM. (Its decisions in detail are chapter
//! 09's suite.)

mod api_server;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use api_server::ApiServer;

const BINARY: &str = env!("CARGO_BIN_EXE_k8s-mini");

/// One HTTP request; the status line and the body.
fn request(server: &ApiServer, method: &str, path: &str, body: &str) -> (String, String) {
    server.request(method, path, None, body)
}

#[test]
fn the_scheduler_binds_a_pod_and_logs_why() {
    let tmp = tempfile::tempdir().unwrap();
    let server = ApiServer::start(tmp.path(), &["--in-memory"]);
    let node = r#"{"apiVersion":"v1","kind":"Node","metadata":{"name":"n1"},
        "status":{"allocatable":{"cpu":"2","memory":"2Gi","pods":"10"},"conditions":[{"type":"Ready","status":"True"}]}}"#;
    let (created, body) = request(&server, "POST", "/api/v1/nodes", node);
    assert!(created.contains("201"), "{created} {body}");
    let (written, body) = request(&server, "PUT", "/api/v1/nodes/n1/status", node);
    assert!(written.contains("200"), "{written} {body}");
    let mut scheduler = Stopped(
        Command::new(BINARY)
            .args(["scheduler", "--server", &server.url])
            .stderr(Stdio::piped())
            .spawn()
            .expect("k8s-mini starts"),
    );
    let stderr = scheduler.0.stderr.take().unwrap();
    let (lines, log) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = lines.send(line);
        }
    });
    let pod = r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web"},
        "spec":{"containers":[{"name":"web","image":"busybox","resources":{"requests":{"cpu":"1"}}}]}}"#;
    let (created, body) = request(&server, "POST", "/api/v1/namespaces/default/pods", pod);
    assert!(created.contains("201"), "{created} {body}");
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut seen = Vec::new();
    while !seen
        .iter()
        .any(|l: &String| l.contains("assigned") && l.contains("default/web"))
    {
        let left = deadline.saturating_duration_since(Instant::now());
        match log.recv_timeout(left) {
            Ok(line) => seen.push(line),
            Err(_) => panic!("no decision logged within 10 s: {seen:#?}"),
        }
    }
    // The decision is logged before the binding is written.
    loop {
        let (_, body) = request(&server, "GET", "/api/v1/namespaces/default/pods/web", "");
        if body.contains(r#""nodeName":"n1""#) {
            break;
        }
        assert!(Instant::now() < deadline, "not bound within 10 s: {body}");
        std::thread::sleep(Duration::from_millis(50));
    }
    let pid = nix::unistd::Pid::from_raw(scheduler.0.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
    let status = scheduler.0.wait().unwrap();
    assert!(status.success(), "{status:?}");
}

/// The scheduler process, killed (by its pid) if the test fails before it
/// stops it.
struct Stopped(std::process::Child);

impl Drop for Stopped {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

#[test]
fn a_scheduler_that_cannot_reach_its_server_says_so() {
    let output = Command::new(BINARY)
        .args(["scheduler", "--server", "not a url"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("bad server URL"), "{stderr}");
    let output = Command::new(BINARY)
        .args(["scheduler", "--token-file", "/nonexistent/token"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("cannot read the token file"), "{stderr}");
}
