//! ClusterIPs and NodePorts: the server gives each Service a free address
//! from the service CIDR (and node ports from the NodePort range), honours
//! one asked for when it is free and in range, refuses it in Kubernetes'
//! words otherwise, frees what a type change or a delete lets go, never
//! hands out one twice (concurrent creates included), and remembers what
//! is taken across a restart, `kill -9` included.

use std::collections::BTreeSet;
use std::net::Ipv4Addr;

use chapter_07::apiserver::server::Config;
use chapter_07::{Answer, Lab, guard, settings};
use insta::assert_snapshot;
use serde_json::{Value, json};
use tokio::process::Child;

const SERVICES: &str = "/api/v1/namespaces/default/services";

/// A lab whose Services draw from `cidr` and `ports`.
async fn start_lab(cidr: &str, ports: &str) -> Lab {
    Lab::start_with(Config {
        service_cluster_ip_range: cidr.parse().expect("a CIDR"),
        service_node_port_range: ports.parse().expect("a port range"),
        ..Config::default()
    })
    .await
}

/// A Service of `service_type` with ports `(name, port, protocol, nodePort)`
/// (a nodePort of 0 asks for none), and a clusterIP when given.
fn service(
    name: &str,
    service_type: &str,
    cluster_ip: Option<&str>,
    ports: &[(&str, i32, &str, i32)],
) -> Value {
    let ports: Vec<Value> = ports
        .iter()
        .map(|(name, port, protocol, node_port)| {
            let mut port = json!({"name": name, "port": port, "protocol": protocol});
            if *node_port != 0 {
                port["nodePort"] = json!(node_port);
            }
            port
        })
        .collect();
    let mut spec = json!({"type": service_type, "selector": {"app": name}, "ports": ports});
    if let Some(ip) = cluster_ip {
        spec["clusterIP"] = json!(ip);
    }
    json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name}, "spec": spec})
}

fn http(name: &str, service_type: &str, cluster_ip: Option<&str>) -> Value {
    service(name, service_type, cluster_ip, &[("http", 80, "TCP", 0)])
}

async fn create(lab: &Lab, body: &Value) -> Answer {
    lab.post(SERVICES, body).await
}

/// Creates a Service that must be accepted; returns it as stored.
async fn created(lab: &Lab, body: &Value) -> Value {
    let answer = create(lab, body).await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    answer.json()
}

fn cluster_ip(service: &Value) -> Ipv4Addr {
    let ip = service["spec"]["clusterIP"].as_str().expect("a clusterIP");
    assert_eq!(service["spec"]["clusterIPs"], json!([ip]), "clusterIPs");
    ip.parse().expect("an IPv4 address")
}

fn node_ports(service: &Value) -> Vec<i64> {
    service["spec"]["ports"]
        .as_array()
        .expect("ports")
        .iter()
        .map(|port| port["nodePort"].as_i64().expect("a nodePort"))
        .collect()
}

/// Appends `what` and the answer's status and body to a transcript.
fn note(transcript: &mut String, what: &str, answer: &Answer) {
    transcript.push_str(&format!("$ {what}\n{}\n\n", answer.show()));
}

#[tokio::test]
async fn cluster_ips_are_allocated_honoured_or_refused() {
    guard(cluster_ips()).await
}

async fn cluster_ips() {
    let lab = start_lab("10.96.7.0/24", "30000-32767").await;
    // A /24 keeps its first 16 addresses for explicit requests.
    for name in ["a", "b", "c"] {
        let ip = cluster_ip(&created(&lab, &http(name, "ClusterIP", None)).await);
        assert!(
            (Ipv4Addr::new(10, 96, 7, 17)..=Ipv4Addr::new(10, 96, 7, 254)).contains(&ip),
            "{ip} is in the upper band"
        );
    }
    let asked = created(&lab, &http("dns", "ClusterIP", Some("10.96.7.10"))).await;
    assert_eq!(cluster_ip(&asked), Ipv4Addr::new(10, 96, 7, 10));
    let headless = created(&lab, &http("headless", "ClusterIP", Some("None"))).await;
    assert_eq!(headless["spec"]["clusterIP"], "None");
    assert_eq!(headless["spec"]["clusterIPs"], json!(["None"]));
    let alias = json!({
        "apiVersion": "v1", "kind": "Service", "metadata": {"name": "alias"},
        "spec": {"type": "ExternalName", "externalName": "example.com"},
    });
    let alias = created(&lab, &alias).await;
    assert!(alias["spec"].get("clusterIP").is_none(), "{alias}");

    let mut transcript = String::new();
    let cases = [
        ("taken", http("taken", "ClusterIP", Some("10.96.7.10"))),
        ("outside", http("outside", "ClusterIP", Some("10.0.0.5"))),
        ("network", http("network", "ClusterIP", Some("10.96.7.0"))),
        (
            "broadcast",
            http("broadcast", "ClusterIP", Some("10.96.7.255")),
        ),
        (
            "headless-nodeport",
            http("headless-nodeport", "NodePort", Some("None")),
        ),
    ];
    for (what, body) in cases {
        let answer = create(&lab, &body).await;
        assert_eq!(answer.status, 422, "{what}: {}", answer.body);
        note(&mut transcript, &format!("create {what}"), &answer);
    }
    // A dry run checks, and takes nothing.
    let dry = lab
        .post(
            &format!("{SERVICES}?dryRun=All"),
            &http("dry", "ClusterIP", Some("10.96.7.11")),
        )
        .await;
    assert_eq!(dry.status, 201, "{}", dry.body);
    created(&lab, &http("after-dry", "ClusterIP", Some("10.96.7.11"))).await;
    settings().bind(|| assert_snapshot!("cluster_ip_refusals", transcript));
    lab.stop().await;
}

