//! The Deployment controller's arithmetic, with no server: maxSurge and
//! maxUnavailable resolved (percentages rounded as Kubernetes rounds
//! them), each step of a rolling update for a table of settings, the
//! unhealthy old pods that go first, proportional scaling in the middle
//! of a rollout, and Recreate's steps.

#[path = "deployment_support/fixtures.rs"]
mod fixtures;

use chapter_10::controllers::deployment::counts::Scaling;
use chapter_10::controllers::deployment::rolling::{
    new_replicas_rolling, plan_old_scale_down, plan_rolling, resolve_fenceposts,
};
use chapter_10::controllers::deployment::scale::{
    RecreateStep, find_active_or_latest, is_scaling_event, old_pods_running, plan_recreate,
    plan_scale,
};
use fixtures::{deployment, recreate, replica_set, scaled_for};
use objects::{Deployment, IntOrString, Pod, ReplicaSet};
use serde_json::json;

fn value(text: &str) -> IntOrString {
    match text.parse() {
        Ok(n) => IntOrString::Int(n),
        Err(_) => IntOrString::from(text),
    }
}

#[test]
fn surge_rounds_up_unavailability_rounds_down_and_both_zero_means_one_unavailable() {
    let mut table = String::from("replicas  maxSurge  maxUnavailable  → surge  unavailable\n");
    for (replicas, surge, unavailable) in [
        (4, "1", "1"),
        (3, "25%", "25%"),
        (10, "25%", "25%"),
        (5, "30%", "30%"),
        (1, "25%", "25%"),
        (4, "0", "0"),
        (4, "0%", "0%"),
        (10, "100%", "100%"),
        (0, "25%", "25%"),
    ] {
        let (s, u) = resolve_fenceposts(Some(&value(surge)), Some(&value(unavailable)), replicas)
            .expect("valid values resolve");
        table.push_str(&format!(
            "{replicas:<9} {surge:<9} {unavailable:<15} → {s:<6} {u}\n"
        ));
    }
    let unset = resolve_fenceposts(None, None, 4).unwrap();
    table.push_str(&format!(
        "4         unset     unset           → {:<6} {}\n",
        unset.0, unset.1
    ));
    insta::assert_snapshot!(table);
    assert!(resolve_fenceposts(Some(&IntOrString::from("two")), None, 4).is_err());
}

#[test]
fn the_new_replica_set_grows_within_the_surge_and_never_past_the_desired_count() {
    // (desired, surge, all replicas, new replicas) → new size
    for (case, expected) in [
        ((4, 1, 4, 0), 1),  // one above the desired count
        ((4, 1, 5, 1), 1),  // the surge is used up
        ((4, 1, 3, 1), 3),  // old pods went: room for two more
        ((4, 2, 4, 3), 4),  // never past the desired count
        ((4, 0, 3, 0), 1),  // no surge: only into the room old pods left
        ((10, 3, 6, 2), 9), // room for seven more
    ] {
        let (desired, surge, all, new) = case;
        assert_eq!(
            new_replicas_rolling(desired, surge, all, new),
            expected,
            "desired {desired}, surge {surge}, all {all}, new {new}"
        );
    }
}

/// The sizes of `rs` in `all` after `plan`.
fn apply(plan: &[Scaling], all: &mut [&mut ReplicaSet]) {
    for scaling in plan {
        for rs in all.iter_mut() {
            if rs.metadata.name() == scaling.name {
                assert_eq!(rs.spec.replicas, Some(scaling.from), "{scaling:?}");
                rs.spec.replicas = Some(scaling.to);
            }
        }
    }
}

