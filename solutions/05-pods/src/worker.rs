//! The life of one pod, start to end: admit it, make its cgroup, volumes,
//! sandbox and address, run the init containers one by one, then the app
//! containers together; on deletion, stop them all and undo everything.

use std::sync::Arc;

use crate::pod::{Pod, Which};
use crate::sandbox::Sandbox;
use crate::spec::PodSpec;
use crate::{PodError, PodHandle, PodRuntime, container, validate, volumes};

pub(crate) fn start(runtime: Arc<PodRuntime>, spec: PodSpec) -> PodHandle {
    let pod = Arc::new(Pod::new(runtime, spec));
    let task = tokio::spawn(live(pod.clone()));
    PodHandle::new(pod, task)
}

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
    run_containers(&pod, &sandbox).await;
    // Every container has ended for good, or the pod is being deleted.
    // The sandbox and the address go now; the logs stay until deletion.
    let sandbox = match pod.stopping() {
        Some(_) => Some(sandbox),
        None => {
            let _ = undo_sandbox(&pod, sandbox).await;
            wait_for_deletion(&pod).await;
            None
        }
    };
    if let Err(error) = undo(&pod, sandbox).await {
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
            Ok(address) => *pod.pod_ip.lock().unwrap() = Some(address.ip.into()),
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
async fn run_containers(pod: &Arc<Pod>, sandbox: &Sandbox) {
    for index in 0..pod.spec.init_containers.len() {
        let succeeded = container::run(pod.clone(), Which::Init(index), sandbox.pid()).await;
        if !succeeded {
            // Failed for good, or deleted: the app containers never start.
            return;
        }
    }
    let runs = (0..pod.spec.containers.len()).map(|index| {
        tokio::spawn(container::run(
            pod.clone(),
            Which::App(index),
            sandbox.pid(),
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
    sandbox.stop().await
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
