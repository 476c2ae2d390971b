//! Chapter 02's test suite and the helpers its tests share.
//!
//! The tests import the crate under test as `chapter_02::namespaces`: your
//! exercise (`exercises/02-namespaces`) by default, the reference solution
//! (`solutions/02-namespaces`) with `--features solution`. The containers
//! run `container-init` (src/bin/container-init.rs), which is built from
//! the same code.

#[cfg(not(feature = "solution"))]
pub use exercise as namespaces;
#[cfg(feature = "solution")]
pub use solution as namespaces;

use std::path::PathBuf;

use namespaces::{Isolation, Privileges, Runtime};
use process::{ContainerSpec, Event, RestartPolicy, Supervisor};

pub use testkit::{all_events, guard, readable_log, redact, timeline, wait_for_log};

/// One test's containers: a runtime with its own instance name, a
/// temporary directory for logs, and the leak check that runs at the end.
pub struct Lab {
    pub runtime: Runtime,
    pub tmp: tempfile::TempDir,
    pub privileges: Privileges,
    leaks: testkit::LeakCheck,
}

impl Lab {
    /// `init_program` is `env!("CARGO_BIN_EXE_container-init")`.
    pub fn new(init_program: &str) -> Lab {
        let privileges = match Privileges::detect() {
            Ok(privileges) => privileges,
            Err(reason) => panic!(
                "\n\n*** chapter 02 cannot run its containers on this machine ***\n{reason}\n\n"
            ),
        };
        let instance = testkit::unique_instance("ch02");
        Lab {
            runtime: Runtime::new(init_program, &instance),
            tmp: tempfile::tempdir().expect("a temporary directory"),
            privileges,
            leaks: testkit::LeakCheck::new(&instance),
        }
    }

    /// Isolation for this machine: every namespace, and a user namespace
    /// when not root.
    pub fn isolation(&self) -> Isolation {
        Isolation::container(self.privileges.is_rootless())
    }

    /// A process that runs once (restart policy Never), logging to the
    /// lab's directory.
    pub fn app(&self, name: &str, command: &str, args: &[&str]) -> ContainerSpec {
        ContainerSpec::new(name, command)
            .args(args.iter().copied())
            .log_path(self.log_path(name))
            .restart_policy(RestartPolicy::Never)
    }

    pub fn log_path(&self, name: &str) -> PathBuf {
        self.tmp.path().join(format!("{name}.log"))
    }

    /// Starts `app` in a container.
    pub async fn start(&self, app: &ContainerSpec, isolation: &Isolation) -> Supervisor {
        Supervisor::start(self.runtime.wrap(app, isolation))
            .await
            .expect("the supervisor should start the init program")
    }

    /// Runs `app` in a container to the end: the events (without pids) and
    /// the log, as one readable text.
    pub async fn run(&self, app: &ContainerSpec, isolation: &Isolation) -> String {
        let supervisor = self.start(app, isolation).await;
        let events = all_events(supervisor).await;
        self.report(&app.name, &events)
    }

    /// Events and log of a finished container as one readable text.
    pub fn report(&self, name: &str, events: &[Event]) -> String {
        let log = std::fs::read_to_string(self.log_path(name)).unwrap_or_default();
        let log = redact(&readable_log(&log), self.tmp.path());
        testkit::report(events, &log)
    }

    /// Fails the test if anything of this lab's instance is left on the host.
    pub fn assert_no_leaks(&self) {
        self.leaks.assert_clean();
    }
}
