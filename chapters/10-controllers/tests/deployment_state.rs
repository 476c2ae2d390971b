//! What the Deployment controller reads and writes besides sizes, with no
//! server: the pod-template hash, revisions and the annotations copied to
//! ReplicaSets, the old revisions that go, the status with its conditions
//! over time, which ReplicaSets a deployment claims, and which deployment
//! a change concerns.

#[path = "deployment_support/fixtures.rs"]
mod fixtures;

use std::sync::Arc;
use std::time::Duration;

use apiserver::client::{Cache, Change, ObjectKey};
use chapter_10::controllers::deployment::claim::{Claim, adopt_patch, claim};
use chapter_10::controllers::deployment::hash::{
    FNV_OFFSET, canonical, equal_ignore_hash, find_new_replica_set, fnv32a, pod_template_hash,
    safe_encode,
};
use chapter_10::controllers::deployment::revision::{
    CHANGE_CAUSE, REVISION, REVISION_HISTORY, history_to_delete, max_revision,
    set_new_replica_set_annotations,
};
use chapter_10::controllers::deployment::status::{
    calculate_status, deployment_timed_out, paused_condition, requeue_after, rollout_status,
};
use chapter_10::controllers::deployment::triggers;
use fixtures::{at, deployment, owner, recreate, replica_set, with_revision};
use objects::{Deployment, Pod, ReplicaSet, Selector};
use serde_json::json;

fn pretty(value: serde_json::Value) -> String {
    serde_json::to_string_pretty(&value).unwrap()
}

#[test]
fn the_hash_is_fnv32a_of_the_template_encoded_without_vowels() {
    // FNV-1a test vectors.
    assert_eq!(fnv32a(FNV_OFFSET, b""), 0x811c_9dc5);
    assert_eq!(fnv32a(FNV_OFFSET, b"a"), 0xe40c_292c);
    assert_eq!(fnv32a(FNV_OFFSET, b"foobar"), 0xbf9c_f968);
    assert_eq!(fnv32a(fnv32a(FNV_OFFSET, b"foo"), b"bar"), 0xbf9c_f968);
    assert_eq!(safe_encode("0123456789"), "456789bcdf");

    let template = deployment(3, 1, 1).spec.template;
    let bytes = serde_json::to_vec(&canonical(&template)).unwrap();
    let expected = safe_encode(&fnv32a(FNV_OFFSET, &bytes).to_string());
    let hash = pod_template_hash(&template, None);
    assert_eq!(hash, expected);
    assert!(
        hash.len() <= 10
            && hash
                .chars()
                .all(|c| "bcdfghjklmnpqrstvwxz2456789".contains(c))
    );

    // The label it becomes does not change it; the template and the
    // collision count do.
    let mut labeled = template.clone();
    labeled
        .metadata
        .labels
        .insert("pod-template-hash".into(), hash.clone());
    assert_eq!(pod_template_hash(&labeled, None), hash);
    assert!(equal_ignore_hash(&labeled, &template));
    let mut other = template.clone();
    other.spec.containers[0].image = Some("k8s-mini/echo:v3".into());
    assert_ne!(pod_template_hash(&other, None), hash);
    assert!(!equal_ignore_hash(&other, &template));
    // Empty fields are no difference (kubectl sends `resources: {}`).
    let mut with_empty = template.clone();
    with_empty.spec.containers[0].resources = Some(Default::default());
    with_empty.metadata.annotations.clear();
    assert_ne!(
        serde_json::to_value(&with_empty).unwrap(),
        serde_json::to_value(&template).unwrap()
    );
    assert!(equal_ignore_hash(&with_empty, &template));
    assert_eq!(pod_template_hash(&with_empty, None), hash);
    let with_zero = pod_template_hash(&template, Some(0));
    assert_ne!(with_zero, hash);
    let mut counted = bytes.clone();
    counted.extend([1, 0, 0, 0, 0, 0, 0, 0]);
    let one = safe_encode(&fnv32a(FNV_OFFSET, &counted).to_string());
    assert_eq!(pod_template_hash(&template, Some(1)), one);
}

