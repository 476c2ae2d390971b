// Generated from solutions/08-kubelet/src/agent/sync.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
//! The sync loop: every change the informer hears of, every status change
//! of a running pod, and a tick every `resync` make the pod's worker run
//! [`plan`] and carry out its step. One worker per pod at a time (a pod's
//! slot is locked while it works; a change that comes meanwhile gets one
//! more pass once the current one ends), many pods at once. Kubernetes:
//! the kubelet's `syncLoop` and `podWorkers`.

use std::sync::Arc;

use apiserver::client::{Change, Changes, DeleteParams, ObjectKey, Preconditions};
use objects::Pod;
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::sync::watch;
use tokio::task::JoinSet;

use super::{Running, Shared, Slot};
use crate::config_env::{self, CONFIG_ERROR, ConfigObjects};
use crate::config_volumes::{self, is_config_volume};
use crate::dns::ClusterDns;
use crate::events::{self, Record};
use crate::hooks::{self, PreStop};
use crate::images;
use crate::plan::{DEFAULT_GRACE, Step, grace_period, plan};
use crate::qos::qos_class;
use crate::resources::{Requests, admit, pod_requests};
use crate::service_env::linked_services;
use crate::status::{Context, api_status, merge_status, rejected};
use crate::translate::{Environment, pod_spec};

/// Runs until `stop`; in-flight workers finish first.
pub(super) async fn run(
    shared: Arc<Shared>,
    mut changes: Changes<Pod>,
    mut woken: UnboundedReceiver<ObjectKey>,
    mut stop: watch::Receiver<bool>,
    synced: impl Future<Output = bool>,
) {
    // Adoption needs the API's pods: an empty cache before the first list
    // would make every pod look deleted.
    let synced = tokio::select! {
        synced = synced => synced,
        _ = stop.changed() => return,
    };
    let mut workers = JoinSet::new();
    if synced {
        adopt(&shared, &mut workers).await;
    } else {
        // The informer died before its first list: better leave the
        // previous run's pods alone than discard them all.
        eprintln!("kubelet: the pods of this node could not be listed: no adoption");
    }
    let mut tick = tokio::time::interval(shared.config.resync);
    loop {
        let keys = tokio::select! {
            change = changes.recv() => match change {
                Some(change) => vec![key_of(&change)],
                None => break,
            },
            Some(key) = woken.recv() => vec![key],
            _ = tick.tick() => {
                let mut keys: Vec<ObjectKey> = shared.cache.list().iter().map(|pod| ObjectKey::of(pod.as_ref())).collect();
                keys.extend(shared.table.slot_keys());
                keys.sort();
                keys.dedup();
                keys
            }
            _ = stop.changed() => break,
        };
        for key in keys {
            workers.spawn(sync_pod(shared.clone(), key));
        }
        while workers.try_join_next().is_some() {}
    }
    while workers.join_next().await.is_some() {}
}

fn key_of(change: &Change<Pod>) -> ObjectKey {
    change.key()
}

