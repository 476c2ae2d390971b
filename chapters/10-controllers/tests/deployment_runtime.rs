//! The Deployment controller as the controller-manager runs it: on shared
//! informers, woken by its triggers (a ReplicaSet's status change brings
//! its deployment back), with a stand-in for the ReplicaSet controller
//! that reports every ReplicaSet's pods as available. Stock `kubectl
//! rollout status` waits (it watches) until the rollout is complete.

#[path = "deployment_support/lab.rs"]
mod lab;

use std::time::Duration;

use apiserver::client::ListParams;
use chapter_10::controllers::controller::Settings;
use chapter_10::controllers::deployment;
use chapter_10::controllers::manager::{Config, ControllerManager};
use lab::{Lab, web};
use serde_json::json;

/// Reports each ReplicaSet's pods as there and available, as soon as its
/// spec asks for them, until aborted.
async fn replica_set_stand_in(lab: &Lab) {
    loop {
        for rs in lab
            .replica_sets
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
        {
            let replicas = rs.spec.replicas.unwrap_or(1);
            let reported = rs.status.replicas == replicas
                && rs.status.available_replicas == Some(replicas)
                && rs.status.observed_generation == rs.metadata.generation;
            if !reported {
                // A conflict (the deployment controller wrote meanwhile)
                // is retried on the next round.
                let mut rs = rs.clone();
                rs.status.replicas = replicas;
                rs.status.ready_replicas = Some(replicas);
                rs.status.available_replicas = Some(replicas);
                rs.status.observed_generation = rs.metadata.generation;
                let _ = lab.replica_sets.replace_status(&rs).await;
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn the_controller_manager_rolls_a_deployment_out_as_its_replica_sets_report() {
    let lab = Lab::start().await;
    let settings = Settings {
        resync: None,
        sync_timeout: Duration::from_secs(10),
        ..Settings::default()
    };
    let manager = ControllerManager::start(
        lab.client.clone(),
        Config {
            leader_election: None,
            settings,
            controllers: vec![deployment::registration()],
        },
    )
    .await
    .expect("the controller-manager starts");

    let watched = async {
        lab.deployments
            .create(&web(4, "v1", json!(1), json!(1), json!({})))
            .await
            .unwrap();
        let first = lab
            .kubectl(&["rollout", "status", "deployment/web", "--timeout=30s"])
            .await;
        lab.patch(
            "web",
            json!({"spec": {"template": {"spec": {"containers": [
                {"name": "web", "image": "k8s-mini/echo:v2"}]}}}}),
        )
        .await;
        let second = lab
            .kubectl(&["rollout", "status", "deployment/web", "--timeout=30s"])
            .await;
        (first, second)
    };
    let (first, second) = tokio::select! {
        outputs = watched => outputs,
        _ = replica_set_stand_in(&lab) => unreachable!("the stand-in never ends"),
    };
    assert!(first.ends_with("successfully rolled out\n"), "{first}");
    assert!(second.ends_with("successfully rolled out\n"), "{second}");
    assert_eq!(lab.sizes().await, "v1=0 v2=4");
    let events = lab.events().await;
    // How far each step goes depends on when the stand-in reports; the
    // old ReplicaSet ends at 0 and the new one at 4, in some order.
    for wanted in [
        "Normal ScalingReplicaSet: Scaled down replica set web-<v1> to 0 from ",
        "Normal ScalingReplicaSet: Scaled up replica set web-<v2> to 4 from ",
    ] {
        assert!(events.iter().any(|e| e.starts_with(wanted)), "{events:#?}");
    }
    manager.stop(Duration::from_secs(5)).await;
    lab.stop().await;
}
