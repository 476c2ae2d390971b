//! `k8s-mini node` end to end: the built binary registers a node with a
//! `k8s-mini apiserver` and runs the pods bound to it; killed (SIGKILL) or
//! stopped (SIGTERM), it leaves them running, and its next run adopts them
//! (not restarted) and removes those deleted meanwhile; stopped with
//! `--drain-on-exit`, it deletes its pods and leaves nothing behind. (The
//! agent's behaviour in detail is chapter 08's suite.)

mod api_server;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use api_server::ApiServer;

const BINARY: &str = env!("CARGO_BIN_EXE_k8s-mini");

fn kubectl(kubeconfig: &std::path::Path, args: &[&str], input: Option<&str>) -> String {
    use std::io::Write;
    let mut child = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("stock kubectl is installed");
    let mut stdin = child.stdin.take().unwrap();
    if let Some(input) = input {
        stdin.write_all(input.as_bytes()).unwrap();
    }
    drop(stdin);
    let output = child.wait_with_output().unwrap();
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// The agent as a child process, once it has registered, and the thread
/// that reads the rest of its stderr: it copies each line to the test's
/// output (shown if the test fails) and returns them all at the end.
struct Node {
    child: std::process::Child,
    said: Option<std::thread::JoinHandle<Vec<String>>>,
}

impl Node {
    fn start(data: &std::path::Path, server: &str, name: &str, extra: &[&str]) -> Node {
        let mut child = Command::new(BINARY)
            .arg("--data-dir")
            .arg(data)
            .args(["node", "--server", server, "--name", name])
            .args(["--port", "0", "--cpu", "1", "--memory", "512Mi"])
            .args(extra)
            .stderr(Stdio::piped())
            .spawn()
            .expect("k8s-mini starts");
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        // Notes (an unavailable built-in image) may come first.
        let registered = format!("node {name} registered");
        let mut before = Vec::new();
        loop {
            match lines.next() {
                Some(Ok(line)) if line.contains(&registered) => break,
                Some(Ok(line)) => before.push(line),
                _ => {
                    let status = child.wait();
                    panic!("the agent ended ({status:?}): {before:?}");
                }
            }
        }
        let said = std::thread::spawn(move || {
            lines
                .map_while(Result::ok)
                .inspect(|line| eprintln!("agent: {line}"))
                .collect()
        });
        Node {
            child,
            said: Some(said),
        }
    }

    fn terminate(&mut self) -> std::process::ExitStatus {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        self.child.wait().unwrap()
    }

    /// SIGKILL, by its pid: the agent crashes.
    fn kill(mut self) {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL).unwrap();
        self.child.wait().unwrap();
    }

    /// SIGTERM, by its pid; what it said until it ended.
    fn stop(mut self) -> Vec<String> {
        let status = self.terminate();
        let said = self.said.take().unwrap().join().unwrap();
        assert!(status.success(), "the node agent failed: {said:?}");
        said
    }
}

impl Drop for Node {
    /// A failed test stops its agent too.
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            self.terminate();
        }
    }
}

fn wait_until_running(kubeconfig: &std::path::Path, pod: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let phase = kubectl(
            kubeconfig,
            &["get", "pod", pod, "-o", "jsonpath={.status.phase}"],
            None,
        );
        if phase == "Running" {
            return;
        }
        assert!(Instant::now() < deadline, "the pod is {phase:?} after 30 s");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Whether a process runs `sleep SECONDS` on this machine.
fn sleeping(seconds: &str) -> bool {
    std::fs::read_dir("/proc").unwrap().flatten().any(|entry| {
        let line = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        let argv: Vec<&[u8]> = line.split(|b| *b == 0).filter(|a| !a.is_empty()).collect();
        argv.len() == 2 && argv[0].ends_with(b"sleep") && argv[1] == seconds.as_bytes()
    })
}

/// Waits until `sleeping(seconds)` is `expected`, `limit` seconds at most.
fn wait_for_sleeper(seconds: &str, expected: bool, limit: u64) {
    let deadline = Instant::now() + Duration::from_secs(limit);
    while sleeping(seconds) != expected {
        assert!(
            Instant::now() < deadline,
            "sleep {seconds} running: {} after {limit} s",
            !expected
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A failed test leaves no pod running (pods outlive their agent): their
/// processes and cgroups, and the node's interfaces, go. Dropped after
/// the agents, which are declared after it.
struct Cleanup<'a>(&'a testkit::LeakCheck);

impl Drop for Cleanup<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.remove_cgroups();
            self.0.remove_interfaces();
        }
    }
}