#[tokio::test]
async fn node_ports_are_allocated_honoured_or_refused() {
    guard(node_ports_test()).await
}

async fn node_ports_test() {
    let lab = start_lab("10.96.8.0/24", "30100-30199").await;
    // 100 ports keep their first 16 for explicit requests.
    let web = created(&lab, &http("web", "NodePort", None)).await;
    let port = node_ports(&web)[0];
    assert!(
        (30116..=30199).contains(&port),
        "{port} is in the upper band"
    );
    let dns = service(
        "dns",
        "NodePort",
        None,
        &[("dns", 53, "UDP", 0), ("dns-tcp", 53, "TCP", 0)],
    );
    let dns = created(&lab, &dns).await;
    let ports = node_ports(&dns);
    assert_eq!(
        ports[0], ports[1],
        "one port over two protocols shares a node port"
    );
    let both = service(
        "both",
        "LoadBalancer",
        None,
        &[("udp", 5353, "UDP", 30105), ("tcp", 5353, "TCP", 30105)],
    );
    assert_eq!(node_ports(&created(&lab, &both).await), [30105, 30105]);

    let mut transcript = String::new();
    let cases = [
        ("taken", http_on("taken", 30105)),
        ("outside", http_on("outside", 31000)),
        (
            "twice over TCP",
            service(
                "twice",
                "NodePort",
                None,
                &[("a", 80, "TCP", 30110), ("b", 81, "TCP", 30110)],
            ),
        ),
        (
            "unset, on two TCP ports of one number",
            service(
                "same-port",
                "NodePort",
                None,
                &[("a", 80, "TCP", 0), ("b", 80, "TCP", 0)],
            ),
        ),
        (
            "on a ClusterIP Service",
            service("plain", "ClusterIP", None, &[("a", 80, "TCP", 30111)]),
        ),
    ];
    for (what, body) in cases {
        let answer = create(&lab, &body).await;
        assert_eq!(answer.status, 422, "{what}: {}", answer.body);
        note(&mut transcript, &format!("create nodePort {what}"), &answer);
    }
    // Refused creates took nothing: their requested ports are still free.
    created(&lab, &http_on("free", 30110)).await;
    created(&lab, &http_on("free-too", 30111)).await;
    settings().bind(|| assert_snapshot!("node_port_refusals", transcript));
    lab.stop().await;
}

fn http_on(name: &str, node_port: i32) -> Value {
    service(name, "NodePort", None, &[("http", 80, "TCP", node_port)])
}

async fn update(lab: &Lab, name: &str, change: impl FnOnce(&mut Value)) -> Answer {
    let path = format!("{SERVICES}/{name}");
    let mut current = lab.get(&path).await.json();
    change(&mut current);
    lab.request("PUT", &path, "application/json", current.to_string())
        .await
}

#[tokio::test]
async fn type_changes_and_deletes_give_back_what_they_held() {
    guard(changes()).await
}

