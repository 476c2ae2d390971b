//! Hole: `RestartPolicy::should_restart` (src/policy.rs).

use std::fmt::Write;

use chapter_01::process::{ExitStatus, RestartPolicy};
use insta::{assert_snapshot, with_settings};

#[test]
fn which_exits_each_policy_restarts() {
    let statuses = [
        ExitStatus::Code(0),
        ExitStatus::Code(1),
        ExitStatus::Code(137),
        ExitStatus::Signal(9),
        ExitStatus::Signal(15),
    ];
    let mut table = String::new();
    for policy in [
        RestartPolicy::Always,
        RestartPolicy::OnFailure,
        RestartPolicy::Never,
    ] {
        for status in statuses {
            let answer = if policy.should_restart(status) {
                "restart"
            } else {
                "leave it"
            };
            writeln!(
                table,
                "{policy:<9} after {:<24} -> {answer}",
                status.to_string()
            )
            .unwrap();
        }
    }
    with_settings!({
        description => "RestartPolicy::should_restart for every policy and a few exits",
        omit_expression => true,
    }, {
        assert_snapshot!(table);
    });
}

#[test]
fn policies_parse_as_kubernetes_spells_them() {
    let mut table = String::new();
    for text in ["Always", "OnFailure", "Never", "always", "on-failure", ""] {
        writeln!(table, "{text:?} -> {:?}", text.parse::<RestartPolicy>()).unwrap();
    }
    with_settings!({ omit_expression => true }, {
        assert_snapshot!(table);
    });
}
