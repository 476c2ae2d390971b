//! Stock kubectl's rollout commands against the Deployment controller:
//! `rollout status` and `rollout history` read what the controller writes,
//! `rollout undo` (client side: it looks the old template up in the
//! ReplicaSets by revision) and `rollout restart` start new rollouts,
//! `rollout pause` stops one; and a rollout whose pods never become
//! available exceeds its progress deadline, which `rollout status`
//! reports as an error.

#[path = "deployment_support/lab.rs"]
mod lab;

use std::time::Duration;

use chapter_10::controllers::deployment::revision::{CHANGE_CAUSE, REVISION};
use lab::{Lab, revision, tag, web};
use serde_json::json;

/// Sets the image and the change cause, as `kubectl set image` with
/// `kubectl annotate` would.
async fn release(lab: &Lab, image_tag: &str) {
    lab.patch(
        "web",
        json!({
            "metadata": {"annotations": {CHANGE_CAUSE: format!("release {image_tag}")}},
            "spec": {"template": {"spec": {"containers": [
                {"name": "web", "image": format!("k8s-mini/echo:{image_tag}")}]}}}
        }),
    )
    .await;
    lab.roll("web", 10).await;
}

#[tokio::test]
async fn rollout_status_history_undo_restart_and_pause_with_stock_kubectl() {
    let lab = Lab::start().await;
    let extra = json!({"metadata": {"annotations": {CHANGE_CAUSE: "release v1"}}});
    lab.deployments
        .create(&web(3, "v1", json!(1), json!(1), extra))
        .await
        .unwrap();
    lab.roll("web", 10).await;
    release(&lab, "v2").await;
    let mut story = Vec::new();
    let mut run = async |args: &[&str]| {
        let output = lab.kubectl(args).await;
        story.push(format!(
            "$ kubectl {}\n{}",
            args.join(" "),
            output.trim_end()
        ));
    };
    run(&["rollout", "status", "deployment/web", "--timeout=10s"]).await;
    run(&["rollout", "history", "deployment/web"]).await;

    // Back to the previous revision: v1's ReplicaSet becomes revision 3.
    run(&["rollout", "undo", "deployment/web"]).await;
    lab.roll("web", 10).await;
    run(&["rollout", "history", "deployment/web"]).await;
    run(&["rollout", "history", "deployment/web", "--revision=3"]).await;
    // To a given revision: v2 again, now revision 4.
    run(&["rollout", "undo", "deployment/web", "--to-revision=2"]).await;
    lab.roll("web", 10).await;
    // A restart is a new template: a new ReplicaSet, revision 5.
    run(&["rollout", "restart", "deployment/web"]).await;
    lab.roll("web", 10).await;
    run(&["rollout", "status", "deployment/web", "--timeout=10s"]).await;
    run(&["rollout", "history", "deployment/web"]).await;

    // Paused: a new template waits for the resume.
    run(&["rollout", "pause", "deployment/web"]).await;
    release(&lab, "v3").await;
    let sizes = lab.sizes().await;
    assert!(!sizes.contains("v3"), "no rollout while paused: {sizes}");
    run(&["rollout", "undo", "deployment/web"]).await;
    run(&["rollout", "resume", "deployment/web"]).await;
    lab.roll("web", 10).await;
    run(&["rollout", "status", "deployment/web", "--timeout=10s"]).await;

    let replica_sets: Vec<String> = lab
        .replica_set_list()
        .await
        .iter()
        .map(|rs| {
            format!(
                "revision {}: {} replicas {:?}",
                revision(rs),
                tag(rs),
                rs.spec.replicas
            )
        })
        .collect();
    let d = lab.deployment("web").await;
    assert_eq!(d.metadata.annotations[REVISION], "6");
    insta::assert_snapshot!(format!(
        "{}\n\n{}",
        story.join("\n\n"),
        replica_sets.join("\n")
    ));
    lab.stop().await;
}

#[tokio::test]
async fn a_rollout_whose_pods_never_become_available_exceeds_its_deadline() {
    let lab = Lab::start().await;
    let extra = json!({"spec": {"progressDeadlineSeconds": 1}});
    lab.deployments
        .create(&web(2, "v1", json!(1), json!(0), extra))
        .await
        .unwrap();
    let action = lab.action("web").await;
    // Back when the deadline has passed (within a second of skew).
    let delay = action.requeue_after.expect("a deadline to check");
    assert!(delay <= Duration::from_secs(3), "{delay:?}");
    let d = lab.deployment("web").await;
    let reasons = |d: &objects::Deployment| {
        d.status
            .conditions
            .iter()
            .map(|c| {
                format!(
                    "{} {} {}",
                    c.condition_type,
                    c.status,
                    c.reason.as_deref().unwrap_or("")
                )
            })
            .collect::<Vec<_>>()
    };
    let before = reasons(&d);
    // Its pods are created but never become available: nothing moves.
    let name = lab.replica_set_list().await[0].metadata.name().to_string();
    lab.report(&name, 2, 0).await;
    lab.reconcile("web").await;
    // Whole-second timestamps: wait until the deadline has surely passed.
    tokio::time::sleep(Duration::from_millis(2200)).await;
    let action = lab.action("web").await;
    assert_eq!(
        action.requeue_after, None,
        "a rollout timed out is not checked again"
    );
    let after = reasons(&lab.deployment("web").await);
    let status = lab
        .kubectl(&["rollout", "status", "deployment/web", "--timeout=10s"])
        .await;
    insta::assert_snapshot!(format!(
        "before: {before:?}\nafter: {after:?}\n$ kubectl rollout status deployment/web\n{status}"
    ));
    lab.stop().await;
}
