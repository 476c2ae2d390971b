//! `kubectl logs` and `kubectl exec` end to end: stock kubectl, the API
//! server of chapter 07 (pods/log, pods/exec), the node's server of this
//! chapter, and real pods run by chapter 05's runtime (as root).
//! Holes exercised: `render` (src/server/logs.rs), `exit_status`
//! (src/server/exec.rs).
//!
//! The node's server runs here with a table of pods of the test's own (the
//! agent's table stands behind the same `PodLookup` in the real node).

use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use apiserver::server::{ApiServer, Config};
use chapter_08::guard;
use chapter_08::kubelet::server::exec::exit_status;
use chapter_08::kubelet::server::logs::{LogOptions, parse_entry, render};
use chapter_08::kubelet::server::{self, PodLookup};
use filesystem::image::ImageStore;
use pods::{Container, PodHandle, PodIo, PodRuntime, PodSpec, RuntimeConfig, Volume, VolumeSource};
use process::Backoff;

/// How long a pod or a command may take before the test gives up.
const LIMIT: Duration = Duration::from_secs(30);

/// The init program of the pods' containers.
fn init_program() -> String {
    env!("CARGO_BIN_EXE_kubelet-init").to_string()
}

/// The test's pods, as the agent's table would hold them.
#[derive(Default)]
struct Table(Mutex<BTreeMap<(String, String), PodIo>>);

impl PodLookup for Table {
    fn find(&self, namespace: &str, name: &str) -> Option<PodIo> {
        let table = self.0.lock().unwrap();
        table
            .get(&(namespace.to_string(), name.to_string()))
            .cloned()
    }
}

/// A cluster of one: the API server, the node's server, the pod runtime,
/// and kubectl pointed at them.
struct Cluster {
    api: ApiServer,
    runtime: Arc<PodRuntime>,
    table: Arc<Table>,
    handles: Vec<PodHandle>,
    stop_node: Option<tokio::sync::oneshot::Sender<()>>,
    node_server: tokio::task::JoinHandle<std::io::Result<()>>,
    leaks: testkit::LeakCheck,
    _tidy: TidyOnPanic,
    _tmp: tempfile::TempDir,
}

/// After a failed test (verify's mutants fail many), the pods' processes
/// and cgroups would stay on the machine: kill and remove them.
struct TidyOnPanic(testkit::LeakCheck);

impl Drop for TidyOnPanic {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let stuck = self.0.remove_cgroups();
            if !stuck.is_empty() {
                eprintln!("could not remove the failed test's cgroups: {stuck:?}");
            }
        }
    }
}

impl Cluster {
    async fn start() -> Cluster {
        assert!(
            nix::unistd::geteuid().is_root(),
            "\n\n*** these tests run real pods: they need root ***\n\n"
        );
        let tmp = tempfile::tempdir().unwrap();
        let api = ApiServer::start(Config {
            listen: "127.0.0.1:0".parse().unwrap(),
            ..Config::default()
        })
        .await
        .expect("the API server");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let table = Arc::new(Table::default());
        let (stop_node, stopped) = tokio::sync::oneshot::channel::<()>();
        let node_server = tokio::spawn(server::serve(listener, table.clone(), async move {
            let _ = stopped.await;
        }));
        let images = ImageStore::open(&tmp.path().join("images")).unwrap();
        images
            .install_builtin(std::path::Path::new(&init_program()))
            .expect("the built-in images");
        // One instance per cluster: the tests run side by side, and each
        // removes its instance's cgroups at the end.
        let instance = testkit::unique_instance("ch08-logs");
        let leaks =
            testkit::LeakCheck::new(&instance).expect_gone(tmp.path().join("pods").join(&instance));
        let runtime = PodRuntime::new(RuntimeConfig {
            instance: instance.clone(),
            init_program: init_program().into(),
            images,
            state_dir: tmp.path().to_path_buf(),
            network: None,
        })
        .expect("a pod runtime");
        let cluster = Cluster {
            api,
            runtime,
            table,
            handles: Vec::new(),
            stop_node: Some(stop_node),
            node_server,
            leaks,
            _tidy: TidyOnPanic(testkit::LeakCheck::new(&instance)),
            _tmp: tmp,
        };
        let node = serde_json::json!({
            "apiVersion": "v1", "kind": "Node",
            "metadata": {"name": "node-1"},
        });
        cluster.kubectl_ok(&["create", "-f", "-"], Some(&node.to_string()));
        let status = serde_json::json!({"status": {
            "addresses": [{"type": "InternalIP", "address": "127.0.0.1"}],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": port}},
        }});
        cluster.kubectl_ok(
            &[
                "patch",
                "node",
                "node-1",
                "--subresource=status",
                "--type=merge",
                "-p",
                &status.to_string(),
            ],
            None,
        );
        cluster
    }

