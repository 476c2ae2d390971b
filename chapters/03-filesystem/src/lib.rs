//! Chapter 03's test suite and the helpers its tests share.
//!
//! The tests import the crate under test as `chapter_03::filesystem`: your
//! exercise (`exercises/03-filesystem`) by default, the reference solution
//! (`solutions/03-filesystem`) with `--features solution`. The containers
//! run `container-init` (src/bin/container-init.rs), built from the same
//! code; it is also the program of the built-in images.

#[cfg(not(feature = "solution"))]
pub use exercise as filesystem;
#[cfg(feature = "solution")]
pub use solution as filesystem;

use filesystem::image::ImageStore;
use filesystem::{ContainerRequest, Containers};
use namespaces::{Isolation, Runtime};
use process::{Event, RestartPolicy, Supervisor};
pub use testkit::{all_events, guard, readable_log, redact, timeline, wait_for_log};

/// One test's containers: its own instance name, data directory (image
/// store and container state), and the leak check that runs at the end.
pub struct Lab {
    pub containers: Containers,
    pub tmp: tempfile::TempDir,
    leaks: testkit::LeakCheck,
}

impl Lab {
    /// A lab whose store holds the built-in images, made from
    /// `init_program` (`env!("CARGO_BIN_EXE_container-init")`).
    pub fn new(init_program: &str) -> Lab {
        assert!(
            testkit::is_root(),
            "\n\n*** chapter 03's suite needs root: it mounts filesystems for its containers ***\n\n"
        );
        let tmp = tempfile::tempdir().expect("a temporary directory");
        let instance = testkit::unique_instance("ch03");
        let store = ImageStore::open(&tmp.path().join("images")).expect("an image store");
        let report = store
            .install_builtin(std::path::Path::new(init_program))
            .expect("the built-in images");
        if let Some((_, reason)) = report.unavailable.first() {
            panic!("\n\n*** chapter 03's tests need every built-in image: {reason} ***\n\n");
        }
        let runtime = Runtime::new(init_program, &instance);
        let containers = Containers::new(runtime, store, tmp.path().join("containers"))
            .expect("a state directory");
        let leaks = testkit::LeakCheck::new(&instance);
        Lab {
            containers,
            tmp,
            leaks,
        }
    }

    /// The same lab, with its writable layers made this way.
    pub fn with_layer(self, layer: filesystem::rootfs::Layer) -> Lab {
        Lab {
            containers: self.containers.with_layer(layer),
            ..self
        }
    }

    /// A busybox container that runs `script` with `sh -c`, once.
    pub fn busybox(&self, name: &str, script: &str) -> ContainerRequest {
        ContainerRequest {
            name: name.to_string(),
            image: "busybox".to_string(),
            command: vec!["sh".into(), "-c".into(), script.into()],
            ..ContainerRequest::default()
        }
    }

    /// Runs a container to the end and removes it; returns its events and
    /// log as one readable text.
    pub async fn run(&self, request: &ContainerRequest) -> String {
        let (mut spec, root) = match self
            .containers
            .create(request, &Isolation::container(false))
        {
            Ok(created) => created,
            Err(error) => return self.redact(&format!("not created: {error}")),
        };
        spec.restart_policy = RestartPolicy::Never;
        let log_path = spec.log_path.clone();
        let events = match Supervisor::start(spec).await {
            Ok(supervisor) => all_events(supervisor).await,
            Err(error) => vec![Event::StartFailed {
                error: error.to_string(),
            }],
        };
        let log = std::fs::read_to_string(&log_path).unwrap_or_default();
        root.remove()
            .expect("the container's directory can be removed");
        self.redact(&testkit::report(&events, &readable_log(&log)))
    }

    /// Hides the lab's temporary directory in a text.
    pub fn redact(&self, text: &str) -> String {
        redact(text, self.tmp.path())
    }

    /// Fails the test if anything of this lab's instance is left on the
    /// host, including container directories.
    pub fn assert_no_leaks(&self) {
        self.leaks.assert_clean();
        let left: Vec<_> = std::fs::read_dir(self.containers.instance_dir())
            .map(|entries| entries.flatten().map(|entry| entry.path()).collect())
            .unwrap_or_default();
        assert!(
            left.is_empty(),
            "container directories left behind: {left:?}"
        );
    }
}
