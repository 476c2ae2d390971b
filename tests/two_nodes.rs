//! Two `k8s-mini node` agents (two nodes, each with its own pod subnet),
//! one `k8s-mini scheduler` and one `k8s-mini apiserver`, all processes of
//! their own: pods created without a node spread over both nodes and run
//! on the one they were bound to. Then the API server crashes (SIGKILL)
//! and starts again on the same data: the agents' and the scheduler's
//! watches cannot resume from before the crash (410 Expired, checked
//! here), so they list again; one agent, killed meanwhile and started
//! again while the server is down, waits for it and adopts its pods; no
//! pod is started twice, and new pods and deletions reach the agents.
//! Afterwards nothing of either node is left.

mod api_server;
mod node_agent;

use std::time::{Duration, Instant};

use api_server::ApiServer;
use node_agent::{
    Cleanup, Component, Node, identity, kubectl, node_leaks, pod_cgroups, same_identity, sleepers,
    wait_for_sleeper, wait_until_running,
};

/// A pod running `sleep SECONDS` (a command line no other test runs), on
/// `node`, or unscheduled when `None`.
fn pod(name: &str, seconds: &str, node: Option<&str>) -> String {
    let node = node
        .map(|node| format!("  nodeName: {node}\n"))
        .unwrap_or_default();
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  labels:\n    app: spread\nspec:\n{node}  terminationGracePeriodSeconds: 2\n  containers:\n  - name: main\n    image: busybox\n    command: [sleep, \"{seconds}\"]\n    resources:\n      requests:\n        cpu: 100m\n"
    )
}

/// Each pod's node, address and uid, by name.
fn placements(kubeconfig: &std::path::Path) -> Vec<(String, String, String, String)> {
    let text = kubectl(
        kubeconfig,
        &[
            "get",
            "pods",
            "-o",
            "jsonpath={range .items[*]}{.metadata.name} {.spec.nodeName} {.status.podIP} {.metadata.uid}{\"\\n\"}{end}",
        ],
        None,
    );
    text.lines()
        .map(|line| {
            let parts: Vec<&str> = line.split(' ').collect();
            assert_eq!(parts.len(), 4, "{text}");
            let [name, node, ip, uid] = [parts[0], parts[1], parts[2], parts[3]].map(String::from);
            (name, node, ip, uid)
        })
        .collect()
}

/// Whether `ip` lies in `cidr` (IPv4, `a.b.c.d/n`).
fn inside(ip: &str, cidr: &str) -> bool {
    let (network, prefix) = cidr.split_once('/').expect("a CIDR");
    let prefix: u32 = prefix.parse().expect("a prefix length");
    let mask = u32::MAX.checked_shl(32 - prefix).unwrap_or(0);
    let ip: std::net::Ipv4Addr = ip.parse().expect("an IPv4 address");
    let network: std::net::Ipv4Addr = network.parse().expect("an IPv4 network");
    u32::from(ip) & mask == u32::from(network) & mask
}