    fn kubectl_with(&self, kubectl: &str, args: &[&str], stdin: Option<&str>) -> Output {
        let mut child = Command::new(kubectl)
            .arg("--server")
            .arg(self.api.url())
            .args(args)
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("kubectl on PATH");
        if let Some(input) = stdin {
            child
                .stdin
                .take()
                .unwrap()
                .write_all(input.as_bytes())
                .unwrap();
        }
        child.wait_with_output().unwrap()
    }

    fn kubectl(&self, args: &[&str], stdin: Option<&str>) -> Output {
        self.kubectl_with("kubectl", args, stdin)
    }

    fn kubectl_ok(&self, args: &[&str], stdin: Option<&str>) -> String {
        let output = self.kubectl(args, stdin);
        assert!(
            output.status.success(),
            "kubectl {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    }

    /// Runs `spec` on the node and stores its pod, bound to the node, with
    /// the phase the agent would report.
    async fn run(&mut self, spec: PodSpec, running: impl Fn(&pods::PodStatus) -> bool) {
        let containers: Vec<_> = spec
            .containers
            .iter()
            .map(|c| serde_json::json!({"name": c.name, "image": c.image}))
            .collect();
        let pod = serde_json::json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": spec.name, "namespace": "default"},
            "spec": {"nodeName": "node-1", "containers": containers},
        });
        self.kubectl_ok(&["create", "-f", "-"], Some(&pod.to_string()));
        let name = spec.name.clone();
        let handle = self.runtime.run(spec);
        self.table
            .0
            .lock()
            .unwrap()
            .insert(("default".into(), name.clone()), handle.io());
        let status = handle
            .wait_for(LIMIT, running)
            .await
            .unwrap_or_else(|status| panic!("pod {name} did not start: {status:?}"));
        let statuses: Vec<_> = status
            .container_statuses
            .iter()
            .map(|c| {
                serde_json::json!({
                    "name": c.name, "image": c.image, "imageID": "", "ready": true,
                    "restartCount": c.restart_count,
                    "state": {"running": {"startedAt": "2026-01-01T00:00:00Z"}},
                })
            })
            .collect();
        let patch =
            serde_json::json!({"status": {"phase": "Running", "containerStatuses": statuses}});
        self.kubectl_ok(
            &[
                "patch",
                "pod",
                &name,
                "--subresource=status",
                "--type=merge",
                "-p",
                &patch.to_string(),
            ],
            None,
        );
        self.handles.push(handle);
    }

    async fn finish(mut self) {
        for handle in self.handles.drain(..) {
            handle.delete(Some(Duration::from_secs(2))).await;
        }
        self.table.0.lock().unwrap().clear();
        let _ = self.stop_node.take().unwrap().send(());
        let _ = self.node_server.await;
        self.api.stop(Duration::from_secs(5)).await;
        let runtime =
            Arc::try_unwrap(self.runtime).unwrap_or_else(|_| panic!("a pod is still referenced"));
        runtime
            .remove()
            .expect("the runtime's cgroup and directories");
        // No process, cgroup or directory of the instance is left (an
        // abandoned exec session included).
        self.leaks.assert_clean();
    }
}

fn pod(name: &str, containers: Vec<Container>) -> PodSpec {
    let mut spec = PodSpec::new(name, containers);
    spec.uid = format!("{name}-{}", std::process::id());
    spec.termination_grace_period = Duration::from_secs(2);
    spec.backoff = Backoff {
        initial: Duration::from_millis(200),
        max: Duration::from_secs(1),
        reset_after: Duration::from_secs(600),
    };
    spec
}

fn sh(name: &str, script: &str) -> Container {
    Container::new(name, "busybox").command(["sh", "-c", script])
}