#[test]
fn the_new_replica_set_is_the_oldest_with_the_deployments_template() {
    let d = deployment(3, 1, 1);
    let mut older = replica_set("web-older", 0, 1, 1);
    older.spec.template = d.spec.template.clone();
    older
        .spec
        .template
        .metadata
        .labels
        .insert("pod-template-hash".into(), "older".into());
    let mut newer = older.clone();
    newer.metadata.name = Some("web-newer".into());
    newer.metadata.creation_timestamp = Some(at(5));
    let unrelated = replica_set("web-other", 0, 1, 1);
    let all = [newer, unrelated, older];
    let found = find_new_replica_set(&d, &all).map(|rs| rs.metadata.name());
    assert_eq!(found, Some("web-older"));
    assert!(find_new_replica_set(&d, &all[1..2]).is_none());
}

#[test]
fn a_new_replica_set_gets_the_next_revision_and_the_deployments_annotations() {
    let mut d = deployment(4, 1, 1);
    d.metadata.annotations = [
        (
            CHANGE_CAUSE,
            "kubectl set image deployment/web web=k8s-mini/echo:v2",
        ),
        ("kubectl.kubernetes.io/last-applied-configuration", "{}"),
        (REVISION, "2"),
        ("team", "blue"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let old = [
        with_revision(replica_set("a", 0, 0, 0), 1),
        with_revision(replica_set("b", 1, 4, 4), 2),
    ];
    assert_eq!(max_revision(&old), 2);
    let mut new = replica_set("c", 2, 0, 0);
    assert!(set_new_replica_set_annotations(
        &d, &mut new, 3, false, 4, 5
    ));
    insta::assert_snapshot!(pretty(json!(new.metadata.annotations)));
    // Nothing new: nothing changes.
    assert!(!set_new_replica_set_annotations(
        &d, &mut new, 3, true, 4, 5
    ));

    // Rolled back to twice: the earlier revisions are kept in order.
    let mut back = with_revision(replica_set("a", 0, 0, 0), 1);
    set_new_replica_set_annotations(&d, &mut back, 4, true, 4, 5);
    set_new_replica_set_annotations(&d, &mut back, 6, true, 4, 5);
    assert_eq!(back.metadata.annotations[REVISION], "6");
    assert_eq!(back.metadata.annotations[REVISION_HISTORY], "1,4");
    // An existing ReplicaSet keeps its size annotations (scaling owns them).
    assert!(
        !back
            .metadata
            .annotations
            .contains_key("deployment.kubernetes.io/desired-replicas")
    );
}

#[test]
fn old_revisions_beyond_the_limit_go_lowest_first_once_scaled_down() {
    let mut d = deployment(4, 1, 1);
    d.spec.revision_history_limit = Some(2);
    let mut busy = with_revision(replica_set("rev1", 0, 1, 1), 1);
    busy.spec.replicas = Some(1);
    let mut unobserved = with_revision(replica_set("rev2", 1, 0, 0), 2);
    unobserved.metadata.generation = Some(2);
    let mut deleting = with_revision(replica_set("rev0", 0, 0, 0), 0);
    deleting.metadata.deletion_timestamp = Some(at(9));
    let old = [
        with_revision(replica_set("rev5", 5, 0, 0), 5),
        with_revision(replica_set("rev3", 3, 0, 0), 3),
        busy,
        unobserved,
        deleting,
        with_revision(replica_set("rev4", 4, 0, 0), 4),
    ];
    // Five count (rev0 is going already): three beyond the limit, rev1..3;
    // rev1 still has a pod, rev2's controller has not seen its last change.
    let names: Vec<&str> = history_to_delete(&d, &old)
        .iter()
        .map(|rs| rs.metadata.name())
        .collect();
    assert_eq!(names, ["rev3"]);
    d.spec.revision_history_limit = Some(5);
    assert!(history_to_delete(&d, &old).is_empty());
    d.spec.revision_history_limit = Some(0);
    assert_eq!(history_to_delete(&d, &old).len(), 3);
}

#[test]
fn the_status_sums_the_replica_sets_and_says_whether_enough_are_available() {
    let mut d = deployment(4, 1, 1);
    d.metadata.generation = Some(3);
    let old = replica_set("old", 0, 3, 3);
    let mut new = replica_set("new", 1, 2, 1);
    new.status.ready_replicas = Some(2);
    let status = calculate_status(&d, &[&old, &new], Some(&new), at(10));
    let minimum = serde_json::to_value(&status).unwrap();
    // Two available of four: below the minimum of three.
    let old = replica_set("old", 0, 1, 1);
    let status = calculate_status(&d, &[&old, &new], Some(&new), at(20));
    insta::assert_snapshot!(pretty(json!({"enough": minimum, "too few": status})));
}

/// The Progressing condition as (reason, status, lastUpdate, lastTransition).
fn progressing(d: &Deployment) -> String {
    let c = d
        .status
        .conditions
        .iter()
        .find(|c| c.condition_type == "Progressing")
        .unwrap();
    format!(
        "{} {} updated {} since {}",
        c.reason.as_deref().unwrap(),
        c.status,
        c.last_update_time.unwrap(),
        c.last_transition_time.unwrap()
    )
}

#[test]
fn progress_renews_the_deadline_and_none_for_too_long_exceeds_it() {
    let mut d = deployment(2, 1, 0);
    d.spec.progress_deadline_seconds = Some(10);
    let old = replica_set("old", 0, 2, 2);
    let mut new = replica_set("web-new", 1, 1, 0);
    d.status = rollout_status(&d, &[&old, &new], Some(&new), at(0));
    let mut story = vec![format!("t=0  {}", progressing(&d))];
    assert_eq!(
        requeue_after(&d, &d.status.clone(), at(3)),
        Some(Duration::from_secs(8))
    );
    // A pod of the new template becomes available at t=5: progress.
    new.status.available_replicas = Some(1);
    d.status = rollout_status(&d, &[&old, &new], Some(&new), at(5));
    story.push(format!("t=5  {}", progressing(&d)));
    // Nothing more until t=15: still within 10 s of the last progress.
    d.status = rollout_status(&d, &[&old, &new], Some(&new), at(15));
    story.push(format!("t=15 {}", progressing(&d)));
    assert!(!deployment_timed_out(&d, &d.status, at(15)));
    d.status = rollout_status(&d, &[&old, &new], Some(&new), at(16));
    story.push(format!("t=16 {}", progressing(&d)));
    assert!(deployment_timed_out(&d, &d.status, at(16)));
    assert_eq!(requeue_after(&d, &d.status.clone(), at(17)), None);
    // Progress again: the rollout moves on (and may still complete).
    let old = replica_set("old", 0, 0, 0);
    let new = replica_set("web-new", 1, 2, 2);
    d.status = rollout_status(&d, &[&old, &new], Some(&new), at(30));
    story.push(format!("t=30 {}", progressing(&d)));
    d.status = rollout_status(&d, &[&old, &new], Some(&new), at(31));
    story.push(format!("t=31 {}", progressing(&d)));
    insta::assert_snapshot!(story.join("\n"));
}

#[test]
fn pausing_and_resuming_reset_the_progressing_condition() {
    let mut d = deployment(2, 1, 0);
    assert!(paused_condition(&d, at(0)).is_none());
    d.spec.paused = true;
    let paused = paused_condition(&d, at(1)).unwrap();
    assert_eq!(
        (paused.reason.as_deref(), paused.status.as_str()),
        (Some("DeploymentPaused"), "Unknown")
    );
    d.status.conditions.push(paused);
    assert!(paused_condition(&d, at(2)).is_none());
    d.spec.paused = false;
    let resumed = paused_condition(&d, at(3)).unwrap();
    assert_eq!(resumed.reason.as_deref(), Some("DeploymentResumed"));
    // A rollout reported stuck stays reported so.
    d.status.conditions[0].reason = Some("ProgressDeadlineExceeded".into());
    d.spec.paused = true;
    assert!(paused_condition(&d, at(4)).is_none());
}

#[test]
fn a_deployment_owns_adopts_releases_or_leaves_each_replica_set() {
    let d = deployment(2, 1, 1);
    let selector = Selector::from_label_selector(&d.spec.selector).unwrap();
    let mut deleting_d = d.clone();
    deleting_d.metadata.deletion_timestamp = Some(at(1));
    let ours = replica_set("ours", 0, 1, 1);
    let mut relabeled = ours.clone();
    relabeled
        .metadata
        .labels
        .insert("app".into(), "other".into());
    let mut foreign = ours.clone();
    foreign.metadata.owner_references = vec![owner("d-2")];
    let mut orphan = ours.clone();
    orphan.metadata.owner_references.clear();
    let mut unmatched_orphan = relabeled.clone();
    unmatched_orphan.metadata.owner_references.clear();
    let mut deleted_orphan = orphan.clone();
    deleted_orphan.metadata.deletion_timestamp = Some(at(1));
    let cases = [
        (&d, &ours, Claim::Owned),
        (&d, &relabeled, Claim::Release),
        (&deleting_d, &relabeled, Claim::Ignore),
        (&d, &foreign, Claim::Ignore),
        (&d, &orphan, Claim::Adopt),
        (&deleting_d, &orphan, Claim::Ignore),
        (&d, &unmatched_orphan, Claim::Ignore),
        (&d, &deleted_orphan, Claim::Ignore),
    ];
    for (i, (deployment, rs, expected)) in cases.into_iter().enumerate() {
        assert_eq!(claim(deployment, &selector, rs), expected, "case {i}");
    }
    insta::assert_snapshot!(pretty(adopt_patch(&d, &orphan)));
}

fn cache<K: objects::Resource>(items: Vec<K>) -> Cache<K> {
    let cache = Cache::new();
    cache.replace(items);
    cache
}

fn key(name: &str) -> ObjectKey {
    ObjectKey {
        namespace: "default".into(),
        name: name.into(),
    }
}

#[test]
fn a_replica_set_change_wakes_its_controller_or_those_that_may_adopt_it() {
    let web = deployment(2, 1, 1);
    let mut api: Deployment = deployment(2, 1, 1);
    api.metadata.name = Some("api".into());
    api.metadata.uid = Some("d-2".into());
    api.spec.selector.match_labels = [("app".to_string(), "api".to_string())].into();
    let deployments = cache(vec![web, api]);
    let ours = Arc::new(replica_set("web-1", 0, 1, 1));
    assert_eq!(
        triggers::for_replica_set(&Change::Added(ours.clone()), &deployments),
        [key("web")]
    );
    assert_eq!(
        triggers::for_replica_set(&Change::Deleted(ours.clone()), &deployments),
        [key("web")]
    );
    // A reference to a deployment of that name, but another uid.
    let mut stale = (*ours).clone();
    stale.metadata.owner_references = vec![owner("d-0")];
    assert!(triggers::for_replica_set(&Change::Added(Arc::new(stale)), &deployments).is_empty());
    // An orphan: whoever's selector matches may adopt it.
    let mut orphan = (*ours).clone();
    orphan.metadata.owner_references.clear();
    let orphan = Arc::new(orphan);
    assert_eq!(
        triggers::for_replica_set(&Change::Added(orphan.clone()), &deployments),
        [key("web")]
    );
    assert!(triggers::for_replica_set(&Change::Deleted(orphan.clone()), &deployments).is_empty());
    // Released and relabeled: the old controller and the new match.
    let mut moved = (*orphan).clone();
    moved.metadata.labels.insert("app".into(), "api".into());
    let change = Change::Updated {
        old: ours,
        new: Arc::new(moved),
    };
    assert_eq!(
        triggers::for_replica_set(&change, &deployments),
        [key("api"), key("web")]
    );
}

fn pod_of(rs: &ReplicaSet) -> Pod {
    serde_json::from_value(json!({"metadata": {"name": "p", "namespace": "default",
        "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet",
            "name": rs.metadata.name(), "uid": rs.metadata.uid, "controller": true}]},
        "status": {"phase": "Running"}}))
    .unwrap()
}

#[test]
fn a_pod_that_goes_wakes_only_a_recreate_deployment() {
    let rs = replica_set("web-1", 0, 1, 1);
    let replica_sets = cache(vec![rs.clone()]);
    let pod = Arc::new(pod_of(&rs));
    let recreating = cache(vec![recreate(2)]);
    let rolling = cache(vec![deployment(2, 1, 1)]);
    let deleted = Change::Deleted(pod.clone());
    assert_eq!(
        triggers::for_pod(&deleted, &replica_sets, &recreating),
        [key("web")]
    );
    assert!(triggers::for_pod(&deleted, &replica_sets, &rolling).is_empty());
    assert!(triggers::for_pod(&Change::Added(pod.clone()), &replica_sets, &recreating).is_empty());
    let mut done = (*pod).clone();
    done.status.phase = Some("Succeeded".into());
    let finished = Change::Updated {
        old: pod,
        new: Arc::new(done),
    };
    assert_eq!(
        triggers::for_pod(&finished, &replica_sets, &recreating),
        [key("web")]
    );
}