async fn changes() {
    let lab = start_lab("10.96.9.0/24", "30200-30299").await;
    let web = created(&lab, &http("web", "ClusterIP", None)).await;
    let ip = cluster_ip(&web);

    // ClusterIP → NodePort: a node port; the address stays.
    let answer = update(&lab, "web", |s| s["spec"]["type"] = json!("NodePort")).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let web = answer.json();
    assert_eq!(cluster_ip(&web), ip);
    let port = node_ports(&web)[0];

    // A client that leaves out what was allocated keeps it.
    let answer = update(&lab, "web", |s| {
        s["spec"].as_object_mut().unwrap().remove("clusterIP");
        s["spec"].as_object_mut().unwrap().remove("clusterIPs");
        s["spec"]["ports"][0]
            .as_object_mut()
            .unwrap()
            .remove("nodePort");
    })
    .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(
        (cluster_ip(&answer.json()), node_ports(&answer.json())[0]),
        (ip, port)
    );

    // The address cannot change, and a port held elsewhere cannot be had.
    let other = created(&lab, &http_on("other", 0)).await;
    let taken = node_ports(&other)[0];
    let answer = update(&lab, "web", |s| {
        s["spec"]["ports"][0]["nodePort"] = json!(taken)
    })
    .await;
    assert_eq!(answer.status, 422, "{}", answer.body);
    let answer = update(&lab, "web", |s| {
        s["spec"]["clusterIP"] = json!("10.96.9.3");
        s["spec"]["clusterIPs"] = json!(["10.96.9.3"]);
    })
    .await;
    assert_eq!(answer.status, 422, "{}", answer.body);

    // NodePort → ClusterIP: the node port is free again, at once.
    let answer = update(&lab, "web", |s| s["spec"]["type"] = json!("ClusterIP")).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert!(answer.json()["spec"]["ports"][0].get("nodePort").is_none());
    created(&lab, &http_on("reuse-port", port as i32)).await;

    // A deleted Service frees its address and its node ports.
    let other_ip = cluster_ip(&other).to_string();
    let gone = lab
        .request("DELETE", &format!("{SERVICES}/other"), "", Vec::new())
        .await;
    assert_eq!(gone.status, 200, "{}", gone.body);
    let again = service(
        "again",
        "NodePort",
        Some(&other_ip),
        &[("http", 80, "TCP", taken as i32)],
    );
    created(&lab, &again).await;

    // ClusterIP → ExternalName lets the address go.
    let answer = update(&lab, "web", |s| {
        s["spec"]["type"] = json!("ExternalName");
        s["spec"]["externalName"] = json!("example.com");
    })
    .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert!(answer.json()["spec"].get("clusterIP").is_none());
    created(&lab, &http("reuse-ip", "ClusterIP", Some(&ip.to_string()))).await;
    lab.stop().await;
}

#[tokio::test]
async fn dynamic_picks_leave_the_static_band_for_last() {
    guard(static_band()).await
}

async fn static_band() {
    // 30 addresses, the first 16 kept; 64 ports, the first 16 kept.
    let lab = start_lab("10.96.15.0/27", "30800-30863").await;
    for i in 0..14 {
        let service = created(&lab, &http(&format!("s{i}"), "NodePort", None)).await;
        let (ip, port) = (cluster_ip(&service), node_ports(&service)[0]);
        assert!(ip.octets()[3] >= 17, "{ip} is outside the static band");
        assert!(port >= 30816, "{port} is outside the static band");
    }
    // The upper band is full: the next address comes from the lower one.
    let last = cluster_ip(&created(&lab, &http("last", "ClusterIP", None)).await);
    assert!((1..=16).contains(&last.octets()[3]), "{last}");
    lab.stop().await;
}

#[tokio::test]
async fn concurrent_creates_never_share_an_address() {
    guard(concurrent()).await
}

async fn concurrent() {
    // 62 addresses, 50 creates at once: 50 different addresses.
    let lab = start_lab("10.96.10.0/26", "30300-30399").await;
    let ips = create_many(&lab, "many", 50).await;
    assert_eq!(ips.len(), 50, "every create succeeded with its own address");
    lab.stop().await;

    // 6 addresses, 20 creates at once: 6 succeed, with 6 different addresses.
    let lab = start_lab("10.96.11.0/29", "30400-30499").await;
    let ips = create_many(&lab, "few", 20).await;
    assert_eq!(ips.len(), 6, "{ips:?}");
    lab.stop().await;
}

/// Creates `count` Services at once; returns the distinct addresses of those
/// created, after checking that every refusal is the full range's 500.
async fn create_many(lab: &Lab, prefix: &str, count: usize) -> BTreeSet<Ipv4Addr> {
    let requests = (0..count).map(|i| {
        let body = http(&format!("{prefix}-{i}"), "NodePort", None);
        async move { create(lab, &body).await }
    });
    let answers = futures::future::join_all(requests).await;
    let mut ips = BTreeSet::new();
    let mut ports = BTreeSet::new();
    let mut created = 0;
    for answer in answers {
        match answer.status {
            201 => {
                created += 1;
                ips.insert(cluster_ip(&answer.json()));
                ports.insert(node_ports(&answer.json())[0]);
            }
            500 => assert!(answer.body.contains("range is full"), "{}", answer.body),
            other => panic!("{other}: {}", answer.body),
        }
    }
    assert_eq!(
        (ips.len(), ports.len()),
        (created, created),
        "no address or port twice"
    );
    ips
}

