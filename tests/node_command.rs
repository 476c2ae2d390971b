//! `k8s-mini node` end to end: the built binary registers a node with a
//! `k8s-mini apiserver`, runs a pod bound to it, and, stopped with SIGTERM
//! and `--drain-on-exit`, deletes its pods and leaves nothing behind.
//! (The agent's behaviour in detail is chapter 08's suite.)

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

/// The agent as a child process, once it has registered; its stderr's
/// remaining lines.
struct Node {
    child: std::process::Child,
    lines: std::io::Lines<BufReader<std::process::ChildStderr>>,
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
                Some(Ok(line)) if line.contains(&registered) => return Node { child, lines },
                Some(Ok(line)) => before.push(line),
                _ => {
                    let status = child.wait();
                    panic!("the agent ended ({status:?}): {before:?}");
                }
            }
        }
    }

    fn terminate(&mut self) -> std::process::ExitStatus {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        self.child.wait().unwrap()
    }

    /// SIGTERM, by its pid; what it said until it ended.
    fn stop(mut self) -> Vec<String> {
        let status = self.terminate();
        let said: Vec<String> = self.lines.by_ref().map_while(Result::ok).collect();
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

/// Waits until `sleeping(seconds)` is `expected`.
fn wait_for_sleeper(seconds: &str, expected: bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while sleeping(seconds) != expected {
        assert!(
            Instant::now() < deadline,
            "sleep {seconds} running: {} after 30 s",
            !expected
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn the_node_runs_a_pod_starts_it_again_after_a_restart_and_drains_on_exit() {
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
    // A command line no other test runs: its process is this pod's.
    let seconds = (100_000 + std::process::id() % 100_000).to_string();
    let pod = format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: hello\nspec:\n  nodeName: {name}\n  terminationGracePeriodSeconds: 2\n  containers:\n  - name: main\n    image: busybox\n    command: [sleep, \"{seconds}\"]\n"
    );
    assert_eq!(
        kubectl(&kubeconfig, &["apply", "-f", "-"], Some(&pod)),
        "pod/hello created\n"
    );
    wait_until_running(&kubeconfig, "hello");
    wait_for_sleeper(&seconds, true);
    // Stopped without a drain: the pod is left to the next run, which
    // clears what this one left and runs it again.
    let said = node.stop();
    assert!(
        said.iter()
            .any(|line| line.contains("left to the next run")),
        "{said:?}"
    );
    wait_for_sleeper(&seconds, false);
    let node = Node::start(&data, &server.url, &name, &["--drain-on-exit"]);
    wait_for_sleeper(&seconds, true);
    wait_until_running(&kubeconfig, "hello");
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
