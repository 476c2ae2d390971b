//! The Deployment controller against a real API server (in this process),
//! reconcile by reconcile, with the ReplicaSets' pods reported by the test
//! (there is no ReplicaSet controller here): a rolling update step by
//! step, Recreate waiting for the old pods, pause and scaling, the
//! revision history limit, adoption and release, a hash collision.

#[path = "deployment_support/lab.rs"]
mod lab;

use chapter_10::controllers::deployment::hash::pod_template_hash;
use chapter_10::controllers::deployment::revision::{CHANGE_CAUSE, REVISION};
use lab::{Lab, revision, tag, web};
use objects::{Deployment, Pod, ReplicaSet, Resource};
use serde_json::json;

/// The status as `kubectl rollout status` reads it, without timestamps.
fn status(d: &Deployment) -> String {
    let s = &d.status;
    let mut text = format!(
        "generation {:?} observed {:?}\nreplicas {:?} updated {:?} ready {:?} available {:?} unavailable {:?}\n",
        d.metadata.generation,
        s.observed_generation,
        s.replicas,
        s.updated_replicas,
        s.ready_replicas,
        s.available_replicas,
        s.unavailable_replicas
    );
    for c in &s.conditions {
        text.push_str(&format!(
            "{} {} {}: {}\n",
            c.condition_type,
            c.status,
            c.reason.as_deref().unwrap_or(""),
            c.message.as_deref().unwrap_or("")
        ));
    }
    text
}

#[tokio::test]
async fn a_rolling_update_goes_step_by_step_within_max_surge_and_max_unavailable() {
    let lab = Lab::start().await;
    let extra = json!({"metadata": {"annotations": {CHANGE_CAUSE: "first"}},
        "spec": {"minReadySeconds": 2}});
    lab.deployments
        .create(&web(4, "v1", json!(1), json!(1), extra))
        .await
        .unwrap();
    let first = lab.roll("web", 10).await;
    lab.patch("web", json!({
        "metadata": {"annotations": {CHANGE_CAUSE: "to v2"}},
        "spec": {"template": {"spec": {"containers": [{"name": "web", "image": "k8s-mini/echo:v2"}]}}}
    }))
    .await;
    let second = lab.roll("web", 10).await;

    let all = lab.replica_set_list().await;
    let d = lab.deployment("web").await;
    assert_eq!(d.metadata.annotations[REVISION], "2");
    for (rs, expected_revision) in all.iter().zip(["1", "2"]) {
        let hash = &rs.spec.template.metadata.labels["pod-template-hash"];
        assert_eq!(rs.metadata.name(), format!("web-{hash}"));
        assert_eq!(&rs.metadata.labels["pod-template-hash"], hash);
        assert_eq!(&rs.spec.selector.match_labels["pod-template-hash"], hash);
        assert_eq!(rs.metadata.annotations[REVISION], expected_revision);
        assert_eq!(rs.spec.min_ready_seconds, Some(2));
        let owner = &rs.metadata.owner_references[0];
        assert_eq!(
            (owner.kind.as_str(), owner.controller),
            ("Deployment", Some(true))
        );
        assert_eq!(owner.uid, d.metadata.uid.clone().unwrap());
    }
    let annotations: Vec<String> = all
        .iter()
        .map(|rs| format!("{}: {:?}", tag(rs), rs.metadata.annotations))
        .collect();
    let story = format!(
        "first rollout: {first:?}\nsecond rollout:\n{}\n\n{}\n{}\n\n{}",
        second.join("\n"),
        annotations.join("\n"),
        status(&d),
        lab.events().await.join("\n")
    );
    insta::assert_snapshot!(lab.readable(&story).await);
    lab.stop().await;
}

#[tokio::test]
async fn recreate_scales_the_old_pods_away_and_waits_for_them_before_the_new_ones() {
    let lab = Lab::start().await;
    let recreate = json!({"spec": {"strategy": {"type": "Recreate", "rollingUpdate": null}}});
    lab.deployments
        .create(&web(2, "v1", json!(null), json!(null), recreate))
        .await
        .unwrap();
    lab.roll("web", 5).await;
    let old = lab.replica_set_list().await.remove(0);
    lab.patch(
        "web",
        json!({"spec": {"template": {"spec": {
        "containers": [{"name": "web", "image": "k8s-mini/echo:v2"}]}}}}),
    )
    .await;

    lab.reconcile("web").await;
    assert_eq!(
        lab.sizes().await,
        "v1=0",
        "the old pods go first, no new ReplicaSet yet"
    );
    // The old ReplicaSet still reports its pods (they are stopping).
    lab.reconcile("web").await;
    assert_eq!(lab.sizes().await, "v1=0");
    // Its pods are gone, but for one the ReplicaSet no longer counts.
    lab.report(old.metadata.name(), 0, 0).await;
    let pods: apiserver::client::Api<Pod> =
        apiserver::client::Api::namespaced(&lab.client, "default");
    let straggler: Pod = serde_json::from_value(json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "straggler",
        "namespace": "default", "labels": {"app": "web"},
        "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet",
            "name": old.metadata.name(), "uid": old.metadata.uid, "controller": true}]},
        "spec": {"containers": [{"name": "web", "image": "k8s-mini/echo:v1"}]}}))
    .unwrap();
    pods.create(&straggler).await.unwrap();
    lab.reconcile("web").await;
    assert_eq!(lab.sizes().await, "v1=0");
    pods.delete("straggler", &apiserver::client::DeleteParams::now())
        .await
        .unwrap();
    lab.reconcile("web").await;
    assert_eq!(
        lab.sizes().await,
        "v1=0 v2=2",
        "created at full size at once"
    );
    lab.report_pods().await;
    lab.reconcile("web").await;
    let d = lab.deployment("web").await;
    assert_eq!(
        (d.status.updated_replicas, d.status.available_replicas),
        (Some(2), Some(2))
    );
    lab.stop().await;
}

