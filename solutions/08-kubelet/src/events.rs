//! Events as the kubelet records them: `Pulled`, `Created`, `Started`,
//! `Killing`, `BackOff`, `Unhealthy`, `FailedMount`..., about a pod (and
//! one of its containers, by `fieldPath`), from the component `kubelet` on
//! this host, so that `kubectl describe pod` tells the pod's story.
//! Kubernetes: client-go's `record.EventRecorder`.

use apiserver::client::{Client, Patch};
use objects::event::EventSource;
use objects::{Event, MicroTime, ObjectReference, Pod, Resource, Time};

/// Which reasons are warnings; the others are `Normal`.
const WARNINGS: [&str; 11] = [
    "InvalidEnvironmentVariableNames",
    "Failed",
    "FailedPreStopHook",
    "BackOff",
    "Unhealthy",
    "FailedMount",
    "FailedCreatePodSandBox",
    "FailedKillPod",
    "ErrImageNeverPull",
    "OutOfcpu",
    "OutOfmemory",
];

/// One thing that happened to a pod, before it becomes an Event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub reason: String,
    pub message: String,
    /// The container it is about, if one.
    pub container: Option<String>,
}

impl Record {
    pub fn new(reason: &str, message: impl Into<String>, container: Option<&str>) -> Record {
        Record {
            reason: reason.to_string(),
            message: message.into(),
            container: container.map(str::to_string),
        }
    }
}

/// The kubelet's events for what chapter 05's runtime recorded: its
/// `Started container X` becomes Pulled, Created and Started, as a real
/// runtime reports each step of a container's start; the container is
/// read from the message where the runtime names it.
pub fn from_runtime(
    event: &pods::PodEvent,
    image_of: impl Fn(&str) -> Option<String>,
) -> Vec<Record> {
    let container = [
        "Started container ",
        "Stopping container ",
        "Back-off restarting failed container ",
    ]
    .iter()
    .find_map(|prefix| event.message.strip_prefix(prefix))
    .map(|rest| rest.split_whitespace().next().unwrap_or(rest).to_string());
    let container = container.as_deref();
    match (event.reason.as_str(), container) {
        ("Started", Some(name)) => {
            let image = image_of(name).unwrap_or_default();
            vec![
                Record::new(
                    "Pulled",
                    format!("Container image \"{image}\" already present on machine"),
                    Some(name),
                ),
                Record::new("Created", format!("Created container {name}"), Some(name)),
                Record::new("Started", event.message.clone(), Some(name)),
            ]
        }
        // `{pod}` is filled in by [`event`], which knows the pod.
        ("BackOff", Some(name)) => vec![Record::new(
            "BackOff",
            format!("Back-off restarting failed container {name} in pod {{pod}}"),
            Some(name),
        )],
        _ => vec![Record::new(&event.reason, event.message.clone(), container)],
    }
}

/// The Event object of `record` about `pod`, reported by the kubelet on
/// `host`; its name is the pod's plus a unique suffix, as client-go makes
/// them.
pub fn event(pod: &Pod, record: &Record, host: &str, now: Time) -> Event {
    let namespace = pod.metadata.namespace();
    let pod_name = pod.metadata.name();
    let suffix = format!(
        "{:x}",
        now.0.timestamp_nanos_opt().unwrap_or_default() as u64 ^ rand_suffix()
    );
    let mut event = Event::new(&format!("{pod_name}.{suffix}"), Some(namespace));
    event.involved_object = ObjectReference {
        kind: Some("Pod".into()),
        namespace: Some(namespace.to_string()),
        name: Some(pod_name.to_string()),
        uid: pod.metadata.uid.clone(),
        api_version: Some("v1".into()),
        resource_version: pod.metadata.resource_version.clone(),
        field_path: record
            .container
            .as_ref()
            .map(|c| format!("spec.containers{{{c}}}")),
    };
    event.reason = Some(record.reason.clone());
    let uid = pod.metadata.uid.as_deref().unwrap_or("");
    let full_name = format!("{pod_name}_{namespace}({uid})");
    event.message = Some(record.message.replace("{pod}", &full_name));
    event.source = Some(EventSource {
        component: Some("kubelet".into()),
        host: Some(host.to_string()),
    });
    event.first_timestamp = Some(now);
    event.last_timestamp = Some(now);
    event.count = Some(1);
    event.event_type = Some(
        if WARNINGS.contains(&record.reason.as_str()) {
            "Warning"
        } else {
            "Normal"
        }
        .into(),
    );
    event.event_time = Some(MicroTime(now.0));
    event.reporting_component = Some("kubelet".into());
    event.reporting_instance = Some(host.to_string());
    event
}

/// A few random bits, so that two events in one nanosecond differ.
fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    COUNTER
        .fetch_add(1, Ordering::Relaxed)
        .wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

/// Posts events, and counts repeats instead of posting them again: an
/// event with the same pod, container, reason and message as one posted
/// before gets its `count` raised and its `lastTimestamp` moved, as
/// client-go's event correlator does (`kubectl describe` shows
/// "x4 over 10s").
pub struct Recorder {
    client: Client,
    host: String,
    /// Posted events by what makes them the same: their name and count.
    posted: std::sync::Mutex<std::collections::HashMap<String, (String, i32)>>,
}

/// Repeats are remembered for this many distinct events at most.
const REMEMBERED: usize = 4096;

impl Recorder {
    pub fn new(client: Client, host: &str) -> Recorder {
        Recorder {
            client,
            host: host.to_string(),
            posted: Default::default(),
        }
    }

    /// Posts the events; failures are only logged (an event is a
    /// courtesy: the pod's status is what counts).
    pub async fn post(&self, pod: &Pod, records: &[Record]) {
        let api = self.client.api::<Event>(Some(pod.metadata.namespace()));
        for record in records {
            let identity = format!(
                "{}/{}/{:?}/{}/{}",
                pod.metadata.namespace(),
                pod.metadata.uid.as_deref().unwrap_or(""),
                record.container,
                record.reason,
                record.message
            );
            let seen = self
                .posted
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .get(&identity)
                .cloned();
            let now = Time::now();
            let result = match seen {
                Some((name, count)) => {
                    let patch = serde_json::json!({
                        "count": count + 1,
                        "lastTimestamp": now,
                    });
                    api.patch(&name, &Patch::Merge(patch))
                        .await
                        .map(|_| (name, count + 1))
                }
                None => {
                    let event = event(pod, record, &self.host, now);
                    let name = event.metadata.name().to_string();
                    api.create(&event).await.map(|_| (name, 1))
                }
            };
            match result {
                Ok(posted) => {
                    let mut map = self
                        .posted
                        .lock()
                        .unwrap_or_else(|poisoned| poisoned.into_inner());
                    if map.len() >= REMEMBERED {
                        map.clear();
                    }
                    map.insert(identity, posted);
                }
                Err(error) => eprintln!(
                    "kubelet: cannot record event {} for pod {}/{}: {error}",
                    record.reason,
                    pod.metadata.namespace(),
                    pod.metadata.name()
                ),
            }
        }
    }
}
