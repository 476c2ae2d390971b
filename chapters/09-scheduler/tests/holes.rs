//! The pure functions of the exercise, one test each, with values worked
//! out by hand from Kubernetes' rules.

use std::time::Duration;

use chapter_09::scheduler::Resources;
use chapter_09::scheduler::affinity::{NodeSelectorRequirement, matches_requirement};
use chapter_09::scheduler::filter::{Unfit, insufficient};
use chapter_09::scheduler::message::fit_error_message;
use chapter_09::scheduler::node_info::{NodeInfo, PodInfo};
use chapter_09::scheduler::queue::backoff_delay;
use chapter_09::scheduler::score::{balanced_allocation, least_allocated};
use chapter_09::scheduler::taints::tolerates;
use objects::node::Taint;
use objects::pod::Toleration;
use serde_json::json;

#[test]
fn backoff_doubles_from_one_second_to_ten() {
    let delays: Vec<u64> = (0..7)
        .map(|n| {
            backoff_delay(n, Duration::from_secs(1), Duration::from_secs(10)).as_millis() as u64
        })
        .collect();
    assert_eq!(delays, [0, 1000, 2000, 4000, 8000, 10000, 10000]);
    assert_eq!(
        backoff_delay(u32::MAX, Duration::from_secs(1), Duration::from_secs(10)),
        Duration::from_secs(10)
    );
    assert_eq!(
        backoff_delay(2, Duration::from_millis(300), Duration::from_secs(10)),
        Duration::from_millis(600)
    );
}

fn toleration(value: serde_json::Value) -> Toleration {
    serde_json::from_value(value).unwrap()
}

#[test]
fn tolerations_match_taints_by_effect_key_operator_and_value() {
    let taint = Taint {
        key: "dedicated".into(),
        value: Some("db".into()),
        effect: "NoSchedule".into(),
        time_added: None,
    };
    let cases = [
        (
            json!({"key": "dedicated", "operator": "Equal", "value": "db"}),
            true,
        ),
        (json!({"key": "dedicated", "value": "db"}), true),
        (json!({"key": "dedicated", "value": "web"}), false),
        (json!({"key": "dedicated"}), false),
        (json!({"key": "dedicated", "operator": "Exists"}), true),
        (json!({"operator": "Exists"}), true),
        (json!({"key": "other", "operator": "Exists"}), false),
        (
            json!({"key": "dedicated", "operator": "Exists", "effect": "NoExecute"}),
            false,
        ),
        (
            json!({"key": "dedicated", "operator": "Exists", "effect": "NoSchedule"}),
            true,
        ),
        (
            json!({"key": "dedicated", "operator": "Gt", "value": "db"}),
            false,
        ),
    ];
    for (value, expected) in cases {
        assert_eq!(
            tolerates(&toleration(value.clone()), &taint),
            expected,
            "{value}"
        );
    }
    let bare = Taint {
        key: "spot".into(),
        value: None,
        effect: "NoExecute".into(),
        time_added: None,
    };
    assert!(tolerates(
        &toleration(json!({"key": "spot", "operator": "Equal"})),
        &bare
    ));
}

#[test]
fn requirements_use_all_six_operators() {
    let labels = [("disk", "ssd"), ("gen", "5")]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let requirement = |key: &str, operator: &str, values: &[&str]| NodeSelectorRequirement {
        key: key.into(),
        operator: operator.into(),
        values: values.iter().map(|v| v.to_string()).collect(),
    };
    let cases = [
        (requirement("disk", "In", &["hdd", "ssd"]), true),
        (requirement("disk", "In", &["hdd"]), false),
        (requirement("zone", "In", &["a"]), false),
        (requirement("disk", "NotIn", &["hdd"]), true),
        (requirement("disk", "NotIn", &["ssd"]), false),
        (requirement("zone", "NotIn", &["a"]), true),
        (requirement("disk", "Exists", &[]), true),
        (requirement("zone", "Exists", &[]), false),
        (requirement("zone", "DoesNotExist", &[]), true),
        (requirement("disk", "DoesNotExist", &[]), false),
        (requirement("gen", "Gt", &["4"]), true),
        (requirement("gen", "Gt", &["5"]), false),
        (requirement("gen", "Lt", &["6"]), true),
        (requirement("gen", "Lt", &["5"]), false),
        (requirement("disk", "Gt", &["4"]), false),
        (requirement("gen", "Gt", &["4", "3"]), false),
        (requirement("zone", "Lt", &["9"]), false),
        (requirement("disk", "Like", &["ssd"]), false),
    ];
    for (requirement, expected) in cases {
        assert_eq!(
            matches_requirement(&requirement, &labels),
            expected,
            "{requirement:?}"
        );
    }
}

