// Generated from solutions/05-pods/src/pod.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
//! The state one pod's tasks share: its spec, its status as it changes, the
//! containers running now (for exec), its events, and the order to stop.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use filesystem::rootfs::RootfsPlan;
use process::RestartPolicy;
use tokio::sync::watch;

use crate::PodRuntime;
use crate::record::{ContainerRecord, PodRecord};
use crate::spec::{Container, PodSpec};
use crate::status::{ContainerStatus, PodPhase, PodStatus, phase};

/// Which container of the pod: an init container or an app container, by
/// index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Which {
    Init(usize),
    App(usize),
}

/// A container's current run, as `exec` needs it.
#[derive(Debug, Clone)]
pub(crate) struct Running {
    /// The first process of the container's init: it holds the container's
    /// namespaces.
    pub pid: u32,
    pub plan: RootfsPlan,
    pub cgroup_procs: Vec<PathBuf>,
}

/// Something that happened to the pod, as the kubelet records events:
/// `Started`, `Killing`, `BackOff`, `Unhealthy`...
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodEvent {
    pub reason: String,
    pub message: String,
}

pub(crate) struct Pod {
    pub runtime: Arc<PodRuntime>,
    pub spec: PodSpec,
    pub dir: PathBuf,
    status: watch::Sender<PodStatus>,
    sandbox_ready: AtomicBool,
    /// Set when the pod failed as a whole: reason and message.
    failure: Mutex<Option<(String, String)>>,
    pub pod_ip: Mutex<Option<IpAddr>>,
    pub running: Mutex<BTreeMap<String, Running>>,
    events: Mutex<Vec<PodEvent>>,
    /// `Some(grace)` once the pod is being deleted.
    pub stop: watch::Sender<Option<Duration>>,
    /// What a restarted agent needs to adopt the pod, kept on disk.
    record: Mutex<PodRecord>,
}

impl Pod {
    pub fn new(runtime: Arc<PodRuntime>, spec: PodSpec) -> Pod {
        let statuses = |containers: &[Container]| -> Vec<ContainerStatus> {
            containers
                .iter()
                .map(|container| ContainerStatus::new(&container.name, &container.image))
                .collect()
        };
        let status = PodStatus::pending(
            &statuses(&spec.init_containers),
            &statuses(&spec.containers),
        );
        Pod {
            dir: runtime.pod_dir(&spec.uid),
            runtime,
            status: watch::Sender::new(status),
            sandbox_ready: AtomicBool::new(false),
            failure: Mutex::new(None),
            pod_ip: Mutex::new(None),
            running: Mutex::new(BTreeMap::new()),
            events: Mutex::new(Vec::new()),
            stop: watch::Sender::new(None),
            record: Mutex::new(PodRecord::new(&spec)),
            spec,
        }
    }

    /// A pod found running by a restarted agent: its record as it was
    /// left, its address, and the containers' restart counts and last
    /// terminations in the status.
    pub fn adopted(runtime: Arc<PodRuntime>, spec: PodSpec, record: PodRecord) -> Pod {
        let pod = Pod::new(runtime, spec);
        *pod.pod_ip.lock().unwrap() = record.pod_ip;
        pod.update(|status| {
            let lines = status
                .init_container_statuses
                .iter_mut()
                .chain(status.container_statuses.iter_mut());
            for line in lines {
                if let Some(container) = record.containers.get(&line.name) {
                    line.restart_count = container.restart_count;
                    line.last_state = container.last_termination.clone();
                }
            }
        });
        *pod.record.lock().unwrap() = record;
        pod
    }

    /// The pod's record as it is now.
    pub fn state_record(&self) -> PodRecord {
        self.record.lock().unwrap().clone()
    }

    /// Changes the record and writes it to disk at once. A record that
    /// cannot be written is an event: the pod runs on, but an agent
    /// restarted now could not adopt it.
    pub fn save(&self, change: impl FnOnce(&mut PodRecord)) {
        let mut record = self.record.lock().unwrap();
        change(&mut record);
        // Never makes the directory: a save after the pod's removal must
        // not bring it back.
        if let Err(error) = record.save(&self.dir) {
            drop(record);
            self.record(
                "FailedSave",
                format!("cannot write the pod's state record: {error}"),
            );
        }
    }

