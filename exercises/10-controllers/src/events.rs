// Generated from solutions/10-controllers/src/events.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
//! The Events controllers record about the objects they act on
//! (`SuccessfulCreate` "Created pod: web-7d4b9c-x2x8k" on a ReplicaSet,
//! `ScalingReplicaSet` on a Deployment), so that `kubectl describe` tells
//! the story. Kubernetes: client-go's `record.EventRecorder` with its
//! correlator.
//!
//! Like client-go, an identical event (same object, type, reason and
//! message) is written once and then counted: a second occurrence bumps
//! `count` and `lastTimestamp` instead of adding an Event, so a template
//! that fails on every retry does not flood the API. Recording never fails
//! the caller: an Event is a report, not part of the work.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use apiserver::client::{Api, Client, Patch};
use objects::event::EventSource;
use objects::{Event, ObjectMeta, ObjectReference, Resource, Time};
use serde_json::json;

/// `Normal` (things going as planned) or `Warning`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    Normal,
    Warning,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Normal => "Normal",
            EventType::Warning => "Warning",
        }
    }
}

/// Past this many remembered events the memory of repeats starts afresh
/// (client-go keeps an LRU of 4096).
const REMEMBERED: usize = 4096;

/// The name and count of the event written for one identity, locked while
/// it is written.
type Written = Arc<tokio::sync::Mutex<Option<(String, i32)>>>;

/// Writes Events from one component (`replicaset-controller`).
pub struct Recorder {
    client: Client,
    component: String,
    /// The event written for each (uid, type, reason, message), and how
    /// many times it happened.
    seen: Mutex<HashMap<String, Written>>,
    sequence: AtomicU64,
}

impl Recorder {
    pub fn new(client: &Client, component: &str) -> Recorder {
        Recorder {
            client: client.clone(),
            component: component.to_string(),
            seen: Mutex::default(),
            sequence: AtomicU64::new(0),
        }
    }

    pub fn component(&self) -> &str {
        &self.component
    }

    /// Records a `Normal` event about `object`.
    pub async fn normal<K: Resource>(&self, object: &K, reason: &str, message: &str) {
        self.record(object, EventType::Normal, reason, message)
            .await;
    }

    /// Records a `Warning` event about `object`.
    pub async fn warning<K: Resource>(&self, object: &K, reason: &str, message: &str) {
        self.record(object, EventType::Warning, reason, message)
            .await;
    }

    /// Records an event about `object`; a repeat bumps the count of the
    /// first. Errors are logged, not returned.
    pub async fn record<K: Resource>(
        &self,
        object: &K,
        event_type: EventType,
        reason: &str,
        message: &str,
    ) {
        let meta = object.metadata();
        let namespace = event_namespace(meta);
        let events: Api<Event> = Api::namespaced(&self.client, &namespace);
        let identity = format!(
            "{}\n{}\n{}\n{}",
            meta.uid.as_deref().unwrap_or(meta.name()),
            event_type.as_str(),
            reason,
            message
        );
        // One write at a time per identity: concurrent repeats (three
        // failed creates of one batch) count on one event.
        let entry = {
            let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
            if seen.len() >= REMEMBERED {
                seen.clear();
            }
            Arc::clone(seen.entry(identity).or_default())
        };
        let mut entry = entry.lock().await;
        let now = Time::now();
        if let Some((name, count)) = entry.as_mut() {
            let patch = Patch::Merge(json!({"count": *count + 1, "lastTimestamp": now}));
            match events.patch(name, &patch).await {
                Ok(_) => {
                    *count += 1;
                    return;
                }
                // Expired or removed meanwhile: write a new one.
                Err(error) if error.is_not_found() => {}
                Err(error) => {
                    tracing::warn!(%error, reason, "cannot update an event");
                    return;
                }
            }
        }
        let sequence = self.sequence.fetch_add(1, Ordering::Relaxed);
        let event = new_event(
            object,
            &self.component,
            event_type,
            reason,
            message,
            sequence,
        );
        match events.create(&event).await {
            Ok(_) => *entry = Some((event.metadata.name().to_string(), 1)),
            Err(error) => tracing::warn!(%error, reason, "cannot record an event"),
        }
    }
}

/// Events about cluster-scoped objects go to `default`, as in Kubernetes.
fn event_namespace(meta: &ObjectMeta) -> String {
    match meta.namespace() {
        "" => "default".to_string(),
        namespace => namespace.to_string(),
    }
}

/// A new Event about `object`, named as client-go names them (the object's
/// name, a dot, the time in hexadecimal nanoseconds), plus a sequence
/// number so that two events in one clock tick do not collide.
pub fn new_event<K: Resource>(
    object: &K,
    component: &str,
    event_type: EventType,
    reason: &str,
    message: &str,
    sequence: u64,
) -> Event {
    let meta = object.metadata();
    let now = Time::now();
    let nanos = now.0.timestamp_nanos_opt().unwrap_or_default();
    let namespace = event_namespace(meta);
    Event {
        api_version: "v1".into(),
        kind: "Event".into(),
        metadata: ObjectMeta {
            name: Some(format!("{}.{:x}{:x}", meta.name(), nanos, sequence)),
            namespace: Some(namespace),
            ..ObjectMeta::default()
        },
        involved_object: ObjectReference {
            kind: Some(K::INFO.kind.to_string()),
            api_version: Some(K::INFO.api_version()),
            namespace: meta.namespace.clone(),
            name: meta.name.clone(),
            uid: meta.uid.clone(),
            resource_version: meta.resource_version.clone(),
            field_path: None,
        },
        reason: Some(reason.to_string()),
        message: Some(message.to_string()),
        source: Some(EventSource {
            component: Some(component.to_string()),
            host: None,
        }),
        first_timestamp: Some(now),
        last_timestamp: Some(now),
        count: Some(1),
        event_type: Some(event_type.as_str().to_string()),
        reporting_component: Some(component.to_string()),
        ..Event::default()
    }
}