fn all_running(status: &pods::PodStatus) -> bool {
    status
        .container_statuses
        .iter()
        .all(|c| c.state.is_running())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kubectl_logs_and_exec_reach_the_pod() {
    guard(kubectl_logs_and_exec_reach_the_pod_body()).await
}

async fn kubectl_logs_and_exec_reach_the_pod_body() {
    let mut cluster = Cluster::start().await;
    cluster
        .run(
            pod(
                "talker",
                vec![
                    sh("main", "for i in 1 2 3 4 5; do echo line $i; done; sleep 0.2; echo oops >&2; sleep 3600"),
                    sh("side", "echo side; sleep 3600"),
                ],
            ),
            |status| {
                all_running(status)
            },
        )
        .await;
    // The output is written by then: wait for the last line to be in the log.
    tokio::time::sleep(Duration::from_millis(500)).await;

    let all = cluster.kubectl_ok(&["logs", "talker", "-c", "main"], None);
    assert_eq!(all, "line 1\nline 2\nline 3\nline 4\nline 5\noops\n");
    let side = cluster.kubectl_ok(&["logs", "talker", "-c", "side"], None);
    assert_eq!(side, "side\n");
    let tail = cluster.kubectl_ok(&["logs", "talker", "-c", "main", "--tail=2"], None);
    assert_eq!(tail, "line 5\noops\n");
    let stamped = cluster.kubectl_ok(
        &["logs", "talker", "-c", "main", "--timestamps", "--tail=1"],
        None,
    );
    let (time, text) = stamped.split_once(' ').expect("a timestamp");
    assert_eq!(text, "oops\n");
    // RFC 3339 in UTC, as Go writes it: 2026-12-04T17:44:08.123456789Z.
    assert!(
        time.len() >= 20 && time.as_bytes()[10] == b'T' && time.ends_with('Z'),
        "not an RFC 3339 time: {time:?}"
    );
    let limited = cluster.kubectl_ok(&["logs", "talker", "-c", "main", "--limit-bytes=9"], None);
    assert_eq!(limited, "line 1\nli");
    let recent = cluster.kubectl_ok(&["logs", "talker", "-c", "main", "--since=1h"], None);
    assert_eq!(recent, all);
    let future = cluster.kubectl_ok(
        &[
            "logs",
            "talker",
            "-c",
            "main",
            "--since-time=2100-01-01T00:00:00Z",
        ],
        None,
    );
    assert_eq!(future, "", "no line is newer than a time to come");

    // kubectl checks the container name itself; the server's answer, raw:
    let wrong = cluster.kubectl(
        &[
            "get",
            "--raw",
            "/api/v1/namespaces/default/pods/talker/log?container=nope",
        ],
        None,
    );
    let stderr = String::from_utf8_lossy(&wrong.stderr);
    assert!(!wrong.status.success());
    assert!(
        stderr.contains("container \"nope\" in pod \"talker\" is not valid"),
        "{stderr}"
    );
    let previous = cluster.kubectl(&["logs", "talker", "-c", "main", "--previous"], None);
    assert!(
        !previous.status.success(),
        "{}",
        String::from_utf8_lossy(&previous.stdout)
    );
    assert!(
        String::from_utf8_lossy(&previous.stderr)
            .contains("previous terminated container \"main\" in pod \"talker\" not found"),
        "{}",
        String::from_utf8_lossy(&previous.stderr)
    );

    // exec: output, exit codes, stdin.
    let hi = cluster.kubectl_ok(&["exec", "talker", "-c", "main", "--", "echo", "hi"], None);
    assert_eq!(hi, "hi\n");
    let three = cluster.kubectl(
        &[
            "exec",
            "talker",
            "-c",
            "main",
            "--",
            "sh",
            "-c",
            "echo out; echo err >&2; exit 3",
        ],
        None,
    );
    assert_eq!(
        three.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&three.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&three.stdout), "out\n");
    assert!(String::from_utf8_lossy(&three.stderr).contains("err\n"));
    let cat = cluster.kubectl_ok(
        &["exec", "-i", "talker", "-c", "main", "--", "cat"],
        Some("hello\nworld\n"),
    );
    assert_eq!(cat, "hello\nworld\n");
    // It runs inside the container: it sees the container's processes.
    let ps = cluster.kubectl_ok(
        &[
            "exec",
            "talker",
            "-c",
            "main",
            "--",
            "sh",
            "-c",
            "cat /proc/[0-9]*/cmdline | tr '\\0' ' '",
        ],
        None,
    );
    assert!(
        ps.contains("sleep 3600"),
        "exec does not see the container's processes: {ps:?}"
    );

    cluster.finish().await;
}

