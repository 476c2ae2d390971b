// Generated from solutions/05-pods/src/worker.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
//! The life of one pod, start to end: admit it, make its cgroup, volumes,
//! sandbox and address, run the init containers one by one, then the app
//! containers together; on deletion, stop them all and undo everything.

use std::sync::Arc;
use std::time::Duration;

use crate::pod::{Pod, Which};
use crate::record::{PodRecord, async_pidfd, pidfd_exited, pidfd_signal};
use crate::sandbox::Sandbox;
use crate::spec::PodSpec;
use crate::{PodError, PodHandle, PodRuntime, container, validate, volumes};

pub(crate) fn start(runtime: Arc<PodRuntime>, spec: PodSpec) -> PodHandle {
    let pod = Arc::new(Pod::new(runtime, spec));
    let task = tokio::spawn(live(pod.clone()));
    PodHandle::new(pod, task)
}

/// Takes over a pod that a dead agent left running, from its record.
pub(crate) fn adopt(runtime: Arc<PodRuntime>, spec: PodSpec, record: PodRecord) -> PodHandle {
    let pod = Arc::new(Pod::adopted(runtime, spec, record));
    let task = tokio::spawn(live_adopted(pod.clone()));
    PodHandle::new(pod, task)
}

// ANCHOR: live_adopted
/// The rest of an adopted pod's life: its sandbox as it was left, each
/// container from where its record says (running, ended while no agent
/// ran, or waiting out a back-off), then the same end as any pod.
async fn live_adopted(pod: Arc<Pod>) {
    let record = pod.state_record();
    if record.ended {
        // Nothing runs any more: report how each container ended, and
        // wait for the deletion, as before the restart.
        pod.update(|status| {
            let lines = status
                .init_container_statuses
                .iter_mut()
                .chain(status.container_statuses.iter_mut());
            for line in lines {
                if let Some(container) = record.containers.get(&line.name)
                    && let Some(ended) = container.last_termination.clone()
                {
                    line.state = ended;
                    line.last_state = container.previous_termination.clone();
                }
            }
        });
        wait_for_deletion(&pod).await;
        // The previous agent may have died half-way through removing the
        // sandbox: remove whatever is left of it too.
        if let Err(error) = discard(&pod.runtime, &pod.spec.uid, Duration::ZERO).await {
            pod.record("FailedKillPod", error.to_string());
        }
        return;
    }
    let sandbox = match (record.sandbox, record.sandbox_plan.clone()) {
        (Some(process), Some(plan)) => Sandbox::adopt(&pod.runtime, &pod.spec.uid, process, plan),
        _ => None,
    };
    let Some(sandbox) = sandbox else {
        // The pod's namespaces went with its sandbox: its containers
        // cannot go on. Kubernetes would make a new sandbox and start
        // them all again; this node reports the pod failed instead.
        pod.fail(
            "SandboxLost",
            "the pod's sandbox ended while no agent ran".into(),
        );
        if let Err(error) = discard(&pod.runtime, &pod.spec.uid, Duration::ZERO).await {
            pod.record("FailedKillPod", error.to_string());
        }
        wait_for_deletion(&pod).await;
        return;
    };
    pod.set_sandbox_ready(true);
    run_containers(&pod, &sandbox, Some(&record)).await;
    end(&pod, sandbox).await;
}
// ANCHOR_END: live_adopted

async fn live(pod: Arc<Pod>) {
    let problems = validate::problems(&pod.spec);
    if !problems.is_empty() {
        // Nothing was made: nothing to undo.
        pod.fail("Invalid", problems.join("; "));
        wait_for_deletion(&pod).await;
        return;
    }
    let sandbox = match make(&pod).await {
        Ok(sandbox) => sandbox,
        Err(error) => {
            // The event reasons Kubernetes uses for these.
            let reason = match error {
                PodError::Volume { .. } => "FailedMount",
                _ => "FailedCreatePodSandBox",
            };
            pod.fail(reason, error.to_string());
            let _ = undo(&pod, None).await;
            wait_for_deletion(&pod).await;
            return;
        }
    };
    run_containers(&pod, &sandbox, None).await;
    end(&pod, sandbox).await;
}

