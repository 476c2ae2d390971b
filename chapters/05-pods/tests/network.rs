//! The pod network: subnets, host-local IPAM, a bridge per node and a veth
//! pair per pod.
//! Holes exercised: `Subnet::from_str` and `Subnet::candidates`
//! (src/network/subnet.rs), `claim` (src/network/ipam.rs), `pod_routes`
//! (src/network/node.rs).
//!
//! The tests that build real networks need root. Most of them give their
//! node a network namespace of its own (held by an `unshare --net sleep`
//! process), as k8s-mini does when it runs several nodes on one machine:
//! there, every test can use the book's addresses (10.244.0.0/24) at the
//! same time as the others, and the snapshots show them as they are. The
//! two tests in the host's own namespace each pick a /24 of 10.250.0.0/16
//! that no interface of the host uses: two bridges with the same subnet in
//! one namespace would make routing there ambiguous.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use chapter_05::pods::network::{
    Ipam, Namespace, NetworkError, NodeConfig, NodeNetwork, PodAddress, Subnet, bridge_name,
    instances, leftovers, pod_routes, remove_leftovers,
};
use insta::{assert_snapshot, with_settings};

fn subnet(text: &str) -> Subnet {
    text.parse().unwrap()
}

fn ip(text: &str) -> Ipv4Addr {
    text.parse().unwrap()
}

// ---------------------------------------------------------------- subnets

#[test]
fn subnets_are_written_in_cidr_notation() {
    let inputs = [
        "10.244.0.0/24",
        "10.244.0.0/16",
        "10.96.0.0/12",
        "192.168.7.8/29",
        "0.0.0.0/0",
        "10.0.0.7/32",
        "10.0.0.6/31",
        "10.244.0.5/24",
        "10.244.1.0/16",
        "10.244.0.0",
        "10.244.0.0/33",
        "10.244.0.0/-1",
        "10.244.0/24",
        "10.244.0.256/24",
        "",
    ];
    let report = inputs
        .iter()
        .map(|text| match text.parse::<Subnet>() {
            Ok(subnet) if subnet.pod_capacity() == 0 => {
                format!("{text:<16} ok: {subnet}, too small for a gateway and a pod")
            }
            Ok(subnet) => format!(
                "{text:<16} ok: {subnet}, gateway {}, broadcast {}, {} pod addresses",
                subnet.gateway(),
                subnet.broadcast(),
                subnet.pod_capacity()
            ),
            Err(error) => format!("{text:<16} {error}"),
        })
        .collect::<Vec<_>>()
        .join("\n");
    with_settings!({
        description => "each text parsed as a Subnet: the subnet with its gateway (first address), broadcast (last) and room for pods, or the error",
        omit_expression => true,
    }, {
        assert_snapshot!(report);
    });
}

#[test]
fn pod_addresses_skip_the_network_the_gateway_and_the_broadcast() {
    let cases: [(&str, Option<&str>); 7] = [
        ("10.244.0.0/29", None),
        ("10.244.0.0/29", Some("10.244.0.3")),
        ("10.244.0.0/29", Some("10.244.0.6")),
        ("10.244.0.0/29", Some("10.244.0.7")),
        ("10.244.0.0/29", Some("10.99.0.1")),
        ("10.244.0.0/30", None),
        ("10.244.0.0/31", None),
    ];
    let report = cases
        .iter()
        .map(|(cidr, last)| {
            let order = subnet(cidr)
                .candidates(last.map(ip))
                .iter()
                .map(|ip| ip.to_string())
                .collect::<Vec<_>>();
            format!(
                "{cidr}, last handed out {}:\n  {}",
                last.unwrap_or("none"),
                if order.is_empty() {
                    "(no address for a pod)".to_string()
                } else {
                    order.join(" ")
                }
            )
        })
        .collect::<Vec<_>>()
        .join("\n");
    with_settings!({
        description => "Subnet::candidates: the addresses an allocator tries, in order, after the address it handed out last",
        omit_expression => true,
    }, {
        assert_snapshot!(report);
    });
}

