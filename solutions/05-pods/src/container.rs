//! One container of a pod, run after run: create it, start it, probe it,
//! see it end, and decide whether (and when) to run it again.

use std::net::{IpAddr, Ipv4Addr};
use std::os::fd::OwnedFd;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use tokio::io::unix::AsyncFd;

use cgroups::{Cgroup, CgroupName, termination};
use filesystem::image::ImageError;
use filesystem::{ContainerRequest, ContainerRoot, EtcFiles, FsError};
use namespaces::{Isolation, Namespace, Shim, read_exit_file};
use process::{CrashLoop, Event, ExitStatus, RestartPolicy, Supervisor};

use crate::exec::ContainerExec;
use crate::pod::{Pod, Running, Which};
use crate::probe::{ProbeEvent, ProbeHandle, Target};
use crate::record::{ContainerRecord, ProcessRecord, async_pidfd, pidfd_exited, pidfd_signal};
use crate::sandbox::namespace_path;
use crate::status::ContainerState;
use crate::{logs, started, volumes};

/// How the init program of chapter 02 starts the lines it writes when it
/// cannot start the container's command.
const INIT_FAILURE: &str = "k8s-mini init: ";

/// A run that could not start: the container waits with this reason.
struct NotStarted {
    reason: &'static str,
    message: String,
}

/// One run, started.
struct Run {
    process: RunProcess,
    root: ContainerRoot,
    cgroup: Cgroup,
    started_at: SystemTime,
}

/// The process of a run: started by this agent (its child, under chapter
/// 01's supervisor), or adopted from an agent that died (someone else's
/// child, followed through a pidfd, its status read from the shim's exit
/// file).
enum RunProcess {
    Supervised(Supervisor),
    Adopted(Adopted),
}

/// A run's shim that this agent did not start.
struct Adopted {
    pidfd: AsyncFd<OwnedFd>,
    exit_file: PathBuf,
    /// Set by a stop: when to kill what is left.
    kill_at: Option<Instant>,
    exited: bool,
}

impl RunProcess {
    /// The next event of the run: for an adopted one, only `Exited`.
    async fn next_event(&mut self, cgroup: &Cgroup) -> Option<Event> {
        let adopted = match self {
            RunProcess::Supervised(supervisor) => return supervisor.next_event().await,
            RunProcess::Adopted(adopted) => adopted,
        };
        if adopted.exited {
            return None;
        }
        loop {
            let kill_at = adopted.kill_at;
            tokio::select! {
                () = pidfd_exited(&adopted.pidfd) => break,
                () = sleep_until(kill_at) => {
                    // The grace period is over: the shim relays no
                    // SIGKILL, so kill the whole container.
                    let _ = cgroup.kill_all();
                    pidfd_signal(adopted.pidfd.get_ref(), libc::SIGKILL);
                    adopted.kill_at = None;
                }
            }
        }
        adopted.exited = true;
        // No file: the shim itself was killed (the grace period ran out,
        // or someone sent it SIGKILL) before it could write one.
        let status =
            read_exit_file(&adopted.exit_file).unwrap_or(ExitStatus::Signal(libc::SIGKILL));
        Some(Event::Exited { status })
    }

    /// Asks for a graceful stop: SIGTERM (the shim passes it on to the
    /// application), SIGKILL after `grace`.
    fn stop(&mut self, grace: Duration) {
        match self {
            RunProcess::Supervised(supervisor) => supervisor.stop(grace),
            RunProcess::Adopted(adopted) => {
                if !adopted.exited {
                    pidfd_signal(adopted.pidfd.get_ref(), libc::SIGTERM);
                    adopted.kill_at.get_or_insert(Instant::now() + grace);
                }
            }
        }
    }

    async fn wait(self) {
        if let RunProcess::Supervised(supervisor) = self {
            let _ = supervisor.wait().await;
        }
    }
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => std::future::pending().await,
    }
}

/// Where an adopted container stands.
enum Resume {
    /// Its run still runs: follow it.
    Running(Box<Run>),
    /// Its run ended while no agent ran.
    Ended {
        status: ExitStatus,
        started_at: SystemTime,
    },
    /// Nothing of it runs: start run `next` when due (after a back-off).
    Due { at: SystemTime, next: u32 },
}

