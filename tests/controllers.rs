//! Controllers end to end, with real pods: `k8s-mini apiserver`,
//! `scheduler`, `node` (one or two) and two `controller-manager`s, each a
//! process of its own, driven with stock kubectl.
//!
//! - A Deployment becomes running pods; `kubectl scale` up and down
//!   converges; a killed container is restarted and a deleted pod
//!   replaced; the leading controller-manager is killed and the other
//!   takes over without creating a pod twice; a rolling update stays
//!   within maxSurge and maxUnavailable (checked on every event of a
//!   watch); `rollout undo` brings the old template back; a bad image
//!   stops at ProgressDeadlineExceeded with the old pods still serving;
//!   deleting the Deployment deletes its ReplicaSets and pods.
//! - A node whose agent is killed goes NotReady, its pods are recreated on
//!   the other node, and when the agent comes back its stale pods go.

mod api_server;
mod node_agent;

use std::collections::BTreeMap;
use std::io::BufReader;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use api_server::ApiServer;
use node_agent::{Cleanup, Component, Node, kubectl, kubectl_status, node_leaks, sleepers};
use serde_json::Value;

/// A deployment of `replicas` pods running `sleep SECONDS`, with
/// VERSION=1 in their environment, short grace periods and a short
/// tolerance of an unreachable node.
fn deployment(replicas: u32, seconds: &str) -> String {
    format!(
        r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: {replicas}
  selector:
    matchLabels:
      app: web
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxSurge: 1
      maxUnavailable: 1
  template:
    metadata:
      labels:
        app: web
    spec:
      terminationGracePeriodSeconds: 1
      tolerations:
      - key: node.kubernetes.io/unreachable
        operator: Exists
        effect: NoExecute
        tolerationSeconds: 2
      containers:
      - name: main
        image: busybox
        command: [sleep, "{seconds}"]
        env:
        - name: VERSION
          value: "1"
"#
    )
}

/// The pods of the deployment as `kubectl get -o json` lists them.
fn pods(kubeconfig: &std::path::Path) -> Vec<Value> {
    let text = kubectl(
        kubeconfig,
        &["get", "pods", "-l", "app=web", "-o", "json"],
        None,
    );
    let list: Value = serde_json::from_str(&text).unwrap_or_else(|_| panic!("{text}"));
    list["items"].as_array().cloned().unwrap_or_default()
}

fn is_ready(pod: &Value) -> bool {
    pod["status"]["conditions"]
        .as_array()
        .is_some_and(|conditions| {
            conditions
                .iter()
                .any(|c| c["type"] == "Ready" && c["status"] == "True")
        })
}

fn terminating(pod: &Value) -> bool {
    !pod["metadata"]["deletionTimestamp"].is_null()
}

