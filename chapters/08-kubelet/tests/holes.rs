//! The chapter's pure decisions, without root or a server: QoS classes,
//! cgroup limits, admission, the sync plan, the status merge and the
//! lease renewal.

use std::time::Duration;

use chapter_08::kubelet::lease::renew;
use chapter_08::kubelet::plan::{Step, plan};
use chapter_08::kubelet::qos::{QosClass, qos_class};
use chapter_08::kubelet::resources::{
    Allocatable, Requests, admit, container_limits, pod_requests,
};
use chapter_08::kubelet::status::merge_status;
use insta::assert_snapshot;
use objects::pod::{PodCondition, PodStatus};
use objects::{Lease, MicroTime, Pod, Time};

/// A pod from the YAML of its spec's containers.
fn pod(containers: &str) -> Pod {
    let yaml =
        format!("apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  uid: u1\nspec:\n{containers}");
    serde_yaml::from_str(&yaml).expect("a pod")
}

fn resources(requests: &str, limits: &str) -> String {
    format!(
        "  - name: c\n    image: busybox\n    resources:\n      requests: {{{requests}}}\n      limits: {{{limits}}}\n"
    )
}

#[test]
fn qos_classes_follow_requests_and_limits() {
    let cases = [
        (
            "nothing at all",
            "  containers:\n  - name: c\n    image: busybox\n".to_string(),
        ),
        (
            "limits equal requests",
            resources("cpu: 500m, memory: 64Mi", "cpu: 500m, memory: 64Mi"),
        ),
        (
            "limits only (requests default to them)",
            resources("", "cpu: 1, memory: 1Gi"),
        ),
        (
            "limits above requests",
            resources("cpu: 250m, memory: 64Mi", "cpu: 500m, memory: 64Mi"),
        ),
        ("a cpu request only", resources("cpu: 100m", "")),
        (
            "cpu limit but no memory limit",
            resources("cpu: 1", "cpu: 1"),
        ),
        ("zero requests count as none", resources("cpu: \"0\"", "")),
    ];
    let mut text = String::new();
    for (what, containers) in cases {
        let containers = if containers.starts_with("  containers") {
            containers
        } else {
            format!("  containers:\n{containers}")
        };
        text += &format!("{what:45} {}\n", qos_class(&pod(&containers).spec).as_str());
    }
    // One container guaranteed, another not: the pod is not.
    let two = format!(
        "  containers:\n{}{}",
        resources("cpu: 1, memory: 1Gi", "cpu: 1, memory: 1Gi"),
        resources("cpu: 1", "").replace("name: c", "name: d")
    );
    text += &format!(
        "{:45} {}\n",
        "two containers, one guaranteed",
        qos_class(&pod(&two).spec).as_str()
    );
    // An init container counts too.
    let init = format!(
        "  initContainers:\n{}  containers:\n{}",
        resources("cpu: 1", "").replace("name: c", "name: i"),
        resources("cpu: 1, memory: 1Gi", "cpu: 1, memory: 1Gi")
    );
    text += &format!(
        "{:45} {}\n",
        "a guaranteed pod with a burstable init",
        qos_class(&pod(&init).spec).as_str()
    );
    assert_snapshot!(text);
    assert_eq!(
        qos_class(
            &pod(&format!(
                "  containers:\n{}",
                resources("cpu: 1, memory: 1Gi", "cpu: 1, memory: 1Gi")
            ))
            .spec
        ),
        QosClass::Guaranteed
    );
}

#[test]
fn container_limits_come_from_resources() {
    let cases = [
        (
            "nothing",
            "  containers:\n  - name: c\n    image: busybox\n".to_string(),
        ),
        (
            "both",
            format!(
                "  containers:\n{}",
                resources("cpu: 250m, memory: 64Mi", "cpu: 1500m, memory: 128Mi")
            ),
        ),
        (
            "limits only",
            format!(
                "  containers:\n{}",
                resources("", "cpu: \"2\", memory: 1Gi")
            ),
        ),
        (
            "requests only",
            format!("  containers:\n{}", resources("cpu: 100m, memory: 1Gi", "")),
        ),
    ];
    let mut text = String::new();
    for (what, containers) in cases {
        let pod = pod(&containers);
        text += &format!(
            "{what:15} {:?}\n",
            container_limits(&pod.spec.containers[0])
        );
    }
    assert_snapshot!(text);
}

#[test]
fn admission_refuses_what_does_not_fit() {
    let node = Allocatable {
        cpu_millis: 2000,
        memory_bytes: 1 << 30,
        pods: 3,
    };
    let ask = |cpu_millis, memory_bytes| Requests {
        cpu_millis,
        memory_bytes,
    };
    let cases = [
        (
            "fits exactly",
            ask(1000, 512 << 20),
            ask(1000, 512 << 20),
            1,
        ),
        ("too much cpu", ask(1500, 0), ask(1000, 0), 1),
        ("too much memory", ask(0, 1 << 30), ask(0, 1), 1),
        ("too many pods", ask(0, 0), ask(0, 0), 3),
        (
            "everything at once: pods first",
            ask(5000, 2 << 30),
            ask(0, 0),
            3,
        ),
        ("cpu before memory", ask(5000, 2 << 30), ask(0, 0), 0),
        ("nothing requested, nothing used", ask(0, 0), ask(0, 0), 0),
    ];
    let mut text = String::new();
    for (what, wanted, used, running) in cases {
        let answer = match admit(wanted, used, running, node) {
            Ok(()) => "admitted".to_string(),
            Err(rejection) => format!("{}: {}", rejection.reason, rejection.message),
        };
        text += &format!("{what}\n  {answer}\n");
    }
    assert_snapshot!(text);
    // A pod's requests: the app containers' sum, or the largest init
    // container's.
    let spec = pod(&format!(
        "  initContainers:\n{}  containers:\n{}{}",
        resources("cpu: 3, memory: 1Mi", "").replace("name: c", "name: i"),
        resources("cpu: 1, memory: 64Mi", ""),
        resources("cpu: 500m, memory: 64Mi", "").replace("name: c", "name: d"),
    ))
    .spec;
    assert_eq!(pod_requests(&spec), ask(3000, 128 << 20));
}

