//! Services end to end, with real pods: `k8s-mini apiserver`, `node`,
//! `scheduler`, `controller-manager`, `proxy` and `dns`, each a process of
//! its own, driven with stock kubectl.
//!
//! - Three echo pods behind a Service: 30 requests through the ClusterIP
//!   from inside a pod reach all three, and so do requests through the
//!   NodePort on 127.0.0.1; the pod finds the Service by its short and
//!   full names and in its environment; a headless Service resolves to
//!   the pods. A pod failing its readiness probe gets no new requests
//!   until it recovers. A Service that selects nothing refuses at once.
//!   Bad input gets a clear answer. A connection made before the API
//!   server and the proxy restart is still served after.
//! - A rolling update behind a Service while a client sends requests
//!   without pause: not one fails.
//!
//! Each test has its own service range and NodePort range, so that tests
//! running side by side never claim the same address or port.

mod api_server;
mod node_agent;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use api_server::ApiServer;
use node_agent::{Cleanup, Component, Node, kubectl, kubectl_status, node_leaks};
use serde_json::Value;

/// The echo deployment: `replicas` pods answering on the named port
/// `http`, ready when `/ready` says so, leaving their Service before they
/// hear SIGTERM (a preStop sleep).
fn echo_deployment(replicas: u32, version: &str) -> String {
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
    rollingUpdate:
      maxSurge: 1
      maxUnavailable: 0
  template:
    metadata:
      labels:
        app: web
    spec:
      terminationGracePeriodSeconds: 5
      containers:
      - name: echo
        image: k8s-mini/echo
        env:
        - name: VERSION
          value: "{version}"
        ports:
        - name: http
          containerPort: 8080
        readinessProbe:
          httpGet:
            path: /ready
            port: http
          periodSeconds: 1
          failureThreshold: 1
        lifecycle:
          preStop:
            sleep:
              seconds: 2
"#
    )
}

const SERVICES: &str = r#"apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  type: NodePort
  selector:
    app: web
  ports:
  - name: http
    port: 80
    targetPort: http
---
apiVersion: v1
kind: Service
metadata:
  name: web-headless
spec:
  clusterIP: None
  selector:
    app: web
  ports:
  - port: 8080
---
apiVersion: v1
kind: Service
metadata:
  name: nothing
spec:
  selector:
    app: nothing-has-this-label
  ports:
  - port: 80
"#;

/// A busybox pod to send requests from, made after the Services so that
/// their variables are in its environment.
const CLIENT: &str = r#"apiVersion: v1
kind: Pod
metadata:
  name: client
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - name: main
    image: busybox
    command: [sleep, "100000"]
"#;

/// One control plane, one node, the proxy and the DNS, as processes.
struct Cluster {
    kubeconfig: std::path::PathBuf,
    server: Option<ApiServer>,
    url: String,
    api_data: std::path::PathBuf,
    args: Vec<String>,
    node: Option<Node>,
    /// The scheduler, the controller-manager and the DNS: held to be
    /// stopped (SIGTERM) when the cluster goes.
    _components: Vec<Component>,
    proxy: Option<Component>,
    instance: String,
}

impl Cluster {
    /// `subnet` is the third byte of the test's service range
    /// 10.96.`subnet`.0/24, and picks its NodePort range too.
    fn start(tmp: &Path, name: &str, subnet: u8) -> Cluster {
        let api_data = tmp.join("api");
        let first_port = 30000 + u32::from(subnet) * 10;
        let args: Vec<String> = vec![
            "--service-cluster-ip-range".into(),
            format!("10.96.{subnet}.0/24"),
            "--service-node-port-range".into(),
            format!("{first_port}-{}", first_port + 9),
        ];
        let arg_refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let server = ApiServer::start(&api_data, &arg_refs);
        let kubeconfig = tmp.join("kubeconfig");
        std::fs::write(&kubeconfig, testkit::kubeconfig(&server.url)).unwrap();
        let dns_ip = format!("10.96.{subnet}.10");
        let node = Node::start(
            &tmp.join("node"),
            &server.url,
            name,
            &[
                "--lease-interval",
                "1s",
                "--drain-on-exit",
                "--cluster-dns",
                &dns_ip,
            ],
        );
        let url = server.url.clone();
        let components = vec![
            Component::start("scheduler", &["scheduler", "--server", &url]),
            Component::start(
                "controller-manager",
                &["controller-manager", "--server", &url],
            ),
            Component::start(
                "dns",
                &[
                    "dns",
                    "--server",
                    &url,
                    "--listen",
                    "127.0.0.1:0",
                    "--cluster-ip",
                    &dns_ip,
                ],
            ),
        ];
        let instance = format!("proxy-{name}");
        let mut cluster = Cluster {
            kubeconfig,
            url: url.clone(),
            server: Some(server),
            api_data,
            args,
            node: Some(node),
            _components: components,
            proxy: None,
            instance,
        };
        cluster.start_proxy();
        cluster
    }