#[tokio::test]
async fn a_paused_deployment_rolls_nothing_out_but_still_scales() {
    let lab = Lab::start().await;
    lab.deployments
        .create(&web(4, "v1", json!(1), json!(1), json!({})))
        .await
        .unwrap();
    lab.roll("web", 5).await;
    lab.patch("web", json!({"spec": {"paused": true}})).await;
    lab.patch(
        "web",
        json!({"spec": {"template": {"spec": {
        "containers": [{"name": "web", "image": "k8s-mini/echo:v2"}]}}}}),
    )
    .await;
    lab.reconcile("web").await;
    assert_eq!(lab.sizes().await, "v1=4", "no new ReplicaSet while paused");
    let paused = lab.deployment("web").await;
    assert!(status(&paused).contains("Progressing Unknown DeploymentPaused: Deployment is paused"));

    lab.patch("web", json!({"spec": {"replicas": 6}})).await;
    lab.reconcile("web").await;
    assert_eq!(lab.sizes().await, "v1=6", "scaling applies while paused");

    lab.patch("web", json!({"spec": {"paused": false}})).await;
    lab.reconcile("web").await;
    let resumed = lab.deployment("web").await;
    let conditions = status(&resumed);
    assert!(
        conditions.contains("NewReplicaSetCreated") || conditions.contains("DeploymentResumed"),
        "{conditions}"
    );
    lab.report_pods().await;
    lab.roll("web", 10).await;
    assert_eq!(lab.sizes().await, "v1=0 v2=6");
    lab.stop().await;
}

#[tokio::test]
async fn old_revisions_beyond_the_history_limit_are_deleted() {
    let lab = Lab::start().await;
    let extra = json!({"spec": {"revisionHistoryLimit": 1}});
    lab.deployments
        .create(&web(2, "v1", json!(1), json!(0), extra))
        .await
        .unwrap();
    lab.roll("web", 5).await;
    for tag in ["v2", "v3", "v4"] {
        lab.patch(
            "web",
            json!({"spec": {"template": {"spec": {
            "containers": [{"name": "web", "image": format!("k8s-mini/echo:{tag}")}]}}}}),
        )
        .await;
        lab.roll("web", 10).await;
    }
    let left: Vec<(String, i64)> = lab
        .replica_set_list()
        .await
        .iter()
        .map(|rs| (tag(rs), revision(rs)))
        .collect();
    assert_eq!(left, [("v3".to_string(), 3), ("v4".to_string(), 4)]);
    lab.stop().await;
}

/// A ReplicaSet `name` with the deployment's selector and `template_of`'s
/// template, owned by nobody.
fn orphan(name: &str, template_of: &Deployment) -> ReplicaSet {
    let mut rs = ReplicaSet::new(name, Some("default"));
    rs.metadata.labels = template_of.spec.template.metadata.labels.clone();
    rs.spec.replicas = Some(1);
    rs.spec.selector = template_of.spec.selector.clone();
    rs.spec.template = template_of.spec.template.clone();
    rs
}

#[tokio::test]
async fn matching_orphans_are_adopted_and_relabeled_replica_sets_released() {
    let lab = Lab::start().await;
    let d = lab
        .deployments
        .create(&web(3, "v1", json!(1), json!(1), json!({})))
        .await
        .unwrap();
    // Left behind by a deployment deleted with --cascade=orphan.
    lab.replica_sets
        .create(&orphan("web-left", &d))
        .await
        .unwrap();
    lab.reconcile("web").await;
    let all = lab.replica_set_list().await;
    assert_eq!(all.len(), 1, "the orphan is the new ReplicaSet: {all:?}");
    assert_eq!(all[0].metadata.name(), "web-left");
    assert_eq!(
        all[0].metadata.owner_references[0].uid,
        d.metadata.uid.clone().unwrap()
    );
    assert_eq!(all[0].spec.replicas, Some(3));

    let mut relabeled = all[0].clone();
    relabeled
        .metadata
        .labels
        .insert("app".into(), "elsewhere".into());
    lab.replica_sets.replace(&relabeled).await.unwrap();
    lab.reconcile("web").await;
    let released = lab.replica_sets.get("web-left").await.unwrap();
    assert!(
        released.metadata.owner_references.is_empty(),
        "{released:?}"
    );
    let created: Vec<String> = lab
        .replica_set_list()
        .await
        .iter()
        .map(|rs| rs.metadata.name().to_string())
        .collect();
    assert_eq!(created.len(), 2, "a ReplicaSet of its own: {created:?}");
    lab.stop().await;
}