/// The API server answers in Kubernetes' words when there is no log to
/// show: no node yet, a container still being created.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn logs_that_cannot_be_shown_say_why() {
    guard(logs_that_cannot_be_shown_say_why_body()).await
}

async fn logs_that_cannot_be_shown_say_why_body() {
    let cluster = Cluster::start().await;
    let unscheduled = serde_json::json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "nowhere", "namespace": "default"},
        "spec": {"containers": [{"name": "main", "image": "busybox"}]},
    });
    cluster.kubectl_ok(&["create", "-f", "-"], Some(&unscheduled.to_string()));
    let creating = serde_json::json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "creating", "namespace": "default"},
        "spec": {"nodeName": "node-1", "containers": [{"name": "main", "image": "busybox"}]},
    });
    cluster.kubectl_ok(&["create", "-f", "-"], Some(&creating.to_string()));
    let status = serde_json::json!({"status": {"phase": "Pending", "containerStatuses": [{
        "name": "main", "image": "busybox", "imageID": "", "ready": false, "restartCount": 0,
        "state": {"waiting": {"reason": "ContainerCreating"}},
    }]}});
    cluster.kubectl_ok(
        &[
            "patch",
            "pod",
            "creating",
            "--subresource=status",
            "--type=merge",
            "-p",
            &status.to_string(),
        ],
        None,
    );
    let mut report = Vec::new();
    for args in [
        &["logs", "nowhere"][..],
        &["logs", "creating"],
        &["logs", "gone"],
        &["exec", "nowhere", "--", "true"],
    ] {
        let output = cluster.kubectl(args, None);
        assert!(!output.status.success(), "kubectl {args:?} succeeded");
        report.push(format!(
            "kubectl {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    assert_eq!(
        report.join("\n"),
        "kubectl logs nowhere: Error from server (BadRequest): pod nowhere does not have a host assigned\n\
         kubectl logs creating: Error from server (BadRequest): container \"main\" in pod \"creating\" is waiting to start: ContainerCreating\n\
         kubectl logs gone: error: error from server (NotFound): pods \"gone\" not found in namespace \"default\"\n\
         kubectl exec nowhere -- true: Error from server (BadRequest): pod nowhere does not have a host assigned"
    );
    cluster.finish().await;
}

/// `kubectl logs -f` follows a run to its end; `--previous` shows the run
/// before the current one.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn logs_follow_a_run_and_show_the_previous_one() {
    guard(logs_follow_a_run_and_show_the_previous_one_body()).await
}

async fn logs_follow_a_run_and_show_the_previous_one_body() {
    let mut cluster = Cluster::start().await;
    let mut spec = pod(
        "counter",
        vec![
            sh(
                "count",
                "n=$(cat /data/n 2>/dev/null || echo 0); echo $((n+1)) > /data/n; \
                 for i in 1 2 3; do echo run $n tick $i; sleep 0.5; done; exit 1",
            )
            .mount("data", "/data"),
        ],
    );
    spec.volumes.push(Volume {
        name: "data".into(),
        source: VolumeSource::EmptyDir,
    });
    cluster
        .run(spec, |status| {
            status.container_statuses[0].state.is_running()
                && status.container_statuses[0].restart_count == 0
        })
        .await;
    // Follows run 0 from its first tick to its end, then returns.
    let follow = cluster.kubectl_bounded(&["logs", "-f", "counter"], Duration::from_secs(15));
    assert!(
        follow.status.success(),
        "{}",
        String::from_utf8_lossy(&follow.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&follow.stdout),
        "run 0 tick 1\nrun 0 tick 2\nrun 0 tick 3\n"
    );
    let handle = cluster.handles.last().unwrap();
    handle
        .wait_for(LIMIT, |status| {
            status.container_statuses[0].restart_count >= 1
        })
        .await
        .expect("a restart");
    let previous = cluster.kubectl_ok(&["logs", "counter", "--previous"], None);
    let restarts = handle.status().container_statuses[0].restart_count;
    let run: u32 = previous
        .strip_prefix("run ")
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("not a previous run's log: {previous:?}"));
    assert!(
        run < restarts,
        "run {run} is not before the current one ({restarts})"
    );
    assert_eq!(
        previous,
        format!("run {run} tick 1\nrun {run} tick 2\nrun {run} tick 3\n")
    );
    cluster.finish().await;
}