/// Walks a rollout of `d` from the old template to the new one, the
/// controller and the ReplicaSets taking turns: each step applies what
/// `plan_rolling` decides, then the ReplicaSets report (removed pods gone
/// at once; new pods available, if `healthy`). Checks the bounds at
/// every step and tabulates the sizes.
fn walk(d: &Deployment, healthy: bool) -> String {
    let desired = d.spec.replicas.unwrap();
    let rolling = d
        .spec
        .strategy
        .as_ref()
        .unwrap()
        .rolling_update
        .clone()
        .unwrap();
    let (surge, unavailable) = resolve_fenceposts(
        rolling.max_surge.as_ref(),
        rolling.max_unavailable.as_ref(),
        desired,
    )
    .unwrap();
    let mut old = replica_set("web-old", 0, desired, desired);
    let mut new = replica_set("web-new", 1, 0, 0);
    let mut table = format!(
        "{desired} replicas, maxSurge {}, maxUnavailable {} (surge {surge}, unavailable {unavailable}){}\nstep  old  new  pods  available\n",
        rolling.max_surge.unwrap(),
        rolling.max_unavailable.unwrap(),
        if healthy {
            ""
        } else {
            ", new pods never available"
        },
    );
    let row = |step: usize, old: &ReplicaSet, new: &ReplicaSet| {
        let pods = old.status.replicas + new.status.replicas;
        let available =
            old.status.available_replicas.unwrap() + new.status.available_replicas.unwrap();
        assert!(pods <= desired + surge, "step {step}: {pods} pods");
        assert!(
            available >= desired - unavailable,
            "step {step}: {available} available"
        );
        format!(
            "{step:<5} {:<4} {:<4} {pods:<5} {available}\n",
            old.spec.replicas.unwrap(),
            new.spec.replicas.unwrap()
        )
    };
    table.push_str(&row(0, &old, &new));
    for step in 1..=40 {
        let plan = plan_rolling(d, &new, std::slice::from_ref(&old));
        if plan.is_empty() {
            let done = old.spec.replicas == Some(0) && new.spec.replicas == Some(desired);
            table.push_str(if done { "done\n" } else { "stalled\n" });
            return table;
        }
        apply(&plan, &mut [&mut old, &mut new]);
        for rs in [&mut old, &mut new] {
            let size = rs.spec.replicas.unwrap();
            let is_new = rs.metadata.name() == "web-new";
            let available = if is_new && !healthy {
                0
            } else if is_new {
                size
            } else {
                rs.status.available_replicas.unwrap().min(size)
            };
            rs.status.replicas = size;
            rs.status.available_replicas = Some(available);
        }
        table.push_str(&row(step, &old, &new));
    }
    panic!("no end after 40 steps:\n{table}");
}

#[test]
fn a_rolling_update_step_by_step_for_a_table_of_settings() {
    let mut all = String::new();
    for (replicas, surge, unavailable) in [
        (4, "1", "1"),
        (4, "0", "1"),
        (4, "1", "0"),
        (3, "25%", "25%"),
        (10, "25%", "25%"),
        (5, "30%", "30%"),
        (2, "0", "0"),
    ] {
        let d = deployment(replicas, value(surge), value(unavailable));
        all.push_str(&walk(&d, true));
        all.push('\n');
    }
    insta::assert_snapshot!(all);
}

#[test]
fn new_pods_that_never_become_available_stop_the_rollout_at_the_minimum() {
    let walked =
        walk(&deployment(4, 1, 1), false) + "\n" + &walk(&deployment(10, "25%", "25%"), false);
    insta::assert_snapshot!(walked);
}

#[test]
fn unhealthy_old_pods_go_first_and_cost_no_availability() {
    let d = deployment(4, 1, 1);
    let new = replica_set("web-new", 2, 1, 1);
    let old = [
        replica_set("web-a", 0, 2, 2),
        // Two pods that never became available (a crash loop).
        replica_set("web-b", 1, 2, 0),
    ];
    // 5 pods, at least 3 available: 2 may go; the unavailable ones go,
    // and then no available one can (3 are left).
    assert_eq!(
        plan_old_scale_down(&d, &new, &old),
        [Scaling {
            name: "web-b".into(),
            from: 2,
            to: 0
        }]
    );
    // Healthy old pods go oldest first.
    let old = [replica_set("web-b", 1, 2, 2), replica_set("web-a", 0, 2, 2)];
    let new = replica_set("web-new", 2, 2, 2);
    assert_eq!(
        plan_old_scale_down(&d, &new, &old),
        [
            Scaling {
                name: "web-a".into(),
                from: 2,
                to: 0
            },
            Scaling {
                name: "web-b".into(),
                from: 2,
                to: 1
            },
        ]
    );
    // The new pods that are not available count against the budget.
    let new = replica_set("web-new", 2, 2, 0);
    assert_eq!(plan_old_scale_down(&d, &new, &old[..1]), []);
}

