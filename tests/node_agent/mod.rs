//! `k8s-mini node` as a child process of a test, and what the tests of
//! node agents ask of the machine: pods' phases and identities through
//! stock kubectl, their processes and cgroups on this machine.
// Each test file uses a part of this.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BINARY: &str = env!("CARGO_BIN_EXE_k8s-mini");

/// Stock kubectl's output (stdout, then stderr).
pub fn kubectl(kubeconfig: &std::path::Path, args: &[&str], input: Option<&str>) -> String {
    kubectl_status(kubeconfig, args, input).1
}

/// Whether stock kubectl succeeded, and its output (stdout, then stderr).
pub fn kubectl_status(
    kubeconfig: &std::path::Path,
    args: &[&str],
    input: Option<&str>,
) -> (bool, String) {
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
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

/// A component (scheduler, controller-manager) as a child process: its
/// stderr copied line by line to the test's output (shown if the test
/// fails), stopped with SIGTERM (by its pid) when dropped.
pub struct Component {
    child: std::process::Child,
    pub name: String,
}

impl Component {
    pub fn start(name: &str, args: &[&str]) -> Component {
        let mut child = Command::new(BINARY)
            .args(args)
            .stderr(Stdio::piped())
            .spawn()
            .expect("k8s-mini starts");
        let stderr = child.stderr.take().unwrap();
        let prefix = name.to_string();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                eprintln!("{prefix}: {line}");
            }
        });
        Component {
            child,
            name: name.to_string(),
        }
    }

    /// SIGTERM, by its pid, and its exit: it must end well.
    pub fn stop_gracefully(self) {
        self.terminate().wait_for_exit();
    }

    /// SIGTERM, by its pid, without waiting for its end.
    pub fn terminate(self) -> Component {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
        self
    }

    /// Its exit, which must be a success.
    pub fn wait_for_exit(mut self) {
        let status = self.child.wait().unwrap();
        assert!(status.success(), "{} ended with {status}", self.name);
    }

    /// SIGKILL, by its pid: the component crashes.
    pub fn kill(mut self) {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL).unwrap();
        let _ = self.child.wait();
    }
}

impl Drop for Component {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
            let _ = self.child.wait();
        }
    }
}

/// What the agent of node `name` with data under `data` must leave
/// behind once it is gone: nothing (its instance is `node-NAME`).
pub fn node_leaks(data: &std::path::Path, name: &str) -> testkit::LeakCheck {
    let instance = format!("node-{name}");
    testkit::LeakCheck::new(&instance)
        .expect_gone(data.join("pods").join(&instance))
        .expect_gone(data.join("networks").join(&instance))
}

/// The agent as a child process, once it has registered, and the thread
/// that reads the rest of its stderr: it copies each line to the test's
/// output (shown if the test fails) and returns them all at the end.
pub struct Node {
    child: std::process::Child,
    said: Option<std::thread::JoinHandle<Vec<String>>>,
}

impl Node {
    pub fn start(data: &std::path::Path, server: &str, name: &str, extra: &[&str]) -> Node {
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

    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        self.child.wait().unwrap()
    }

    /// SIGKILL, by its pid: the agent crashes.
    pub fn kill(mut self) {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL).unwrap();
        self.child.wait().unwrap();
    }

    /// SIGTERM, by its pid; what it said until it ended.
    pub fn stop(mut self) -> Vec<String> {
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

pub fn wait_until_running(kubeconfig: &std::path::Path, pod: &str) {
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
pub fn sleeping(seconds: &str) -> bool {
    sleepers(seconds) > 0
}

/// How many processes run `sleep SECONDS` on this machine (a pod started
/// twice shows as two).
pub fn sleepers(seconds: &str) -> usize {
    let sleeps = |entry: &std::fs::DirEntry| {
        let line = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        let argv: Vec<&[u8]> = line.split(|b| *b == 0).filter(|a| !a.is_empty()).collect();
        argv.len() == 2 && argv[0].ends_with(b"sleep") && argv[1] == seconds.as_bytes()
    };
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter(sleeps)
        .count()
}

/// Waits until `sleeping(seconds)` is `expected`, `limit` seconds at most.
pub fn wait_for_sleeper(seconds: &str, expected: bool, limit: u64) {
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
pub struct Cleanup<'a>(pub &'a [&'a testkit::LeakCheck]);

impl Drop for Cleanup<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            for leaks in self.0 {
                leaks.remove_cgroups();
                leaks.remove_interfaces();
            }
        }
    }
}

/// A pod's phase, container start time, restart count and id, and
/// address, as kubectl prints them.
const IDENTITY: &str = "jsonpath={.status.phase} {.status.containerStatuses[0].state.running.startedAt} {.status.containerStatuses[0].restartCount} {.status.containerStatuses[0].containerID} {.status.podIP}";

/// What must not change while a pod is adopted: its container's start
/// time, restart count and id, and the pod's address.
pub fn identity(kubeconfig: &std::path::Path, pod: &str) -> String {
    let identity = kubectl(kubeconfig, &["get", "pod", pod, "-o", IDENTITY], None);
    assert_eq!(
        identity.split(' ').filter(|part| !part.is_empty()).count(),
        5,
        "{pod}: {identity:?}\n{}",
        kubectl(kubeconfig, &["get", "pod", pod, "-o", "yaml"], None)
    );
    identity
}

/// Waits until `pod` is reported as it was `before` (an adopted pod may be
/// reported Pending for a moment while the runtime resumes it); a pod
/// started again never is: another start time and container id.
pub fn same_identity(kubeconfig: &std::path::Path, pod: &str, before: &str) {
    // Generous: an agent adopting many pods on a loaded machine reports
    // them late, but a restarted pod never comes back to `before`.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let now = kubectl(kubeconfig, &["get", "pod", pod, "-o", IDENTITY], None);
        if now == before {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{pod} restarted: {now:?} after 30 s, {before:?} before\n{}",
            kubectl(kubeconfig, &["get", "pod", pod, "-o", "yaml"], None)
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

pub fn wait_until_ready(kubeconfig: &std::path::Path, node: &str) {
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
pub fn pod_cgroups(instance: &str, uid: &str) -> Vec<std::path::PathBuf> {
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