#[test]
fn the_routes_a_pod_gets() {
    let cases = [
        ("10.244.0.0/24", vec!["10.244.0.0/16", "10.96.0.0/16"]),
        ("10.244.3.0/24", vec!["10.244.0.0/16", "10.96.0.0/12"]),
        ("10.244.0.0/24", vec!["10.244.0.0/24", "10.96.0.0/16"]),
        (
            "10.244.0.0/24",
            vec!["10.244.0.128/25", "10.96.0.0/16", "10.96.0.0/16"],
        ),
        ("10.244.0.0/24", vec![]),
    ];
    let report = cases
        .iter()
        .map(|(pod_cidr, cluster)| {
            let cluster: Vec<Subnet> = cluster.iter().map(|cidr| subnet(cidr)).collect();
            let routes = pod_routes(subnet(pod_cidr), &cluster)
                .iter()
                .map(|route| format!("  {} via {}", route.destination, route.gateway))
                .collect::<Vec<_>>();
            format!(
                "pod CIDR {pod_cidr}, cluster CIDRs [{}]:\n{}",
                cluster
                    .iter()
                    .map(|c| c.to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
                if routes.is_empty() {
                    "  (none)".to_string()
                } else {
                    routes.join("\n")
                }
            )
        })
        .collect::<Vec<_>>()
        .join("\n");
    with_settings!({
        description => "pod_routes: the routes a pod gets besides its own subnet's (which comes with its address)",
        omit_expression => true,
    }, {
        assert_snapshot!(report);
    });
}

// ------------------------------------------------------------------- IPAM

/// The IPAM directory, one line per file: name and content.
fn listing(dir: &Path) -> String {
    let mut files: Vec<(String, String)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| {
            let entry = entry.unwrap();
            let content = std::fs::read_to_string(entry.path()).unwrap();
            (
                entry.file_name().to_string_lossy().into_owned(),
                content.escape_debug().to_string(),
            )
        })
        .collect();
    files.sort_by_key(|(name, _)| {
        (
            name.parse::<Ipv4Addr>().map_or(u32::MAX, u32::from),
            name.clone(),
        )
    });
    files
        .iter()
        .map(|(name, content)| format!("  {name:<17} \"{content}\""))
        .collect::<Vec<_>>()
        .join("\n")
}

fn outcome(result: Result<Ipv4Addr, NetworkError>) -> String {
    match result {
        Ok(ip) => ip.to_string(),
        Err(error) => format!("error: {error}"),
    }
}

#[test]
fn ipam_hands_out_each_address_once_and_keeps_them_on_disk() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("networks/lab");
    let cidr = subnet("10.244.0.0/29");
    let mut report = String::new();
    let ipam = Ipam::open(&dir, cidr).unwrap();
    for pod in ["pod-a", "pod-b", "pod-c", "pod-d", "pod-e", "pod-f"] {
        report += &format!("allocate {pod}: {}\n", outcome(ipam.allocate(pod)));
    }
    report += &format!("release pod-b: {:?}\n", ipam.release("pod-b").unwrap());
    report += &format!(
        "release pod-b again: {:?}\n",
        ipam.release("pod-b").unwrap()
    );
    report += &format!("files:\n{}\n", listing(&dir));
    // An agent that restarts opens the same directory afresh.
    let reopened = Ipam::open(&dir, cidr).unwrap();
    report += "-- reopened --\n";
    report += &format!("allocate pod-g: {}\n", outcome(reopened.allocate("pod-g")));
    report += &format!("allocate pod-h: {}\n", outcome(reopened.allocate("pod-h")));
    report += &format!(
        "address of pod-a: {:?}\n",
        reopened.address_of("pod-a").unwrap()
    );
    report += &format!("files:\n{}", listing(&dir));
    with_settings!({
        description => "host-local IPAM on 10.244.0.0/29 (pods may get .2 to .6): six pods, a release, then a second Ipam over the same directory, as after a restart of the agent",
        omit_expression => true,
    }, {
        assert_snapshot!(report);
    });
}