#[test]
fn scaling_in_the_middle_of_a_rollout_is_shared_in_proportion() {
    // Scaled for 4 (+1 surge): old 3, new 2. Now 8 are wanted (+2 surge).
    let mut d = deployment(8, "25%", "25%");
    let old = [scaled_for(replica_set("web-old", 0, 3, 3), 4, 5)];
    let new = scaled_for(replica_set("web-new", 1, 2, 2), 4, 5);
    assert!(is_scaling_event(&d, Some(&new), &old));
    // 10 allowed, 5 there: old gets round(3×10/5) = 6, new round(2×10/5) = 4.
    assert_eq!(
        plan_scale(&d, Some(&new), &old),
        [
            Scaling {
                name: "web-old".into(),
                from: 3,
                to: 6
            },
            Scaling {
                name: "web-new".into(),
                from: 2,
                to: 4
            },
        ]
    );
    // Down to 2 (+1 surge): 3 allowed, 5 there: old 3 → round(3×3/5) = 2,
    // new 2 → round(2×3/5) = 1.
    d.spec.replicas = Some(2);
    assert_eq!(
        plan_scale(&d, Some(&new), &old),
        [
            Scaling {
                name: "web-old".into(),
                from: 3,
                to: 2
            },
            Scaling {
                name: "web-new".into(),
                from: 2,
                to: 1
            },
        ]
    );
    // One active ReplicaSet simply takes the new size.
    let idle = [scaled_for(replica_set("web-old", 0, 0, 0), 4, 5)];
    assert_eq!(
        find_active_or_latest(Some(&new), &idle).map(|rs| rs.metadata.name()),
        Some("web-new")
    );
    assert_eq!(
        plan_scale(&d, Some(&new), &idle),
        [Scaling {
            name: "web-new".into(),
            from: 2,
            to: 2
        }][..0]
    );
    d.spec.replicas = Some(5);
    assert_eq!(
        plan_scale(&d, Some(&new), &idle),
        [Scaling {
            name: "web-new".into(),
            from: 2,
            to: 5
        }]
    );
    // Nothing changed since the last scaling: no event.
    let d = deployment(4, 1, 1);
    assert!(!is_scaling_event(&d, Some(&new), &old));
}

fn pod(owner_uid: &str, phase: &str) -> Pod {
    serde_json::from_value(json!({
        "metadata": {"name": "p", "namespace": "default", "ownerReferences": [
            {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "x", "uid": owner_uid, "controller": true}
        ]},
        "status": {"phase": phase}
    }))
    .unwrap()
}

#[test]
fn recreate_scales_the_old_down_waits_for_their_pods_then_scales_the_new_up() {
    let d = recreate(3);
    let old = [replica_set("web-old", 0, 3, 3)];
    assert_eq!(
        plan_recreate(&old, true),
        RecreateStep::ScaleDownOld(vec![Scaling {
            name: "web-old".into(),
            from: 3,
            to: 0
        }])
    );
    // Scaled to 0 but its pods still report (terminating).
    let mut old = [replica_set("web-old", 0, 0, 0)];
    old[0].status.replicas = 2;
    assert!(old_pods_running(None, &old, &[]));
    old[0].status.replicas = 0;
    let new = replica_set("web-new", 1, 0, 0);
    let running = pod("uid-web-old", "Running");
    let finished = pod("uid-web-old", "Succeeded");
    let new_pod = pod("uid-web-new", "Pending");
    assert!(old_pods_running(Some(&new), &old, &[&running, &new_pod]));
    assert!(!old_pods_running(Some(&new), &old, &[&finished, &new_pod]));
    assert_eq!(plan_recreate(&old, true), RecreateStep::WaitForOldPods);
    assert_eq!(plan_recreate(&old, false), RecreateStep::ScaleUpNew);
    // Recreate has no surge: the new ReplicaSet is created at full size.
    assert_eq!(
        chapter_10::controllers::deployment::rolling::new_rs_replicas(&d, 0, 0),
        3
    );
}