/// Every container has ended for good, or the pod is being deleted. The
/// sandbox and the address go now; the logs stay until deletion.
async fn end(pod: &Pod, sandbox: Sandbox) {
    let sandbox = match pod.stopping() {
        Some(_) => Some(sandbox),
        None => {
            let _ = undo_sandbox(pod, sandbox).await;
            wait_for_deletion(pod).await;
            None
        }
    };
    if let Err(error) = undo(pod, sandbox).await {
        pod.record("FailedKillPod", error.to_string());
    }
}

/// The pod's cgroup, volumes, sandbox and network.
async fn make(pod: &Pod) -> Result<Sandbox, PodError> {
    let runtime = &pod.runtime;
    std::fs::create_dir_all(&pod.dir).map_err(|source| PodError::io(&pod.dir, source))?;
    volumes::prepare(&pod.dir, &pod.spec.volumes)?;
    runtime
        .cgroups
        .create(&runtime.pod_cgroup(&pod.spec.uid)?, &Default::default())?;
    let pause = cgroups::CgroupName::new(runtime.instance(), &["pods", &pod.spec.uid, "pause"])?;
    let sandbox = Sandbox::start(runtime, &pod.spec.uid, pod.spec.hostname(), &pause).await?;
    let (process, plan) = sandbox.record();
    pod.save(|record| {
        record.sandbox = process;
        record.sandbox_plan = Some(plan);
    });
    if runtime.network.is_some() {
        let netns = sandbox.netns();
        let uid = pod.spec.uid.clone();
        let runtime = runtime.clone();
        let attached = tokio::task::spawn_blocking(move || {
            runtime
                .network
                .as_ref()
                .expect("checked above")
                .attach(&uid, &netns)
        })
        .await
        .expect("attaching does not panic");
        match attached {
            Ok(address) => {
                *pod.pod_ip.lock().unwrap() = Some(address.ip.into());
                pod.save(|record| record.pod_ip = Some(address.ip.into()));
            }
            Err(error) => {
                let _ = sandbox.stop().await;
                return Err(error.into());
            }
        }
    }
    pod.set_sandbox_ready(true);
    Ok(sandbox)
}

// ANCHOR: run_containers
/// Init containers one after another, each until it succeeds; then the
/// app containers, all at once.
async fn run_containers(pod: &Arc<Pod>, sandbox: &Sandbox, adopted: Option<&PodRecord>) {
    let record = |which: Which| {
        let name = &pod.container(which).name;
        // Adopted, a container the record does not know yet may still
        // have been started just before the agent died: an empty record
        // makes `container::run` look.
        adopted.map(|record| record.containers.get(name).cloned().unwrap_or_default())
    };
    for index in 0..pod.spec.init_containers.len() {
        let which = Which::Init(index);
        let succeeded = container::run(pod.clone(), which, sandbox.pid(), record(which)).await;
        if !succeeded {
            // Failed for good, or deleted: the app containers never start.
            return;
        }
    }
    let runs = (0..pod.spec.containers.len()).map(|index| {
        let which = Which::App(index);
        tokio::spawn(container::run(
            pod.clone(),
            which,
            sandbox.pid(),
            record(which),
        ))
    });
    for run in runs.collect::<Vec<_>>() {
        if let Err(error) = run.await
            && error.is_panic()
        {
            // A container's task panicked (a bug, or a hole of the exercise
            // left empty): the pod's own task goes down with it, and the
            // handle reports why.
            std::panic::resume_unwind(error.into_panic());
        }
    }
}
// ANCHOR_END: run_containers