/// Reattaches to a container from its record: the run's shim if it still
/// runs, else the status it left in its exit file.
fn resume(pod: &Pod, which: Which, record: &ContainerRecord) -> Option<Resume> {
    let container = pod.container(which);
    let (Some(run), Some(shim)) = (record.run, record.shim) else {
        // Nothing runs, as far as the record knows. A run that the dead
        // agent started but did not record yet would hold the next run's
        // cgroup and name: remove it first.
        let next = record.run.map_or(0, |run| run + 1);
        if let Ok(name) = CgroupName::new(
            pod.runtime.instance(),
            &["pods", &pod.spec.uid, &container.name],
        ) {
            let _ = pod.runtime.cgroups.remove(&name);
        }
        let dir = pod
            .runtime
            .containers
            .dir(&pod.run_name(&container.name, next));
        let _ = filesystem::remove_tree(&dir);
        let at = record.restart_at.unwrap_or_else(SystemTime::now);
        return Some(Resume::Due { at, next });
    };
    let started_at = record.started_at.unwrap_or_else(SystemTime::now);
    let cgroup_name = CgroupName::new(
        pod.runtime.instance(),
        &["pods", &pod.spec.uid, &container.name],
    )
    .ok()?;
    let cgroup = pod.runtime.cgroups.open(&cgroup_name);
    let root = record.plan.clone().map(|plan| ContainerRoot { plan });
    let exit_file = pod.exit_path(&container.name, run);
    let pidfd = shim.open().and_then(async_pidfd);
    match (pidfd, root) {
        (Some(pidfd), Some(root)) => {
            pod.running.lock().unwrap().insert(
                container.name.clone(),
                Running {
                    pid: shim.pid,
                    plan: root.plan.clone(),
                    cgroup_procs: record.cgroup_procs.clone(),
                },
            );
            Some(Resume::Running(Box::new(Run {
                process: RunProcess::Adopted(Adopted {
                    pidfd,
                    exit_file,
                    kill_at: None,
                    exited: false,
                }),
                root,
                cgroup,
                started_at,
            })))
        }
        (_, root) => {
            let status = read_exit_file(&exit_file).unwrap_or(ExitStatus::Signal(libc::SIGKILL));
            // What the run left: nothing of it runs any more.
            let _ = cgroup.kill_all();
            let _ = cgroup.remove();
            if let Some(root) = root {
                let _ = root.remove();
            }
            Some(Resume::Ended { status, started_at })
        }
    }
}

// ANCHOR: restarts
/// Whether a container that ended with `status` runs again. App containers
/// follow the pod's restart policy. Init containers must succeed before
/// anything else starts, so they run again after a failure, unless the
/// policy is Never; one that succeeded is done, even under Always.
pub fn runs_again(init: bool, policy: RestartPolicy, status: ExitStatus) -> bool {
    // exercise 1: whether a container that ended with `status` runs again
    // hint: App containers and init containers play by different rules; the doc comment gives both. Chapter 01's RestartPolicy already knows the app containers' rule.
    // hint: An init container must succeed before anything else starts: it runs again only after a failure, and never under Never; one that succeeded is done, even under Always. An app container does what the pod's policy says.
    // hint: if init { !status.success() && policy != RestartPolicy::Never } else { policy.should_restart(status) }.
    if init {
        !status.success() && policy != RestartPolicy::Never
    } else {
        policy.should_restart(status)
    }
}
// ANCHOR_END: restarts