/// Waits (at most `limit` seconds) until `check` holds for the pods.
fn wait_for_pods(
    kubeconfig: &std::path::Path,
    what: &str,
    limit: u64,
    check: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(limit);
    loop {
        let pods = pods(kubeconfig);
        if check(&pods) {
            return pods;
        }
        if Instant::now() > deadline {
            let summary: Vec<String> = pods
                .iter()
                .map(|p| {
                    format!(
                        "{} {} ready={} terminating={}",
                        p["metadata"]["name"],
                        p["status"]["phase"],
                        is_ready(p),
                        terminating(p)
                    )
                })
                .collect();
            panic!(
                "pods not {what} after {limit} s: {summary:#?}\n{}\n{}",
                kubectl(kubeconfig, &["describe", "deployment", "web"], None),
                kubectl(kubeconfig, &["describe", "pods", "-l", "app=web"], None)
            );
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// `count` ready pods, none other (terminating ones gone too).
fn wait_for_ready(kubeconfig: &std::path::Path, count: usize, limit: u64) -> Vec<Value> {
    wait_for_pods(kubeconfig, &format!("{count} ready"), limit, |pods| {
        pods.len() == count && pods.iter().all(is_ready)
    })
}

fn rollout_status(kubeconfig: &std::path::Path) -> (bool, String) {
    kubectl_status(
        kubeconfig,
        &["rollout", "status", "deployment/web", "--timeout=90s"],
        None,
    )
}

/// The pods' state over a watch: for each event, how many pods exist (not
/// terminating) and how many of those are ready, once `armed`.
struct Watcher {
    child: std::process::Child,
    seen: std::thread::JoinHandle<Vec<(usize, usize, String)>>,
}

impl Watcher {
    fn start(kubeconfig: &std::path::Path) -> Watcher {
        let mut child = Command::new("kubectl")
            .arg("--kubeconfig")
            .arg(kubeconfig)
            .args(["get", "pods", "-l", "app=web", "--watch", "-o", "json"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("stock kubectl is installed");
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let seen = std::thread::spawn(move || {
            let mut pods: BTreeMap<String, Value> = BTreeMap::new();
            let mut seen = Vec::new();
            for pod in serde_json::Deserializer::from_reader(stdout).into_iter::<Value>() {
                let Ok(pod) = pod else { break };
                let name = pod["metadata"]["name"].as_str().unwrap_or("").to_string();
                pods.insert(name.clone(), pod);
                let live: Vec<&Value> = pods
                    .values()
                    .filter(|p| !terminating(p) && p["status"]["phase"] != "Succeeded")
                    .collect();
                let ready = live.iter().filter(|p| is_ready(p)).count();
                seen.push((live.len(), ready, name));
            }
            seen
        });
        Watcher { child, seen }
    }

    /// Stops kubectl (by its pid); every state seen.
    fn stop(mut self) -> Vec<(usize, usize, String)> {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.seen.join().unwrap()
    }
}

fn leader(kubeconfig: &std::path::Path) -> String {
    kubectl(
        kubeconfig,
        &[
            "get",
            "lease",
            "-n",
            "kube-system",
            "k8s-mini-controller-manager",
            "-o",
            "jsonpath={.spec.holderIdentity}",
        ],
        None,
    )
}

fn controller_manager(server: &str, identity: &str) -> Component {
    Component::start(
        identity,
        &[
            "controller-manager",
            "--server",
            server,
            "--identity",
            identity,
            "--lease-duration",
            "3s",
            "--renew-deadline",
            "2s",
            "--retry-period",
            "500ms",
            "--node-monitor-grace-period",
            "3s",
        ],
    )
}

#[test]
fn a_deployment_runs_scales_heals_rolls_out_and_goes() {
    assert!(
        testkit::is_root(),
        "\n\n*** `k8s-mini node` runs real pods: this test needs root ***\n\n"
    );
    let tmp = tempfile::tempdir().unwrap();
    let server = ApiServer::start(&tmp.path().join("api"), &["--in-memory"]);
    let kubeconfig = tmp.path().join("kubeconfig");
    std::fs::write(&kubeconfig, testkit::kubeconfig(&server.url)).unwrap();
    let name = format!("ctl-{}", std::process::id());
    let data = tmp.path().join("node");
    let leaks = node_leaks(&data, &name);
    let _cleanup = Cleanup(&[&leaks]);
    let node = Node::start(
        &data,
        &server.url,
        &name,
        &["--lease-interval", "1s", "--drain-on-exit"],
    );
    let _scheduler = Component::start("scheduler", &["scheduler", "--server", &server.url]);
    let mut managers = vec![
        controller_manager(&server.url, "cm-a"),
        controller_manager(&server.url, "cm-b"),
    ];
    let seconds = (500_000 + std::process::id() % 100_000).to_string();

    // Five pods.
    let applied = kubectl(
        &kubeconfig,
        &["apply", "-f", "-"],
        Some(&deployment(5, &seconds)),
    );
    assert_eq!(applied, "deployment.apps/web created\n");
    let (done, said) = rollout_status(&kubeconfig);
    assert!(done && said.contains("successfully rolled out"), "{said}");
    wait_for_ready(&kubeconfig, 5, 30);
    assert_eq!(sleepers(&seconds), 5);

    // Up to 20, down to 2.
    kubectl(
        &kubeconfig,
        &["scale", "deployment/web", "--replicas=20"],
        None,
    );
    wait_for_ready(&kubeconfig, 20, 90);
    assert_eq!(sleepers(&seconds), 20);
    kubectl(
        &kubeconfig,
        &["scale", "deployment/web", "--replicas=2"],
        None,
    );
    wait_for_ready(&kubeconfig, 2, 60);
    let deadline = Instant::now() + Duration::from_secs(10);
    while sleepers(&seconds) != 2 {
        assert!(Instant::now() < deadline, "{} sleepers", sleepers(&seconds));
        std::thread::sleep(Duration::from_millis(100));
    }

    // A killed container is restarted in its pod; a deleted pod is
    // replaced by another.
    let pid = first_sleeper(&seconds);
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    wait_for_pods(&kubeconfig, "restarted", 60, |pods| {
        pods.len() == 2
            && pods.iter().all(is_ready)
            && pods
                .iter()
                .any(|p| p["status"]["containerStatuses"][0]["restartCount"] == 1)
    });
    let before: Vec<String> = pods(&kubeconfig)
        .iter()
        .map(|p| p["metadata"]["name"].as_str().unwrap().to_string())
        .collect();
    kubectl(
        &kubeconfig,
        &["delete", "pod", &before[0], "--wait=false"],
        None,
    );
    let after = wait_for_pods(&kubeconfig, "replaced", 60, |pods| {
        pods.len() == 2
            && pods.iter().all(is_ready)
            && pods
                .iter()
                .all(|p| p["metadata"]["name"] != before[0].as_str())
    });
    assert!(
        after
            .iter()
            .any(|p| p["metadata"]["name"] == before[1].as_str())
    );

    // The leader dies; the other leads, and nothing is created twice.
    let first = leader(&kubeconfig);
    let at = managers
        .iter()
        .position(|m| m.name == first)
        .unwrap_or_else(|| panic!("the leader is {first:?}"));
    managers.remove(at).kill();
    let deadline = Instant::now() + Duration::from_secs(20);
    while leader(&kubeconfig) == first {
        assert!(Instant::now() < deadline, "{first} still leads after 20 s");
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(leader(&kubeconfig), managers[0].name);
    kubectl(
        &kubeconfig,
        &["scale", "deployment/web", "--replicas=4"],
        None,
    );
    wait_for_ready(&kubeconfig, 4, 60);
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(pods(&kubeconfig).len(), 4, "pods created twice");
    assert_eq!(sleepers(&seconds), 4);

    // A rolling update, watched: never more than 4 + 1 pods, never fewer
    // than 4 - 1 ready.
    let watcher = Watcher::start(&kubeconfig);
    std::thread::sleep(Duration::from_secs(1));
    kubectl(
        &kubeconfig,
        &["set", "env", "deployment/web", "VERSION=2"],
        None,
    );
    let (done, said) = rollout_status(&kubeconfig);
    assert!(done, "{said}");
    wait_for_ready(&kubeconfig, 4, 30);
    let seen = watcher.stop();
    assert!(seen.len() > 8, "the watch saw too little: {seen:?}");
    let most = seen.iter().map(|s| s.0).max().unwrap();
    let fewest_ready = seen
        .iter()
        .skip_while(|s| s.1 < 4)
        .map(|s| s.1)
        .min()
        .unwrap();
    assert!(most <= 5, "{most} pods at once: {seen:?}");
    assert!(
        fewest_ready >= 3,
        "{fewest_ready} ready at one point: {seen:?}"
    );
    assert!(
        pods(&kubeconfig)
            .iter()
            .all(|p| p["spec"]["containers"][0]["env"][0]["value"] == "2")
    );

    // Undo: the first template again, as a new revision.
    let (undone, said) = kubectl_status(&kubeconfig, &["rollout", "undo", "deployment/web"], None);
    assert!(undone, "{said}");
    let (done, said) = rollout_status(&kubeconfig);
    assert!(done, "{said}");
    let pods_now = wait_for_ready(&kubeconfig, 4, 30);
    assert!(
        pods_now
            .iter()
            .all(|p| p["spec"]["containers"][0]["env"][0]["value"] == "1")
    );
    let history = kubectl(&kubeconfig, &["rollout", "history", "deployment/web"], None);
    let revisions: Vec<&str> = history
        .lines()
        .skip_while(|line| !line.starts_with("REVISION"))
        .skip(1)
        .filter_map(|line| line.split_whitespace().next())
        .collect();
    assert_eq!(revisions, ["2", "3"], "{history}");

    // A bad image: stuck at the deadline, the old pods still serve.
    kubectl(
        &kubeconfig,
        &[
            "patch",
            "deployment/web",
            "-p",
            r#"{"spec":{"progressDeadlineSeconds":3}}"#,
        ],
        None,
    );
    kubectl(
        &kubeconfig,
        &["set", "image", "deployment/web", "main=no-such-image"],
        None,
    );
    let (done, said) = rollout_status(&kubeconfig);
    assert!(
        !done && said.contains("exceeded its progress deadline"),
        "{said}"
    );
    let ready = pods(&kubeconfig).iter().filter(|p| is_ready(p)).count();
    assert!(ready >= 3, "{ready} ready");

    // Deleting the deployment deletes its replica sets and pods.
    kubectl(&kubeconfig, &["delete", "deployment", "web"], None);
    wait_for_pods(&kubeconfig, "gone", 60, |pods| pods.is_empty());
    let deadline = Instant::now() + Duration::from_secs(20);
    while !kubectl(&kubeconfig, &["get", "rs", "-o", "name"], None)
        .trim()
        .is_empty()
    {
        assert!(Instant::now() < deadline, "replica sets left");
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(sleepers(&seconds), 0);
    drop(managers);
    node.stop();
    leaks.assert_clean();
    drop(server);
}

/// The pid of one `sleep SECONDS` process.
fn first_sleeper(seconds: &str) -> i32 {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .find_map(|entry| {
            let pid: i32 = entry.file_name().to_str()?.parse().ok()?;
            let line = std::fs::read(entry.path().join("cmdline")).ok()?;
            let argv: Vec<&[u8]> = line.split(|b| *b == 0).filter(|a| !a.is_empty()).collect();
            (argv.len() == 2 && argv[0].ends_with(b"sleep") && argv[1] == seconds.as_bytes())
                .then_some(pid)
        })
        .expect("a sleeper")
}

#[test]
fn pods_of_a_lost_node_are_recreated_on_the_other() {
    assert!(
        testkit::is_root(),
        "\n\n*** `k8s-mini node` runs real pods: this test needs root ***\n\n"
    );
    let tmp = tempfile::tempdir().unwrap();
    let server = ApiServer::start(&tmp.path().join("api"), &["--in-memory"]);
    let kubeconfig = tmp.path().join("kubeconfig");
    std::fs::write(&kubeconfig, testkit::kubeconfig(&server.url)).unwrap();
    let names = ["a", "b"].map(|n| format!("lost-{n}-{}", std::process::id()));
    let datas = ["a", "b"].map(|n| tmp.path().join(n));
    let leaks = [0, 1].map(|i| node_leaks(&datas[i], &names[i]));
    let _cleanup = Cleanup(&[&leaks[0], &leaks[1]]);
    let agent = |i: usize| {
        Node::start(
            &datas[i],
            &server.url,
            &names[i],
            &["--lease-interval", "1s", "--drain-on-exit"],
        )
    };
    let lost = agent(0);
    let kept = agent(1);
    let _scheduler = Component::start("scheduler", &["scheduler", "--server", &server.url]);
    let _manager = controller_manager(&server.url, "cm");
    let seconds = (600_000 + std::process::id() % 100_000).to_string();
    kubectl(
        &kubeconfig,
        &["apply", "-f", "-"],
        Some(&deployment(4, &seconds)),
    );
    let placed = wait_for_ready(&kubeconfig, 4, 60);
    let on_lost = placed
        .iter()
        .filter(|p| p["spec"]["nodeName"] == names[0].as_str())
        .count();
    assert!(on_lost > 0, "no pod on the node to lose");

    // The agent dies; its pods run on as processes (a partitioned node).
    lost.kill();
    assert_eq!(sleepers(&seconds), 4);
    // Grace (3 s) + toleration (2 s) + the pods' grace (1 s) + a margin.
    wait_for_pods(&kubeconfig, "all on the kept node", 30, |pods| {
        pods.len() == 4
            && pods.iter().all(is_ready)
            && pods
                .iter()
                .all(|p| p["spec"]["nodeName"] == names[1].as_str())
    });
    let status = kubectl(
        &kubeconfig,
        &[
            "get",
            "node",
            &names[0],
            "-o",
            "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}",
        ],
        None,
    );
    assert_eq!(status, "Unknown");
    assert_eq!(
        sleepers(&seconds),
        4 + on_lost,
        "the lost node's pods still run"
    );

    // It comes back: its stale pods go, and its taints.
    let lost = agent(0);
    let deadline = Instant::now() + Duration::from_secs(30);
    while sleepers(&seconds) != 4 {
        assert!(Instant::now() < deadline, "stale pods still run");
        std::thread::sleep(Duration::from_millis(100));
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let taints = kubectl(
            &kubeconfig,
            &["get", "node", &names[0], "-o", "jsonpath={.spec.taints}"],
            None,
        );
        if !taints.contains("unreachable") {
            break;
        }
        assert!(Instant::now() < deadline, "still tainted: {taints}");
        std::thread::sleep(Duration::from_millis(200));
    }
    kubectl(&kubeconfig, &["delete", "deployment", "web"], None);
    wait_for_pods(&kubeconfig, "gone", 60, |pods| pods.is_empty());
    lost.stop();
    kept.stop();
    for leaks in &leaks {
        leaks.assert_clean();
    }
    drop(server);
}
