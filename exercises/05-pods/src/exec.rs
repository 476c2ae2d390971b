// Generated from solutions/05-pods/src/exec.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
//! `exec`: a new process inside a running container. It enters every
//! namespace of the container (PID and mount included, so it sees the
//! container's processes and files), joins its cgroup, and drops the same
//! privileges the container's own process did.

use std::io;
use std::sync::{Arc, Weak};
use std::time::Duration;

use filesystem::{FilesystemConfig, extensions};
use namespaces::{Isolation, Namespace};
use process::ContainerSpec;
use tokio::process::Command;

use crate::PodError;
use crate::pod::{Pod, Running};
use crate::probe::{BoxFuture, Exec, ExecOutput, run_command};
use crate::sandbox::namespace_path;
use crate::session::{ExecSession, ExecStreams};

// ANCHOR: exec_isolation
/// How an exec'd process is isolated: it creates no namespace, it enters
/// the five of the running container, through the files of the
/// container's first process, and joins its cgroups.
pub fn exec_isolation(container_pid: u32, cgroup_procs: Vec<std::path::PathBuf>) -> Isolation {
    todo!(
        "exercise 8: the isolation of a process exec'd into the running container `container_pid`: its namespaces and cgroups"
    )
}
// ANCHOR_END: exec_isolation

/// The command that runs `line` inside the container: the init program of
/// chapter 02, told to enter the container instead of making one.
pub(crate) fn exec_command(
    pod: &Pod,
    container: &str,
    running: &Running,
    line: &[String],
) -> Result<Command, PodError> {
    let Some((program, args)) = line.split_first() else {
        return Err(PodError::Start {
            what: format!("a command in {container}"),
            message: "the command is empty".into(),
        });
    };
    let spec = pod
        .spec
        .init_containers
        .iter()
        .chain(&pod.spec.containers)
        .find(|spec| spec.name == container)
        .ok_or_else(|| PodError::NotRunning(container.to_string()))?;
    let mut app = ContainerSpec::new(container, program).args(args.iter().cloned());
    app.env = pod.spec.container_env(spec);
    app.working_dir = spec.working_dir.as_ref().map(Into::into);
    let isolation = exec_isolation(running.pid, running.cgroup_procs.clone());
    let config = FilesystemConfig {
        rootfs: running.plan.clone(),
        harden: true,
    };
    let wrapped = pod
        .runtime
        .containers
        .runtime
        .wrap_with(&app, &isolation, extensions(&config));
    let mut command = Command::new(&wrapped.command);
    command
        .args(&wrapped.args)
        .env_clear()
        .envs(wrapped.env.iter().cloned());
    Ok(command)
}

/// The command that runs `line` in the running container `container`.
fn command_in(pod: &Pod, container: &str, line: &[String]) -> Result<Command, PodError> {
    let running = pod
        .running
        .lock()
        .unwrap()
        .get(container)
        .cloned()
        .ok_or_else(|| PodError::NotRunning(container.to_string()))?;
    exec_command(pod, container, &running, line)
}

/// Runs `line` in the container named `container` of the pod and waits for
/// it, for at most `timeout`.
pub(crate) async fn exec(
    pod: &Pod,
    container: &str,
    line: &[String],
    timeout: Duration,
) -> Result<ExecOutput, PodError> {
    let command = command_in(pod, container, line)?;
    run_command(command, timeout)
        .await
        .map_err(|source| PodError::Exec {
            container: container.to_string(),
            source,
        })
}

/// Starts `line` in the container named `container` of the pod with the
/// streams asked for, and returns at once: the caller drives the session.
pub(crate) fn exec_session(
    pod: &Pod,
    container: &str,
    line: &[String],
    streams: ExecStreams,
) -> Result<ExecSession, PodError> {
    let command = command_in(pod, container, line)?;
    ExecSession::spawn(command, streams).map_err(|source| PodError::Exec {
        container: container.to_string(),
        source,
    })
}

/// Exec probes of one container go through here.
pub(crate) struct ContainerExec {
    pod: Weak<Pod>,
    container: String,
}

impl ContainerExec {
    pub fn new(pod: &Arc<Pod>, container: &str) -> ContainerExec {
        ContainerExec {
            pod: Arc::downgrade(pod),
            container: container.to_string(),
        }
    }
}

impl Exec for ContainerExec {
    fn run<'a>(
        &'a self,
        command: &'a [String],
        timeout: Duration,
    ) -> BoxFuture<'a, io::Result<ExecOutput>> {
        Box::pin(async move {
            let pod = self
                .pod
                .upgrade()
                .ok_or_else(|| io::Error::other("the pod is gone"))?;
            exec(&pod, &self.container, command, timeout)
                .await
                .map_err(|error| match error {
                    // A timeout stays a timeout: the probe counts it so.
                    PodError::Exec { source, .. } => source,
                    other => io::Error::other(other.to_string()),
                })
        })
    }
}
