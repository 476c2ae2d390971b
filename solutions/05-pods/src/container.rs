//! One container of a pod, run after run: create it, start it, probe it,
//! see it end, and decide whether (and when) to run it again.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use cgroups::{Cgroup, CgroupName, termination};
use filesystem::image::ImageError;
use filesystem::{ContainerRequest, ContainerRoot, EtcFiles, FsError};
use namespaces::{Isolation, Namespace};
use process::{CrashLoop, Event, ExitStatus, RestartPolicy, Supervisor};

use crate::exec::ContainerExec;
use crate::pod::{Pod, Running, Which};
use crate::probe::{ProbeEvent, ProbeHandle, Target};
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
    supervisor: Supervisor,
    root: ContainerRoot,
    cgroup: Cgroup,
    started: Instant,
    started_at: SystemTime,
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

/// Runs the container until it ends for good or the pod is deleted.
/// Returns whether its last run succeeded.
pub(crate) async fn run(pod: Arc<Pod>, which: Which, sandbox_pid: u32) -> bool {
    let container = pod.container(which).clone();
    let mut crash_loop = CrashLoop::new(pod.spec.backoff);
    let mut stop = pod.stop.subscribe();
    for attempt in 0u32.. {
        if pod.stopping().is_some() {
            return false;
        }
        let run = match start(&pod, which, attempt, sandbox_pid).await {
            Ok(run) => run,
            Err(not_started) => {
                pod.record("Failed", format!("Error: {}", not_started.message));
                pod.update_container(which, |line| {
                    line.state = ContainerState::waiting(not_started.reason, not_started.message);
                });
                // Try again later: the image may be imported meanwhile.
                let delay = crash_loop.next_delay(Duration::ZERO);
                if !sleep_unless_stopped(&mut stop, delay).await {
                    return false;
                }
                continue;
            }
        };
        pod.record("Started", format!("Started container {}", container.name));
        let started_at = run.started_at;
        pod.update_container(which, |line| {
            line.state = ContainerState::Running { started_at };
            line.restart_count = attempt;
            line.started = container.probes.startup.is_none();
            line.ready = container.probes == Default::default();
        });
        let (status, oom, killed) = watch_run(&pod, which, run, &mut stop).await;
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
        let init = matches!(which, Which::Init(_));
        if pod.stopping().is_some() || !runs_again(init, pod.spec.restart_policy, status) {
            return status.success();
        }
        let ran_for = SystemTime::now()
            .duration_since(started_at)
            .unwrap_or_default();
        let delay = crash_loop.next_delay(ran_for);
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
    }
    false
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
        env: container.env.clone(),
        working_dir: container.working_dir.clone(),
        volumes,
        read_only_root: false,
        etc: EtcFiles {
            hostname: pod.spec.hostname().to_string(),
            hosts: pod_ip
                .map(|ip| vec![(ip.to_string(), pod.spec.hostname().to_string())])
                .unwrap_or_default(),
            resolv_conf: None,
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
        supervisor,
        root,
        cgroup,
        started: Instant::now(),
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
            event = run.supervisor.next_event() => match event {
                Some(Event::Exited { status: exit }) => status = exit,
                Some(_) => {}
                None => break,
            },
            Some(event) = next_probe_event(&mut probes) => {
                on_probe_event(pod, which, &container.name, &event);
                if let ProbeEvent::Restart { .. } = event {
                    killed = true;
                    run.supervisor.stop(grace);
                }
            }
            Ok(()) = stop.changed() => {
                if let Some(grace) = *stop.borrow() {
                    killed = true;
                    pod.record("Killing", format!("Stopping container {}", container.name));
                    run.supervisor.stop(grace);
                }
            }
        }
    }
    if let Some(probes) = probes {
        probes.stop().await;
    }
    pod.running.lock().unwrap().remove(&container.name);
    let _ = run.supervisor.wait().await;
    let oom = run.cgroup.oom_killed().unwrap_or(false);
    let _ = run.cgroup.kill_all();
    let _ = run.root.remove();
    let _ = run.cgroup.remove();
    let _ = run.started;
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
