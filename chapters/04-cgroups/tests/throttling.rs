//! A CPU limit is a quota per period: a busy process runs out of it and
//! waits, which the kernel counts.
//! Holes exercised: `cpu_quota` (src/cpu.rs), `Limits::writes`
//! (src/limits.rs).

use std::fmt::Write;
use std::time::Duration;

use chapter_04::cgroups::{CFS_PERIOD_US, Limits, cpu_quota};
use chapter_04::{Lab, guard};
use insta::{assert_snapshot, with_settings};

const MILLIS: i64 = 100;
/// Periods to watch: enough for the figures to speak.
const PERIODS: u64 = 20;

#[tokio::test]
async fn a_cpu_hog_is_throttled_to_its_quota() {
    guard(async {
        let lab = Lab::new();
        let name = lab.name(&["hog-pod", "spin"]);
        let limits = Limits { cpu_limit_millis: Some(MILLIS), ..Limits::default() };
        let cgroup = lab.cgroups.create(&name, &limits).unwrap();
        let mut hog = lab
            .command_in(&cgroup, "sh", &["-c", "while :; do :; done"])
            .spawn()
            .unwrap();

        // Wait for the kernel to count PERIODS periods: what matters is
        // its accounting, not our clock. Bounded: 2000 looks.
        let mut usage = cgroup.usage().unwrap();
        for _ in 0..2000 {
            if usage.cpu_periods >= PERIODS {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
            usage = cgroup.usage().unwrap();
        }
        hog.start_kill().unwrap();
        hog.wait().await.unwrap();
        cgroup.remove().unwrap();

        let quota = Duration::from_micros(cpu_quota(MILLIS).quota_us);
        let periods = usage.cpu_periods.max(1) as u32;
        let per_period = usage.cpu_time / periods;
        eprintln!("cpu hog at {MILLIS}m: {usage}; {per_period:?} of CPU per period");
        let mut report = String::new();
        writeln!(
            report,
            "hog:   sh -c 'while :; do :; done', cpu_limit_millis {MILLIS} \
             ({quota:?} per {:?} period)",
            Duration::from_micros(CFS_PERIOD_US)
        )
        .unwrap();
        writeln!(report, "watched at least {PERIODS} periods: {}", usage.cpu_periods >= PERIODS).unwrap();
        writeln!(report, "throttled at all: {}", usage.cpu_throttled_periods > 0).unwrap();
        // Unthrottled, a spinning shell would use the whole period (100 ms).
        // Twice the quota leaves room for the period in progress.
        writeln!(
            report,
            "CPU time per period at most twice the quota: {}",
            per_period <= quota * 2
        )
        .unwrap();
        writeln!(report, "left after removal: {:?}", lab.leftovers_of(&name)).unwrap();
        with_settings!({
            description => "a shell spinning in a loop under a 100m CPU limit, judged by the kernel's figures (cpu.stat, CPU time), not by a clock",
            omit_expression => true,
        }, {
            assert_snapshot!(report);
        });
        lab.cgroups.remove(&lab.root_name()).unwrap();
        lab.assert_no_leaks();
    })
    .await;
}