#[tokio::test]
async fn a_name_taken_by_another_template_bumps_the_collision_count() {
    let lab = Lab::start().await;
    let d = lab
        .deployments
        .create(&web(1, "v1", json!(1), json!(0), json!({})))
        .await
        .unwrap();
    let hash = pod_template_hash(&d.spec.template, None);
    let mut other = web(1, "other", json!(1), json!(0), json!({}));
    other
        .spec
        .selector
        .match_labels
        .insert("app".into(), "other".into());
    other
        .spec
        .template
        .metadata
        .labels
        .insert("app".into(), "other".into());
    lab.replica_sets
        .create(&orphan(&format!("web-{hash}"), &other))
        .await
        .unwrap();

    lab.refresh().await;
    let error = lab
        .reconcile_cached("web")
        .await
        .expect_err("the name is taken");
    assert!(error.to_string().contains("already exists"), "{error}");
    assert_eq!(lab.deployment("web").await.status.collision_count, Some(1));
    lab.reconcile("web").await;
    let ours: Vec<ReplicaSet> = lab
        .replica_set_list()
        .await
        .into_iter()
        .filter(|rs| !rs.metadata.owner_references.is_empty())
        .collect();
    assert_eq!(ours.len(), 1);
    let expected = format!("web-{}", pod_template_hash(&d.spec.template, Some(1)));
    assert_eq!(ours[0].metadata.name(), expected);
    lab.stop().await;
}

#[tokio::test]
async fn a_reconcile_on_a_stale_cache_fails_with_a_conflict_and_writes_nothing() {
    let lab = Lab::start().await;
    lab.deployments
        .create(&web(2, "v1", json!(1), json!(0), json!({})))
        .await
        .unwrap();
    lab.refresh().await;
    let _ = lab.reconcile_cached("web").await.unwrap();
    let written = lab.deployment("web").await;
    // The caches still hold the deployment before that reconcile's
    // writes (no revision, no status) and no ReplicaSet.
    let error = lab
        .reconcile_cached("web")
        .await
        .expect_err("a stale cache");
    assert!(
        chapter_10::controllers::controller::is_conflict(&error),
        "{error}"
    );
    let after = lab.deployment("web").await;
    assert_eq!(
        after.metadata.resource_version,
        written.metadata.resource_version
    );
    lab.reconcile("web").await;
    lab.stop().await;
}

#[tokio::test]
async fn an_old_revision_changed_since_it_was_read_is_not_deleted() {
    let lab = Lab::start().await;
    let extra = json!({"spec": {"revisionHistoryLimit": 1}});
    lab.deployments
        .create(&web(2, "v1", json!(1), json!(0), extra))
        .await
        .unwrap();
    lab.roll("web", 5).await;
    lab.patch(
        "web",
        json!({"spec": {"template": {"spec": {
        "containers": [{"name": "web", "image": "k8s-mini/echo:v2"}]}}}}),
    )
    .await;
    lab.roll("web", 10).await;
    // No history kept from now on; the controller sees the new spec.
    lab.patch("web", json!({"spec": {"revisionHistoryLimit": 0}}))
        .await;
    lab.reconcile("web").await;
    lab.refresh().await;
    // Meanwhile the old ReplicaSet changes (here: a label).
    let mut v1 = lab.replica_set_list().await.remove(0);
    assert_eq!(tag(&v1), "v1");
    v1.metadata.labels.insert("note".into(), "kept".into());
    lab.replica_sets.replace(&v1).await.unwrap();
    let error = lab
        .reconcile_cached("web")
        .await
        .expect_err("deleting what was read is refused");
    assert!(
        chapter_10::controllers::controller::is_conflict(&error),
        "{error}"
    );
    assert_eq!(lab.replica_set_list().await.len(), 2);
    // Looked at again, as it is now: it goes.
    lab.reconcile("web").await;
    assert_eq!(lab.sizes().await, "v2=2");
    lab.stop().await;
}

#[tokio::test]
async fn a_deployment_gone_from_the_cache_is_left_alone() {
    let lab = Lab::start().await;
    let action = lab.action("nothing-here").await;
    assert_eq!(action.requeue_after, None);
    assert!(lab.replica_set_list().await.is_empty());
    let _ = Deployment::INFO;
    lab.stop().await;
}
