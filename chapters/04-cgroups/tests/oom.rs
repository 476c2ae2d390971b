//! Going over the memory limit: the kernel's OOM killer, and what
//! Kubernetes reports afterwards.
//! Holes exercised: `Cgroup::oom_killed` (src/cgroup.rs) and `termination`
//! (src/termination.rs).

use std::fmt::Write;

use chapter_04::cgroups::{CgroupName, ExitStatus, Limits, termination};
use chapter_04::{FakeTree, Lab, guard};
use insta::{assert_snapshot, with_settings};

const LIMIT: u64 = 32 * 1024 * 1024;

#[tokio::test]
async fn a_memory_hog_is_oom_killed_and_reported_as_oomkilled() {
    guard(async {
        let lab = Lab::new();
        let name = lab.name(&["hog-pod", "hog"]);
        let limits = Limits {
            memory_bytes: Some(LIMIT),
            ..Limits::default()
        };
        let cgroup = lab.cgroups.create(&name, &limits).unwrap();
        // tail keeps the last line of its input in memory, and /dev/zero
        // never ends a line: it buffers until something stops it.
        let mut hog = lab
            .command_in(&cgroup, "tail", &["/dev/zero"])
            .spawn()
            .unwrap();
        let status = ExitStatus::from_std(hog.wait().await.unwrap());
        let oom_killed = cgroup.oom_killed().unwrap();
        let usage = cgroup.usage().unwrap();
        eprintln!("hog: {status}; {usage}");
        if let Some(peak) = usage.memory_peak_bytes {
            assert!(peak <= LIMIT, "the peak {peak} went over the limit {LIMIT}");
        }
        cgroup.remove().unwrap();
        let mut report = String::new();
        writeln!(report, "process:     tail /dev/zero, memory_bytes 32 MiB").unwrap();
        writeln!(report, "status:      {status}").unwrap();
        writeln!(report, "oom_killed:  {oom_killed}").unwrap();
        writeln!(report, "Kubernetes:  {}", termination(status, oom_killed)).unwrap();
        writeln!(report, "left after removal: {:?}", lab.leftovers_of(&name)).unwrap();
        with_settings!({
            description => "a process that buffers /dev/zero under a 32 MiB memory limit",
            omit_expression => true,
        }, {
            assert_snapshot!(report);
        });
        lab.cgroups.remove(&lab.root_name()).unwrap();
        lab.assert_no_leaks();
    })
    .await;
}

#[test]
fn the_oom_flag_comes_from_the_kernels_counters() {
    let app = CgroupName::new("fake", &["app"]).unwrap();
    let dirs = ["k8s-mini-fake", "k8s-mini-fake/app"];
    let mut report = String::new();
    let v2_cases = [
        (
            "fresh",
            "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\noom_group_kill 0\n",
        ),
        (
            "hit the limit, reclaim was enough",
            "low 0\nhigh 0\nmax 57\noom 0\noom_kill 0\noom_group_kill 0\n",
        ),
        (
            "one process OOM-killed",
            "low 0\nhigh 0\nmax 12\noom 1\noom_kill 1\noom_group_kill 0\n",
        ),
    ];
    for (what, events) in v2_cases {
        let tree = FakeTree::v2(&dirs);
        tree.set("k8s-mini-fake/app/memory.events", events);
        let flag = tree.cgroups.open(&app).oom_killed().unwrap();
        writeln!(report, "v2, {what}: {flag}").unwrap();
    }
    let control = "memory/k8s-mini-fake/app/memory.oom_control";
    let v1_cases: [(&str, &[(&str, &str)]); 5] = [
        ("fresh", &[]),
        (
            "OOM-killed twice",
            &[(control, "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n")],
        ),
        (
            "OOM killer disabled, nothing killed",
            &[(control, "oom_kill_disable 1\nunder_oom 1\noom_kill 0\n")],
        ),
        (
            "old kernel (no oom_kill line), limit never reached",
            &[
                (control, "oom_kill_disable 0\nunder_oom 0\n"),
                (
                    "memory/k8s-mini-fake/app/memory.limit_in_bytes",
                    "33554432\n",
                ),
                (
                    "memory/k8s-mini-fake/app/memory.max_usage_in_bytes",
                    "20000768\n",
                ),
            ],
        ),
        (
            "old kernel (no oom_kill line), limit reached",
            &[
                (control, "oom_kill_disable 0\nunder_oom 0\n"),
                (
                    "memory/k8s-mini-fake/app/memory.limit_in_bytes",
                    "33554432\n",
                ),
                (
                    "memory/k8s-mini-fake/app/memory.max_usage_in_bytes",
                    "33554432\n",
                ),
                ("memory/k8s-mini-fake/app/memory.failcnt", "3\n"),
            ],
        ),
    ];
    for (what, files) in v1_cases {
        let tree = FakeTree::v1(&dirs);
        for (file, content) in files {
            tree.set(file, content);
        }
        let flag = tree.cgroups.open(&app).oom_killed().unwrap();
        writeln!(report, "v1, {what}: {flag}").unwrap();
    }
    with_settings!({
        description => "Cgroup::oom_killed on fake trees: v2 memory.events, v1 memory.oom_control (and the fallback for old kernels)",
        omit_expression => true,
    }, {
        assert_snapshot!(report);
    });
}