#[tokio::test]
async fn a_full_range_is_an_internal_error_until_an_address_is_freed() {
    guard(full()).await
}

async fn full() {
    let lab = start_lab("10.96.12.0/29", "30500-30502").await;
    let mut transcript = String::new();
    for i in 0..3 {
        created(&lab, &http(&format!("s{i}"), "NodePort", None)).await;
    }
    let answer = create(&lab, &http("no-port", "NodePort", None)).await;
    assert_eq!(answer.status, 500, "{}", answer.body);
    note(
        &mut transcript,
        "create a 4th NodePort Service (3 node ports)",
        &answer,
    );
    for i in 3..6 {
        created(&lab, &http(&format!("s{i}"), "ClusterIP", None)).await;
    }
    let answer = create(&lab, &http("no-ip", "ClusterIP", None)).await;
    assert_eq!(answer.status, 500, "{}", answer.body);
    note(
        &mut transcript,
        "create a 7th Service (6 addresses)",
        &answer,
    );
    // A refused NodePort create gave its address back: the range was not
    // full before the 6 ClusterIP Services took it.
    lab.request("DELETE", &format!("{SERVICES}/s4"), "", Vec::new())
        .await;
    created(&lab, &http("no-ip", "ClusterIP", None)).await;
    settings().bind(|| assert_snapshot!("full_ranges", transcript));
    lab.stop().await;
}

const SERVER: &str = env!("CARGO_BIN_EXE_apiserver");

/// Starts the server program on `dir` with a service CIDR and NodePort
/// range; returns it and its URL once it serves.
async fn start(dir: &std::path::Path, cidr: &str, ports: &str) -> (Child, String) {
    let args: [&std::ffi::OsStr; 3] = [dir.as_os_str(), cidr.as_ref(), ports.as_ref()];
    chapter_07::start_server_program(SERVER, &args).await
}

async fn post(url: &str, body: &Value) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!("{url}{SERVICES}"))
        .json(body)
        .send()
        .await
        .expect("the server answers");
    let status = response.status().as_u16();
    (status, response.json().await.expect("JSON"))
}

#[tokio::test]
async fn what_is_taken_stays_taken_after_kill_9() {
    guard(after_kill_9()).await
}

async fn after_kill_9() {
    let tmp = tempfile::tempdir().unwrap();
    let (cidr, ports) = ("10.96.13.0/29", "30600-30605");
    let (mut server, url) = start(tmp.path(), cidr, ports).await;
    let mut before = Vec::new();
    for i in 0..3 {
        let (status, service) = post(&url, &http(&format!("before-{i}"), "NodePort", None)).await;
        assert_eq!(status, 201, "{service}");
        before.push((cluster_ip(&service), node_ports(&service)[0]));
    }
    let pid = server.id().expect("the server runs");
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .expect("kill -9");
    server.wait().await.expect("the server is gone");

    let (mut server, url) = start(tmp.path(), cidr, ports).await;
    // What the Services held before is still theirs...
    for (i, (ip, port)) in before.iter().enumerate() {
        let asked = service(
            &format!("same-{i}"),
            "NodePort",
            Some(&ip.to_string()),
            &[("http", 80, "TCP", *port as i32)],
        );
        let (status, answer) = post(&url, &asked).await;
        assert_eq!(status, 422, "{answer}");
    }
    // ...so the three addresses and ports left are the only ones handed out.
    let mut ips: BTreeSet<Ipv4Addr> = before.iter().map(|(ip, _)| *ip).collect();
    let mut taken: BTreeSet<i64> = before.iter().map(|(_, port)| *port).collect();
    for i in 0..3 {
        let (status, service) = post(&url, &http(&format!("after-{i}"), "NodePort", None)).await;
        assert_eq!(status, 201, "{service}");
        assert!(ips.insert(cluster_ip(&service)), "a new address: {service}");
        assert!(
            taken.insert(node_ports(&service)[0]),
            "a new port: {service}"
        );
    }
    let (status, answer) = post(&url, &http("one-too-many", "ClusterIP", None)).await;
    assert_eq!(status, 500, "{answer}");
    server.kill().await.expect("the server stops");
}
