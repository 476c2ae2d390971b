//! One test's cluster of one node: an API server in the test's process (its
//! store in a temporary directory), a pod runtime with its own instance
//! name and pod subnet, the node agent under test with short intervals, a
//! kubeconfig for stock kubectl, and the leak check that runs at the end.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use apiserver::client::Client;
use apiserver::server::{ApiServer, Config as ServerConfig};
use filesystem::image::ImageStore;
use objects::Pod;
use pods::network::{NodeConfig, NodeNetwork, Subnet};
use pods::{PodRuntime, RuntimeConfig};
use process::Backoff;

use crate::kubelet::resources::Allocatable;
use crate::kubelet::{Config, Kubelet};

/// How long a test waits for a pod to get somewhere before it gives up.
pub const LIMIT: Duration = Duration::from_secs(30);

/// What a test may change of the node.
#[derive(Debug, Clone)]
pub struct Options {
    pub capacity: Allocatable,
    pub backoff: Backoff,
    pub lease_interval: Duration,
    pub status_interval: Duration,
    /// How often the agent looks at every pod without a change.
    pub resync: Duration,
    /// Holds each of the agent's requests this long on its way to the API
    /// server (zero: the agent talks to the server directly), as a loaded
    /// server would: its writes take that long.
    pub agent_delay: Duration,
    /// The agent's `--cluster-dns` (none: pods keep the host's resolv.conf).
    pub cluster_dns: Option<IpAddr>,
}

impl Default for Options {
    /// A small node (2 cpus, 1 GiB, 10 pods) with a quick back-off.
    fn default() -> Options {
        Options {
            capacity: Allocatable {
                cpu_millis: 2000,
                memory_bytes: 1 << 30,
                pods: 10,
            },
            backoff: Backoff {
                initial: Duration::from_millis(500),
                max: Duration::from_secs(4),
                reset_after: Duration::from_secs(600),
            },
            lease_interval: Duration::from_secs(1),
            status_interval: Duration::from_secs(60),
            resync: Duration::from_millis(200),
            agent_delay: Duration::ZERO,
            cluster_dns: None,
        }
    }
}

pub struct Lab {
    pub server: Option<ApiServer>,
    pub url: String,
    pub client: Client,
    pub kubelet: Option<Kubelet>,
    pub runtime: Option<Arc<PodRuntime>>,
    pub node: String,
    pub instance: String,
    pub subnet: Subnet,
    pub tmp: tempfile::TempDir,
    listen: SocketAddr,
    leaks: testkit::LeakCheck,
}

impl Lab {
    /// A node whose containers run `init_program`
    /// (`env!("CARGO_BIN_EXE_kubelet-init")`).
    pub async fn start(init_program: &str) -> Lab {
        Lab::start_with(init_program, Options::default()).await
    }

    /// The API server, then the node's runtime, then the agent, registered.
    pub async fn start_with(init_program: &str, options: Options) -> Lab {
        assert!(
            testkit::is_root(),
            "\n\n*** chapter 08's suite needs root: the node runs real pods (namespaces, veth pairs, cgroups, mounts) ***\n\n"
        );
        let tmp = tempfile::tempdir().expect("a temporary directory");
        let server = start_server(tmp.path().to_path_buf(), "127.0.0.1:0".parse().unwrap()).await;
        let url = server.url();
        let listen: SocketAddr = url
            .trim_start_matches("http://")
            .parse()
            .expect("an address");
        std::fs::write(tmp.path().join("kubeconfig"), testkit::kubeconfig(&url))
            .expect("a kubeconfig");
        let instance = testkit::unique_instance("ch08");
        let leaks = testkit::LeakCheck::new(&instance)
            .expect_gone(tmp.path().join("pods").join(&instance))
            .expect_gone(tmp.path().join("networks").join(&instance));
        let images = ImageStore::open(&tmp.path().join("images")).expect("an image store");
        let report = images
            .install_builtin(std::path::Path::new(init_program))
            .expect("the built-in images");
        if let Some((_, reason)) = report.unavailable.first() {
            panic!("\n\n*** chapter 08's tests need every built-in image: {reason} ***\n\n");
        }
        let subnet = free_subnet("10.250");
        let network = NodeNetwork::ensure(NodeConfig {
            instance: instance.clone(),
            pod_cidr: subnet,
            cluster_cidrs: vec!["10.250.0.0/16".parse().expect("a subnet")],
            data_dir: tmp.path().to_path_buf(),
            netns: None,
        })
        .expect("the node's pod network");
        let runtime = PodRuntime::new(RuntimeConfig {
            instance: instance.clone(),
            init_program: init_program.into(),
            images: images.clone(),
            state_dir: tmp.path().to_path_buf(),
            network: Some(network),
        })
        .expect("a pod runtime");
        let node = format!("node-{}", instance.rsplit('-').next().unwrap_or("0"));
        let mut config = Config::new(
            &node,
            IpAddr::V4(Ipv4Addr::LOCALHOST),
            tmp.path().to_path_buf(),
        );
        config.pod_cidr = Some(subnet.to_string());
        config.capacity = options.capacity;
        config.backoff = options.backoff;
        config.image_backoff = options.backoff;
        config.lease_interval = options.lease_interval;
        config.status_interval = options.status_interval;
        config.port = 10250;
        config.resync = options.resync;
        config.cluster_dns = options.cluster_dns;
        let client = Client::new(&url).expect("a client");
        let agent_client = if options.agent_delay.is_zero() {
            client.clone()
        } else {
            let proxy = delaying_proxy(listen, options.agent_delay).await;
            Client::new(&format!("http://{proxy}")).expect("a client")
        };
        let kubelet = Kubelet::start(agent_client, runtime.clone(), images, config)
            .await
            .expect("the node registers");
        Lab {
            server: Some(server),
            url,
            client,
            kubelet: Some(kubelet),
            runtime: Some(runtime),
            node,
            instance,
            subnet,
            tmp,
            listen,
            leaks,
        }
    }