fn deleted(mut pod: Pod, grace: Option<i64>) -> Pod {
    pod.metadata.deletion_timestamp = Some(Time::now());
    pod.metadata.deletion_grace_period_seconds = grace;
    pod
}

#[test]
fn the_plan_compares_desired_with_actual() {
    let wanted = pod("  containers:\n  - name: c\n    image: busybox\n");
    let mut finished = wanted.clone();
    finished.status.phase = Some("Succeeded".into());
    let mut graceful = wanted.clone();
    graceful.spec.termination_grace_period_seconds = Some(7);
    let cases: [(&str, Option<Pod>, bool); 9] = [
        ("wanted, not running", Some(wanted.clone()), false),
        ("wanted, running", Some(wanted.clone()), true),
        ("finished, not running", Some(finished.clone()), false),
        ("finished, still held", Some(finished), true),
        (
            "deleted with 3 s, running",
            Some(deleted(wanted.clone(), Some(3))),
            true,
        ),
        (
            "deleted, pod's own 7 s, running",
            Some(deleted(graceful, None)),
            true,
        ),
        (
            "deleted, not running",
            Some(deleted(wanted.clone(), Some(0))),
            false,
        ),
        ("gone from the API, running", None, true),
        ("gone everywhere", None, false),
    ];
    let mut text = String::new();
    for (what, pod, running) in cases {
        text += &format!("{what:35} {:?}\n", plan(pod.as_ref(), running));
    }
    assert_snapshot!(text);
    assert_eq!(
        plan(Some(&deleted(wanted, Some(3))), true),
        Step::Stop {
            grace: Duration::from_secs(3),
            then_remove: true
        }
    );
}

fn condition(kind: &str, status: &str, at: &str) -> PodCondition {
    PodCondition {
        condition_type: kind.into(),
        status: status.into(),
        last_transition_time: Some(Time::parse(at).unwrap()),
        ..PodCondition::default()
    }
}

#[test]
fn status_is_written_only_when_it_changed() {
    let t0 = "2024-05-01T12:00:00Z";
    let t1 = "2024-05-01T12:05:00Z";
    let old = PodStatus {
        phase: Some("Running".into()),
        conditions: vec![
            condition("PodScheduled", "True", t0),
            condition("Ready", "True", t0),
        ],
        start_time: Some(Time::parse(t0).unwrap()),
        ..PodStatus::default()
    };
    // The same, observed later: nothing to write.
    let same = PodStatus {
        conditions: vec![condition("Ready", "True", t1)],
        start_time: Some(Time::parse(t1).unwrap()),
        ..old.clone()
    };
    assert_eq!(
        merge_status(&old, same),
        None,
        "an unchanged status is written again"
    );
    // Ready turns False: written, with the new transition time, keeping
    // the scheduler's condition and the first start time.
    let changed = PodStatus {
        conditions: vec![condition("Ready", "False", t1)],
        start_time: Some(Time::parse(t1).unwrap()),
        ..old.clone()
    };
    let merged = merge_status(&old, changed).expect("a change is written");
    assert_snapshot!(serde_yaml::to_string(&merged).unwrap());
    // A new phase with the same conditions: written, old transition times.
    let phase = PodStatus {
        phase: Some("Succeeded".into()),
        conditions: vec![condition("Ready", "True", t1)],
        ..old.clone()
    };
    let merged = merge_status(&old, phase).expect("a new phase is written");
    assert_eq!(merged.conditions[1], condition("Ready", "True", t0));
    assert_eq!(merged.start_time, old.start_time);
}

#[test]
fn a_lease_renewal_counts_transitions_of_holder() {
    let at = |s: &str| MicroTime(Time::parse(s).unwrap().0);
    let fresh = Lease::default();
    let first = renew(fresh, "node-a", 40, at("2024-05-01T12:00:00Z"));
    let again = renew(first.clone(), "node-a", 40, at("2024-05-01T12:00:10Z"));
    let taken = renew(again.clone(), "node-b", 15, at("2024-05-01T12:01:00Z"));
    let mut text = String::new();
    for (what, lease) in [
        ("first", &first),
        ("renewed", &again),
        ("taken over", &taken),
    ] {
        text += &format!("{what}:\n{}", serde_yaml::to_string(&lease.spec).unwrap());
    }
    assert_snapshot!(text);
    let mut stored = first;
    stored.metadata.resource_version = Some("42".into());
    let renewed = renew(stored, "node-a", 40, at("2024-05-01T12:00:20Z"));
    assert_eq!(
        renewed.metadata.resource_version.as_deref(),
        Some("42"),
        "the update must carry the stored version"
    );
}
