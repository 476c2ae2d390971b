//! `k8s-mini controller-manager` end to end: two of them against one
//! `k8s-mini apiserver`, each a process of its own, with short lease
//! figures. Exactly one leads (the Lease names it, and only it says so);
//! killed with SIGKILL, the other takes over once the lease runs out;
//! stopped with SIGTERM, a leader releases the lease before it exits.

mod api_server;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use api_server::ApiServer;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

const BINARY: &str = env!("CARGO_BIN_EXE_k8s-mini");
const LEASE: &str =
    "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/k8s-mini-controller-manager";

/// A controller-manager process and what it wrote on stderr; killed (by
/// its pid) if the test ends before it stops it.
struct Manager {
    identity: String,
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Manager {
    fn start(server: &ApiServer, identity: &str) -> Manager {
        let mut child = Command::new(BINARY)
            .args(["controller-manager", "--server", &server.url])
            .args(["--identity", identity])
            .args(["--lease-duration", "2s", "--renew-deadline", "1s"])
            .args(["--retry-period", "250ms"])
            .stderr(Stdio::piped())
            .spawn()
            .expect("k8s-mini starts");
        let stderr = child.stderr.take().unwrap();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&lines);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        Manager {
            identity: identity.to_string(),
            child,
            lines,
        }
    }

    fn said(&self, text: &str) -> bool {
        self.lines.lock().unwrap().iter().any(|l| l.contains(text))
    }

    fn says_it_leads(&self) -> bool {
        self.said(&format!("{} is the leader", self.identity))
    }

    fn log(&self) -> String {
        self.lines.lock().unwrap().join("\n")
    }

    fn signal(&self, signal: Signal) {
        kill(Pid::from_raw(self.child.id() as i32), signal).unwrap();
    }
}

impl Drop for Manager {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The lease's holder, if there is a lease and it has one.
fn holder(server: &ApiServer) -> Option<String> {
    let (status, body) = server.request("GET", LEASE, None, "");
    if !status.contains("200") {
        return None;
    }
    let lease: serde_json::Value = serde_json::from_str(&body).unwrap();
    lease["spec"]["holderIdentity"]
        .as_str()
        .filter(|holder| !holder.is_empty())
        .map(str::to_string)
}

/// Waits until `check` holds, at most `limit`.
fn wait_until(limit: Duration, what: &str, check: impl Fn() -> bool) {
    let deadline = Instant::now() + limit;
    while !check() {
        assert!(Instant::now() < deadline, "not within {limit:?}: {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn one_of_two_leads_and_the_other_takes_over_when_it_is_killed() {
    let tmp = tempfile::tempdir().unwrap();
    let server = ApiServer::start(tmp.path(), &["--in-memory"]);
    let one = Manager::start(&server, "one");
    let two = Manager::start(&server, "two");
    wait_until(Duration::from_secs(10), "a leader", || {
        holder(&server).is_some()
    });
    let leader_name = holder(&server).unwrap();
    let (mut leader, mut follower) = match leader_name.as_str() {
        "one" => (one, two),
        "two" => (two, one),
        other => panic!("the lease names {other:?}"),
    };
    wait_until(Duration::from_secs(10), "the leader says so", || {
        leader.says_it_leads()
    });
    // Several renewals later, still the same leader, and the other quiet.
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(holder(&server).as_deref(), Some(leader_name.as_str()));
    assert!(
        !follower.said("is the leader"),
        "the follower claims to lead:\n{}",
        follower.log()
    );

    // Killed: no release. The follower waits out the lease, then leads.
    leader.signal(Signal::SIGKILL);
    let _ = leader.child.wait();
    wait_until(
        Duration::from_secs(2 + 10),
        "the follower took over",
        || holder(&server).as_deref() == Some(follower.identity.as_str()),
    );
    wait_until(Duration::from_secs(5), "the new leader says so", || {
        follower.says_it_leads()
    });
    assert!(
        follower.child.try_wait().unwrap().is_none(),
        "still running"
    );

    // Stopped: it releases the lease, and exits cleanly.
    follower.signal(Signal::SIGTERM);
    let status = follower.child.wait().unwrap();
    assert!(status.success(), "{status:?}\n{}", follower.log());
    assert_eq!(holder(&server), None, "the lease was not released");
}

#[test]
fn bad_figures_and_an_unreachable_server_are_reported() {
    let output = Command::new(BINARY)
        .args(["controller-manager", "--server", "http://127.0.0.1:1"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("cannot start the controller-manager against"),
        "{stderr}"
    );

    let tmp = tempfile::tempdir().unwrap();
    let server = ApiServer::start(tmp.path(), &["--in-memory"]);
    let output = Command::new(BINARY)
        .args(["controller-manager", "--server", &server.url])
        .args(["--lease-duration", "1s", "--renew-deadline", "2s"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("must be longer than the renew deadline"),
        "{stderr}"
    );
}