/// Takes over the pods a previous run of the agent left (it was killed or
/// stopped without a drain): a pod the API still wants, from the same
/// spec, enters the table as if just started, with its processes, restart
/// counts and events as they are; any other is discarded (SIGTERM, its
/// grace, then nothing of it is left) in a worker of its own, so that a
/// slow stop holds up no other pod. Kubernetes: the kubelet finds the
/// containers the runtime still runs and syncs them, not starts them.
async fn adopt(shared: &Arc<Shared>, workers: &mut JoinSet<()>) {
    let mut adopted = Vec::new();
    for recorded in shared.runtime.recorded_pods() {
        let key = ObjectKey {
            namespace: recorded.namespace.clone(),
            name: recorded.name.clone(),
        };
        let api_pod = shared
            .cache
            .get(&key.namespace, &key.name)
            .filter(|pod| pod.metadata.uid.as_deref() == Some(recorded.uid.as_str()));
        let grace = api_pod.as_deref().map_or(DEFAULT_GRACE, grace_period);
        let wanted = api_pod
            .as_ref()
            .filter(|pod| pod.metadata.deletion_timestamp.is_none());
        let refusal = match wanted {
            None => "it is no longer in the API".to_string(),
            Some(pod) => {
                let adoption = pod_spec(pod, &environment(shared, pod))
                    .map_err(|rejection| rejection.message)
                    .and_then(|spec| {
                        shared
                            .runtime
                            .adopt(spec)
                            .map_err(|error| error.to_string())
                    });
                match adoption {
                    Ok(handle) => {
                        // What it did before the restart was posted by the
                        // previous run; what it does from now on is new.
                        let events_posted = handle.events().len();
                        adopted.push((key, pod.clone(), handle, events_posted));
                        continue;
                    }
                    Err(why) => why,
                }
            }
        };
        eprintln!(
            "kubelet: discarding pod {}/{} ({}) of the previous run: {refusal}",
            key.namespace, key.name, recorded.uid
        );
        // The slot stays locked until the pod is gone, so that a pod of
        // the same uid (refused for another spec) starts only afterwards.
        let slot = match wanted {
            Some(_) => Some(shared.table.slot(&key).lock_owned().await),
            None => None,
        };
        let shared = shared.clone();
        workers.spawn(async move {
            if let Err(error) = shared.runtime.discard(&recorded.uid, grace).await {
                eprintln!(
                    "kubelet: cannot discard pod {}/{} ({}): {error}",
                    key.namespace, key.name, recorded.uid
                );
            }
            remove_config_volumes(&shared, &recorded.uid);
            drop(slot);
        });
    }
    // An adopted handle reports the pod as being created until the runtime
    // has found its sandbox and containers again: reported then, a running
    // pod would turn Pending and unready for a moment.
    let resumed = adopted.iter().map(|(_, _, handle, _)| {
        let mut status = handle.watch();
        tokio::time::timeout(RESUME_WAIT, async move {
            let _ = status.wait_for(resumed).await;
        })
    });
    futures::future::join_all(resumed).await;
    for (key, pod, handle, events_posted) in adopted {
        let slot = shared.table.slot(&key);
        let mut slot = slot.lock().await;
        let uid = pod.metadata.uid.clone().unwrap_or_default();
        eprintln!(
            "kubelet: adopted pod {}/{} ({uid}), still running from the previous run",
            key.namespace, key.name
        );
        let requests = pod_requests(&pod.spec);
        install(
            shared,
            &key,
            &mut slot,
            uid,
            handle,
            requests,
            events_posted,
        );
    }
}

/// How long adopted pods may take to be found again before they are
/// reported anyway (a container waiting out a back-off is never "found").
const RESUME_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// Whether the runtime has resumed an adopted pod: it is no longer
/// reported as a pod whose containers are all being created.
fn resumed(status: &pods::PodStatus) -> bool {
    status.phase != pods::PodPhase::Pending
        || status
            .init_container_statuses
            .iter()
            .chain(&status.container_statuses)
            .any(|line| {
                !matches!(&line.state, pods::ContainerState::Waiting { reason, .. } if reason == "ContainerCreating")
            })
}

// ANCHOR: sync_pod
/// The pod's worker: a pass, and another one as long as passes were asked
/// for meanwhile. A pod is never worked on twice at once: asked while its
/// worker is busy (stopping within a long grace period, or writing a
/// status), this only leaves the request, which the busy worker takes up
/// before it lets go of the pod. So a change that comes during a pass (the
/// container runs while "ContainerCreating" is being written) is reported
/// right after it, not a tick later, and requests never pile up.
/// Kubernetes: a pod worker keeps its pod's last undelivered update.
async fn sync_pod(shared: Arc<Shared>, key: ObjectKey) {
    shared.table.request(&key);
    loop {
        let slot = shared.table.slot(&key);
        let Ok(mut slot) = slot.try_lock_owned() else {
            return;
        };
        let mut gone = false;
        while shared.table.take_request(&key) {
            gone = sync_pass(&shared, &key, &mut slot).await;
        }
        drop(slot);
        if gone {
            shared.table.forget(&key);
        }
        // A request made after the last take, while the slot was still
        // held, found it busy and was left to this worker.
        if !shared.table.is_requested(&key) {
            return;
        }
    }
}