    pub fn kubeconfig(&self) -> PathBuf {
        self.tmp.path().join("kubeconfig")
    }

    /// Stops the API server and starts it again on the same address and
    /// store, after `pause`.
    pub async fn restart_server(&mut self, pause: Duration) {
        let server = self.server.take().expect("a running API server");
        server.stop(Duration::from_secs(5)).await;
        tokio::time::sleep(pause).await;
        self.server = Some(start_server(self.tmp.path().to_path_buf(), self.listen).await);
    }

    /// Runs stock kubectl against the server; exit code, stdout and stderr
    /// as one text.
    pub async fn kubectl(&self, args: &[&str]) -> String {
        self.kubectl_with_input(args, None).await
    }

    pub async fn kubectl_with_input(&self, args: &[&str], input: Option<&str>) -> String {
        let kubeconfig = self.kubeconfig();
        testkit::run_kubectl(
            std::path::Path::new("kubectl"),
            kubeconfig.as_ref(),
            self.tmp.path(),
            args,
            input,
            "chapter 08's suite",
        )
        .await
    }

    /// The pod as the API has it now.
    pub async fn pod(&self, name: &str) -> Option<Pod> {
        self.client
            .api::<Pod>(Some("default"))
            .get_opt(name)
            .await
            .expect("the API server answers")
    }