#[test]
fn a_terminated_container_as_kubernetes_reports_it() {
    let cases = [
        (ExitStatus::Code(0), false),
        (ExitStatus::Code(1), false),
        (ExitStatus::Code(137), false),
        (ExitStatus::Signal(9), false),
        (ExitStatus::Signal(15), false),
        (ExitStatus::Signal(9), true),
        (ExitStatus::Code(0), true),
        (ExitStatus::Code(2), true),
    ];
    let mut report = String::new();
    for (status, oom_killed) in cases {
        let oom = if oom_killed {
            "OOM kill in the cgroup"
        } else {
            "no OOM kill"
        };
        let shown = status.to_string();
        let kubernetes = termination(status, oom_killed);
        writeln!(report, "{shown:<20} {oom:<22} => {kubernetes}").unwrap();
    }
    with_settings!({
        description => "termination(status, oom_killed): exit code and reason",
        omit_expression => true,
    }, {
        assert_snapshot!(report);
    });
}

/// The count behind the flag: it only grows, so a container that restarts
/// in the same cgroup compares the count at its exit with the count at its
/// start (`oom_killed` would say yes for every run after the first kill).
#[test]
fn the_oom_kill_count_tells_one_run_from_the_next() {
    let app = CgroupName::new("fake", &["app"]).unwrap();
    let dirs = ["k8s-mini-fake", "k8s-mini-fake/app"];
    let mut report = String::new();
    let v2 = FakeTree::v2(&dirs);
    let cgroup = v2.cgroups.open(&app);
    let at_start = cgroup.oom_kills().unwrap();
    v2.set(
        "k8s-mini-fake/app/memory.events",
        "low 0\nhigh 0\nmax 9\noom 1\noom_kill 1\noom_group_kill 0\n",
    );
    let after_kill = cgroup.oom_kills().unwrap();
    writeln!(
        report,
        "v2: fresh {at_start:?}, after one kill {after_kill:?}"
    )
    .unwrap();
    writeln!(
        report,
        "    the next run starts at {after_kill:?} and ends at {after_kill:?}: no kill in it, \
         while oom_killed still says {}",
        cgroup.oom_killed().unwrap()
    )
    .unwrap();
    let v1 = FakeTree::v1(&dirs);
    let control = "memory/k8s-mini-fake/app/memory.oom_control";
    v1.set(control, "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n");
    let counted = v1.cgroups.open(&app).oom_kills().unwrap();
    v1.set(control, "oom_kill_disable 0\nunder_oom 0\n");
    let uncounted = v1.cgroups.open(&app).oom_kills().unwrap();
    writeln!(
        report,
        "v1: killed three times {counted:?}; a kernel before 4.13 (no oom_kill line) {uncounted:?}"
    )
    .unwrap();
    with_settings!({
        description => "Cgroup::oom_kills on fake trees: the kernel's cumulative count, None where v1 does not count",
        omit_expression => true,
    }, {
        assert_snapshot!(report);
    });
}