/// One pass: what `plan` says for the pod, carried out. True when the pod
/// is gone from the API and from this node (its slot can go).
async fn sync_pass(shared: &Arc<Shared>, key: &ObjectKey, slot: &mut Slot) -> bool {
    let api_pod = shared.cache.get(&key.namespace, &key.name);
    // A pod deleted and created again under the same name is another pod:
    // the one running is no longer wanted.
    let same = |pod: &&Arc<Pod>| {
        slot.running
            .as_ref()
            .is_none_or(|running| pod.metadata.uid.as_deref() == Some(running.uid.as_str()))
    };
    let desired = api_pod.as_ref().filter(same).map(|pod| pod.as_ref());
    match plan(desired, slot.running.is_some()) {
        Step::Start => {
            let pod = api_pod.clone().expect("Start has a pod");
            start(shared, key, slot, &pod).await;
        }
        Step::Report => {
            let pod = api_pod.clone().expect("Report has a pod");
            report(shared, slot, &pod).await;
        }
        Step::Stop { grace, then_remove } => {
            let final_pod = api_pod.clone().filter(|pod| same(&pod));
            stop(shared, key, slot, grace, final_pod.as_deref()).await;
            if then_remove && let Some(pod) = &final_pod {
                remove(shared, pod).await;
            }
        }
        Step::Remove => {
            if let Some(pod) = &api_pod {
                remove(shared, pod).await;
            }
        }
        Step::Nothing => {}
    }
    api_pod.is_none() && slot.running.is_none()
}
// ANCHOR_END: sync_pod

fn context<'a>(shared: &'a Shared, pod: &'a Pod, qos: &'a str) -> Context<'a> {
    Context {
        uid: pod.metadata.uid.as_deref().unwrap_or(""),
        host_ip: &shared.host_ip,
        qos_class: qos,
    }
}

/// Admits the pod, checks its images, and runs it.
async fn start(shared: &Shared, key: &ObjectKey, slot: &mut Slot, pod: &Arc<Pod>) {
    let uid = pod.metadata.uid.clone().unwrap_or_default();
    if slot.refused.as_deref() == Some(uid.as_str()) {
        return;
    }
    let qos = qos_class(&pod.spec).as_str();
    let context = context(shared, pod, qos);
    let refuse = |slot: &mut Slot, reason: &str, message: &str| {
        slot.refused = Some(uid.clone());
        (
            rejected(reason, message, &context),
            Record::new(reason, message, None),
        )
    };
    // A ConfigMap or Secret that is not there yet: the pod waits, and is
    // tried again on each pass until it appears.
    let environment = environment(shared, pod);
    if let Some((container, message)) = config_env::missing(pod, &environment.config) {
        let event = format!("Error: {message}");
        let waiting = Waiting {
            container: Some(&container),
            reason: CONFIG_ERROR,
            message: &message,
            event_reason: "Failed",
            event_message: &event,
        };
        wait_for_config(shared, slot, pod, &context, waiting).await;
        return;
    }
    let spec = match pod_spec(pod, &environment) {
        Ok(spec) => spec,
        Err(rejection) => {
            let (status, record) = refuse(slot, &rejection.reason, &rejection.message);
            write_status(shared, pod, status).await;
            shared.recorder.post(pod, &[record]).await;
            return;
        }
    };
    let requests = pod_requests(&pod.spec);
    let (used, count) = shared.table.in_use(key);
    if let Err(rejection) = admit(requests, used, count, shared.config.capacity) {
        let (status, record) = refuse(slot, &rejection.reason, &rejection.message);
        write_status(shared, pod, status).await;
        shared.recorder.post(pod, &[record]).await;
        return;
    }
    if let Some(missing) = images::missing(pod, &shared.images) {
        wait_for_image(shared, slot, pod, &spec, &context, missing).await;
        return;
    }
    slot.pulling = None;
    // The volumes' files last, once nothing else can refuse the pod: what
    // is written here is removed when the pod stops.
    if let Err((volume, message)) = write_config_volumes(shared, pod, &environment.config) {
        remove_config_volumes(shared, &uid);
        let event = format!("MountVolume.SetUp failed for volume {volume:?} : {message}");
        let waiting = Waiting {
            container: None,
            reason: "ContainerCreating",
            message: "",
            event_reason: "FailedMount",
            event_message: &event,
        };
        wait_for_config(shared, slot, pod, &context, waiting).await;
        return;
    }
    slot.config_waiting = None;
    let handle = shared.runtime.run(spec);
    install(shared, key, slot, uid, handle, requests, 0);
    // envFrom keys that cannot be variable names were left out: say so.
    let skipped: Vec<Record> = pod
        .spec
        .init_containers
        .iter()
        .chain(&pod.spec.containers)
        .filter_map(|c| config_env::config_env(c, &environment.config).ok())
        .flat_map(|env| env.warnings)
        .map(|warning| Record::new("InvalidEnvironmentVariableNames", warning, None))
        .collect();
    if !skipped.is_empty() {
        shared.recorder.post(pod, &skipped).await;
    }
    report(shared, slot, pod).await;
}

