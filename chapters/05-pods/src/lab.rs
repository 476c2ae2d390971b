//! One test's node: its own instance name, data directory, image store,
//! pod network (a /24 no interface of the host uses), and the leak check
//! that runs at the end.

use std::net::Ipv4Addr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use filesystem::image::ImageStore;
use process::Backoff;

use crate::pods::network::{NodeNetwork, Subnet};
use crate::pods::{Container, PodHandle, PodRuntime, PodSpec, RuntimeConfig};

/// How long a test waits for a pod to get somewhere before it gives up.
pub const LIMIT: Duration = Duration::from_secs(30);

pub struct Lab {
    pub runtime: Arc<PodRuntime>,
    pub instance: String,
    pub subnet: Subnet,
    pub tmp: tempfile::TempDir,
    leaks: Leaks,
    pods: AtomicU32,
}

impl Lab {
    /// A node whose containers run `init_program`
    /// (`env!("CARGO_BIN_EXE_pod-init")`).
    pub fn new(init_program: &str) -> Lab {
        assert!(
            testkit::is_root(),
            "\n\n*** chapter 05's suite needs root: pods need network namespaces, veth pairs, cgroups and mounts ***\n\n"
        );
        let tmp = tempfile::tempdir().expect("a temporary directory");
        let instance = testkit::unique_instance("ch05");
        let leaks = testkit::LeakCheck::new(&instance)
            .expect_gone(tmp.path().join("pods").join(&instance))
            .expect_gone(tmp.path().join("networks").join(&instance));
        let images = ImageStore::open(&tmp.path().join("images")).expect("an image store");
        let report = images
            .install_builtin(std::path::Path::new(init_program))
            .expect("the built-in images");
        if let Some((_, reason)) = report.unavailable.first() {
            panic!("\n\n*** chapter 05's tests need every built-in image: {reason} ***\n\n");
        }
        let subnet = free_subnet("10.251");
        let network = NodeNetwork::ensure(crate::node_config(&instance, subnet, tmp.path()))
            .expect("the node's pod network");
        let runtime = PodRuntime::new(RuntimeConfig {
            instance: instance.clone(),
            init_program: init_program.into(),
            images,
            state_dir: tmp.path().to_path_buf(),
            network: Some(network),
        })
        .expect("a pod runtime");
        Lab {
            runtime,
            instance,
            subnet,
            tmp,
            leaks: Leaks(leaks),
            pods: AtomicU32::new(0),
        }
    }

    /// A pod spec with a fresh uid, a short grace period and a quick
    /// back-off, so that tests do not wait for the kubelet's 10 seconds.
    pub fn pod(&self, name: &str, containers: Vec<Container>) -> PodSpec {
        let n = self.pods.fetch_add(1, Ordering::Relaxed);
        let mut spec = PodSpec::new(name, containers);
        spec.uid = format!("{name}-{n}");
        spec.termination_grace_period = Duration::from_secs(5);
        spec.backoff = Backoff {
            initial: Duration::from_millis(100),
            max: Duration::from_secs(1),
            reset_after: Duration::from_secs(600),
        };
        spec
    }

    pub fn run(&self, spec: PodSpec) -> PodHandle {
        self.runtime.run(spec)
    }

    /// The node's address on the pod network.
    pub fn gateway(&self) -> Ipv4Addr {
        self.subnet.gateway()
    }

    /// Replaces what differs from run to run: the temporary directory, the
    /// subnet's addresses (`<pod-net>.N`), the instance.
    pub fn redact(&self, text: &str) -> String {
        let prefix = self.subnet.network().to_string();
        let prefix = prefix.trim_end_matches('0');
        testkit::redact(text, self.tmp.path())
            .replace(prefix, "<pod-net>.")
            .replace(&self.instance, "<instance>")
    }

    /// Removes the node's network and runtime, then fails the test if
    /// anything of the instance is left on the host.
    pub fn finish(self) {
        let runtime = Arc::try_unwrap(self.runtime)
            .unwrap_or_else(|_| panic!("a pod handle is still alive: delete every pod first"));
        if let Some(network) = runtime.network() {
            assert!(
                network
                    .ipam()
                    .allocations()
                    .expect("the allocations")
                    .is_empty(),
                "addresses still allocated after every pod was deleted"
            );
        }
        runtime
            .remove()
            .expect("the runtime's cgroup and directories");
        self.leaks.0.assert_clean();
    }
}

/// The leak check, and the tidying after a test that failed half-way: its
/// pods' interfaces and bridge would stay on the machine, one more with
/// every failure (the test has failed already; this only tidies).
struct Leaks(testkit::LeakCheck);

impl Drop for Leaks {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let removed = self.0.remove_interfaces();
            if !removed.is_empty() {
                eprintln!("removed the interfaces the failed test left: {removed:?}");
            }
            let stuck = self.0.remove_cgroups();
            if !stuck.is_empty() {
                eprintln!("could not remove the failed test's cgroups: {stuck:?}");
            }
        }
    }
}

/// A /24 of `<prefix>.0.0/16` that no interface of the host uses (see
/// [`testkit::free_subnet`]).
pub fn free_subnet(prefix: &str) -> Subnet {
    testkit::free_subnet(prefix).parse().expect("a subnet")
}