/// What must not change while a pod is adopted: its container's start
/// time, restart count and id, and the pod's address.
fn identity(kubeconfig: &std::path::Path, pod: &str) -> String {
    let identity = kubectl(
        kubeconfig,
        &[
            "get",
            "pod",
            pod,
            "-o",
            "jsonpath={.status.phase} {.status.containerStatuses[0].state.running.startedAt} {.status.containerStatuses[0].restartCount} {.status.containerStatuses[0].containerID} {.status.podIP}",
        ],
        None,
    );
    assert_eq!(
        identity.split(' ').filter(|part| !part.is_empty()).count(),
        5,
        "{pod}: {identity:?}\n{}",
        kubectl(kubeconfig, &["get", "pod", pod, "-o", "yaml"], None)
    );
    identity
}

/// Waits until the keeper is reported as it was `before` (an adopted pod
/// may be reported Pending for a moment while the runtime resumes it); a
/// keeper started again never is: another start time and container id.
fn same_keeper(kubeconfig: &std::path::Path, before: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let now = kubectl(
            kubeconfig,
            &[
                "get",
                "pod",
                "keeper",
                "-o",
                "jsonpath={.status.phase} {.status.containerStatuses[0].state.running.startedAt} {.status.containerStatuses[0].restartCount} {.status.containerStatuses[0].containerID} {.status.podIP}",
            ],
            None,
        );
        if now == before {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the keeper restarted: {now:?} after 10 s, {before:?} before\n{}",
            kubectl(kubeconfig, &["get", "pod", "keeper", "-o", "yaml"], None)
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn wait_until_ready(kubeconfig: &std::path::Path, node: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let ready = kubectl(
            kubeconfig,
            &[
                "get",
                "node",
                node,
                "-o",
                "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}",
            ],
            None,
        );
        if ready == "True" {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "node Ready: {ready:?} after 30 s"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The cgroup directories of pod `uid`, in every hierarchy.
fn pod_cgroups(instance: &str, uid: &str) -> Vec<std::path::PathBuf> {
    let relative = format!("k8s-mini-{instance}/pods/{uid}");
    let mut roots = vec![std::path::PathBuf::from("/sys/fs/cgroup")];
    roots.extend(
        std::fs::read_dir("/sys/fs/cgroup")
            .unwrap()
            .flatten()
            .map(|entry| entry.path()),
    );
    roots
        .into_iter()
        .map(|root| root.join(&relative))
        .filter(|dir| dir.exists())
        .collect()
}

#[test]
fn the_node_adopts_its_pods_after_a_kill_or_a_stop_and_drains_on_exit() {
    assert!(
        testkit::is_root(),
        "\n\n*** `k8s-mini node` runs real pods: this test needs root ***\n\n"
    );
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let server = ApiServer::start(&data, &["--in-memory"]);
    let kubeconfig = tmp.path().join("kubeconfig");
    std::fs::write(&kubeconfig, testkit::kubeconfig(&server.url)).unwrap();
    let name = format!("e2e-{}", std::process::id());
    let instance = format!("node-{name}");
    let leaks = testkit::LeakCheck::new(&instance)
        .expect_gone(data.join("pods").join(&instance))
        .expect_gone(data.join("networks").join(&instance));
    let _cleanup = Cleanup(&leaks);
    let node = Node::start(&data, &server.url, &name, &[]);
    let capacity = kubectl(
        &kubeconfig,
        &[
            "get",
            "node",
            &name,
            "-o",
            "jsonpath={.status.capacity.cpu} {.status.capacity.memory} {.status.conditions[3].reason}",
        ],
        None,
    );
    assert_eq!(capacity, "1 524288Ki KubeletReady");
    // Command lines no other test runs: their processes are these pods'.
    let seconds = (100_000 + std::process::id() % 100_000).to_string();
    let other_seconds = (200_000 + std::process::id() % 100_000).to_string();
    let pods = format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: keeper\nspec:\n  nodeName: {name}\n  terminationGracePeriodSeconds: 2\n  containers:\n  - name: main\n    image: busybox\n    command: [sh, -c, \"echo started $$; exec sleep {seconds}\"]\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: leaver\nspec:\n  nodeName: {name}\n  terminationGracePeriodSeconds: 2\n  containers:\n  - name: main\n    image: busybox\n    command: [sleep, \"{other_seconds}\"]\n"
    );
    assert_eq!(
        kubectl(&kubeconfig, &["apply", "-f", "-"], Some(&pods)),
        "pod/keeper created\npod/leaver created\n"
    );
    wait_until_running(&kubeconfig, "keeper");
    wait_until_running(&kubeconfig, "leaver");
    wait_for_sleeper(&seconds, true, 30);
    wait_for_sleeper(&other_seconds, true, 30);
    let before = identity(&kubeconfig, "keeper");
    assert!(before.contains(" 0 "), "restarted already: {before}");
    let leaver_uid = kubectl(
        &kubeconfig,
        &["get", "pod", "leaver", "-o", "jsonpath={.metadata.uid}"],
        None,
    );
    let leaver_dir = data.join("pods").join(&instance).join(&leaver_uid);
    assert!(leaver_dir.is_dir(), "{}", leaver_dir.display());
    assert!(!pod_cgroups(&instance, &leaver_uid).is_empty());

    // Every phase the keeper is reported in from now on.
    let mut phases = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(&kubeconfig)
        .args(["get", "pod", "keeper", "--watch", "-o"])
        .arg("jsonpath={.status.phase}{\"\\n\"}")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("stock kubectl is installed");

    // The agent crashes; its pods do not.
    node.kill();
    std::thread::sleep(Duration::from_secs(1));
    assert!(sleeping(&seconds), "the keeper ended with the agent");
    // Meanwhile the leaver goes from the API (forced: no agent confirms).
    kubectl(
        &kubeconfig,
        &[
            "delete",
            "pod",
            "leaver",
            "--grace-period=0",
            "--force",
            "--wait=false",
        ],
        None,
    );
    assert!(
        kubectl(&kubeconfig, &["get", "pod", "leaver"], None).contains("NotFound"),
        "the leaver is still in the API"
    );

    // Started again with the same flags, the agent adopts the keeper and
    // removes the leaver (no grace known: 30 s for its SIGTERM).
    let node = Node::start(&data, &server.url, &name, &[]);
    wait_until_ready(&kubeconfig, &name);
    wait_for_sleeper(&other_seconds, false, 60);
    let deadline = Instant::now() + Duration::from_secs(10);
    while leaver_dir.exists() || !pod_cgroups(&instance, &leaver_uid).is_empty() {
        assert!(
            Instant::now() < deadline,
            "the leaver's directory or cgroups are left: {:?}",
            pod_cgroups(&instance, &leaver_uid)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(sleeping(&seconds), "the keeper ended");
    same_keeper(&kubeconfig, &before);
    // Not even for a moment was it reported otherwise (such as Pending,
    // while the runtime resumed it).
    std::thread::sleep(Duration::from_secs(1));
    let _ = phases.kill();
    let watched = phases.wait_with_output().unwrap();
    let watched = String::from_utf8_lossy(&watched.stdout);
    assert!(
        watched.lines().next().is_some() && watched.lines().all(|phase| phase == "Running"),
        "{watched:?}"
    );
    let logs = kubectl(&kubeconfig, &["logs", "keeper"], None);
    assert_eq!(
        logs.lines()
            .filter(|line| line.starts_with("started "))
            .count(),
        1,
        "{logs:?}"
    );

    // Stopped without a drain: the pod keeps running for the next run.
    let said = node.stop();
    assert!(
        said.iter()
            .any(|line| line.contains("adopted pod default/keeper")),
        "{said:?}"
    );
    assert!(
        said.iter()
            .any(|line| line.contains("left to the next run")),
        "{said:?}"
    );
    assert!(sleeping(&seconds), "the keeper ended with the agent's stop");
    let node = Node::start(&data, &server.url, &name, &["--drain-on-exit"]);
    wait_until_ready(&kubeconfig, &name);
    same_keeper(&kubeconfig, &before);
    let said = node.stop();
    assert!(
        said.iter()
            .any(|line| line.contains("deleting this node's pods")),
        "{said:?}"
    );
    assert!(!sleeping(&seconds), "the drained pod still runs");
    leaks.assert_clean();
    drop(server);
}
