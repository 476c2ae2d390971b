//! `k8s-mini node` end to end: the built binary registers a node with a
//! `k8s-mini apiserver` and runs the pods bound to it; killed (SIGKILL) or
//! stopped (SIGTERM), it leaves them running, and its next run adopts them
//! (not restarted) and removes those deleted meanwhile; stopped with
//! `--drain-on-exit`, it deletes its pods and leaves nothing behind. (The
//! agent's behaviour in detail is chapter 08's suite.)

mod api_server;
mod node_agent;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use api_server::ApiServer;
use node_agent::{
    Cleanup, Node, identity, kubectl, node_leaks, pod_cgroups, same_identity, sleeping,
    wait_for_sleeper, wait_until_ready, wait_until_running,
};

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
    let leaks = node_leaks(&data, &name);
    let _cleanup = Cleanup(&[&leaks]);
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
    same_identity(&kubeconfig, "keeper", &before);
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
    same_identity(&kubeconfig, "keeper", &before);
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

/// Two agents started at the same moment, without `--pod-cidr`, pick two
/// different free subnets: the choice is made under a machine-wide lock.
#[test]
fn agents_starting_together_take_different_pod_subnets() {
    assert!(
        testkit::is_root(),
        "\n\n*** `k8s-mini node` makes bridges: this test needs root ***\n\n"
    );
    let tmp = tempfile::tempdir().unwrap();
    let server = ApiServer::start(&tmp.path().join("api"), &["--in-memory"]);
    let kubeconfig = tmp.path().join("kubeconfig");
    std::fs::write(&kubeconfig, testkit::kubeconfig(&server.url)).unwrap();
    let names = [0, 1].map(|n| format!("twin{n}-{}", std::process::id()));
    let leaks = names
        .clone()
        .map(|name| node_leaks(&tmp.path().join(&name), &name));
    let _cleanup = Cleanup(&[&leaks[0], &leaks[1]]);
    let nodes: Vec<Node> = std::thread::scope(|scope| {
        let started: Vec<_> = names
            .iter()
            .map(|name| {
                let data = tmp.path().join(name);
                let url = server.url.clone();
                scope.spawn(move || Node::start(&data, &url, name, &["--drain-on-exit"]))
            })
            .collect();
        started.into_iter().map(|t| t.join().unwrap()).collect()
    });
    let cidrs: Vec<String> = names
        .iter()
        .map(|name| {
            kubectl(
                &kubeconfig,
                &["get", "node", name, "-o", "jsonpath={.spec.podCIDR}"],
                None,
            )
        })
        .collect();
    assert!(
        cidrs.iter().all(|cidr| cidr.starts_with("10.244.")),
        "{cidrs:?}"
    );
    assert_ne!(cidrs[0], cidrs[1], "each agent has a subnet of its own");
    for node in nodes {
        node.stop();
    }
    for leaks in &leaks {
        leaks.assert_clean();
    }
}
