//! The Service proxy: the service table built from Services and
//! EndpointSlices and the balancer's choices (pure), then the proxy itself
//! (as root) against an API server in this process, with small echo
//! servers on loopback addresses (127.0.N.x) as the endpoints. Each test
//! has its own ClusterIPs (10.96.2NN.0/24), NodePort, loopback block and
//! instance, so that they run side by side.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::sync::Arc;
use std::time::{Duration, Instant};

use apiserver::client::{Api, Client, ListParams};
use chapter_11::services::proxy::balancer::Balancer;
use chapter_11::services::proxy::interface::is_local;
use chapter_11::services::proxy::listeners::desired;
use chapter_11::services::proxy::table::{self, EndpointInfo, Protocol};
use chapter_11::services::proxy::{Applied, Config, FAILED_TO_BIND, Proxy};
use objects::{EndpointSlice, Event, Resource, Service};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::task::JoinHandle;

fn service(value: Value) -> Service {
    let mut service: Service = serde_json::from_value(value).expect("a Service");
    service.set_type_meta();
    service
}

fn slice(value: Value) -> EndpointSlice {
    let mut slice: EndpointSlice = serde_json::from_value(value).expect("an EndpointSlice");
    slice.set_type_meta();
    slice
}

/// A slice for `service` in `default`: `(address, ready, serving,
/// terminating)` endpoints on one port.
fn slice_of(
    name: &str,
    service: &str,
    port: (&str, u16, &str),
    endpoints: &[(&str, bool, bool, bool)],
) -> EndpointSlice {
    let endpoints: Vec<Value> = endpoints
        .iter()
        .map(|(ip, ready, serving, terminating)| {
            json!({"addresses": [ip], "conditions":
                {"ready": ready, "serving": serving, "terminating": terminating}})
        })
        .collect();
    slice(json!({"metadata": {"name": name, "namespace": "default",
            "labels": {"kubernetes.io/service-name": service}},
        "addressType": "IPv4", "endpoints": endpoints,
        "ports": [{"name": port.0, "port": port.1, "protocol": port.2}]}))
}

fn endpoint(ip: &str, ready: bool, terminating: bool) -> EndpointInfo {
    EndpointInfo {
        address: SocketAddrV4::new(ip.parse().unwrap(), 8080),
        ready,
        serving: ready || terminating,
        terminating,
    }
}

// ---------------------------------------------------------------------------
// Pure: the table and the balancer.