/// Runs the container until it ends for good or the pod is deleted, from
/// its first run, or (`adopted`) from where its record says a dead agent
/// left it. Returns whether its last run succeeded.
pub(crate) async fn run(
    pod: Arc<Pod>,
    which: Which,
    sandbox_pid: u32,
    adopted: Option<ContainerRecord>,
) -> bool {
    let container = pod.container(which).clone();
    let mut crash_loop = CrashLoop::new(pod.spec.backoff);
    let mut stop = pod.stop.subscribe();
    let mut attempt = 0u32;
    let mut resumed = None;
    if let Some(record) = adopted {
        // The same back-off as if the agent had never gone.
        for _ in 0..record.crash_loop {
            crash_loop.next_delay(Duration::ZERO);
        }
        if let Some(success) = record.done {
            if let Some(ended) = record.last_termination {
                pod.update_container(which, |line| {
                    line.state = ended;
                    line.last_state = record.previous_termination;
                });
            }
            return success;
        }
        attempt = record.run.unwrap_or(0);
        resumed = resume(&pod, which, &record);
    }
    loop {
        if pod.stopping().is_some() {
            return false;
        }
        let (run, started_at) = match resumed.take() {
            Some(Resume::Ended { status, started_at }) => (Err(status), started_at),
            Some(Resume::Due { at, next }) => {
                attempt = next;
                let delay = at.duration_since(SystemTime::now()).unwrap_or_default();
                if !sleep_unless_stopped(&mut stop, delay).await {
                    return false;
                }
                continue;
            }
            Some(Resume::Running(run)) => {
                let started_at = run.started_at;
                pod.record(
                    "Adopted",
                    format!("Adopted running container {}", container.name),
                );
                pod.update_container(which, |line| {
                    line.state = ContainerState::Running { started_at };
                    line.restart_count = attempt;
                    line.started = container.probes.startup.is_none();
                    line.ready = container.probes == Default::default();
                });
                (Ok(*run), started_at)
            }
            None => match start(&pod, which, attempt, sandbox_pid).await {
                Ok(run) => {
                    pod.record("Started", format!("Started container {}", container.name));
                    let started_at = run.started_at;
                    pod.update_container(which, |line| {
                        line.state = ContainerState::Running { started_at };
                        line.restart_count = attempt;
                        line.started = container.probes.startup.is_none();
                        line.ready = container.probes == Default::default();
                    });
                    (Ok(run), started_at)
                }
                Err(not_started) => {
                    pod.record("Failed", format!("Error: {}", not_started.message));
                    pod.update_container(which, |line| {
                        line.state =
                            ContainerState::waiting(not_started.reason, not_started.message);
                    });
                    // Try again later: the image may be imported meanwhile.
                    let delay = crash_loop.next_delay(Duration::ZERO);
                    if !sleep_unless_stopped(&mut stop, delay).await {
                        return false;
                    }
                    attempt += 1;
                    continue;
                }
            },
        };
        let (status, oom, killed) = match run {
            Ok(run) => watch_run(&pod, which, run, &mut stop).await,
            Err(status) => (status, false, false),
        };
        let ended = termination(status, oom);
        let signal = match status {
            ExitStatus::Signal(signal) => Some(signal),
            ExitStatus::Code(_) => None,
        };
        // A failed container says why in its last words, as Kubernetes'
        // FallbackToLogsOnError has it; the init program's own failures
        // (a command that does not exist) are start errors.
        let mut reason = format!("{:?}", ended.reason);
        let mut message = String::new();
        if ended.exit_code != 0 && !killed {
            message = logs::tail(&pod.log_path(&container.name, attempt));
            if message.starts_with(INIT_FAILURE) && !oom {
                reason = "StartError".to_string();
            }
        }
        let terminated = ContainerState::Terminated {
            exit_code: ended.exit_code,
            signal,
            reason,
            message,
            started_at: Some(started_at),
            finished_at: SystemTime::now(),
        };
        pod.update_container(which, |line| {
            line.state = terminated.clone();
            line.ready = false;
            line.started = false;
        });
        pod.save_container(&container.name, |record| {
            record.shim = None;
            record.plan = None;
            record.cgroup_procs.clear();
            record.previous_termination = record.last_termination.take();
            record.last_termination = Some(terminated.clone());
        });
        let init = matches!(which, Which::Init(_));
        if pod.stopping().is_some() || !runs_again(init, pod.spec.restart_policy, status) {
            pod.save_container(&container.name, |record| {
                record.done = Some(status.success())
            });
            return status.success();
        }
        let ran_for = SystemTime::now()
            .duration_since(started_at)
            .unwrap_or_default();
        let delay = crash_loop.next_delay(ran_for);
        pod.save_container(&container.name, |record| {
            record.crash_loop = crash_loop.restarts();
            record.restart_at = Some(SystemTime::now() + delay);
        });
        let message = format!(
            "back-off {delay:?} restarting failed container={} pod={}_{}({})",
            container.name, pod.spec.name, pod.spec.namespace, pod.spec.uid
        );
        pod.record(
            "BackOff",
            format!("Back-off restarting failed container {}", container.name),
        );
        pod.update_container(which, |line| {
            line.last_state = Some(terminated);
            line.state = ContainerState::waiting("CrashLoopBackOff", message);
        });
        if !sleep_unless_stopped(&mut stop, delay).await {
            return false;
        }
        attempt += 1;
    }
}