#[test]
fn pods_spread_over_two_nodes_and_survive_an_api_server_crash() {
    assert!(
        testkit::is_root(),
        "\n\n*** `k8s-mini node` runs real pods: this test needs root ***\n\n"
    );
    let tmp = tempfile::tempdir().unwrap();
    let api_data = tmp.path().join("api");
    // Not in memory: the server comes back with what it had.
    let server = ApiServer::start(&api_data, &[]);
    let kubeconfig = tmp.path().join("kubeconfig");
    std::fs::write(&kubeconfig, testkit::kubeconfig(&server.url)).unwrap();
    let names = ["a", "b"].map(|n| format!("two-{n}-{}", std::process::id()));
    let datas = ["a", "b"].map(|n| tmp.path().join(n));
    let leaks = [0, 1].map(|i| node_leaks(&datas[i], &names[i]));
    let _cleanup = Cleanup(&[&leaks[0], &leaks[1]]);
    // One after the other: the second takes the next free subnet. A lease
    // renewed every second keeps the store's revision moving.
    let agent = |i: usize| {
        Node::start(
            &datas[i],
            &server.url,
            &names[i],
            &["--lease-interval", "1s", "--drain-on-exit"],
        )
    };
    let agents = [agent(0), agent(1)];
    let cidrs = names.clone().map(|name| {
        kubectl(
            &kubeconfig,
            &["get", "node", &name, "-o", "jsonpath={.spec.podCIDR}"],
            None,
        )
    });
    assert_ne!(cidrs[0], cidrs[1], "the nodes share a pod subnet");
    let _scheduler = Component::start("scheduler", &["scheduler", "--server", &server.url]);

    // Six pods for the scheduler (100m each of 1 cpu per node: the least
    // allocated node wins each time, so they spread).
    let base = 400_000 + (std::process::id() % 10_000) * 10;
    let seconds = |n: u32| (base + n).to_string();
    let spread: Vec<String> = (0..6).map(|n| format!("spread-{n}")).collect();
    let manifests: Vec<String> = (0..6)
        .map(|n| pod(&spread[n as usize], &seconds(n), None))
        .collect();
    kubectl(
        &kubeconfig,
        &["apply", "-f", "-"],
        Some(&manifests.join("---\n")),
    );
    for name in &spread {
        wait_until_running(&kubeconfig, name);
    }
    let placed = placements(&kubeconfig);
    for i in 0..2 {
        let here: Vec<_> = placed.iter().filter(|p| p.1 == names[i]).collect();
        assert!(
            here.len() >= 2,
            "node {} runs {} of the 6 pods: {placed:?}",
            names[i],
            here.len()
        );
        // Each pod runs on its node: its address from that node's subnet,
        // its cgroups under that node's instance, none under the other's.
        for (name, _, ip, uid) in here {
            assert!(inside(ip, &cidrs[i]), "{name}: {ip} is not in {}", cidrs[i]);
            let instance = format!("node-{}", names[i]);
            let other = format!("node-{}", names[1 - i]);
            assert!(
                !pod_cgroups(&instance, uid).is_empty(),
                "{name} on {instance}"
            );
            assert!(
                pod_cgroups(&other, uid).is_empty(),
                "{name} also on {other}"
            );
        }
    }
    for n in 0..6 {
        assert_eq!(sleepers(&seconds(n)), 1, "spread-{n} runs once");
    }
    let before: Vec<String> = spread
        .iter()
        .map(|name| identity(&kubeconfig, name))
        .collect();

    // The API server crashes and comes back on the same address and data.
    // (kubectl prints a list of its own, without the server's version.)
    let (status, list) = server.request("GET", "/api/v1/pods", None, "");
    assert!(status.contains("200"), "{status} {list}");
    let list: serde_json::Value = serde_json::from_str(&list).expect("a PodList");
    let version = list["metadata"]["resourceVersion"]
        .as_str()
        .expect("the list's version")
        .to_string();
    std::thread::sleep(Duration::from_millis(2500)); // leases renew meanwhile
    let address = server.url.trim_start_matches("http://").to_string();
    let url = server.url.clone();
    server.kill();
    // Meanwhile the first agent crashes too, and starts again while there
    // is no server: it waits for it, then adopts its pods.
    let [first, second] = agents;
    first.kill();
    let (data, name) = (datas[0].clone(), names[0].clone());
    let first = std::thread::spawn(move || {
        Node::start(
            &data,
            &url,
            &name,
            &["--lease-interval", "1s", "--drain-on-exit"],
        )
    });
    std::thread::sleep(Duration::from_secs(2));
    let server = ApiServer::start_on(&address, &api_data, &[]);
    let agents = [first.join().expect("the first agent starts again"), second];
    // Its history starts at the restart: a watch from before gets 410, so
    // the agents and the scheduler must list again to go on.
    let (status, body) = server.request(
        "GET",
        &format!("/api/v1/pods?watch=1&resourceVersion={version}&timeoutSeconds=2"),
        None,
        "",
    );
    assert!(
        status.contains("200") && body.contains("\"code\":410") && body.contains("Expired"),
        "{status} {body}"
    );
    // Nothing restarted, nothing doubled.
    std::thread::sleep(Duration::from_secs(3));
    for (name, before) in spread.iter().zip(&before) {
        same_identity(&kubeconfig, name, before);
    }
    for n in 0..6 {
        assert_eq!(sleepers(&seconds(n)), 1, "spread-{n} runs once");
    }
    // Both agents and the scheduler hear of new pods again...
    let after = [
        pod("after-a", &seconds(6), Some(&names[0])),
        pod("after-b", &seconds(7), Some(&names[1])),
        pod("after-scheduled", &seconds(8), None),
    ];
    kubectl(
        &kubeconfig,
        &["apply", "-f", "-"],
        Some(&after.join("---\n")),
    );
    for name in ["after-a", "after-b", "after-scheduled"] {
        wait_until_running(&kubeconfig, name);
    }
    // ...and of deletions: one pod of each node.
    let placed = placements(&kubeconfig);
    let victims: Vec<&(String, String, String, String)> = (0..2)
        .map(|i| {
            placed
                .iter()
                .find(|p| p.0.starts_with("spread-") && p.1 == names[i])
                .expect("a spread pod on each node")
        })
        .collect();
    for victim in &victims {
        kubectl(
            &kubeconfig,
            &["delete", "pod", &victim.0, "--wait=false"],
            None,
        );
    }
    for victim in &victims {
        let n: u32 = victim.0.trim_start_matches("spread-").parse().unwrap();
        wait_for_sleeper(&seconds(n), false, 30);
    }

    // Everything goes: the pods through the API, then the agents.
    kubectl(
        &kubeconfig,
        &["delete", "pods", "--all", "--timeout=60s"],
        None,
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while !placements(&kubeconfig).is_empty() {
        assert!(
            Instant::now() < deadline,
            "pods left: {:?}",
            placements(&kubeconfig)
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    for n in 0..9 {
        assert_eq!(sleepers(&seconds(n)), 0, "pod {n} still runs");
    }
    for agent in agents {
        agent.stop();
    }
    for leaks in &leaks {
        leaks.assert_clean();
    }
    drop(server);
}