fn node_with(cpu: &str, memory: &str, pods: &str) -> NodeInfo {
    let node = chapter_09::node(
        "n",
        cpu,
        memory,
        json!({"status": {"allocatable": {"pods": pods}}}),
    );
    NodeInfo::new(std::sync::Arc::new(node))
}

fn request(milli_cpu: u64, memory: u64) -> PodInfo {
    PodInfo {
        requests: Resources { milli_cpu, memory },
        ..Default::default()
    }
}

#[test]
fn resource_fit_counts_what_is_already_requested() {
    let mut node = node_with("2", "1Gi", "3");
    assert_eq!(insufficient(&request(2000, 1 << 30), &node), vec![]);
    node.add(&request(1500, 512 << 20));
    assert_eq!(insufficient(&request(500, 512 << 20), &node), vec![]);
    assert_eq!(
        insufficient(&request(501, 512 << 20), &node),
        vec![Unfit::Insufficient("cpu")]
    );
    assert_eq!(
        insufficient(&request(600, (512 << 20) + 1), &node),
        vec![Unfit::Insufficient("cpu"), Unfit::Insufficient("memory")]
    );
    node.add(&request(0, 0));
    node.add(&request(0, 0));
    assert_eq!(
        insufficient(&request(0, 0), &node),
        vec![Unfit::TooManyPods]
    );
    let full = node_with("0", "0", "10");
    assert_eq!(insufficient(&request(0, 0), &full), vec![]);
    assert_eq!(
        insufficient(&request(0, 1), &full),
        vec![Unfit::Insufficient("memory")]
    );
}

#[test]
fn least_allocated_averages_the_free_shares() {
    let allocatable = Resources {
        milli_cpu: 4000,
        memory: 8 << 30,
    };
    let score = |milli_cpu, memory| least_allocated(Resources { milli_cpu, memory }, allocatable);
    assert_eq!(score(0, 0), 100);
    assert_eq!(score(1000, 2 << 30), 75);
    assert_eq!(score(3000, 0), 62);
    assert_eq!(score(4000, 8 << 30), 0);
    assert_eq!(score(5000, 4 << 30), 25);
    assert_eq!(score(1, 1), 99);
    assert_eq!(
        least_allocated(Resources::default(), Resources::default()),
        0
    );
}

#[test]
fn balanced_allocation_rewards_even_use() {
    let allocatable = Resources {
        milli_cpu: 4000,
        memory: 8 << 30,
    };
    let score =
        |milli_cpu, memory| balanced_allocation(Resources { milli_cpu, memory }, allocatable);
    assert_eq!(score(2000, 4 << 30), 100);
    assert_eq!(score(4000, 0), 50);
    assert_eq!(score(1000, 4 << 30), 87);
    assert_eq!(score(8000, 0), 50);
    assert_eq!(
        balanced_allocation(
            Resources {
                milli_cpu: 4000,
                memory: 0
            },
            Resources {
                milli_cpu: 4000,
                memory: 0
            }
        ),
        100
    );
}

#[test]
fn the_message_counts_sorts_and_punctuates() {
    let taint = Unfit::UntoleratedTaint {
        key: "node-role.kubernetes.io/control-plane".into(),
        value: String::new(),
    };
    let reasons = vec![
        vec![Unfit::NodeAffinity],
        vec![taint],
        vec![Unfit::Insufficient("memory")],
        vec![Unfit::Insufficient("cpu"), Unfit::Insufficient("memory")],
        vec![Unfit::NodeAffinity],
        vec![Unfit::NodeAffinity],
        vec![Unfit::NodeAffinity],
        vec![Unfit::NodeAffinity],
        vec![Unfit::NodeAffinity],
        vec![Unfit::NodeAffinity],
        vec![Unfit::NodeAffinity],
        vec![Unfit::NodeAffinity],
        vec![Unfit::NodeAffinity],
    ];
    insta::assert_snapshot!(fit_error_message(13, &reasons), @"0/13 nodes are available: 1 Insufficient cpu, 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 10 node(s) didn't match Pod's node affinity/selector, 2 Insufficient memory.");
    assert_eq!(fit_error_message(0, &[]), "0/0 nodes are available:");
}
