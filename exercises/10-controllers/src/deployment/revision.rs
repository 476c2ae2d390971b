// Generated from solutions/10-controllers/src/deployment/revision.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
//! Revisions and the annotations a Deployment keeps on its ReplicaSets.
//!
//! Each ReplicaSet carries the revision of the template it runs
//! (`deployment.kubernetes.io/revision`): the new one gets the highest old
//! revision plus one, so a rollback to an old template makes it the
//! newest revision again (its earlier numbers go to `revision-history`).
//! The deployment carries its new ReplicaSet's revision too. This is what
//! `kubectl rollout history` lists and what `kubectl rollout undo` looks
//! up, client side, to find the template to go back to. The deployment's
//! own annotations (`kubernetes.io/change-cause` above all) are copied to
//! its new ReplicaSet, so the history says why each revision was made.
//! Old ReplicaSets scaled to 0 are kept for rollbacks, up to
//! `revisionHistoryLimit`; older ones are deleted.
//!
//! Kubernetes: `SetNewReplicaSetAnnotations`, `SetReplicasAnnotations`,
//! `MaxRevision` (util/deployment_util.go), `cleanupDeployment` (sync.go).

use objects::{Deployment, ObjectMeta, ReplicaSet};

use super::counts::replicas;

/// The revision of a ReplicaSet's template, and of a deployment.
pub const REVISION: &str = "deployment.kubernetes.io/revision";
/// Earlier revisions of a ReplicaSet that was rolled back to.
pub const REVISION_HISTORY: &str = "deployment.kubernetes.io/revision-history";
/// The deployment's size when the ReplicaSet was last scaled for it.
pub const DESIRED_REPLICAS: &str = "deployment.kubernetes.io/desired-replicas";
/// The deployment's size plus surge when the ReplicaSet was last scaled.
pub const MAX_REPLICAS: &str = "deployment.kubernetes.io/max-replicas";
/// Why a revision was made, as `kubectl rollout history` shows it.
pub const CHANGE_CAUSE: &str = "kubernetes.io/change-cause";

/// Annotations that belong to the deployment (or to each ReplicaSet) and
/// are never copied between the two.
const NOT_COPIED: [&str; 6] = [
    "kubectl.kubernetes.io/last-applied-configuration",
    REVISION,
    REVISION_HISTORY,
    DESIRED_REPLICAS,
    MAX_REPLICAS,
    "deprecated.deployment.rollback.to",
];

/// `revision-history` stops growing past this many characters.
const MAX_HISTORY_CHARS: usize = 2000;

/// Whether the annotation `key` stays where it is.
pub fn skip_copy_annotation(key: &str) -> bool {
    NOT_COPIED.contains(&key)
}

/// The revision in `meta`'s annotations; 0 when there is none (or it is
/// not a number, which Kubernetes skips the same way).
pub fn revision(meta: &ObjectMeta) -> i64 {
    meta.annotations
        .get(REVISION)
        .and_then(|value| value.parse().ok())
        .unwrap_or(0)
}

/// The highest revision among `replica_sets`.
pub fn max_revision<'a>(replica_sets: impl IntoIterator<Item = &'a ReplicaSet>) -> i64 {
    replica_sets
        .into_iter()
        .map(|rs| revision(&rs.metadata))
        .max()
        .unwrap_or(0)
}

fn int_annotation(rs: &ReplicaSet, key: &str) -> Option<i32> {
    rs.metadata.annotations.get(key)?.parse().ok()
}

/// The `desired-replicas` annotation.
pub fn desired_replicas_annotation(rs: &ReplicaSet) -> Option<i32> {
    int_annotation(rs, DESIRED_REPLICAS)
}

/// The `max-replicas` annotation.
pub fn max_replicas_annotation(rs: &ReplicaSet) -> Option<i32> {
    int_annotation(rs, MAX_REPLICAS)
}

/// Whether `desired-replicas` or `max-replicas` differ from these.
pub fn replicas_annotations_need_update(rs: &ReplicaSet, desired: i32, max: i32) -> bool {
    desired_replicas_annotation(rs) != Some(desired) || max_replicas_annotation(rs) != Some(max)
}

