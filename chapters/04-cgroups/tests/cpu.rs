//! CPU in millicores, as the kernel takes it.
//! Hole exercised: `cpu_quota` (src/cpu.rs); `cpu_shares` and `cpu_weight`
//! are given code, kept right here.

use std::fmt::Write;

use chapter_04::cgroups::{cpu_quota, cpu_shares, cpu_weight};
use insta::{assert_snapshot, with_settings};

#[test]
fn a_cpu_limit_becomes_a_quota_per_100ms_period() {
    let mut report = String::new();
    for millis in [1, 5, 10, 100, 250, 500, 1000, 1500, 4000, 64000] {
        let quota = cpu_quota(millis);
        writeln!(
            report,
            "{millis:>6}m => {:>8} us of every {} us",
            quota.quota_us, quota.period_us
        )
        .unwrap();
    }
    with_settings!({
        description => "cpu_quota(millicores): the kernel refuses quotas under 1000 us",
        omit_expression => true,
    }, {
        assert_snapshot!(report);
    });
}

#[test]
fn a_cpu_request_becomes_shares_and_a_weight() {
    let mut report = String::new();
    for millis in [0, 1, 2, 10, 100, 250, 1000, 2000, 256_000, 1_000_000] {
        let shares = cpu_shares(millis);
        writeln!(
            report,
            "{millis:>8}m => cpu.shares {shares:>6} => cpu.weight {:>5}",
            cpu_weight(shares)
        )
        .unwrap();
    }
    writeln!(report, "shares out of range:").unwrap();
    for shares in [0, 1, 300_000] {
        writeln!(report, "    cpu_weight({shares}) = {}", cpu_weight(shares)).unwrap();
    }
    with_settings!({
        description => "cpu_shares(millicores) for v1, then cpu_weight(shares) for v2",
        omit_expression => true,
    }, {
        assert_snapshot!(report);
    });
}