/// Makes the run's root filesystem and cgroup and starts it, in the pod's
/// network, IPC and UTS namespaces and its own PID and mount namespaces.
async fn start(pod: &Pod, which: Which, attempt: u32, sandbox_pid: u32) -> Result<Run, NotStarted> {
    let container = pod.container(which);
    let runtime = &pod.runtime;
    let failed = |reason: &'static str| {
        move |error: String| NotStarted {
            reason,
            message: error,
        }
    };
    let volumes = volumes::mounts(&pod.dir, &pod.spec.volumes, container)
        .map_err(|error| error.to_string())
        .map_err(failed("CreateContainerConfigError"))?;
    let name = pod.run_name(&container.name, attempt);
    let cgroup_name = CgroupName::new(
        runtime.instance(),
        &["pods", &pod.spec.uid, &container.name],
    )
    .map_err(|error| error.to_string())
    .map_err(failed("CreateContainerError"))?;
    let cgroup = runtime
        .cgroups
        .create(&cgroup_name, &container.limits)
        .map_err(|error| error.to_string())
        .map_err(failed("CreateContainerError"))?;
    // ANCHOR: join_sandbox
    let mut isolation = Isolation::container(false);
    for kind in [Namespace::Network, Namespace::Ipc, Namespace::Uts] {
        isolation = isolation.join(kind, namespace_path(sandbox_pid, kind));
    }
    isolation.cgroup_procs = cgroup.procs_files();
    // ANCHOR_END: join_sandbox
    let pod_ip = *pod.pod_ip.lock().unwrap();
    let request = ContainerRequest {
        name: name.clone(),
        image: container.image.clone(),
        command: container.command.clone(),
        args: container.args.clone(),
        env: pod.spec.container_env(container),
        working_dir: container.working_dir.clone(),
        volumes,
        read_only_root: false,
        etc: EtcFiles {
            hostname: pod.spec.hostname().to_string(),
            hosts: pod_ip
                .map(|ip| vec![(ip.to_string(), pod.spec.hostname().to_string())])
                .unwrap_or_default(),
            resolv_conf: pod.spec.resolv_conf.clone(),
        },
    };
    let (mut spec, root) = match runtime.containers.create(&request, &isolation) {
        Ok(made) => made,
        Err(error) => {
            let _ = cgroup.remove();
            let reason = match &error {
                FsError::Image(ImageError::NotFound { .. }) => "ErrImageNeverPull",
                _ => "CreateContainerError",
            };
            return Err(NotStarted {
                reason,
                message: error.to_string(),
            });
        }
    };
    spec.restart_policy = RestartPolicy::Never;
    spec.log_path = pod.log_path(&container.name, attempt);
    // The container's first process holds its output and status itself,
    // so that the container survives this agent (see the book's "Surviving
    // the agent").
    let shim = Shim {
        log_path: spec.log_path.clone(),
        exit_file: pod.exit_path(&container.name, attempt),
    };
    let _ = std::fs::remove_file(&shim.exit_file);
    if let Err(message) = namespaces::attach_shim(&mut spec, shim) {
        let _ = root.remove();
        let _ = cgroup.remove();
        return Err(NotStarted {
            reason: "CreateContainerError",
            message,
        });
    }
    let mut supervisor = match Supervisor::start(spec).await {
        Ok(supervisor) => supervisor,
        Err(error) => {
            let _ = root.remove();
            let _ = cgroup.remove();
            return Err(NotStarted {
                reason: "RunContainerError",
                message: error.to_string(),
            });
        }
    };
    // The first event is Started (or StartFailed) right away.
    match supervisor.next_event().await {
        Some(Event::Started { pid, .. }) => {
            // Running means built and started, as after `runc start`.
            started::wait_for_application(pid, Duration::from_secs(10)).await;
            pod.running.lock().unwrap().insert(
                container.name.clone(),
                Running {
                    pid,
                    plan: root.plan.clone(),
                    cgroup_procs: cgroup.procs_files(),
                },
            );
            let started_at = SystemTime::now();
            pod.save_container(&container.name, |record| {
                record.run = Some(attempt);
                record.restart_count = attempt;
                record.shim = ProcessRecord::of(pid);
                record.started_at = Some(started_at);
                record.plan = Some(root.plan.clone());
                record.cgroup_procs = cgroup.procs_files();
                record.restart_at = None;
            });
        }
        other => {
            let _ = supervisor.wait().await;
            let _ = root.remove();
            let _ = cgroup.remove();
            return Err(NotStarted {
                reason: "RunContainerError",
                message: format!("{other:?}"),
            });
        }
    }
    Ok(Run {
        process: RunProcess::Supervised(supervisor),
        root,
        cgroup,
        started_at: SystemTime::now(),
    })
}