/// `kubectl exec -it POD -- sh`: a terminal (driven here through a
/// pseudo-terminal of the test's own), a prompt, a command, the exit code.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn exec_with_a_terminal() {
    guard(exec_with_a_terminal_body()).await
}

async fn exec_with_a_terminal_body() {
    let mut cluster = Cluster::start().await;
    cluster
        .run(pod("shell", vec![sh("main", "sleep 3600")]), all_running)
        .await;
    let output = cluster.kubectl_in_terminal(
        &["exec", "-it", "shell", "--", "sh"],
        "stty size; echo $((6*7)); exit 5",
    );
    let text = String::from_utf8_lossy(&output.stdout).to_string();
    assert_eq!(output.status.code(), Some(5), "{text}");
    assert!(text.contains("42"), "{text}");
    // `stty size` needs a terminal, and kubectl sent the size of its own
    // (the helper's is 40 rows, 100 columns).
    assert!(
        text.contains("40 100"),
        "no terminal, or not resized: {text}"
    );
    cluster.finish().await;
}

/// Each kubectl of the versions at hand: 1.31 and later speak the
/// WebSocket protocol and work; older ones fail with a clear message.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn exec_with_every_kubectl_version() {
    guard(exec_with_every_kubectl_version_body()).await
}

async fn exec_with_every_kubectl_version_body() {
    let mut cluster = Cluster::start().await;
    cluster
        .run(pod("versions", vec![sh("main", "sleep 3600")]), all_running)
        .await;
    let dir = std::fs::canonicalize(which_kubectl())
        .unwrap()
        .parent()
        .unwrap()
        .to_path_buf();
    let mut report = Vec::new();
    for minor in 27..=40 {
        let kubectl = dir.join(format!("kubectl.1.{minor}"));
        if !kubectl.exists() {
            continue;
        }
        let kubectl = kubectl.to_str().unwrap();
        let echo = cluster.kubectl_with(
            kubectl,
            &["exec", "versions", "--", "sh", "-c", "echo hi; exit 7"],
            None,
        );
        let cat = cluster.kubectl_with(
            kubectl,
            &["exec", "-i", "versions", "--", "cat"],
            Some("in\n"),
        );
        let stderr = String::from_utf8_lossy(&echo.stderr).to_string();
        if minor >= 31 {
            assert_eq!(echo.status.code(), Some(7), "kubectl 1.{minor}: {stderr}");
            assert_eq!(
                String::from_utf8_lossy(&echo.stdout),
                "hi\n",
                "kubectl 1.{minor}"
            );
            assert_eq!(
                String::from_utf8_lossy(&cat.stdout),
                "in\n",
                "kubectl 1.{minor}"
            );
        } else if !echo.status.success() && echo.status.code() != Some(7) {
            assert!(
                stderr.contains("WebSocket") || stderr.contains("SPDY"),
                "kubectl 1.{minor} fails without saying why: {stderr}"
            );
        }
        report.push(format!(
            "1.{minor}: exec exit {:?}, exec -i {} {}",
            echo.status.code(),
            if cat.stdout == b"in\n" { "ok" } else { "fails" },
            stderr.lines().last().unwrap_or_default()
        ));
    }
    eprintln!("{}", report.join("\n"));
    assert!(
        report.len() >= 3,
        "fewer than 3 kubectl versions found in {dir:?}"
    );
    cluster.finish().await;
}

fn which_kubectl() -> std::path::PathBuf {
    std::env::var_os("PATH")
        .and_then(|path| {
            std::env::split_paths(&path)
                .map(|dir| dir.join("kubectl"))
                .find(|candidate| candidate.exists())
        })
        .expect("kubectl on PATH")
}

/// Drives a program in a pseudo-terminal of 40 rows and 100 columns: waits
/// for a prompt, types `line`, reads to the end; all within 20 s.
const IN_TERMINAL: &str = r##"
import os, pty, sys, time, select, fcntl, termios, struct
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 100, 0, 0))
out, sent, deadline = b"", False, time.time() + 20
while time.time() < deadline:
    ready, _, _ = select.select([fd], [], [], 0.2)
    if ready:
        try:
            data = os.read(fd, 4096)
        except OSError:
            break
        if not data:
            break
        out += data
    if not sent and (b"# " in out or b"$ " in out):
        os.write(fd, os.environ["LINE"].encode() + b"\r")
        sent = True