    /// SIGKILL, then the server again on the same address and data.
    fn restart_server(&mut self) {
        let url = self.url.clone();
        let arg_refs: Vec<&str> = self.args.iter().map(String::as_str).collect();
        // The old one goes first: the new one takes over its address.
        self.server.take().expect("a server").kill();
        let address = url.trim_start_matches("http://");
        self.server = Some(ApiServer::start_on(address, &self.api_data, &arg_refs));
    }

    fn start_proxy(&mut self) {
        self.proxy = Some(Component::start(
            "proxy",
            &["proxy", "--server", &self.url, "--instance", &self.instance],
        ));
    }

    fn kubectl(&self, args: &[&str]) -> String {
        kubectl(&self.kubeconfig, args, None)
    }

    fn apply(&self, manifest: &str) -> String {
        kubectl(&self.kubeconfig, &["apply", "-f", "-"], Some(manifest))
    }

    fn json(&self, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.extend(["-o", "json"]);
        let text = self.kubectl(&all);
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("kubectl {args:?}: {text}"))
    }

    fn cluster_ip(&self, service: &str) -> String {
        self.json(&["get", "service", service])["spec"]["clusterIP"]
            .as_str()
            .unwrap_or_else(|| panic!("service {service} has a clusterIP"))
            .to_string()
    }

    fn node_port(&self, service: &str) -> u16 {
        let port = &self.json(&["get", "service", service])["spec"]["ports"][0]["nodePort"];
        port.as_u64()
            .and_then(|p| u16::try_from(p).ok())
            .expect("a nodePort")
    }

    /// The ready addresses of the Service's EndpointSlices.
    fn ready_endpoints(&self, service: &str) -> Vec<String> {
        let label = format!("kubernetes.io/service-name={service}");
        let slices = self.json(&["get", "endpointslices", "-l", &label]);
        let mut ready = Vec::new();
        for slice in slices["items"].as_array().into_iter().flatten() {
            for endpoint in slice["endpoints"].as_array().into_iter().flatten() {
                if endpoint["conditions"]["ready"] != false {
                    ready.push(endpoint["addresses"][0].as_str().unwrap_or("").to_string());
                }
            }
        }
        ready.sort();
        ready
    }

    fn wait_for(&self, what: &str, limit: u64, mut check: impl FnMut() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(limit);
        while !check() {
            if Instant::now() > deadline {
                panic!(
                    "not {what} after {limit} s:\n{}\n{}",
                    self.kubectl(&["get", "pods,svc,endpointslices", "-o", "wide"]),
                    self.kubectl(&["get", "events"])
                );
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn wait_for_endpoints(&self, service: &str, count: usize) -> Vec<String> {
        let mut last = Vec::new();
        self.wait_for(&format!("{count} ready endpoints of {service}"), 60, || {
            last = self.ready_endpoints(service);
            last.len() == count
        });
        last
    }

    /// `kubectl exec client -- sh -c SCRIPT`.
    fn in_client(&self, script: &str) -> (bool, String) {
        kubectl_status(
            &self.kubeconfig,
            &["exec", "client", "--", "sh", "-c", script],
            None,
        )
    }
}

/// Whether `ip` is an address of this machine (binding to it works only
/// then). The test sends to a ClusterIP from the host only once the proxy
/// has put it on its interface: before, the packets would take the
/// default route out of the machine.
fn is_local(ip: &str) -> bool {
    std::net::UdpSocket::bind((ip, 0)).is_ok()
}

/// Which pod answered each echo page, counted.
fn answered_by(pages: &str) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for line in pages.lines() {
        if let Some(pod) = line.strip_prefix("pod: ") {
            *counts.entry(pod.trim().to_string()).or_insert(0) += 1;
        }
    }
    counts
}

/// One GET over a fresh connection; the echo page, or what went wrong.
fn get(address: SocketAddr, path: &str) -> Result<String, String> {
    let mut stream = TcpStream::connect_timeout(&address, Duration::from_secs(5))
        .map_err(|error| format!("connect {address}: {error}"))?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    send(&mut stream, path)
}

fn send(stream: &mut TcpStream, path: &str) -> Result<String, String> {
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: web\r\nConnection: close\r\n\r\n"
    )
    .map_err(|error| format!("send: {error}"))?;
    let mut answer = String::new();
    stream
        .read_to_string(&mut answer)
        .map_err(|error| format!("read: {error}"))?;
    if !answer.starts_with("HTTP/1.1 200") {
        return Err(format!("answer: {answer:?}"));
    }
    Ok(answer)
}

