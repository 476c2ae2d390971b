// Generated from solutions/05-pods/src/handle.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
//! What the caller holds of a running pod.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::PodError;
use crate::pod::{Pod, PodEvent};
use crate::probe::ExecOutput;
use crate::session::{ExecSession, ExecStreams};
use crate::status::PodStatus;

/// A pod on this node. Dropping the handle does not stop the pod: call
/// [`PodHandle::delete`].
pub struct PodHandle {
    pod: Arc<Pod>,
    task: std::sync::Mutex<Option<JoinHandle<()>>>,
}

impl PodHandle {
    pub(crate) fn new(pod: Arc<Pod>, task: JoinHandle<()>) -> PodHandle {
        PodHandle {
            pod,
            task: std::sync::Mutex::new(Some(task)),
        }
    }

    pub fn name(&self) -> &str {
        &self.pod.spec.name
    }

    pub fn uid(&self) -> &str {
        &self.pod.spec.uid
    }

    /// The status now.
    pub fn status(&self) -> PodStatus {
        self.pod.status()
    }

    /// Every change of the status, as it happens.
    pub fn watch(&self) -> watch::Receiver<PodStatus> {
        self.pod.watch()
    }

    /// Waits until the status satisfies `condition`, for at most `limit`;
    /// returns the status then, or the last one seen in an error. If the
    /// pod's task has died (it panicked), the error comes at once, with the
    /// panic's message in the status's message.
    pub async fn wait_for(
        &self,
        limit: Duration,
        mut condition: impl FnMut(&PodStatus) -> bool,
    ) -> Result<PodStatus, Box<PodStatus>> {
        let mut watch = self.watch();
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let pause = tokio::time::sleep(Duration::from_millis(100));
            tokio::select! {
                result = watch.wait_for(|status| condition(status)) => {
                    return match result {
                        Ok(status) => Ok(status.clone()),
                        Err(_) => Err(Box::new(self.status())),
                    };
                }
                _ = pause => {}
            }
            if let Some(panic) = self.panic().await {
                let mut status = self.status();
                status.reason = Some("Panicked".into());
                status.message = Some(panic);
                return Err(Box::new(status));
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(Box::new(self.status()));
            }
        }
    }

    /// The message of the pod task's panic, if it died of one.
    async fn panic(&self) -> Option<String> {
        let finished = self
            .task
            .lock()
            .unwrap()
            .as_ref()
            .is_some_and(JoinHandle::is_finished);
        if !finished {
            return None;
        }
        let task = self.task.lock().unwrap().take()?;
        let error = task.await.err()?;
        let payload = error.try_into_panic().ok()?;
        Some(
            payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|text| text.to_string()))
                .unwrap_or_else(|| "the pod's task panicked".to_string()),
        )
    }

    /// The pid of the container's first process (its shim, chapter 02's
    /// stage zero) while it runs: the same before and after an agent's
    /// restart when the container was adopted, not restarted.
    pub fn container_pid(&self, container: &str) -> Option<u32> {
        self.pod
            .running
            .lock()
            .unwrap()
            .get(container)
            .map(|running| running.pid)
    }

    /// What happened to the pod so far, oldest first.
    pub fn events(&self) -> Vec<PodEvent> {
        self.pod.events()
    }

    /// What the node's server needs of the pod (its logs, streaming exec):
    /// cheap to clone, and usable while the handle stays with its owner.
    pub fn io(&self) -> PodIo {
        PodIo {
            pod: self.pod.clone(),
        }
    }

    /// Runs a command in a running container of the pod.
    pub async fn exec(
        &self,
        container: &str,
        command: &[String],
        timeout: Duration,
    ) -> Result<ExecOutput, PodError> {
        crate::exec::exec(&self.pod, container, command, timeout).await
    }

    /// The log of a container's current run, or of the run before it
    /// (`kubectl logs --previous`).
    pub fn logs(&self, container: &str, previous: bool) -> Result<String, PodError> {
        let line = self
            .pod
            .status()
            .container(container)
            .cloned()
            .ok_or_else(|| PodError::NotRunning(container.to_string()))?;
        let run = match previous {
            false => line.restart_count,
            true if line.restart_count > 0 => line.restart_count - 1,
            true => {
                return Err(PodError::Start {
                    what: format!("the previous log of {container}"),
                    message: "the container has not been restarted".into(),
                });
            }
        };
        let path = self.pod.log_path(container, run);
        std::fs::read_to_string(&path).map_err(|source| PodError::io(&path, source))
    }

    /// Deletes the pod: SIGTERM to every container, `grace` to end (the
    /// pod's termination grace period when `None`), SIGKILL for those that
    /// do not; then the sandbox, the address, the volumes, the cgroups and
    /// the directory go. Returns the last status.
    pub async fn delete(self, grace: Option<Duration>) -> PodStatus {
        self.stop(grace).await
    }

    /// [`PodHandle::delete`] for a handle that others share (the node
    /// agent's pod table lends its handles to the logs and exec server):
    /// the same steps; a call while another one waits returns at once.
    pub async fn stop(&self, grace: Option<Duration>) -> PodStatus {
        let grace = grace.unwrap_or(self.pod.spec.termination_grace_period);
        self.pod.stop.send_replace(Some(grace));
        let task = self.task.lock().unwrap().take();
        if let Some(task) = task {
            let _ = task.await;
        }
        self.pod.status()
    }
}

/// A pod's logs and exec, for the node's server: a clone of the pod's
/// shared state, so that it can outlive a lookup in the agent's table.
/// Like the handle, it keeps the pod's runtime alive while it lives.
#[derive(Clone)]
pub struct PodIo {
    pod: Arc<Pod>,
}

impl PodIo {
    pub fn name(&self) -> &str {
        &self.pod.spec.name
    }

    pub fn namespace(&self) -> &str {
        &self.pod.spec.namespace
    }

    pub fn uid(&self) -> &str {
        &self.pod.spec.uid
    }

    /// The status now: which run of a container is current, and whether it
    /// is still running.
    pub fn status(&self) -> PodStatus {
        self.pod.status()
    }

    /// Every change of the status, as it happens.
    pub fn watch(&self) -> watch::Receiver<PodStatus> {
        self.pod.watch()
    }

    /// The log file (CRI format) of run `run` of a container, counted from
    /// 0 as its restart count is.
    pub fn log_path(&self, container: &str, run: u32) -> std::path::PathBuf {
        self.pod.log_path(container, run)
    }

    /// Starts `command` in the running container `container`, with the
    /// streams asked for; the caller drives the session and waits for it.
    pub fn exec_session(
        &self,
        container: &str,
        command: &[String],
        streams: ExecStreams,
    ) -> Result<ExecSession, PodError> {
        crate::exec::exec_session(&self.pod, container, command, streams)
    }
}