/// Why a pod is waiting for its configuration.
struct Waiting<'a> {
    /// The container that waits with `reason`; `None`: all of them wait
    /// as being created (a volume is missing).
    container: Option<&'a str>,
    reason: &'a str,
    message: &'a str,
    event_reason: &'a str,
    event_message: &'a str,
}

/// Reports a pod waiting for a ConfigMap or Secret: its containers
/// waiting, and an event, once per different message.
async fn wait_for_config(
    shared: &Shared,
    slot: &mut Slot,
    pod: &Pod,
    context: &Context<'_>,
    waiting: Waiting<'_>,
) {
    let uid = context.uid.to_string();
    let reported = (uid, waiting.event_message.to_string());
    if slot.config_waiting.as_ref() == Some(&reported) {
        return;
    }
    slot.config_waiting = Some(reported);
    let lines = |containers: &[objects::pod::Container]| -> Vec<pods::ContainerStatus> {
        containers
            .iter()
            .map(|c| {
                let image = c.image.clone().unwrap_or_default();
                let mut line = pods::ContainerStatus::new(&c.name, &image);
                if waiting.container == Some(c.name.as_str()) {
                    line.state =
                        pods::ContainerState::waiting(waiting.reason, waiting.message.to_string());
                }
                line
            })
            .collect()
    };
    let runtime_status = pods::PodStatus::pending(
        &lines(&pod.spec.init_containers),
        &lines(&pod.spec.containers),
    );
    write_status(shared, pod, api_status(&runtime_status, context)).await;
    let record = Record::new(
        waiting.event_reason,
        waiting.event_message,
        waiting.container,
    );
    shared.recorder.post(pod, &[record]).await;
}

/// Writes the files of the pod's ConfigMap and Secret volumes (Secrets on
/// a tmpfs); the volume and why when one cannot be.
fn write_config_volumes(
    shared: &Shared,
    pod: &Pod,
    config: &ConfigObjects,
) -> Result<(), (String, String)> {
    let uid = pod.metadata.uid.as_deref().unwrap_or_default();
    for volume in pod.spec.volumes.iter().filter(|v| is_config_volume(v)) {
        let failed = |message: String| (volume.name.clone(), message);
        let files = config_volumes::volume_files(volume, config).map_err(failed)?;
        let dir = config_volumes::volume_dir(&shared.config.data_dir, uid, &volume.name);
        if volume.secret.is_some() {
            config_volumes::mount_tmpfs(&dir).map_err(|e| failed(e.to_string()))?;
        }
        config_volumes::write_atomically(&dir, &files).map_err(|e| failed(e.to_string()))?;
    }
    Ok(())
}

/// Brings a running pod's ConfigMap and Secret volumes up to date with
/// the objects; a volume whose object is gone keeps its last files, as in
/// Kubernetes.
fn refresh_config_volumes(shared: &Shared, pod: &Pod) {
    if !pod.spec.volumes.iter().any(is_config_volume) {
        return;
    }
    let config = config_objects(shared, pod);
    let uid = pod.metadata.uid.as_deref().unwrap_or_default();
    for volume in pod.spec.volumes.iter().filter(|v| is_config_volume(v)) {
        let Ok(files) = config_volumes::volume_files(volume, &config) else {
            continue;
        };
        let dir = config_volumes::volume_dir(&shared.config.data_dir, uid, &volume.name);
        if let Err(error) = config_volumes::write_atomically(&dir, &files) {
            eprintln!(
                "kubelet: cannot update volume {} of pod {}/{}: {error}",
                volume.name,
                pod.metadata.namespace(),
                pod.metadata.name()
            );
        }
    }
}

/// Removes what the pod of `uid` had of ConfigMap and Secret volumes.
pub(super) fn remove_config_volumes(shared: &Shared, uid: &str) {
    if let Err(error) = config_volumes::remove_pod_dir(&shared.config.data_dir, uid) {
        eprintln!("kubelet: cannot remove the configuration volumes of pod {uid}: {error}");
    }
}

fn config_objects(shared: &Shared, pod: &Pod) -> ConfigObjects {
    let namespace = pod.metadata.namespace();
    ConfigObjects::of(
        namespace,
        &shared.config_maps.list_namespace(namespace),
        &shared.secrets.list_namespace(namespace),
    )
}

