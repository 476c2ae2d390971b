//! Deployments and ReplicaSets built by hand, for the Deployment tests
//! that need no server. Shared by several test files, each using a part.
#![allow(dead_code)]

use chapter_10::controllers::deployment::revision::{DESIRED_REPLICAS, MAX_REPLICAS, REVISION};
use objects::{Deployment, IntOrString, ObjectMeta, OwnerReference, ReplicaSet, Time};
use serde_json::json;

/// A fixed point in time plus `seconds`, so tests never read the clock.
pub fn at(seconds: i64) -> Time {
    let start = Time::parse("2026-01-01T00:00:00Z").expect("a timestamp");
    Time(start.0 + chrono::Duration::seconds(seconds))
}

/// Deployment `web` (uid `d-1`, generation 1) of `replicas` pods of
/// `image`, RollingUpdate with these bounds.
pub fn deployment(
    replicas: i32,
    max_surge: impl Into<IntOrString>,
    max_unavailable: impl Into<IntOrString>,
) -> Deployment {
    serde_json::from_value(json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default", "uid": "d-1", "generation": 1},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "web"}},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {
                "maxSurge": max_surge.into(), "maxUnavailable": max_unavailable.into()}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": "k8s-mini/echo:v2"}]}
            },
            "revisionHistoryLimit": 10,
            "progressDeadlineSeconds": 600
        }
    }))
    .expect("a deployment")
}

/// The same deployment with the Recreate strategy.
pub fn recreate(replicas: i32) -> Deployment {
    let mut deployment = deployment(replicas, 0, 1);
    let strategy = deployment.spec.strategy.as_mut().expect("a strategy");
    strategy.strategy_type = Some("Recreate".into());
    strategy.rolling_update = None;
    deployment
}

/// ReplicaSet `name`, created `created` seconds after [`at`]`(0)`, owned
/// by [`deployment`], asking for `replicas` pods of which `available`
/// are available (and as many exist).
pub fn replica_set(name: &str, created: i64, replicas: i32, available: i32) -> ReplicaSet {
    let mut rs = ReplicaSet {
        metadata: ObjectMeta {
            name: Some(name.into()),
            namespace: Some("default".into()),
            uid: Some(format!("uid-{name}")),
            creation_timestamp: Some(at(created)),
            generation: Some(1),
            labels: [("app".to_string(), "web".to_string())].into(),
            owner_references: vec![owner("d-1")],
            ..ObjectMeta::default()
        },
        ..ReplicaSet::default()
    };
    rs.spec.replicas = Some(replicas);
    rs.spec.selector.match_labels = rs.metadata.labels.clone();
    rs.spec.template.metadata.labels = rs.metadata.labels.clone();
    rs.status.replicas = replicas.max(available);
    rs.status.ready_replicas = Some(available);
    rs.status.available_replicas = Some(available);
    rs.status.observed_generation = Some(1);
    rs
}

/// A controller ownerReference to deployment `web` of uid `uid`.
pub fn owner(uid: &str) -> OwnerReference {
    OwnerReference {
        api_version: "apps/v1".into(),
        kind: "Deployment".into(),
        name: "web".into(),
        uid: uid.into(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    }
}

/// `rs` with its revision annotation.
pub fn with_revision(mut rs: ReplicaSet, revision: i64) -> ReplicaSet {
    rs.metadata
        .annotations
        .insert(REVISION.into(), revision.to_string());
    rs
}

/// `rs` as scaled for a deployment of `desired` (plus surge: `max`).
pub fn scaled_for(mut rs: ReplicaSet, desired: i32, max: i32) -> ReplicaSet {
    let annotations = &mut rs.metadata.annotations;
    annotations.insert(DESIRED_REPLICAS.into(), desired.to_string());
    annotations.insert(MAX_REPLICAS.into(), max.to_string());
    rs
}