fn pod_names(cluster: &Cluster) -> Vec<(String, String)> {
    let pods = cluster.json(&["get", "pods", "-l", "app=web"]);
    pods["items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|pod| {
            (
                pod["metadata"]["name"].as_str().unwrap_or("").to_string(),
                pod["status"]["podIP"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

#[test]
fn a_service_spreads_resolves_follows_readiness_and_survives_restarts() {
    assert!(
        testkit::is_root(),
        "\n\n*** `k8s-mini node` and `k8s-mini proxy` need root: this test needs root ***\n\n"
    );
    let tmp = tempfile::tempdir().unwrap();
    let name = format!("svc-{}", std::process::id());
    let leaks = node_leaks(&tmp.path().join("node"), &name);
    let proxy_leaks = testkit::LeakCheck::new(&format!("proxy-{name}"));
    let _cleanup = Cleanup(&[&leaks, &proxy_leaks]);
    let mut cluster = Cluster::start(tmp.path(), &name, 210);

    assert!(cluster.apply(SERVICES).contains("service/web created"));
    assert_eq!(
        cluster.apply(&echo_deployment(3, "1")),
        "deployment.apps/web created\n"
    );
    assert_eq!(cluster.apply(CLIENT), "pod/client created\n");
    let endpoints = cluster.wait_for_endpoints("web", 3);
    let ip = cluster.cluster_ip("web");
    assert!(ip.starts_with("10.96.210."), "{ip}");
    cluster.wait_for("the ClusterIP on the proxy's interface", 30, || {
        is_local(&ip)
    });
    cluster.wait_for("the client running", 60, || {
        cluster.json(&["get", "pod", "client"])["status"]["phase"] == "Running"
    });

    // 30 requests through the ClusterIP from inside a pod reach all three.
    let (ok, pages) = cluster.in_client(&format!(
        "for i in $(seq 30); do wget -q -O - http://{ip}/; done"
    ));
    assert!(ok, "{pages}");
    let counts = answered_by(&pages);
    assert_eq!(counts.values().sum::<usize>(), 30, "{counts:?}");
    assert_eq!(counts.len(), 3, "every pod answers: {counts:?}");

    // The same through the NodePort on 127.0.0.1.
    let node_port = cluster.node_port("web");
    let mut counts = BTreeMap::new();
    for _ in 0..30 {
        let page = get(SocketAddr::from(([127, 0, 0, 1], node_port)), "/").unwrap();
        for (pod, n) in answered_by(&page) {
            *counts.entry(pod).or_insert(0) += n;
        }
    }
    assert_eq!(
        counts.len(),
        3,
        "every pod answers through the NodePort: {counts:?}"
    );

    // Names and variables.
    let (ok, env) = cluster.in_client("env");
    assert!(ok, "{env}");
    assert!(env.contains(&format!("WEB_SERVICE_HOST={ip}\n")), "{env}");
    assert!(env.contains("WEB_SERVICE_PORT=80\n"), "{env}");
    for host in ["web", "web.default", "web.default.svc.cluster.local"] {
        let (ok, page) = cluster.in_client(&format!("wget -q -O - http://{host}/"));
        assert!(ok && page.contains("pod: web-"), "{host}: {page}");
    }
    let (ok, answer) = cluster.in_client("nslookup web-headless.default.svc.cluster.local");
    assert!(ok, "{answer}");
    for address in &endpoints {
        assert!(answer.contains(address.as_str()), "{address} in {answer}");
    }

    // A pod failing its readiness probe gets no new requests; back when it
    // recovers.
    let (sick, sick_ip) = pod_names(&cluster).remove(0);
    get(
        SocketAddr::new(sick_ip.parse().unwrap(), 8080),
        "/ready/fail",
    )
    .unwrap();
    cluster.wait_for_endpoints("web", 2);
    let (ok, pages) = cluster.in_client(&format!(
        "for i in $(seq 12); do wget -q -O - http://{ip}/; done"
    ));
    assert!(ok, "{pages}");
    let counts = answered_by(&pages);
    assert_eq!(counts.len(), 2, "{counts:?}");
    assert!(
        !counts.contains_key(&sick),
        "{sick} is not ready: {counts:?}"
    );
    get(SocketAddr::new(sick_ip.parse().unwrap(), 8080), "/ready/ok").unwrap();
    cluster.wait_for_endpoints("web", 3);
    let (_, pages) = cluster.in_client(&format!(
        "for i in $(seq 12); do wget -q -O - http://{ip}/; done"
    ));
    assert!(answered_by(&pages).contains_key(&sick), "{pages}");

    // A Service that selects nothing refuses at once, never hangs.
    let nothing = cluster.cluster_ip("nothing");
    cluster.wait_for("the ClusterIP on the proxy's interface", 30, || {
        is_local(&nothing)
    });
    let refused = TcpStream::connect_timeout(
        &SocketAddr::new(nothing.parse().unwrap(), 80),
        Duration::from_secs(10),
    );
    let error = refused.expect_err("nothing answers");
    assert!(
        matches!(
            error.kind(),
            std::io::ErrorKind::ConnectionRefused | std::io::ErrorKind::ConnectionReset
        ),
        "refused, not {error:?}"
    );

    bad_input(&cluster);

    // A connection made before the API server restarts is served after,
    // and so is one made before the proxy restarts (the echo server
    // gives a silent connection 10 s). New connections are served too.
    let web = SocketAddr::new(ip.parse().unwrap(), 80);
    let mut early = TcpStream::connect(web).unwrap();
    early
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    cluster.restart_server();
    assert_eq!(cluster.cluster_ip("web"), ip, "the ClusterIP is kept");
    let page = send(&mut early, "/").expect("the early connection is served");
    assert!(page.contains("pod: web-"), "{page}");
    let mut early = TcpStream::connect(web).unwrap();
    early
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    // The old proxy drains its connections while a new one takes over.
    let old_proxy = cluster.proxy.take().unwrap().terminate();
    cluster.start_proxy();
    cluster.wait_for("the new proxy serving", 30, || get(web, "/").is_ok());
    let page = send(&mut early, "/").expect("the early connection is served");
    assert!(page.contains("pod: web-"), "{page}");
    drop(early);
    old_proxy.wait_for_exit();

    cluster.kubectl(&["delete", "deployment", "web"]);
    cluster.kubectl(&["delete", "pod", "client"]);
    cluster.wait_for("the pods gone", 60, || pod_names(&cluster).is_empty());
    cluster.proxy.take().unwrap().stop_gracefully();
    cluster.node.take().unwrap().stop();
    leaks.assert_clean();
    proxy_leaks.assert_clean();
}

/// Each bad input gets a clear answer.
fn bad_input(cluster: &Cluster) {
    let outside = r#"{"apiVersion":"v1","kind":"Service","metadata":{"name":"outside"},
        "spec":{"clusterIP":"10.0.0.5","ports":[{"port":80}]}}"#;
    let (ok, said) = kubectl_status(&cluster.kubeconfig, &["apply", "-f", "-"], Some(outside));
    assert!(!ok && said.contains("not in the valid range"), "{said}");

    let taken = cluster.node_port("web");
    let clash = format!(
        r#"{{"apiVersion":"v1","kind":"Service","metadata":{{"name":"clash"}},
        "spec":{{"type":"NodePort","ports":[{{"port":80,"nodePort":{taken}}}]}}}}"#
    );
    let (ok, said) = kubectl_status(&cluster.kubeconfig, &["apply", "-f", "-"], Some(&clash));
    assert!(!ok && said.contains("already allocated"), "{said}");

    let unnamed = r#"{"apiVersion":"v1","kind":"Service","metadata":{"name":"no-such-port"},
        "spec":{"selector":{"app":"web"},"ports":[{"port":80,"targetPort":"no-such-port"}]}}"#;
    cluster.apply(unnamed);
    cluster.wait_for("a warning event about the port", 60, || {
        let events = cluster.kubectl(&[
            "get",
            "events",
            "--field-selector",
            "involvedObject.name=no-such-port,type=Warning",
        ]);
        events.contains("no-such-port")
    });
}