fn environment<'a>(shared: &'a Shared, pod: &Pod) -> Environment<'a> {
    let enable_links = pod.spec.enable_service_links.unwrap_or(true);
    Environment {
        node_name: &shared.config.name,
        host_ip: &shared.host_ip,
        backoff: shared.config.backoff,
        dns: ClusterDns {
            server: shared.config.cluster_dns,
            domain: shared.config.cluster_domain.clone(),
        },
        // Read only when dnsConfig is to be added to the node's own.
        host_resolv_conf: match pod.spec.dns_config {
            Some(_) => std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default(),
            None => String::new(),
        },
        services: linked_services(
            pod.metadata.namespace(),
            enable_links,
            &shared.services.list(),
        ),
        config: config_objects(shared, pod),
        data_dir: shared.config.data_dir.clone(),
    }
}

/// Puts a pod just started (or adopted) in its slot and the table, with a
/// watcher that wakes the sync loop on each of its status changes.
fn install(
    shared: &Shared,
    key: &ObjectKey,
    slot: &mut Slot,
    uid: String,
    handle: pods::PodHandle,
    requests: Requests,
    events_posted: usize,
) {
    let handle = Arc::new(handle);
    let mut watch = handle.watch();
    let wake = shared.wake.clone();
    let watched = key.clone();
    let watcher = tokio::spawn(async move {
        while watch.changed().await.is_ok() {
            if wake.send(watched.clone()).is_err() {
                return;
            }
        }
    });
    let running = Running {
        uid,
        handle,
        requests,
        watcher,
        events_posted,
        written: None,
    };
    shared.table.publish(key, &running);
    slot.running = Some(running);
}

/// A missing image: the pod waits (ErrImagePull, then ImagePullBackOff
/// between tries; ErrImageNeverPull under the policy Never) until it is
/// imported.
async fn wait_for_image(
    shared: &Shared,
    slot: &mut Slot,
    pod: &Pod,
    spec: &pods::PodSpec,
    context: &Context<'_>,
    missing: images::Missing,
) {
    let uid = context.uid.to_string();
    let now = tokio::time::Instant::now();
    let attempt = match &slot.pulling {
        Some((pulling, attempt, next)) if *pulling == uid => {
            if now < *next {
                return;
            }
            attempt + 1
        }
        _ => 0,
    };
    let delay = shared.config.image_backoff.delay(attempt);
    slot.pulling = Some((uid, attempt, now + delay));
    let (reason, message, event_reason, event_message) = images::waiting(&missing, attempt);
    let lines = |containers: &[pods::Container]| -> Vec<pods::ContainerStatus> {
        containers
            .iter()
            .map(|c| {
                let mut line = pods::ContainerStatus::new(&c.name, &c.image);
                if c.name == missing.container {
                    line.state = pods::ContainerState::waiting(reason, message.clone());
                }
                line
            })
            .collect()
    };
    let runtime_status =
        pods::PodStatus::pending(&lines(&spec.init_containers), &lines(&spec.containers));
    write_status(shared, pod, api_status(&runtime_status, context)).await;
    let record = Record::new(event_reason, event_message, Some(&missing.container));
    let mut records = vec![record];
    if attempt == 0 && !missing.never {
        records.push(Record::new(
            "Failed",
            format!("Error: {reason}"),
            Some(&missing.container),
        ));
    }
    shared.recorder.post(pod, &records).await;
}

/// Writes the running pod's status if it changed, and posts its new
/// events.
async fn report(shared: &Shared, slot: &mut Slot, pod: &Pod) {
    let Some(running) = slot.running.as_mut() else {
        return;
    };
    refresh_config_volumes(shared, pod);
    let qos = qos_class(&pod.spec).as_str();
    let ours = api_status(&running.handle.status(), &context(shared, pod, qos));
    if let Some(merged) = merge_status(&pod.status, ours)
        && running.written.as_ref() != Some(&merged)
        && write_status(shared, pod, merged.clone()).await
    {
        running.written = Some(merged);
    }
    post_new_events(shared, running, pod).await;
}