    /// [`Pod::save`] for one container's part of the record.
    pub fn save_container(&self, name: &str, change: impl FnOnce(&mut ContainerRecord)) {
        self.save(|record| change(record.containers.entry(name.to_string()).or_default()));
    }

    pub fn container(&self, which: Which) -> &Container {
        match which {
            Which::Init(index) => &self.spec.init_containers[index],
            Which::App(index) => &self.spec.containers[index],
        }
    }

    pub fn status(&self) -> PodStatus {
        self.status.borrow().clone()
    }

    pub fn watch(&self) -> watch::Receiver<PodStatus> {
        self.status.subscribe()
    }

    /// Changes the status and derives the phase and conditions again.
    pub fn update(&self, change: impl FnOnce(&mut PodStatus)) {
        let sandbox_ready = self.sandbox_ready.load(Ordering::SeqCst);
        let failure = self.failure.lock().unwrap().clone();
        let pod_ip = *self.pod_ip.lock().unwrap();
        // A pod being deleted restarts nothing: once its containers have
        // stopped it ends Succeeded or Failed, whatever its policy.
        let policy = match self.stopping() {
            Some(_) => RestartPolicy::Never,
            None => self.spec.restart_policy,
        };
        self.status.send_modify(|status| {
            change(status);
            status.pod_ip = pod_ip;
            status.phase = match &failure {
                Some(_) => PodPhase::Failed,
                None => phase(
                    &status.init_container_statuses,
                    &status.container_statuses,
                    policy,
                ),
            };
            if let Some((reason, message)) = failure {
                status.reason = Some(reason);
                status.message = Some(message);
            }
            status.update_conditions(sandbox_ready, SystemTime::now());
        });
    }

    pub fn update_container(&self, which: Which, change: impl FnOnce(&mut ContainerStatus)) {
        self.update(|status| {
            let line = match which {
                Which::Init(index) => &mut status.init_container_statuses[index],
                Which::App(index) => &mut status.container_statuses[index],
            };
            change(line);
        });
    }

    pub fn set_sandbox_ready(&self, ready: bool) {
        self.sandbox_ready.store(ready, Ordering::SeqCst);
        self.update(|_| {});
    }

    /// The pod failed as a whole (it cannot run here): Failed, with why.
    pub fn fail(&self, reason: &str, message: String) {
        *self.failure.lock().unwrap() = Some((reason.to_string(), message.clone()));
        self.record("Failed", message);
        self.update(|_| {});
    }

    pub fn record(&self, reason: &str, message: impl Into<String>) {
        self.events.lock().unwrap().push(PodEvent {
            reason: reason.to_string(),
            message: message.into(),
        });
    }

    pub fn events(&self) -> Vec<PodEvent> {
        self.events.lock().unwrap().clone()
    }

    pub fn stopping(&self) -> Option<Duration> {
        *self.stop.borrow()
    }

    /// The log file of one run of a container: one file per run, so that
    /// the previous run's log survives a restart.
    pub fn log_path(&self, container: &str, run: u32) -> PathBuf {
        log_path(&self.dir, container, run)
    }

    /// The file the shim of one run writes its exit status into.
    pub fn exit_path(&self, container: &str, run: u32) -> PathBuf {
        self.log_path(container, run).with_extension("exit")
    }

    /// The name under which the runtime of chapter 03 knows one run of a
    /// container: unique on the node.
    pub fn run_name(&self, container: &str, run: u32) -> String {
        format!("{}-{container}-{run}", self.spec.uid)
    }
}

pub(crate) fn log_path(pod_dir: &Path, container: &str, run: u32) -> PathBuf {
    pod_dir
        .join("logs")
        .join(container)
        .join(format!("{run}.log"))
}