    /// Waits until the pod satisfies `condition`; panics with the last
    /// state seen after [`LIMIT`].
    pub async fn wait_for(
        &self,
        name: &str,
        condition: impl Fn(Option<&Pod>) -> bool,
    ) -> Option<Pod> {
        let deadline = tokio::time::Instant::now() + LIMIT;
        loop {
            let pod = self.pod(name).await;
            if condition(pod.as_ref()) {
                return pod;
            }
            if tokio::time::Instant::now() > deadline {
                panic!(
                    "pod {name} did not get there in {LIMIT:?}; last seen:\n{}",
                    serde_json::to_string_pretty(&pod).unwrap_or_default()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Replaces what differs from run to run: the temporary directory, the
    /// node's name, its subnet, uids, times, the machine's figures.
    pub fn redact(&self, text: &str) -> String {
        let prefix = self.subnet.network().to_string();
        let prefix = prefix.trim_end_matches('0');
        let text = testkit::redact(text, self.tmp.path())
            .replace(prefix, "<pod-net>.")
            .replace(&self.instance, "<instance>")
            .replace(&self.node, "<node>");
        redact_values(&text)
    }

    /// Deletes every pod (drain), stops the agent and the API server,
    /// removes the node's runtime, then fails the test if anything of the
    /// instance is left on the host.
    pub async fn finish(mut self) {
        if let Some(kubelet) = self.kubelet.take() {
            kubelet.drain().await;
        }
        let runtime = self.runtime.take().expect("the runtime");
        let runtime = Arc::try_unwrap(runtime)
            .unwrap_or_else(|_| panic!("a pod still holds the runtime after the drain"));
        runtime
            .remove()
            .expect("the runtime's cgroup and directories");
        if let Some(server) = self.server.take() {
            server.stop(Duration::from_secs(5)).await;
        }
        self.leaks.assert_clean();
    }
}

impl Drop for Lab {
    /// After a failed test, the pods' interfaces and cgroups would stay on
    /// the machine: tidy them (the test has failed already).
    fn drop(&mut self) {
        if std::thread::panicking() {
            let _ = self.leaks.remove_interfaces();
            let _ = self.leaks.remove_cgroups();
            unmount_under(self.tmp.path());
        }
    }
}

/// Unmounts what is mounted under `dir` (the tmpfs of Secret volumes of
/// pods never drained), so that the temporary directory can go.
fn unmount_under(dir: &std::path::Path) {
    let mounts = std::fs::read_to_string("/proc/self/mounts").unwrap_or_default();
    for line in mounts.lines() {
        let Some(target) = line.split(' ').nth(1) else {
            continue;
        };
        if std::path::Path::new(target).starts_with(dir) {
            let _ = nix::mount::umount2(target, nix::mount::MntFlags::MNT_DETACH);
        }
    }
}

async fn start_server(dir: PathBuf, listen: SocketAddr) -> ApiServer {
    let config = ServerConfig {
        listen,
        data_dir: Some(dir),
        ..ServerConfig::default()
    };
    ApiServer::start(config)
        .await
        .expect("the API server starts")
}

/// A TCP proxy on loopback in front of the API server at `server`: what
/// its clients send reaches the server `delay` late, each piece of it; the
/// answers come back at once. It serves as long as the test's runtime.
async fn delaying_proxy(server: SocketAddr, delay: Duration) -> SocketAddr {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port for the proxy");
    let address = listener.local_addr().expect("the proxy's address");
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            tokio::spawn(async move {
                let Ok(upstream) = tokio::net::TcpStream::connect(server).await else {
                    return;
                };
                let (mut from_client, mut to_client) = client.into_split();
                let (mut from_server, mut to_server) = upstream.into_split();
                let requests = async move {
                    let mut buffer = vec![0u8; 64 * 1024];
                    while let Ok(read @ 1..) = from_client.read(&mut buffer).await {
                        tokio::time::sleep(delay).await;
                        if to_server.write_all(&buffer[..read]).await.is_err() {
                            break;
                        }
                    }
                    let _ = to_server.shutdown().await;
                };
                let answers = async move {
                    let _ = tokio::io::copy(&mut from_server, &mut to_client).await;
                    let _ = to_client.shutdown().await;
                };
                tokio::join!(requests, answers);
            });
        }
    });
    address
}

/// Replaces the values that change from run to run in YAML or JSON text:
/// uids, resource versions, times, ports, the machine's own figures.
pub fn redact_values(text: &str) -> String {
    let keys = [
        "uid",
        "resourceVersion",
        "creationTimestamp",
        "lastHeartbeatTime",
        "lastTransitionTime",
        "startTime",
        "startedAt",
        "finishedAt",
        "renewTime",
        "acquireTime",
        "machineID",
        "systemUUID",
        "bootID",
        "kernelVersion",
        "osImage",
        "Port",
        "containerID",
        "deletionTimestamp",
        "architecture",
        "kubernetes.io/arch",
    ];
    text.lines()
        .map(|line| {
            let trimmed = line.trim_start().trim_start_matches("- ");
            for key in keys {
                for form in [format!("{key}: "), format!("\"{key}\": ")] {
                    if let Some(at) = trimmed.find(&form).filter(|at| *at == 0) {
                        let start = line.len() - trimmed.len() + at + form.len();
                        let comma = if line.ends_with(',') { "," } else { "" };
                        return format!("{}<{key}>{comma}", &line[..start]);
                    }
                }
            }
            line.to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A pod on `node` from a YAML body of its spec (indented as under
/// `spec:`).
pub fn pod(name: &str, node: &str, spec: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\nspec:\n  nodeName: {node}\n{spec}"
    )
}

/// A /24 of `<prefix>.0.0/16` that no interface of the host uses (see
/// [`testkit::free_subnet`]).
fn free_subnet(prefix: &str) -> Subnet {
    testkit::free_subnet(prefix).parse().expect("a subnet")
}

/// The log of `container` once it holds `needle`, read every 25 ms for at
/// most 10 s; the last log read otherwise, for the test's assertion to show.
pub async fn log_containing(handle: &pods::PodHandle, container: &str, needle: &str) -> String {
    let mut log = String::new();
    for _ in 0..400 {
        log = handle.logs(container, false).unwrap_or_default();
        if log.contains(needle) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    log
}
