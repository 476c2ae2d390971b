//! The Events the scheduler records: `Scheduled` (Normal) and
//! `FailedScheduling` (Warning), with `source.component`
//! `default-scheduler`, as `kubectl describe pod` shows them.
//!
//! A pod that stays unschedulable fails again on every retry. Like
//! client-go's event correlator, the recorder writes an identical event
//! only once and afterwards bumps its `count` and `lastTimestamp`; a new
//! message makes a new event. Retries themselves are bounded by the
//! queue's back-off, so the writes are too.

use std::collections::HashMap;

use objects::event::EventSource;
use objects::{Event, ObjectMeta, ObjectReference, Pod, Time};

use crate::DEFAULT_SCHEDULER;

/// A write the driver sends to the API server.
#[derive(Debug, Clone, PartialEq)]
pub enum EventWrite {
    Create(Box<Event>),
    /// The same event happened again: `count` and `lastTimestamp`.
    Bump {
        namespace: String,
        name: String,
        count: i32,
        last_timestamp: Time,
    },
}

/// Remembers the last event per pod, to aggregate repeats.
#[derive(Debug, Default)]
pub struct Recorder {
    last: HashMap<String, (String, String, i32)>,
    sequence: u64,
}

impl Recorder {
    /// The write for `reason`/`message` about `pod` (`event_type`
    /// `Normal` or `Warning`).
    pub fn record(
        &mut self,
        pod: &Pod,
        event_type: &str,
        reason: &str,
        message: &str,
    ) -> EventWrite {
        let namespace = pod.metadata.namespace().to_string();
        let key = format!("{namespace}/{}", pod.metadata.name());
        let now = Time::now();
        if let Some((name, last_message, count)) = self.last.get_mut(&key)
            && *last_message == format!("{reason}\n{message}")
        {
            *count += 1;
            return EventWrite::Bump {
                namespace,
                name: name.clone(),
                count: *count,
                last_timestamp: now,
            };
        }
        self.sequence += 1;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        // As client-go names them: the object's name and a hex timestamp
        // (plus a sequence, for two events in one clock tick).
        let name = format!("{}.{:x}{:x}", pod.metadata.name(), nanos, self.sequence);
        self.last
            .insert(key, (name.clone(), format!("{reason}\n{message}"), 1));
        EventWrite::Create(Box::new(Event {
            api_version: "v1".into(),
            kind: "Event".into(),
            metadata: ObjectMeta {
                name: Some(name),
                namespace: Some(namespace.clone()),
                ..Default::default()
            },
            involved_object: ObjectReference {
                kind: Some("Pod".into()),
                api_version: Some("v1".into()),
                namespace: Some(namespace),
                name: Some(pod.metadata.name().to_string()),
                uid: pod.metadata.uid.clone(),
                resource_version: pod.metadata.resource_version.clone(),
                field_path: None,
            },
            reason: Some(reason.into()),
            message: Some(message.into()),
            source: Some(EventSource {
                component: Some(DEFAULT_SCHEDULER.into()),
                host: None,
            }),
            first_timestamp: Some(now),
            last_timestamp: Some(now),
            count: Some(1),
            event_type: Some(event_type.into()),
            reporting_component: Some(DEFAULT_SCHEDULER.into()),
            ..Default::default()
        }))
    }

    /// The pod is gone: nothing more to aggregate with.
    pub fn forget(&mut self, key: &str) {
        self.last.remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(name: &str) -> Pod {
        let mut pod = Pod::default();
        pod.metadata.name = Some(name.into());
        pod.metadata.namespace = Some("default".into());
        pod
    }

    #[test]
    fn repeats_bump_the_count_and_a_new_message_makes_a_new_event() {
        let mut recorder = Recorder::default();
        let EventWrite::Create(first) =
            recorder.record(&pod("a"), "Warning", "FailedScheduling", "m1")
        else {
            panic!("the first event is created");
        };
        assert_eq!(
            first.source.unwrap().component.as_deref(),
            Some("default-scheduler")
        );
        let name = first.metadata.name.unwrap();
        for count in 2..4 {
            match recorder.record(&pod("a"), "Warning", "FailedScheduling", "m1") {
                EventWrite::Bump {
                    name: bumped,
                    count: n,
                    ..
                } => {
                    assert_eq!((bumped.as_str(), n), (name.as_str(), count));
                }
                other => panic!("expected a bump, got {other:?}"),
            }
        }
        assert!(matches!(
            recorder.record(&pod("a"), "Warning", "FailedScheduling", "m2"),
            EventWrite::Create(_)
        ));
        assert!(matches!(
            recorder.record(&pod("b"), "Warning", "FailedScheduling", "m2"),
            EventWrite::Create(_)
        ));
    }
}