/// Follows one run to its end: its probes, a liveness failure (stop it so
/// that it runs again), the pod's deletion (stop it for good). Returns how
/// it ended, whether the kernel's OOM killer ended it, and whether the
/// kubelet did (for a failed probe or the pod's deletion). The run's
/// directory and cgroup are removed.
async fn watch_run(
    pod: &Arc<Pod>,
    which: Which,
    mut run: Run,
    stop: &mut tokio::sync::watch::Receiver<Option<Duration>>,
) -> (ExitStatus, bool, bool) {
    let container = pod.container(which).clone();
    let mut killed = false;
    let mut probes = start_probes(pod, &container);
    let mut status = ExitStatus::Code(0);
    let grace = pod.spec.termination_grace_period;
    loop {
        tokio::select! {
            event = run.process.next_event(&run.cgroup) => match event {
                Some(Event::Exited { status: exit }) => status = exit,
                Some(_) => {}
                None => break,
            },
            Some(event) = next_probe_event(&mut probes) => {
                on_probe_event(pod, which, &container.name, &event);
                if let ProbeEvent::Restart { .. } = event {
                    killed = true;
                    run.process.stop(grace);
                }
            }
            Ok(()) = stop.changed() => {
                if let Some(grace) = *stop.borrow() {
                    killed = true;
                    pod.record("Killing", format!("Stopping container {}", container.name));
                    run.process.stop(grace);
                }
            }
        }
    }
    if let Some(probes) = probes {
        probes.stop().await;
    }
    pod.running.lock().unwrap().remove(&container.name);
    run.process.wait().await;
    let oom = run.cgroup.oom_killed().unwrap_or(false);
    let _ = run.cgroup.kill_all();
    let _ = run.root.remove();
    let _ = run.cgroup.remove();
    (status, oom, killed)
}

fn start_probes(pod: &Arc<Pod>, container: &crate::spec::Container) -> Option<ProbeHandle> {
    if container.probes == Default::default() {
        return None;
    }
    // Without a pod network, HTTP and TCP probes have no address to reach;
    // loopback is the node's own, so they fail there, visibly.
    let ip = pod
        .pod_ip
        .lock()
        .unwrap()
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    let exec = ContainerExec::new(pod, &container.name);
    let target = Target::new(ip).with_exec(Arc::new(exec));
    match container.probes.clone().start(target) {
        Ok(handle) => Some(handle),
        Err(error) => {
            pod.record("Unhealthy", error.to_string());
            None
        }
    }
}

async fn next_probe_event(probes: &mut Option<ProbeHandle>) -> Option<ProbeEvent> {
    match probes {
        Some(handle) => handle.next_event().await,
        None => std::future::pending().await,
    }
}

fn on_probe_event(pod: &Pod, which: Which, container: &str, event: &ProbeEvent) {
    if let Some(reason) = event.reason() {
        pod.record(reason, event.event_message(container));
    }
    match event {
        ProbeEvent::Started => pod.update_container(which, |line| line.started = true),
        ProbeEvent::Ready(ready) => pod.update_container(which, |line| line.ready = *ready),
        _ => {}
    }
}

/// Sleeps, unless the pod is deleted meanwhile: then returns false.
async fn sleep_unless_stopped(
    stop: &mut tokio::sync::watch::Receiver<Option<Duration>>,
    delay: Duration,
) -> bool {
    let sleep = tokio::time::sleep(delay);
    tokio::pin!(sleep);
    loop {
        tokio::select! {
            _ = &mut sleep => return stop.borrow().is_none(),
            changed = stop.changed() => {
                if changed.is_err() || stop.borrow().is_some() {
                    return false;
                }
            }
        }
    }
}