/// Records the deployment size the ReplicaSet is scaled for; says whether
/// anything changed.
pub fn set_replicas_annotations(rs: &mut ReplicaSet, desired: i32, max: i32) -> bool {
    if !replicas_annotations_need_update(rs, desired, max) {
        return false;
    }
    let annotations = &mut rs.metadata.annotations;
    annotations.insert(DESIRED_REPLICAS.into(), desired.to_string());
    annotations.insert(MAX_REPLICAS.into(), max.to_string());
    true
}

/// Copies the deployment's annotations (but the [`NOT_COPIED`] ones) to
/// the ReplicaSet; says whether anything changed.
pub fn copy_deployment_annotations(deployment: &Deployment, rs: &mut ReplicaSet) -> bool {
    let mut changed = false;
    for (key, value) in &deployment.metadata.annotations {
        if skip_copy_annotation(key) || rs.metadata.annotations.get(key) == Some(value) {
            continue;
        }
        rs.metadata.annotations.insert(key.clone(), value.clone());
        changed = true;
    }
    changed
}

/// The annotations of the deployment's new ReplicaSet: the deployment's
/// (copied), the revision `new_revision` if higher than its own (the
/// previous one goes to `revision-history`), and, for a ReplicaSet about
/// to be created (`exists` false), the sizes it is created for. Says
/// whether anything changed.
pub fn set_new_replica_set_annotations(
    deployment: &Deployment,
    rs: &mut ReplicaSet,
    new_revision: i64,
    exists: bool,
    desired: i32,
    max: i32,
) -> bool {
    let mut changed = copy_deployment_annotations(deployment, rs);
    let old = rs.metadata.annotations.get(REVISION).cloned();
    let old_revision = revision(&rs.metadata);
    if old_revision < new_revision {
        rs.metadata
            .annotations
            .insert(REVISION.into(), new_revision.to_string());
        changed = true;
        if let Some(old) = old {
            append_history(rs, &old);
        }
    }
    if !exists && set_replicas_annotations(rs, desired, max) {
        changed = true;
    }
    changed
}

/// Appends `old` to `revision-history`, dropping the oldest entries to
/// stay under [`MAX_HISTORY_CHARS`].
fn append_history(rs: &mut ReplicaSet, old: &str) {
    let history = rs
        .metadata
        .annotations
        .get(REVISION_HISTORY)
        .cloned()
        .unwrap_or_default();
    let mut revisions: Vec<&str> = history.split(',').filter(|r| !r.is_empty()).collect();
    revisions.push(old);
    while revisions.join(",").len() > MAX_HISTORY_CHARS && revisions.len() > 1 {
        revisions.remove(0);
    }
    rs.metadata
        .annotations
        .insert(REVISION_HISTORY.into(), revisions.join(","));
}

/// Sets the deployment's revision annotation; says whether it changed.
pub fn set_deployment_revision(deployment: &mut Deployment, revision: &str) -> bool {
    let annotations = &mut deployment.metadata.annotations;
    if annotations.get(REVISION).map(String::as_str) == Some(revision) {
        return false;
    }
    annotations.insert(REVISION.into(), revision.to_string());
    true
}

/// The old ReplicaSets to delete beyond `revisionHistoryLimit`, lowest
/// revision first (`cleanupDeployment`). Only those fully scaled down and
/// seen so by their controller (no pods left, the latest spec observed)
/// go; those already being deleted neither go nor count.
pub fn history_to_delete<'a>(
    deployment: &Deployment,
    old_rss: &'a [ReplicaSet],
) -> Vec<&'a ReplicaSet> {
    let Some(limit) = deployment.spec.revision_history_limit else {
        return Vec::new();
    };
    let mut cleanable: Vec<&ReplicaSet> = old_rss
        .iter()
        .filter(|rs| rs.metadata.deletion_timestamp.is_none())
        .collect();
    let excess = cleanable.len() as i64 - i64::from(limit);
    if excess <= 0 {
        return Vec::new();
    }
    cleanable.sort_by_key(|rs| (revision(&rs.metadata), rs.metadata.creation_timestamp));
    cleanable
        .into_iter()
        .take(excess as usize)
        .filter(|rs| {
            let observed = rs.status.observed_generation.unwrap_or(0);
            rs.status.replicas == 0
                && replicas(rs) == 0
                && rs.metadata.generation.unwrap_or(0) <= observed
        })
        .collect()
}
