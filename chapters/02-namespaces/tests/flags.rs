//! Holes: `clone_flags` (src/config.rs), `is_forwarded` (src/signals.rs).

use std::fmt::Write;

use chapter_02::namespaces::{Namespace, clone_flags, is_forwarded};
use insta::{assert_snapshot, with_settings};
use nix::sys::signal::Signal;

#[test]
fn each_namespace_has_its_clone_flag() {
    let mut table = String::new();
    for namespace in [
        Namespace::Pid,
        Namespace::Uts,
        Namespace::Ipc,
        Namespace::Mount,
        Namespace::Network,
        Namespace::User,
        Namespace::Cgroup,
    ] {
        writeln!(
            table,
            "{:<8} -> {:?}",
            format!("{namespace:?}"),
            clone_flags(&[namespace])
        )
        .unwrap();
    }
    writeln!(
        table,
        "all six container namespaces -> {:?}",
        clone_flags(&Namespace::CONTAINER)
    )
    .unwrap();
    writeln!(table, "none -> {:?}", clone_flags(&[])).unwrap();
    with_settings!({ description => "clone_flags for each namespace, for a container's six, and for none", omit_expression => true }, {
        assert_snapshot!(table);
    });
}

#[test]
fn which_signals_pid_one_passes_on() {
    let mut table = String::new();
    for signal in Signal::iterator() {
        let answer = if is_forwarded(signal) {
            "forward to the application"
        } else {
            "keep"
        };
        writeln!(table, "{:<10} {answer}", signal.as_str()).unwrap();
    }
    with_settings!({ description => "is_forwarded for every signal", omit_expression => true }, {
        assert_snapshot!(table);
    });
}