#[test]
fn a_rolling_update_behind_a_service_fails_no_request() {
    assert!(
        testkit::is_root(),
        "\n\n*** `k8s-mini node` and `k8s-mini proxy` need root: this test needs root ***\n\n"
    );
    let tmp = tempfile::tempdir().unwrap();
    let name = format!("roll-{}", std::process::id());
    let leaks = node_leaks(&tmp.path().join("node"), &name);
    let proxy_leaks = testkit::LeakCheck::new(&format!("proxy-{name}"));
    let _cleanup = Cleanup(&[&leaks, &proxy_leaks]);
    let mut cluster = Cluster::start(tmp.path(), &name, 211);
    cluster.apply(SERVICES);
    cluster.apply(&echo_deployment(3, "1"));
    cluster.wait_for_endpoints("web", 3);
    let ip = cluster.cluster_ip("web");
    cluster.wait_for("the ClusterIP on the proxy's interface", 30, || {
        is_local(&ip)
    });
    let web = SocketAddr::new(ip.parse().unwrap(), 80);

    let before: Vec<String> = pod_names(&cluster)
        .into_iter()
        .map(|(name, _)| name)
        .collect();

    // A client without pause, for the whole rollout.
    let done = Arc::new(AtomicBool::new(false));
    let client = {
        let done = Arc::clone(&done);
        std::thread::spawn(move || {
            let mut failed = Vec::new();
            let mut answered = BTreeMap::new();
            while !done.load(Ordering::Relaxed) {
                match get(web, "/") {
                    Ok(page) => {
                        for (pod, n) in answered_by(&page) {
                            *answered.entry(pod).or_insert(0) += n;
                        }
                    }
                    Err(error) => failed.push(error),
                }
            }
            (answered, failed)
        })
    };
    std::thread::sleep(Duration::from_secs(1));
    cluster.apply(&echo_deployment(3, "2"));
    let (ok, said) = kubectl_status(
        &cluster.kubeconfig,
        &["rollout", "status", "deployment/web", "--timeout=120s"],
        None,
    );
    assert!(ok, "{said}");
    // The old pods finish going (their preStop and grace) while the
    // client goes on.
    cluster.wait_for("only the new pods left", 60, || {
        pod_names(&cluster).len() == 3
    });
    let after: Vec<String> = pod_names(&cluster)
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    std::thread::sleep(Duration::from_secs(1));
    done.store(true, Ordering::Relaxed);
    let (answered, failed) = client.join().unwrap();
    let served: usize = answered.values().sum();
    eprintln!(
        "{served} requests served during the rollout, {} failed: {answered:?}",
        failed.len()
    );
    assert!(failed.is_empty(), "failed requests: {failed:#?}");
    assert!(
        before.iter().all(|pod| !after.contains(pod)),
        "{before:?} replaced by {after:?}"
    );
    for pods in [&before, &after] {
        assert!(
            pods.iter().any(|pod| answered.contains_key(pod)),
            "the client reached old and new pods: {answered:?}"
        );
    }

    cluster.kubectl(&["delete", "deployment", "web"]);
    cluster.wait_for("the pods gone", 60, || pod_names(&cluster).is_empty());
    cluster.proxy.take().unwrap().stop_gracefully();
    cluster.node.take().unwrap().stop();
    leaks.assert_clean();
    proxy_leaks.assert_clean();
}