else:
    os.kill(pid, 9)
_, status = os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors="replace"))
sys.exit(os.waitstatus_to_exitcode(status))
"##;

impl Cluster {
    fn kubectl_in_terminal(&self, args: &[&str], line: &str) -> Output {
        let url = self.api.url();
        let mut command = vec!["kubectl", "--server", &url];
        command.extend_from_slice(args);
        Command::new("python3")
            .arg("-c")
            .arg(IN_TERMINAL)
            .args(&command)
            .env("LINE", line)
            .output()
            .expect("python3")
    }

    /// kubectl, killed (and the test failed) if it outlives `limit`.
    fn kubectl_bounded(&self, args: &[&str], limit: Duration) -> Output {
        let mut child = Command::new("kubectl")
            .arg("--server")
            .arg(self.api.url())
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("kubectl on PATH");
        let started = std::time::Instant::now();
        while child.try_wait().unwrap().is_none() {
            if started.elapsed() > limit {
                let _ = child.kill();
                let _ = child.wait();
                panic!("kubectl {args:?} still running after {limit:?}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        child.wait_with_output().unwrap()
    }
}

/// Parses a CRI log of entries `<seconds> <stream> <P|F> <text>`, all on
/// 2026-01-01 at 10:00:<seconds>.
fn lines(log: &[(&str, &str, &str, &str)]) -> Vec<chapter_08::kubelet::server::logs::LogLine> {
    let mut joiner = chapter_08::kubelet::server::logs::Joiner::default();
    log.iter()
        .filter_map(|(seconds, stream, tag, text)| {
            let entry = format!("2026-01-01T10:00:{seconds}Z {stream} {tag} {text}");
            parse_entry(entry.as_bytes())
        })
        .filter_map(|entry| joiner.push(entry))
        .collect()
}

#[test]
fn render_filters_by_time_then_keeps_the_tail() {
    let log = lines(&[
        ("01.000000000", "stdout", "F", "one"),
        ("02.500000000", "stderr", "F", "two"),
        ("03.000000000", "stdout", "P", "thr"),
        ("03.100000000", "stdout", "F", "ee"),
        ("04.123456789", "stdout", "F", "four"),
    ]);
    let text = |options: LogOptions| String::from_utf8(render(&log, &options)).unwrap();
    assert_eq!(text(LogOptions::default()), "one\ntwo\nthree\nfour\n");
    let tail = LogOptions {
        tail_lines: Some(2),
        ..LogOptions::default()
    };
    assert_eq!(text(tail.clone()), "three\nfour\n");
    let since = LogOptions {
        since: log.get(1).map(|line| line.time),
        ..LogOptions::default()
    };
    assert_eq!(text(since.clone()), "two\nthree\nfour\n");
    // The time filter comes first, then the tail.
    let both = LogOptions {
        tail_lines: Some(5),
        ..since.clone()
    };
    assert_eq!(text(both), "two\nthree\nfour\n");
    let none = LogOptions {
        tail_lines: Some(0),
        ..LogOptions::default()
    };
    assert_eq!(text(none), "");
    // Timestamps as Go's RFC3339Nano writes them: no trailing zeros.
    let stamped = LogOptions {
        timestamps: true,
        ..tail
    };
    assert_eq!(
        text(stamped),
        "2026-01-01T10:00:03Z three\n2026-01-01T10:00:04.123456789Z four\n"
    );
}

#[test]
fn exit_status_carries_the_code_for_kubectl() {
    let command = ["sh".to_string(), "-c".to_string(), "exit 3".to_string()];
    assert_eq!(
        exit_status(&command, process::ExitStatus::Code(0)),
        serde_json::json!({"metadata": {}, "status": "Success"})
    );
    let failed = exit_status(&command, process::ExitStatus::Code(3));
    assert_eq!(failed["status"], "Failure");
    assert_eq!(failed["reason"], "NonZeroExitCode");
    assert_eq!(
        failed["details"]["causes"],
        serde_json::json!([{"reason": "ExitCode", "message": "3"}])
    );
    assert_eq!(
        failed["message"],
        "command terminated with non-zero exit code: error executing command [sh -c exit 3], exit code 3"
    );
    // Killed by SIGKILL: 128 + 9, as a shell would say.
    let killed = exit_status(&command, process::ExitStatus::Signal(9));
    assert_eq!(killed["details"]["causes"][0]["message"], "137");
}