#[test]
fn the_table_is_built_from_services_and_the_slices_that_name_them() {
    let services = [
        service(
            json!({"metadata": {"name": "web", "namespace": "shop"}, "spec": {
            "clusterIP": "10.96.3.7", "type": "NodePort", "ports": [
                {"name": "http", "port": 80, "protocol": "TCP", "nodePort": 30080},
                {"name": "metrics", "port": 9090}]}}),
        ),
        service(
            json!({"metadata": {"name": "dns", "namespace": "kube-system"}, "spec": {
            "clusterIP": "10.96.0.10", "sessionAffinity": "ClientIP",
            "sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 60}},
            "ports": [{"name": "dns", "port": 53, "protocol": "UDP"}]}}),
        ),
        service(
            json!({"metadata": {"name": "db", "namespace": "shop"}, "spec": {
            "clusterIP": "None", "ports": [{"port": 5432}]}}),
        ),
        service(
            json!({"metadata": {"name": "mail", "namespace": "shop"}, "spec": {
            "type": "ExternalName", "externalName": "smtp.example.org"}}),
        ),
    ];
    let web = |name: &str, endpoints: Value| {
        slice(json!({"metadata": {"name": name, "namespace": "shop",
                "labels": {"kubernetes.io/service-name": "web"}},
            "addressType": "IPv4", "endpoints": endpoints,
            "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}]}))
    };
    let slices = [
        web(
            "web-a",
            json!([
                {"addresses": ["10.244.0.5"], "conditions": {"ready": true}},
                {"addresses": ["10.244.0.6"],
                    "conditions": {"ready": false, "serving": true, "terminating": true}},
                {"addresses": ["10.244.0.7"], "conditions": {"ready": false}},
            ]),
        ),
        // The same pod again in a second slice, and a pod without conditions.
        web(
            "web-b",
            json!([{"addresses": ["10.244.0.5"], "conditions": {"ready": true}},
                   {"addresses": ["10.244.1.2"]}]),
        ),
        // Another namespace's slice with the same label: not web's.
        slice(json!({"metadata": {"name": "web-x", "namespace": "other",
                "labels": {"kubernetes.io/service-name": "web"}},
            "addressType": "IPv4", "endpoints": [{"addresses": ["10.244.9.9"]}],
            "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}]})),
        slice(
            json!({"metadata": {"name": "dns-a", "namespace": "kube-system",
                "labels": {"kubernetes.io/service-name": "dns"}},
            "addressType": "IPv4", "endpoints": [{"addresses": ["127.0.0.1"]}],
            "ports": [{"name": "dns", "port": 1053, "protocol": "UDP"}]}),
        ),
    ];
    let table = table::build(&services, &slices);
    insta::assert_snapshot!(table.to_string());
    let ips: Vec<String> = table
        .cluster_ips()
        .iter()
        .map(|ip| ip.to_string())
        .collect();
    assert_eq!(ips, ["10.96.0.10", "10.96.3.7"]);
}

#[test]
fn the_affinity_timeout_comes_from_the_service_or_is_three_hours() {
    let timeout = |config: Value| table::affinity_timeout(Some(&config)).as_secs();
    assert_eq!(timeout(json!({"clientIP": {"timeoutSeconds": 30}})), 30);
    assert_eq!(timeout(json!({"clientIP": {}})), 10_800);
    assert_eq!(table::affinity_timeout(None).as_secs(), 10_800);
}

#[test]
fn round_robin_takes_the_ready_endpoints_in_turn_and_skips_the_failed() {
    let endpoints = [
        endpoint("10.244.0.1", true, false),
        endpoint("10.244.0.2", false, true),  // terminating
        endpoint("10.244.0.3", false, false), // not ready
        endpoint("10.244.0.4", true, false),
        endpoint("10.244.0.5", true, false),
    ];
    let mut balancer = Balancer::new(&endpoints, None);
    let now = Instant::now();
    let client = "10.244.7.7".parse().unwrap();
    let picks: Vec<String> = (0..6)
        .map(|_| balancer.pick(client, now, &[]).unwrap().to_string())
        .collect();
    insta::assert_snapshot!(picks.join("\n"));
    // A dial to .1 failed: the next in turn, and nothing when all failed.
    let failed = [endpoints[0].address, endpoints[3].address];
    assert_eq!(
        balancer.pick(client, now, &failed),
        Some(endpoints[4].address)
    );
    let all = [failed[0], failed[1], endpoints[4].address];
    assert_eq!(balancer.pick(client, now, &all), None);
    // Fewer endpoints: the turn goes on among those left.
    balancer.update(&endpoints[..1], None);
    assert_eq!(balancer.pick(client, now, &[]), Some(endpoints[0].address));
    balancer.update(&endpoints[1..3], None);
    assert_eq!(balancer.pick(client, now, &[]), None);
}

#[test]
fn affinity_keeps_a_client_on_its_endpoint_while_it_is_ready_and_not_expired() {
    let mut endpoints = vec![
        endpoint("10.244.0.1", true, false),
        endpoint("10.244.0.2", true, false),
        endpoint("10.244.0.3", true, false),
    ];
    let timeout = Duration::from_secs(60);
    let mut balancer = Balancer::new(&endpoints, Some(timeout));
    let start = Instant::now();
    let (a, b) = ("10.1.0.1".parse().unwrap(), "10.1.0.2".parse().unwrap());
    let first = balancer.pick(a, start, &[]).unwrap();
    let other = balancer.pick(b, start, &[]).unwrap();
    assert_ne!(first, other, "a new client takes the next endpoint");
    for minute in 0..5 {
        let at = start + Duration::from_secs(50 * minute);
        assert_eq!(balancer.pick(a, at, &[]), Some(first), "each use renews it");
    }
    // A failed dial moves the client, and it sticks to its new endpoint.
    let moved = balancer.pick(a, start, &[first]).unwrap();
    assert_ne!(moved, first);
    assert_eq!(balancer.pick(a, start, &[]), Some(moved));
    // Its endpoint stops being ready: elsewhere.
    endpoints
        .iter_mut()
        .find(|e| e.address == moved)
        .unwrap()
        .ready = false;
    balancer.update(&endpoints, Some(timeout));
    let again = balancer.pick(a, start, &[]).unwrap();
    assert_ne!(again, moved);
    // Expired: the client goes round with everyone else.
    let later = start + Duration::from_secs(61 + 200);
    let turn = balancer.pick(b, later, &[]).unwrap();
    let next = balancer.pick(a, later, &[]).unwrap();
    assert_ne!(turn, next, "{again} expired: a took the next in turn");
}

#[test]
fn listeners_are_wanted_for_ports_with_a_ready_endpoint_only() {
    let services = [
        service(
            json!({"metadata": {"name": "web", "namespace": "default"}, "spec": {
            "clusterIP": "10.96.1.1", "type": "NodePort",
            "ports": [{"port": 80, "nodePort": 30001}]}}),
        ),
        service(
            json!({"metadata": {"name": "idle", "namespace": "default"}, "spec": {
            "clusterIP": "10.96.1.2", "ports": [{"port": 80}]}}),
        ),
    ];
    let slices = [
        slice_of(
            "web",
            "web",
            ("", 8080, "TCP"),
            &[("10.244.0.1", true, true, false)],
        ),
        slice_of(
            "idle",
            "idle",
            ("", 8080, "TCP"),
            &[("10.244.0.2", false, true, true)],
        ),
    ];
    let table = table::build(&services, &slices);
    let nodes = ["127.0.0.1".parse().unwrap(), "192.0.2.2".parse().unwrap()];
    let wanted: Vec<String> = desired(&table, &nodes)
        .iter()
        .map(|(key, name)| format!("{key} -> {name}"))
        .collect();
    insta::assert_snapshot!(wanted.join("\n"));
}

// ---------------------------------------------------------------------------
// The proxy, as root.

/// An API server, a proxy of its own instance, and what to check at the end.
struct Lab {
    server: apiserver::server::ApiServer,
    client: Client,
    /// Taken only while a test swaps it for a successor.
    proxy: Option<Proxy>,
    instance: String,
    check: testkit::LeakCheck,
    tasks: Vec<JoinHandle<()>>,
    /// The test's block of ClusterIPs, `10.96.<block>.0/24`.
    block: u8,
}

/// How long a test waits for the proxy to catch up, at most.
const WAIT: Duration = Duration::from_secs(30);

async fn lab(block: u8) -> Option<Lab> {
    if !testkit::is_root() {
        testkit::skip("the proxy makes a network interface, which needs root");
        return None;
    }
    let instance = testkit::unique_instance("proxy");
    let check = testkit::LeakCheck::new(&instance);
    let server = chapter_11::start_server().await;
    let client = Client::new(&server.url()).expect("a client");
    let config = Config {
        instance: instance.clone(),
        nodeport_addresses: vec!["127.0.0.0/8".parse().unwrap()],
        resync: Duration::from_millis(500),
        ..Config::default()
    };
    let proxy = Proxy::start(client.clone(), config)
        .await
        .expect("the proxy starts");
    Some(Lab {
        server,
        client,
        proxy: Some(proxy),
        instance,
        check,
        tasks: Vec::new(),
        block,
    })
}

impl Lab {
    fn proxy(&self) -> &Proxy {
        self.proxy.as_ref().expect("a proxy")
    }

    fn cluster_ip(&self, host: u8) -> Ipv4Addr {
        Ipv4Addr::new(10, 96, self.block, host)
    }

    /// A loopback address of the test's own block.
    fn endpoint_ip(&self, host: u8) -> Ipv4Addr {
        Ipv4Addr::new(127, 0, self.block, host)
    }

    async fn create_service(&self, name: &str, host: u8, ports: Value, extra: Value) {
        let mut spec = json!({"clusterIP": self.cluster_ip(host).to_string(), "ports": ports});
        spec.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        let object =
            service(json!({"metadata": {"name": name, "namespace": "default"}, "spec": spec}));
        Api::<Service>::namespaced(&self.client, "default")
            .create(&object)
            .await
            .expect("the Service is created");
    }

    /// Creates or replaces a slice.
    async fn put_slice(&self, slice: EndpointSlice) {
        let api = Api::<EndpointSlice>::namespaced(&self.client, "default");
        match api.get_opt(slice.metadata.name()).await.expect("a get") {
            None => drop(api.create(&slice).await.expect("the slice is created")),
            Some(old) => {
                let mut new = slice;
                new.metadata.resource_version = old.metadata.resource_version;
                api.replace(&new).await.expect("the slice is replaced");
            }
        }
    }

    /// Service `web` (ClusterIP .10, port 80) over `endpoints` (address,
    /// ready, serving, terminating) on `port`; its ClusterIP:80 once the
    /// proxy listens there.
    async fn web(&self, port: u16, endpoints: &[(&str, bool, bool, bool)]) -> SocketAddrV4 {
        self.create_service("web", 10, json!([{"port": 80}]), json!({}))
            .await;
        self.put_slice(slice_of("web-1", "web", ("", port, "TCP"), endpoints))
            .await;
        let cluster = SocketAddrV4::new(self.cluster_ip(10), 80);
        self.listening(cluster, Protocol::Tcp).await;
        cluster
    }

    /// Waits (bounded) until the proxy's last sync satisfies `ok`.
    async fn wait(&self, what: &str, ok: impl Fn(&Applied) -> bool) -> Arc<Applied> {
        let mut applied = self.proxy().applied();
        let found = tokio::time::timeout(WAIT, applied.wait_for(|a| ok(a)))
            .await
            .map(|found| found.map(|applied| Arc::clone(&applied)));
        match found {
            Ok(Ok(applied)) => applied,
            _ => panic!("the proxy never got to: {what}\n{:#?}", *applied.borrow()),
        }
    }

    async fn listening(&self, address: SocketAddrV4, protocol: Protocol) {
        self.wait(&format!("listening on {address}"), |a| {
            a.is_listening(address, protocol)
        })
        .await;
    }

    /// Waits (bounded) until `ip` is a local address (on the proxy's
    /// interface): only then may a test send to it, or its packets would
    /// take the default route out of the machine.
    async fn wait_local(&self, ip: Ipv4Addr) {
        let deadline = Instant::now() + WAIT;
        while !is_local(ip) {
            assert!(Instant::now() < deadline, "{ip} never became local");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Echo servers on `hosts` of the test's loopback block, one port.
    async fn tcp_echoes(&mut self, hosts: &[u8]) -> u16 {
        let ips: Vec<Ipv4Addr> = hosts.iter().map(|h| self.endpoint_ip(*h)).collect();
        let (port, listeners) = bind_all(&ips, |a| async move { TcpListener::bind(a).await }).await;
        for listener in listeners {
            self.tasks.push(tokio::spawn(tcp_echo(listener)));
        }
        port
    }

    async fn udp_echoes(&mut self, hosts: &[u8]) -> u16 {
        let ips: Vec<Ipv4Addr> = hosts.iter().map(|h| self.endpoint_ip(*h)).collect();
        let (port, sockets) = bind_all(&ips, |a| async move { UdpSocket::bind(a).await }).await;
        for socket in sockets {
            self.tasks.push(tokio::spawn(udp_echo(socket)));
        }
        port
    }

    /// Stops everything and checks that the interface and its addresses
    /// are gone.
    async fn finish(self) {
        for task in &self.tasks {
            task.abort();
        }
        let interface = self.proxy().interface().to_string();
        let proxy = self.proxy.expect("a proxy");
        proxy.stop(Duration::from_secs(10)).await;
        assert!(
            !std::path::Path::new("/sys/class/net")
                .join(&interface)
                .exists(),
            "the interface {interface} is gone"
        );
        for host in 0..=255 {
            let ip = Ipv4Addr::new(10, 96, self.block, host);
            assert!(!is_local(ip), "the ClusterIP {ip} is gone");
        }
        self.check.assert_clean();
        self.server.stop(Duration::from_secs(5)).await;
    }
}

/// Binds `bind` on each of `ips` with one port number, trying again with
/// another port when one is taken on some address.
async fn bind_all<S, F, Fut>(ips: &[Ipv4Addr], bind: F) -> (u16, Vec<S>)
where
    F: Fn(SocketAddrV4) -> Fut,
    Fut: Future<Output = std::io::Result<S>>,
    S: LocalPort,
{
    for _ in 0..20 {
        let first = bind(SocketAddrV4::new(ips[0], 0)).await.expect("a bind");
        let port = first.local_port();
        let mut all = vec![first];
        for ip in &ips[1..] {
            match bind(SocketAddrV4::new(*ip, port)).await {
                Ok(socket) => all.push(socket),
                Err(_) => break,
            }
        }
        if all.len() == ips.len() {
            return (port, all);
        }
    }
    panic!("no port free on all of {ips:?}");
}

trait LocalPort {
    fn local_port(&self) -> u16;
}
impl LocalPort for TcpListener {
    fn local_port(&self) -> u16 {
        self.local_addr().unwrap().port()
    }
}
impl LocalPort for UdpSocket {
    fn local_port(&self) -> u16 {
        self.local_addr().unwrap().port()
    }
}

/// Says who it is (`<address>\n`), then echoes until the client's end.
async fn tcp_echo(listener: TcpListener) {
    let me = listener.local_addr().unwrap();
    while let Ok((mut stream, _)) = listener.accept().await {
        tokio::spawn(async move {
            let _ = stream.write_all(format!("{me}\n").as_bytes()).await;
            let (mut read, mut write) = stream.split();
            let _ = tokio::io::copy(&mut read, &mut write).await;
            let _ = write.shutdown().await;
        });
    }
}

/// Answers each datagram with `<address>|<datagram>`.
async fn udp_echo(socket: UdpSocket) {
    let me = socket.local_addr().unwrap();
    let mut buffer = [0u8; 2048];
    while let Ok((len, from)) = socket.recv_from(&mut buffer).await {
        let mut reply = format!("{me}|").into_bytes();
        reply.extend_from_slice(&buffer[..len]);
        let _ = socket.send_to(&reply, from).await;
    }
}

/// A connection through the proxy: who answered, and its echo works.
struct Conversation {
    endpoint: String,
    stream: BufReader<TcpStream>,
}

async fn converse(address: SocketAddrV4) -> Conversation {
    let stream = tokio::time::timeout(WAIT, TcpStream::connect(address))
        .await
        .expect("connect within the bound")
        .expect("a connection");
    let mut stream = BufReader::new(stream);
    let mut line = String::new();
    tokio::time::timeout(WAIT, stream.read_line(&mut line))
        .await
        .expect("an answer within the bound")
        .expect("the endpoint's name");
    let mut conversation = Conversation {
        endpoint: line.trim().to_string(),
        stream,
    };
    conversation.echo("hello").await;
    conversation
}

impl Conversation {
    async fn echo(&mut self, text: &str) {
        self.stream
            .get_mut()
            .write_all(format!("{text}\n").as_bytes())
            .await
            .unwrap();
        let mut line = String::new();
        tokio::time::timeout(WAIT, self.stream.read_line(&mut line))
            .await
            .expect("an echo within the bound")
            .expect("an echo");
        assert_eq!(line, format!("{text}\n"), "through {}", self.endpoint);
    }
}

/// Who answered each of `count` connections, counted.
async fn spread(address: SocketAddrV4, count: usize) -> BTreeMap<String, usize> {
    let mut seen = BTreeMap::new();
    for _ in 0..count {
        *seen.entry(converse(address).await.endpoint).or_default() += 1;
    }
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_go_round_the_ready_endpoints_by_cluster_ip_and_node_port() {
    let Some(mut lab) = lab(201).await else {
        return;
    };
    let port = lab.tcp_echoes(&[2, 3, 4, 5, 6]).await;
    let ip = |h: u8| lab.endpoint_ip(h).to_string();
    lab.create_service(
        "web",
        10,
        json!([{"port": 80, "nodePort": 31201}]),
        json!({"type": "NodePort"}),
    )
    .await;
    lab.put_slice(slice_of(
        "web-1",
        "web",
        ("", port, "TCP"),
        &[
            (&ip(2), true, true, false),
            (&ip(3), true, true, false),
            (&ip(4), true, true, false),
            (&ip(5), false, true, true),   // terminating
            (&ip(6), false, false, false), // not ready
        ],
    ))
    .await;
    let cluster = SocketAddrV4::new(lab.cluster_ip(10), 80);
    let node = SocketAddrV4::new(Ipv4Addr::LOCALHOST, 31201);
    lab.listening(cluster, Protocol::Tcp).await;
    lab.listening(node, Protocol::Tcp).await;
    let expected: BTreeMap<String, usize> = [2, 3, 4]
        .iter()
        .map(|h| (format!("{}:{port}", lab.endpoint_ip(*h)), 10))
        .collect();
    assert_eq!(spread(cluster, 30).await, expected);
    assert_eq!(spread(node, 30).await, expected);
    lab.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_dial_is_tried_again_on_the_next_endpoint() {
    let Some(mut lab) = lab(202).await else {
        return;
    };
    let port = lab.tcp_echoes(&[2, 3]).await;
    let ip = |h: u8| lab.endpoint_ip(h).to_string();
    // .9 is "ready" but nothing listens there.
    let ready = |h: u8| (ip(h), true, true, false);
    let endpoints = [ready(2), ready(9), ready(3)];
    let endpoints: Vec<(&str, bool, bool, bool)> = endpoints
        .iter()
        .map(|(a, b, c, d)| (a.as_str(), *b, *c, *d))
        .collect();
    let cluster = lab.web(port, &endpoints).await;
    let seen = spread(cluster, 12).await;
    assert_eq!(
        seen.values().sum::<usize>(),
        12,
        "every connection got through"
    );
    assert_eq!(seen.len(), 2, "over both live endpoints: {seen:?}");
    lab.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_without_a_ready_endpoint_is_refused_at_once() {
    let Some(mut lab) = lab(203).await else {
        return;
    };
    let port = lab.tcp_echoes(&[2]).await;
    let ip = lab.endpoint_ip(2).to_string();
    lab.create_service("empty", 10, json!([{"port": 80}]), json!({}))
        .await;
    lab.create_service(
        "dns",
        11,
        json!([{"port": 53, "protocol": "UDP"}]),
        json!({}),
    )
    .await;
    lab.put_slice(slice_of(
        "empty-1",
        "empty",
        ("", port, "TCP"),
        &[(&ip, false, true, true)],
    ))
    .await;
    lab.wait("both Services in the table", |a| a.table.ports.len() == 2)
        .await;
    lab.wait_local(lab.cluster_ip(10)).await;
    lab.wait_local(lab.cluster_ip(11)).await;
    let refused = tokio::time::timeout(WAIT, TcpStream::connect((lab.cluster_ip(10), 80)))
        .await
        .expect("an answer within the bound, not a hang");
    let error = refused.expect_err("no ready endpoint: refused");
    assert_eq!(error.kind(), std::io::ErrorKind::ConnectionRefused);
    let socket = UdpSocket::bind("0.0.0.0:0").await.unwrap();
    socket.connect((lab.cluster_ip(11), 53)).await.unwrap();
    socket.send(b"query").await.unwrap();
    let mut buffer = [0u8; 64];
    let answer = tokio::time::timeout(WAIT, socket.recv(&mut buffer))
        .await
        .expect("an answer within the bound, not a hang");
    assert_eq!(
        answer.expect_err("port unreachable").kind(),
        std::io::ErrorKind::ConnectionRefused
    );
    // The endpoint becomes ready: served.
    lab.put_slice(slice_of(
        "empty-1",
        "empty",
        ("", port, "TCP"),
        &[(&ip, true, true, false)],
    ))
    .await;
    lab.listening(SocketAddrV4::new(lab.cluster_ip(10), 80), Protocol::Tcp)
        .await;
    converse(SocketAddrV4::new(lab.cluster_ip(10), 80)).await;
    lab.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_ip_affinity_keeps_a_client_on_its_endpoint_while_it_is_ready() {
    let Some(mut lab) = lab(204).await else {
        return;
    };
    let port = lab.tcp_echoes(&[2, 3, 4]).await;
    let ips: Vec<String> = [2, 3, 4]
        .iter()
        .map(|h| lab.endpoint_ip(*h).to_string())
        .collect();
    lab.create_service(
        "web",
        10,
        json!([{"port": 80}]),
        json!({"sessionAffinity": "ClientIP"}),
    )
    .await;
    let put = |ready: [bool; 3]| {
        let endpoints: Vec<(&str, bool, bool, bool)> = ips
            .iter()
            .zip(ready)
            .map(|(ip, ready)| (ip.as_str(), ready, ready, false))
            .collect();
        slice_of("web-1", "web", ("", port, "TCP"), &endpoints)
    };
    lab.put_slice(put([true; 3])).await;
    let cluster = SocketAddrV4::new(lab.cluster_ip(10), 80);
    lab.listening(cluster, Protocol::Tcp).await;
    let seen = spread(cluster, 10).await;
    assert_eq!(seen.len(), 1, "one endpoint for one client: {seen:?}");
    let first = seen.keys().next().unwrap().clone();
    // That endpoint stops being ready: the client moves, and sticks again.
    let index = ips
        .iter()
        .position(|ip| first.starts_with(&format!("{ip}:")))
        .unwrap();
    let mut ready = [true; 3];
    ready[index] = false;
    lab.put_slice(put(ready)).await;
    lab.wait("the endpoint out", |a| {
        a.table.ports.values().all(|p| p.ready().count() == 2)
    })
    .await;
    let seen = spread(cluster, 10).await;
    assert_eq!(seen.len(), 1, "one endpoint again: {seen:?}");
    assert!(!seen.contains_key(&first), "{first} is no longer ready");
    lab.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn udp_goes_to_the_endpoints_and_replies_come_from_the_cluster_ip() {
    let Some(mut lab) = lab(205).await else {
        return;
    };
    let port = lab.udp_echoes(&[2, 3]).await;
    let ip = |h: u8| lab.endpoint_ip(h).to_string();
    lab.create_service(
        "dns",
        10,
        json!([{"name": "dns", "port": 53, "protocol": "UDP"}]),
        json!({}),
    )
    .await;
    lab.put_slice(slice_of(
        "dns-1",
        "dns",
        ("dns", port, "UDP"),
        &[(&ip(2), true, true, false), (&ip(3), true, true, false)],
    ))
    .await;
    let cluster = SocketAddrV4::new(lab.cluster_ip(10), 53);
    lab.listening(cluster, Protocol::Udp).await;
    let mut answered = BTreeMap::new();
    for client in 0..2 {
        let socket = UdpSocket::bind("0.0.0.0:0").await.unwrap();
        for n in 0..3 {
            let question = format!("q{client}-{n}");
            socket.send_to(question.as_bytes(), cluster).await.unwrap();
            let mut buffer = [0u8; 256];
            let (len, from) = tokio::time::timeout(WAIT, socket.recv_from(&mut buffer))
                .await
                .expect("a reply within the bound")
                .unwrap();
            assert_eq!(
                from,
                cluster.into(),
                "the reply comes from the ClusterIP:port"
            );
            let reply = String::from_utf8_lossy(&buffer[..len]).into_owned();
            let (endpoint, echo) = reply.split_once('|').unwrap();
            assert_eq!(echo, question);
            answered
                .entry(client)
                .or_insert_with(Vec::new)
                .push(endpoint.to_string());
        }
    }
    for replies in answered.values() {
        assert!(
            replies.iter().all(|e| *e == replies[0]),
            "one endpoint per client: {answered:?}"
        );
    }
    assert_ne!(
        answered[&0][0], answered[&1][0],
        "two clients, two endpoints in turn"
    );
    lab.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endpoint_changes_leave_established_connections_alone() {
    let Some(mut lab) = lab(206).await else {
        return;
    };
    let port = lab.tcp_echoes(&[2, 3]).await;
    let (a, b) = (
        lab.endpoint_ip(2).to_string(),
        lab.endpoint_ip(3).to_string(),
    );
    let cluster = lab.web(port, &[(&a, true, true, false)]).await;
    let mut old = converse(cluster).await;
    assert_eq!(old.endpoint, format!("{a}:{port}"));
    // a goes away, b comes: new connections go to b, the old one goes on.
    lab.put_slice(slice_of(
        "web-1",
        "web",
        ("", port, "TCP"),
        &[(&b, true, true, false)],
    ))
    .await;
    lab.wait("b instead of a", |x| {
        x.table
            .ports
            .values()
            .all(|p| p.endpoints.len() == 1 && p.endpoints[0].address.ip().octets()[3] == 3)
    })
    .await;
    assert_eq!(converse(cluster).await.endpoint, format!("{b}:{port}"));
    old.echo("still there").await;
    // No endpoint at all: the listener closes, the connection stays.
    lab.put_slice(slice_of("web-1", "web", ("", port, "TCP"), &[]))
        .await;
    lab.wait("no listener", |x| x.listening.is_empty()).await;
    old.echo("and still").await;
    // Bulk data both ways through splice, ended by a half-close.
    let data: Vec<u8> = (0..4 * 1024 * 1024u32).map(|i| (i % 251) as u8).collect();
    let mut stream = old.stream.into_inner();
    let (mut read, mut write) = stream.split();
    let sent = async {
        write.write_all(&data).await.unwrap();
        write.shutdown().await.unwrap();
    };
    let mut back = Vec::new();
    let received = read.read_to_end(&mut back);
    let (_, received) = tokio::time::timeout(WAIT, async { tokio::join!(sent, received) })
        .await
        .expect("the transfer ends within the bound");
    received.unwrap();
    assert!(back == data, "{} bytes back of {}", back.len(), data.len());
    lab.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_port_taken_by_another_program_is_a_warning_and_the_rest_is_served() {
    let Some(mut lab) = lab(207).await else {
        return;
    };
    let taken = std::net::TcpListener::bind("127.0.0.1:31207").expect("the port is free");
    let port = lab.tcp_echoes(&[2]).await;
    let ip = lab.endpoint_ip(2).to_string();
    lab.create_service(
        "web",
        10,
        json!([{"port": 80, "nodePort": 31207}]),
        json!({"type": "NodePort"}),
    )
    .await;
    lab.put_slice(slice_of(
        "web-1",
        "web",
        ("", port, "TCP"),
        &[(&ip, true, true, false)],
    ))
    .await;
    let failing = lab
        .wait("the NodePort failing", |a| !a.failing.is_empty())
        .await;
    assert_eq!(
        failing.failing[0].0.address,
        "127.0.0.1:31207".parse().unwrap()
    );
    // The ClusterIP serves all the same.
    let cluster = SocketAddrV4::new(lab.cluster_ip(10), 80);
    lab.listening(cluster, Protocol::Tcp).await;
    converse(cluster).await;
    let events = Api::<Event>::namespaced(&lab.client, "default");
    let deadline = Instant::now() + WAIT;
    let event = loop {
        let list = events.list(&ListParams::default()).await.unwrap();
        if let Some(event) = list
            .items
            .into_iter()
            .find(|e| e.reason.as_deref() == Some(FAILED_TO_BIND))
        {
            break event;
        }
        assert!(Instant::now() < deadline, "no {FAILED_TO_BIND} event");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(event.event_type.as_deref(), Some("Warning"));
    assert_eq!(event.involved_object.name.as_deref(), Some("web"));
    assert!(
        event
            .message
            .as_deref()
            .unwrap_or("")
            .contains("127.0.0.1:31207")
    );
    // The port comes free: the proxy takes it on its next pass.
    drop(taken);
    lab.listening(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 31207), Protocol::Tcp)
        .await;
    lab.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interface_removed_under_the_proxy_is_put_back() {
    let Some(mut lab) = lab(208).await else {
        return;
    };
    let port = lab.tcp_echoes(&[2]).await;
    let ip = lab.endpoint_ip(2).to_string();
    let cluster = lab.web(port, &[(&ip, true, true, false)]).await;
    let interface = lab.proxy().interface().to_string();
    let status = std::process::Command::new("ip")
        .args(["link", "del", &interface])
        .status()
        .expect("ip runs");
    assert!(status.success());
    let gone = lab.proxy().applied().borrow().generation;
    // Two passes later (one may have begun before the removal) it is back.
    lab.wait("two more passes", |a| a.generation >= gone + 2)
        .await;
    assert!(
        std::path::Path::new("/sys/class/net")
            .join(&interface)
            .exists()
    );
    assert!(is_local(*cluster.ip()), "its ClusterIP is back on it");
    converse(cluster).await;
    lab.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_proxy_takes_over_while_the_old_one_drains_its_connections() {
    let Some(mut lab) = lab(209).await else {
        return;
    };
    let port = lab.tcp_echoes(&[2]).await;
    let a = lab.endpoint_ip(2).to_string();
    let cluster = lab.web(port, &[(&a, true, true, false)]).await;
    let mut old = converse(cluster).await;

    // The old proxy drains; once its listeners are closed a new one of
    // the same instance starts, takes over the interface and serves.
    let instance = lab.instance.clone();
    let (taken_over, successor) = tokio::sync::oneshot::channel();
    let client = lab.client.clone();
    let start_successor = move || {
        let _ = taken_over.send(());
    };
    let old_proxy = lab.proxy.take().expect("a proxy");
    let draining = tokio::spawn(old_proxy.drain(Duration::from_secs(60), start_successor));
    successor.await.expect("the listeners close");
    let new = Proxy::start(
        client,
        Config {
            instance,
            nodeport_addresses: vec!["127.0.0.0/8".parse().unwrap()],
            resync: Duration::from_millis(500),
            ..Config::default()
        },
    )
    .await
    .expect("the new proxy starts on the old one's interface");
    let mut applied = new.applied();
    tokio::time::timeout(
        WAIT,
        applied.wait_for(|a| a.is_listening(cluster, Protocol::Tcp)),
    )
    .await
    .expect("the new proxy listens within the bound")
    .unwrap();
    drop(applied);
    assert_eq!(converse(cluster).await.endpoint, format!("{a}:{port}"));
    // The old connection, carried by the old proxy, goes on; when it
    // ends, the drain does, and hands back the interface, kept for the
    // new proxy.
    old.echo("still there").await;
    drop(old);
    let interface = tokio::time::timeout(WAIT, draining)
        .await
        .expect("the drain ends with its last connection")
        .unwrap()
        .expect("the interface");
    interface.keep();
    assert!(
        is_local(lab.cluster_ip(10)),
        "the ClusterIP stays for the new proxy"
    );
    lab.proxy = Some(new);
    lab.finish().await;
}
