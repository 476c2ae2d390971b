//! Hole: `Backoff::delay` and `CrashLoop::next_delay` (src/backoff.rs).

use std::fmt::Write;
use std::time::Duration;

use chapter_01::process::{Backoff, CrashLoop};
use insta::{assert_snapshot, with_settings};

#[test]
fn kubelet_delays_double_from_10s_and_stop_at_300s() {
    let backoff = Backoff::KUBERNETES;
    let mut table = String::new();
    for restarts in 0..8 {
        writeln!(
            table,
            "after {restarts} restarts: wait {:?}",
            backoff.delay(restarts)
        )
        .unwrap();
    }
    with_settings!({
        description => "Backoff::KUBERNETES.delay(n) for n = 0..8: 10 s doubling, capped at 300 s",
        omit_expression => true,
    }, {
        assert_snapshot!(table);
    });
}

#[test]
fn huge_restart_counts_give_the_cap_not_an_overflow() {
    let backoff = Backoff::KUBERNETES;
    let mut table = String::new();
    for restarts in [31, 32, 64, 1_000, u32::MAX] {
        writeln!(
            table,
            "after {restarts} restarts: wait {:?}",
            backoff.delay(restarts)
        )
        .unwrap();
    }
    with_settings!({
        description => "2^n overflows a u32 at n = 32 and a Duration long before: the answer is still `max`",
        omit_expression => true,
    }, {
        assert_snapshot!(table);
    });
}

#[test]
fn an_initial_delay_above_the_cap_is_capped() {
    let backoff = Backoff {
        initial: Duration::from_secs(9),
        max: Duration::from_secs(5),
        reset_after: Duration::from_secs(60),
    };
    assert_eq!(
        backoff.delay(0),
        Duration::from_secs(5),
        "delay(0) must not exceed max"
    );
}

#[test]
fn a_crash_loop_grows_and_a_long_run_resets_it() {
    let mut crash_loop = CrashLoop::new(Backoff::KUBERNETES);
    let runs = [
        ("crashed after 1 s", 1),
        ("crashed after 1 s", 1),
        ("crashed after 1 s", 1),
        ("crashed after 9 min 59 s", 599),
        ("ran 10 min, then crashed", 600),
        ("crashed after 1 s", 1),
        ("ran 1 hour, then crashed", 3600),
    ];
    let mut table = String::new();
    for (what, seconds) in runs {
        let delay = crash_loop.next_delay(Duration::from_secs(seconds));
        writeln!(
            table,
            "{what:<26} -> wait {delay:?} (restarts in this loop: {})",
            crash_loop.restarts()
        )
        .unwrap();
    }
    with_settings!({
        description => "CrashLoop::next_delay with the kubelet's figures: a run of reset_after (10 min) or longer starts the loop again",
        omit_expression => true,
    }, {
        assert_snapshot!(table);
    });
}