#[test]
fn allocators_running_at_once_never_share_an_address() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("networks/lab");
    let cidr = subnet("10.244.0.0/27"); // 29 pod addresses
    let results: Vec<(String, Result<Ipv4Addr, String>)> = std::thread::scope(|scope| {
        let threads: Vec<_> = (0..8)
            .map(|thread| {
                let dir = &dir;
                scope.spawn(move || {
                    // Each thread is an allocator of its own, as two agents
                    // (or an agent and its restarted self) would be.
                    let ipam = Ipam::open(dir, cidr).unwrap();
                    (0..5)
                        .map(|n| {
                            let pod = format!("pod-{thread}-{n}");
                            let result = ipam.allocate(&pod).map_err(|e| e.to_string());
                            (pod, result)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        threads
            .into_iter()
            .flat_map(|thread| thread.join().unwrap())
            .collect()
    });
    let mut given: Vec<Ipv4Addr> = results.iter().filter_map(|(_, r)| r.clone().ok()).collect();
    let refused: Vec<&String> = results
        .iter()
        .filter_map(|(_, r)| r.as_ref().err())
        .collect();
    given.sort();
    let before = given.len();
    given.dedup();
    assert_eq!(
        before,
        given.len(),
        "an address was handed out twice: {results:?}"
    );
    assert_eq!(
        given.len(),
        29,
        "40 pods on 29 addresses: every address should be used: {results:?}"
    );
    assert_eq!(refused.len(), 11, "{results:?}");
    assert!(
        refused.iter().all(|error| error.contains("exhausted")),
        "{refused:?}"
    );
    let on_disk = Ipam::open(&dir, cidr).unwrap().allocations().unwrap();
    for (pod, result) in &results {
        if let Ok(ip) = result {
            assert_eq!(
                on_disk.get(ip),
                Some(pod),
                "the file of {ip} names another pod"
            );
        }
    }
}

// ------------------------------------------------- namespaces for the tests

/// A process holding a network namespace of its own. It carries the test's
/// instance name in its environment, so that the leak check finds it if it
/// is left running.
struct Holder {
    child: Child,
}

impl Holder {
    fn start(marker: &str) -> Holder {
        let child = Command::new("unshare")
            .args(["--net", "sleep", "600"])
            .env("K8S_MINI_TEST_INSTANCE", marker)
            .stdin(Stdio::null())
            .spawn()
            .expect("cannot run unshare (util-linux)");
        let holder = Holder { child };
        let own = std::fs::metadata("/proc/self/ns/net").unwrap().ino();
        for _ in 0..1000 {
            match std::fs::metadata(holder.path()) {
                Ok(ns) if ns.ino() != own => return holder,
                _ => std::thread::sleep(Duration::from_millis(5)),
            }
        }
        panic!("`unshare --net` did not make a network namespace");
    }

    /// `/proc/<pid>/ns/net`.
    fn path(&self) -> PathBuf {
        PathBuf::from(format!("/proc/{}/ns/net", self.child.id()))
    }

    fn namespace(&self) -> Namespace {
        Namespace::open(&self.path()).unwrap()
    }

    /// Runs `ip` with these arguments inside the namespace.
    fn ip(&self, args: &str) -> String {
        let output = Command::new("nsenter")
            .arg(format!("--net={}", self.path().display()))
            .arg("ip")
            .args(args.split_whitespace())
            .output()
            .expect("cannot run nsenter (util-linux) and ip (iproute2)");
        format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Holder {
    fn drop(&mut self) {
        self.stop();
    }
}

fn needs_root() {
    assert!(
        testkit::is_root(),
        "\n\n*** this test needs root: it creates network namespaces, a bridge and veth pairs. \
         Run the chapter as root, for example: sudo -E env \"PATH=$PATH\" cargo workshop check 05 ***\n\n"
    );
}

/// A node whose network lives in a namespace of its own, with the book's
/// addresses; its instance is `lab` (nothing else shares the namespace).
struct Lab {
    node: Holder,
    network: Option<NodeNetwork>,
    tmp: tempfile::TempDir,
    marker: String,
    leaks: testkit::LeakCheck,
}

impl Lab {
    fn new(pod_cidr: &str) -> Lab {
        needs_root();
        let marker = testkit::unique_instance("ch05-net");
        let leaks = testkit::LeakCheck::new(&marker);
        let node = Holder::start(&marker);
        let tmp = tempfile::tempdir().unwrap();
        let mut lab = Lab {
            node,
            network: None,
            tmp,
            marker,
            leaks,
        };
        lab.network = Some(NodeNetwork::ensure(lab.config(pod_cidr)).expect("NodeNetwork::ensure"));
        lab
    }

    fn config(&self, pod_cidr: &str) -> NodeConfig {
        NodeConfig {
            instance: "lab".into(),
            pod_cidr: subnet(pod_cidr),
            cluster_cidrs: vec![subnet("10.244.0.0/16"), subnet("10.96.0.0/16")],
            data_dir: self.tmp.path().to_path_buf(),
            netns: Some(self.node.path()),
        }
    }

    fn network(&self) -> &NodeNetwork {
        self.network.as_ref().unwrap()
    }

    fn pod(&self) -> Holder {
        Holder::start(&self.marker)
    }

    fn finish(mut self) {
        if let Some(network) = self.network.take() {
            network.remove().expect("NodeNetwork::remove");
        }
        assert!(
            !self.tmp.path().join("networks/lab").exists(),
            "remove left the IPAM directory"
        );
        self.node.stop();
        self.leaks.assert_clean();
    }
}

/// Waits (up to 5 s) until `eth0` is up in the pod, as the kernel reports
/// it a moment after the link is brought up; then shows what the pod sees.
fn pod_view(pod: &Holder) -> String {
    for _ in 0..500 {
        if pod.ip("-4 -br addr show dev eth0").contains(" UP ") {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    // Without the padding of `ip`'s columns.
    let tidy = |text: String| -> String {
        text.lines()
            .map(|line| line.split_whitespace().collect::<Vec<_>>().join(" ") + "\n")
            .collect()
    };
    format!(
        "$ ip -4 -br addr\n{}$ ip route\n{}",
        tidy(pod.ip("-4 -br addr")),
        tidy(pod.ip("route"))
    )
}

/// The interfaces plugged into `bridge`, by name.
fn ports(node: &Holder, bridge: &str) -> String {
    let listing = node.ip(&format!("-o link show master {bridge}"));
    let names: Vec<&str> = listing
        .lines()
        .filter_map(|line| line.split(": ").nth(1))
        .map(|name| name.split('@').next().unwrap_or(name))
        .collect();
    if names.is_empty() {
        "(none)".into()
    } else {
        names.join(" ")
    }
}

/// The IPv4 addresses of `device`.
fn addresses(holder: &Holder, device: &str) -> String {
    let listing = holder.ip(&format!("-4 -o addr show dev {device}"));
    let mut words = listing.split_whitespace();
    let mut found = Vec::new();
    while let Some(word) = words.next() {
        if word == "inet" {
            found.extend(words.next());
        }
    }
    found.join(" ")
}

fn describe(address: &PodAddress) -> String {
    format!(
        "ip {}, subnet {}, gateway {}, interface {}, on the node {}, routes: {}",
        address.ip,
        address.subnet,
        address.gateway,
        address.interface,
        address.host_interface,
        address
            .routes
            .iter()
            .map(|route| format!("{} via {}", route.destination, route.gateway))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

// ------------------------------------------------------- a node's network

#[test]
fn a_pod_gets_eth0_with_its_address_and_the_cluster_routes() {
    let lab = Lab::new("10.244.0.0/24");
    let pod = lab.pod();
    pod.ip("link set lo up");
    let own_namespace = || std::fs::metadata("/proc/thread-self/ns/net").unwrap().ino();
    let before = own_namespace();
    let address = lab
        .network()
        .attach("default/web-1", &pod.path())
        .expect("attach");
    assert_eq!(
        own_namespace(),
        before,
        "attach moved the calling thread into another network namespace: enter namespaces on threads of your own"
    );
    let view = pod_view(&pod);
    let bridge = lab.network().bridge_name();
    let alias = lab
        .node
        .ip(&format!("-d link show dev {}", address.host_interface));
    let alias = alias
        .lines()
        .find(|line| line.trim_start().starts_with("alias"))
        .unwrap_or("(no alias)")
        .trim();
    let report = format!(
        "attach returned:\n  {}\n\nin the pod:\n{view}\nin the node:\n  bridge {bridge}, address {}, ports: {}\n  {} has the {alias}\n",
        describe(&address),
        addresses(&lab.node, bridge),
        ports(&lab.node, bridge),
        address.host_interface,
    );
    lab.network().detach("default/web-1").unwrap();
    assert_eq!(
        ports(&lab.node, lab.network().bridge_name()),
        "(none)",
        "detach left a veth on the bridge"
    );
    assert!(
        !pod.ip("link show").contains("eth0"),
        "detach left eth0 in the pod"
    );
    drop(pod);
    with_settings!({
        description => "node instance `lab`, pod CIDR 10.244.0.0/24, cluster CIDRs 10.244.0.0/16 and 10.96.0.0/16: pod default/web-1 is attached; what it got, what it sees and what the node sees",
        omit_expression => true,
        filters => vec![(r"@if\d+", "@if<N>")],
    }, {
        assert_snapshot!(report);
    });
    lab.finish();
}

/// Connects from inside `from` to `to`, accepts on `listener`, sends a
/// greeting back; says what happened.
fn connect(from: &Namespace, to: SocketAddr, listener: Option<&TcpListener>) -> String {
    let stream = from
        .run(move || TcpStream::connect_timeout(&to, Duration::from_secs(5)))
        .unwrap();
    let mut stream = match stream {
        Ok(stream) => stream,
        Err(error) => return format!("refused: {error}"),
    };
    let listener = listener.expect("connected to nobody");
    let (mut accepted, peer) = listener.accept().unwrap();
    accepted.write_all(b"hello").unwrap();
    drop(accepted);
    let mut greeting = String::new();
    stream.read_to_string(&mut greeting).unwrap();
    format!(
        "connected, the other side saw {}, answered {greeting:?}",
        peer.ip()
    )
}

#[test]
fn pods_reach_each_other_and_the_node_but_nothing_else() {
    let lab = Lab::new("10.244.0.0/24");
    let (a, b) = (lab.pod(), lab.pod());
    let ip_a = lab.network().attach("pod-a", &a.path()).unwrap().ip;
    let ip_b = lab.network().attach("pod-b", &b.path()).unwrap().ip;
    let (ns_a, ns_b) = (a.namespace(), b.namespace());
    let gateway = lab.network().gateway();

    let in_a = ns_a
        .run(move || TcpListener::bind((ip_a, 0)))
        .unwrap()
        .unwrap();
    let in_node = lab
        .node
        .namespace()
        .run(move || TcpListener::bind((gateway, 0)))
        .unwrap()
        .unwrap();
    let port_a = in_a.local_addr().unwrap().port();
    let port_node = in_node.local_addr().unwrap().port();
    let outside: SocketAddr = (ip("192.0.2.1"), 80).into();
    let report = [
        format!(
            "pod-b ({ip_b}) -> pod-a ({ip_a}): {}",
            connect(&ns_b, (ip_a, port_a).into(), Some(&in_a))
        ),
        format!(
            "pod-a ({ip_a}) -> node ({gateway}): {}",
            connect(&ns_a, (gateway, port_node).into(), Some(&in_node))
        ),
        format!(
            "pod-a ({ip_a}) -> 192.0.2.1 (outside the cluster): {}",
            connect(&ns_a, outside, None)
        ),
    ]
    .join("\n");
    drop((ns_a, ns_b, in_a, in_node));
    lab.network().detach("pod-a").unwrap();
    lab.network().detach("pod-b").unwrap();
    drop((a, b));
    with_settings!({
        description => "two pods on one node (pod CIDR 10.244.0.0/24): TCP from pod-b to a listener in pod-a, from pod-a to a listener on the node's bridge address, and from pod-a to an address outside the cluster (there is no default route)",
        omit_expression => true,
    }, {
        assert_snapshot!(report);
    });
    lab.finish();
}

#[test]
fn a_restarted_agent_finds_its_bridge_and_the_addresses_in_use() {
    let mut lab = Lab::new("10.244.0.0/24");
    let pods = [lab.pod(), lab.pod(), lab.pod()];
    let mut report = String::new();
    report += &format!(
        "first agent: pod-a {}, pod-b {}\n",
        lab.network().attach("pod-a", &pods[0].path()).unwrap().ip,
        lab.network().attach("pod-b", &pods[1].path()).unwrap().ip
    );
    // The agent restarts: a new NodeNetwork over the same namespace and
    // data directory.
    drop(lab.network.take());
    let again = NodeNetwork::ensure(lab.config("10.244.0.0/24")).expect("ensure again");
    report += &format!("second agent: bridge {}\n", again.bridge_name());
    report += &format!(
        "  pod-c gets {}\n",
        again.attach("pod-c", &pods[2].path()).unwrap().ip
    );
    report += &format!(
        "  pod-a again: {}\n",
        again.attach("pod-a", &pods[0].path()).unwrap_err()
    );
    report += &format!("  allocations: {:?}\n", again.ipam().allocations().unwrap());
    report += &format!("  bridge ports: {}", ports(&lab.node, again.bridge_name()));
    for pod in ["pod-a", "pod-b", "pod-c"] {
        again.detach(pod).unwrap();
    }
    lab.network = Some(again);
    drop(pods);
    with_settings!({
        description => "an agent attaches two pods and restarts; the new one finds the bridge, gives the next pod a fresh address and refuses to attach a pod twice",
        omit_expression => true,
    }, {
        assert_snapshot!(report);
    });
    lab.finish();
}

#[test]
fn errors_say_what_is_wrong() {
    let lab = Lab::new("10.244.0.0/30");
    let network = lab.network();
    let mut report = Vec::new();
    let mut show = |what: &str, result: Result<String, NetworkError>| {
        report.push(format!(
            "{what}:\n  {}",
            match result {
                Ok(ok) => format!("ok: {ok}"),
                Err(error) => error.to_string(),
            }
        ));
    };

    let first = lab.pod();
    show(
        "attach pod-1 on a /30",
        network
            .attach("pod-1", &first.path())
            .map(|a| a.ip.to_string()),
    );
    let second = lab.pod();
    show(
        "attach pod-2 on the same /30",
        network
            .attach("pod-2", &second.path())
            .map(|a| a.ip.to_string()),
    );
    assert_eq!(
        network.ipam().allocations().unwrap().len(),
        1,
        "a failed attach kept an address"
    );
    let mut gone = lab.pod();
    let gone_path = gone.path();
    gone.stop();
    show(
        "attach a pod whose namespace holder has exited",
        network
            .attach("pod-3", &gone_path)
            .map(|a| a.ip.to_string()),
    );
    show(
        "detach pod-1",
        network.detach("pod-1").map(|()| "detached".into()),
    );
    show(
        "detach pod-1 again",
        network.detach("pod-1").map(|()| "nothing to do".into()),
    );
    show(
        "attach pod-2 now",
        network
            .attach("pod-2", &second.path())
            .map(|a| a.ip.to_string()),
    );
    network.detach("pod-2").unwrap();

    let mut config = lab.config("10.244.0.0/31");
    show(
        "ensure with pod CIDR 10.244.0.0/31",
        NodeNetwork::ensure(config.clone()).map(|n| n.bridge_name().into()),
    );
    config.pod_cidr = subnet("10.244.0.0/24");
    config.cluster_cidrs.push(subnet("0.0.0.0/0"));
    show(
        "ensure with cluster CIDR 0.0.0.0/0",
        NodeNetwork::ensure(config.clone()).map(|n| n.bridge_name().into()),
    );
    let mut config = lab.config("10.244.0.0/24");
    config.instance = "someone".into();
    let theirs = bridge_name("someone");
    lab.node.ip(&format!("link add {theirs} type bridge"));
    lab.node
        .ip(&format!("link set {theirs} alias someone-elses-bridge"));
    show(
        &format!("ensure instance someone, whose bridge name {theirs} is taken"),
        NodeNetwork::ensure(config).map(|n| n.bridge_name().into()),
    );
    lab.node.ip(&format!("link del {theirs}"));
    drop((first, second));
    let report = report
        .join("\n")
        .replace(&gone_path.display().to_string(), "/proc/<pid>/ns/net");
    with_settings!({
        description => "what goes wrong, and what the errors say (node instance `lab`, pod CIDR 10.244.0.0/30: room for one pod)",
        omit_expression => true,
    }, {
        assert_snapshot!(report);
    });
    lab.finish();
}

// --------------------------------------------- in the host's own namespace

/// Deletes, when dropped, the instance's interfaces on the host: a test
/// that fails halfway must not leave bridges and veths on your machine, and
/// this cleanup does not rely on the code under test.
struct HostCleanup<'a>(&'a testkit::LeakCheck);

impl Drop for HostCleanup<'_> {
    fn drop(&mut self) {
        self.0.remove_interfaces();
    }
}

fn host_config(instance: &str, data_dir: &Path) -> NodeConfig {
    NodeConfig {
        instance: instance.into(),
        // A /24 of 10.250.0.0/16 that no interface here uses (the pod
        // tests take theirs from 10.251.0.0/16).
        pod_cidr: chapter_05::free_subnet("10.250"),
        cluster_cidrs: vec![subnet("10.250.0.0/16"), subnet("10.96.0.0/16")],
        data_dir: data_dir.to_path_buf(),
        netns: None,
    }
}

#[test]
fn a_hundred_attach_detach_cycles_leave_nothing_behind() {
    needs_root();
    let instance = testkit::unique_instance("ch05-net");
    let tmp = tempfile::tempdir().unwrap();
    let ipam_dir = tmp.path().join("networks").join(&instance);
    let leaks = testkit::LeakCheck::new(&instance).expect_gone(&ipam_dir);
    let _cleanup = HostCleanup(&leaks);
    let network = NodeNetwork::ensure(host_config(&instance, tmp.path())).unwrap();
    let pods = [Holder::start(&instance), Holder::start(&instance)];
    let mut seen = std::collections::BTreeSet::new();
    for cycle in 0..100 {
        let pod = format!("pod-{cycle}");
        let address = network.attach(&pod, &pods[cycle % 2].path()).unwrap();
        seen.insert(address.ip);
        network.detach(&pod).unwrap();
        assert!(
            Command::new("ip")
                .args(["link", "show", &address.host_interface])
                .output()
                .unwrap()
                .stdout
                .is_empty(),
            "cycle {cycle}: detach left {}",
            address.host_interface
        );
    }
    // Round robin: a hundred pods one after the other got a hundred
    // different addresses of the /24.
    assert_eq!(seen.len(), 100);
    let files: Vec<_> = std::fs::read_dir(&ipam_dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        files,
        ["last_reserved_ip"],
        "allocation files were left behind"
    );
    let bridge = network.bridge_name().to_string();
    assert!(
        Path::new("/sys/class/net").join(&bridge).exists(),
        "the bridge should still be there"
    );
    network.remove().unwrap();
    assert!(
        !Path::new("/sys/class/net").join(&bridge).exists(),
        "remove left the bridge {bridge}"
    );
    drop(pods);
    leaks.assert_clean();
}

#[test]
fn reset_finds_and_removes_what_a_crashed_node_left() {
    needs_root();
    let instance = testkit::unique_instance("ch05-net");
    let tmp = tempfile::tempdir().unwrap();
    let leaks = testkit::LeakCheck::new(&instance);
    let _cleanup = HostCleanup(&leaks);
    let network = NodeNetwork::ensure(host_config(&instance, tmp.path())).unwrap();
    let pods = [Holder::start(&instance), Holder::start(&instance)];
    let veth_a = network
        .attach("pod-a", &pods[0].path())
        .unwrap()
        .host_interface;
    let veth_b = network
        .attach("pod-b", &pods[1].path())
        .unwrap()
        .host_interface;
    let bridge = network.bridge_name().to_string();
    // The agent crashes: nothing is detached or removed.
    drop(network);

    let found = leftovers(&instance, tmp.path(), None).unwrap();
    let mut veths = vec![veth_a, veth_b];
    veths.sort();
    let mut expected = veths.clone();
    expected.push(bridge.clone());
    assert_eq!(
        found.interfaces, expected,
        "the veths first, then the bridge"
    );
    assert_eq!(
        found.ipam_dir,
        Some(tmp.path().join("networks").join(&instance))
    );
    let mut reported = leaks.leaks().interfaces;
    reported.sort();
    let mut all = expected.clone();
    all.sort();
    assert_eq!(
        reported, all,
        "the leak checker should find the instance's interfaces by their alias"
    );

    assert!(
        instances(tmp.path(), None).unwrap().contains(&instance),
        "instances() should list the instance"
    );
    let removed = remove_leftovers(&instance, tmp.path(), None).unwrap();
    assert_eq!(removed, found);
    assert!(leftovers(&instance, tmp.path(), None).unwrap().is_empty());
    assert!(!instances(tmp.path(), None).unwrap().contains(&instance));
    drop(pods);
    leaks.assert_clean();
}