async fn undo_sandbox(pod: &Pod, sandbox: Sandbox) -> Result<(), PodError> {
    // Said first: an agent that dies from here on leaves a pod that only
    // waits for its deletion, whose leftovers `discard` removes.
    pod.save(|record| record.ended = true);
    let runtime = pod.runtime.clone();
    let uid = pod.spec.uid.clone();
    if runtime.network.is_some() {
        tokio::task::spawn_blocking(move || {
            runtime
                .network
                .as_ref()
                .expect("checked above")
                .detach(&uid)
        })
        .await
        .expect("detaching does not panic")?;
        // Unlike Kubernetes, which goes on reporting the address of a pod
        // whose containers have ended: it belongs to no one now.
        *pod.pod_ip.lock().unwrap() = None;
    }
    pod.set_sandbox_ready(false);
    sandbox.stop().await?;
    pod.save(|record| {
        record.sandbox = None;
        record.sandbox_plan = None;
        record.pod_ip = None;
    });
    Ok(())
}

/// Removes everything the pod made: its sandbox and address (if still
/// there), its cgroups and its directory.
async fn undo(pod: &Pod, sandbox: Option<Sandbox>) -> Result<(), PodError> {
    if let Some(sandbox) = sandbox {
        undo_sandbox(pod, sandbox).await?;
    }
    let runtime = &pod.runtime;
    runtime
        .cgroups
        .remove(&runtime.pod_cgroup(&pod.spec.uid)?)?;
    match std::fs::remove_dir_all(&pod.dir) {
        Err(source) if source.kind() != std::io::ErrorKind::NotFound => {
            Err(PodError::io(&pod.dir, source))
        }
        _ => Ok(()),
    }
}

async fn wait_for_deletion(pod: &Pod) {
    let mut stop = pod.stop.subscribe();
    let _ = stop.wait_for(Option::is_some).await;
}

// ANCHOR: discard
/// Removes a pod that a dead agent left and nobody wants any more, from
/// its record: SIGTERM to its containers, `grace` for them to end, then
/// everything goes (processes left, cgroups, roots, address, directory).
pub(crate) async fn discard(
    runtime: &PodRuntime,
    uid: &str,
    grace: Duration,
) -> Result<(), PodError> {
    let dir = runtime.pod_dir(uid);
    let record = PodRecord::load(&dir);
    let deadline = tokio::time::Instant::now() + grace;
    if let Some(record) = &record {
        let shims: Vec<_> = record
            .containers
            .values()
            .filter_map(|container| container.shim?.open())
            .filter_map(async_pidfd)
            .collect();
        for shim in &shims {
            pidfd_signal(shim.get_ref(), libc::SIGTERM);
        }
        for shim in &shims {
            let _ = tokio::time::timeout_at(deadline, pidfd_exited(shim)).await;
        }
    }
    // Kills whatever is left, the sandbox included, and removes the
    // cgroups, children first.
    runtime.cgroups.remove(&runtime.pod_cgroup(uid)?)?;
    let mut roots: Vec<_> = match &record {
        Some(record) => record
            .containers
            .values()
            .filter_map(|container| container.plan.clone())
            .chain(record.sandbox_plan.clone())
            .map(|plan| plan.dir)
            .collect(),
        None => Vec::new(),
    };
    if record.is_none() {
        // No record (the agent died while making the pod): every
        // container directory named after the pod.
        let prefix = format!("{uid}-");
        if let Ok(entries) = std::fs::read_dir(runtime.containers.instance_dir()) {
            roots.extend(
                entries
                    .flatten()
                    .filter(|entry| entry.file_name().to_string_lossy().starts_with(&prefix))
                    .map(|entry| entry.path()),
            );
        }
    }
    for dir in roots {
        filesystem::remove_tree(&dir).map_err(|source| PodError::io(&dir, source))?;
    }
    if let Some(network) = &runtime.network {
        network.detach(uid)?;
    }
    match std::fs::remove_dir_all(&dir) {
        Err(source) if source.kind() != std::io::ErrorKind::NotFound => {
            Err(PodError::io(&dir, source))
        }
        _ => Ok(()),
    }
}
// ANCHOR_END: discard