async fn post_new_events(shared: &Shared, running: &mut Running, pod: &Pod) {
    let happened = running.handle.events();
    let new = happened.get(running.events_posted..).unwrap_or_default();
    if new.is_empty() {
        return;
    }
    let image_of = |name: &str| {
        pod.spec
            .init_containers
            .iter()
            .chain(&pod.spec.containers)
            .find(|c| c.name == name)
            .and_then(|c| c.image.clone())
    };
    let records: Vec<Record> = new
        .iter()
        .flat_map(|event| events::from_runtime(event, image_of))
        .collect();
    running.events_posted = happened.len();
    shared.recorder.post(pod, &records).await;
}

/// Writes `status` over the pod's through the status subresource;
/// whether it was written (a conflict means the cache is behind: the next
/// pass writes again).
async fn write_status(shared: &Shared, pod: &Pod, status: objects::pod::PodStatus) -> bool {
    let mut updated = pod.clone();
    updated.status = status;
    let api = shared.client.api::<Pod>(Some(pod.metadata.namespace()));
    match api.replace_status(&updated).await {
        Ok(_) => true,
        Err(error) if error.is_conflict() || error.is_not_found() => false,
        Err(error) => {
            eprintln!(
                "kubelet: cannot write the status of pod {}/{}: {error}",
                pod.metadata.namespace(),
                pod.metadata.name()
            );
            false
        }
    }
}

/// Stops the pod within `grace`, posts its last events, and forgets it.
async fn stop(
    shared: &Shared,
    key: &ObjectKey,
    slot: &mut Slot,
    grace: std::time::Duration,
    pod: Option<&Pod>,
) {
    let Some(mut running) = slot.running.take() else {
        return;
    };
    let grace = match pod {
        Some(pod) => run_pre_stop_hooks(shared, &running, pod, grace).await,
        None => grace,
    };
    running.handle.stop(Some(grace)).await;
    running.watcher.abort();
    remove_config_volumes(shared, &running.uid);
    if let Some(pod) = pod {
        post_new_events(shared, &mut running, pod).await;
    }
    shared.table.unpublish(key);
}

/// Runs the containers' preStop hooks side by side, within `grace`, and
/// returns what is left of it for SIGTERM. A failed hook is an event, not
/// a reason to keep the pod: the stop goes on, as the kubelet's does.
async fn run_pre_stop_hooks(
    shared: &Shared,
    running: &Running,
    pod: &Pod,
    grace: std::time::Duration,
) -> std::time::Duration {
    let hooks = hooks::pre_stop_hooks(pod);
    if hooks.is_empty() {
        return grace;
    }
    let began = tokio::time::Instant::now();
    let runs = hooks.into_iter().map(|(container, hook)| {
        let handle = Arc::clone(&running.handle);
        async move {
            let failure = match hook {
                Err(reason) => Some(reason),
                Ok(PreStop::Sleep(duration)) => {
                    tokio::time::sleep(duration.min(grace)).await;
                    None
                }
                Ok(PreStop::Exec(command)) => {
                    match handle.exec(&container, &command, grace).await {
                        Ok(output) if output.exit_code == 0 => None,
                        Ok(output) => Some(format!("exited with {}", output.exit_code)),
                        Err(error) => Some(error.to_string()),
                    }
                }
            };
            failure.map(|reason| {
                Record::new(
                    "FailedPreStopHook",
                    format!("PreStopHook failed: {reason}"),
                    Some(&container),
                )
            })
        }
    });
    let failures: Vec<Record> = futures::future::join_all(runs)
        .await
        .into_iter()
        .flatten()
        .collect();
    if !failures.is_empty() {
        shared.recorder.post(pod, &failures).await;
    }
    hooks::grace_after_hooks(grace, began.elapsed())
}

/// Deletes the pod's API object for good, once it no longer runs here:
/// grace period 0, and only this very pod (its uid), not a new one of the
/// same name.
async fn remove(shared: &Shared, pod: &Pod) {
    let api = shared.client.api::<Pod>(Some(pod.metadata.namespace()));
    let params = DeleteParams {
        preconditions: Some(Preconditions {
            uid: pod.metadata.uid.clone(),
            resource_version: None,
        }),
        ..DeleteParams::now()
    };
    match api.delete(pod.metadata.name(), &params).await {
        Ok(_) => {}
        Err(error) if error.is_not_found() || error.is_conflict() => {}
        Err(error) => eprintln!(
            "kubelet: cannot remove pod {}/{}: {error}",
            pod.metadata.namespace(),
            pod.metadata.name()
        ),
    }
}
