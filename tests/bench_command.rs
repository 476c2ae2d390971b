//! `k8s-mini bench pod-start` end to end: the built binary measures real
//! pod starts both ways (chapter 05's runtime directly, and through its
//! own API server and node agent) and leaves nothing of either instance
//! on the host. (The figures themselves are the measurements appendix's;
//! no test asserts a time.)

use std::process::{Command, Stdio};

const BINARY: &str = env!("CARGO_BIN_EXE_k8s-mini");

/// The three figures (p50, p99, max) of the row that starts with `name`,
/// without their unit (`ms` or `x`).
fn figures(stdout: &str, name: &str) -> Vec<f64> {
    let line = stdout
        .lines()
        .find(|line| line.starts_with(name))
        .unwrap_or_else(|| panic!("no row {name:?} in:\n{stdout}"));
    let figures: Vec<f64> = line[name.len()..]
        .split_whitespace()
        .map(|word| {
            word.trim_end_matches("ms")
                .trim_end_matches('x')
                .parse()
                .unwrap_or_else(|_| panic!("not a figure: {word:?} in {line:?}"))
        })
        .collect();
    assert_eq!(figures.len(), 3, "p50, p99 and max in {line:?}");
    figures
}

#[test]
fn bench_pod_start_measures_both_ways_and_leaves_nothing_behind() {
    assert!(
        testkit::is_root(),
        "\n\n*** `k8s-mini bench pod-start` runs real pods: this test needs root ***\n\n"
    );
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    // Its working directory (the pods' state) goes below TMPDIR.
    let work = tmp.path().join("tmp");
    std::fs::create_dir(&work).unwrap();
    let child = Command::new(BINARY)
        .arg("--data-dir")
        .arg(&data)
        .args(["bench", "pod-start", "--count", "3", "--rounds", "1"])
        .env("TMPDIR", &work)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("k8s-mini starts");
    let pid = child.id();
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    // Whatever happened, nothing of its two instances may be left.
    let direct = testkit::LeakCheck::new(&format!("bench-{pid}"))
        .expect_gone(data.join("pods").join(format!("bench-{pid}")));
    let through = testkit::LeakCheck::new(&format!("bench-api-{pid}"))
        .expect_gone(data.join("pods").join(format!("bench-api-{pid}")));
    let left = (direct.leaks(), through.leaks());
    for leaks in [&direct, &through] {
        leaks.remove_cgroups();
        leaks.remove_interfaces();
    }
    assert!(
        output.status.success(),
        "exit status {:?}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        output.status
    );
    assert!(
        left.0.is_empty() && left.1.is_empty(),
        "the benchmark left things behind:\n{}{}",
        left.0,
        left.1
    );
    let work_left: Vec<_> = std::fs::read_dir(&work).unwrap().flatten().collect();
    assert!(
        work_left.is_empty(),
        "its working directory stayed: {work_left:?}"
    );
    assert!(
        stderr.contains("round 1/1: 3 pods direct... 3 pods through the API... deleting... p99"),
        "progress on stderr: {stderr}"
    );
    assert!(
        stdout.starts_with("3 x 1, ALL AT ONCE: CREATE TO RUNNING"),
        "{stdout}"
    );
    let direct = figures(&stdout, "direct (chapter 05 runtime, k8s-mini/echo)");
    let api = figures(&stdout, "through the API (one node agent, watch)");
    let on_node = figures(&stdout, "  of which until it runs on the node");
    let ratios = figures(&stdout, "through the API / direct");
    // A real pod start (a sandbox and a container, each a re-executed
    // init, namespaces, mounts, a cgroup, a veth) takes milliseconds, not
    // microseconds; through the API it takes a watch and a status write
    // more. Each row runs p50 <= p99 <= max.
    for (row, name) in [(&direct, "direct"), (&api, "through the API")] {
        assert!(row[0] >= 1.0, "{name}: a pod started in {} ms", row[0]);
        assert!(row[0] <= row[1] && row[1] <= row[2], "{name}: {row:?}");
    }
    // Each pod ran on the node before the API said so.
    for i in 0..3 {
        assert!(
            on_node[i] <= api[i] + 0.2,
            "on the node {on_node:?}, in the API {api:?}"
        );
    }
    for i in 0..3 {
        let expected = api[i] / direct[i];
        assert!(
            (ratios[i] - expected).abs() <= 0.01 + expected * 0.02,
            "ratio {} is not {} / {}",
            ratios[i],
            api[i],
            direct[i]
        );
    }
}

/// `k8s-mini bench controllers` end to end, at a small scale: every row
/// of the table is printed with a figure and a ratio, and nothing of its
/// two pod runtimes (the direct one and the node agent's) is left on the
/// host. No time is asserted beyond what the rows must hold together.
#[test]
fn bench_controllers_prints_every_row_and_leaves_nothing_behind() {
    assert!(
        testkit::is_root(),
        "\n\n*** `k8s-mini bench controllers` runs real pods: this test needs root ***\n\n"
    );
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let work = tmp.path().join("tmp");
    std::fs::create_dir(&work).unwrap();
    let child = Command::new(BINARY)
        .arg("--data-dir")
        .arg(&data)
        .args(["bench", "controllers", "--count", "3"])
        .args(["--deployments", "3", "--replicas", "2"])
        .env("TMPDIR", &work)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("k8s-mini starts");
    let pid = child.id();
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let direct = testkit::LeakCheck::new(&format!("bench-{pid}"));
    let agent = testkit::LeakCheck::new(&format!("bench-cm-{pid}"));
    let left = (direct.leaks(), agent.leaks());
    for leaks in [&direct, &agent] {
        leaks.remove_cgroups();
        leaks.remove_interfaces();
    }
    assert!(
        output.status.success(),
        "exit status {:?}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        output.status
    );
    assert!(
        left.0.is_empty() && left.1.is_empty(),
        "the benchmark left things behind:\n{}{}",
        left.0,
        left.1
    );
    let work_left: Vec<_> = std::fs::read_dir(&work).unwrap().flatten().collect();
    assert!(
        work_left.is_empty(),
        "its working directory stayed: {work_left:?}"
    );
    assert!(
        stdout.starts_with("TIME TO CONVERGE"),
        "a table on stdout:\n{stdout}"
    );
    // (seconds, ratio) of the row that starts with `name`.
    let row = |name: &str| -> (f64, f64) {
        let line = stdout
            .lines()
            .find(|line| line.starts_with(name))
            .unwrap_or_else(|| panic!("no row {name:?} in:\n{stdout}"));
        let words: Vec<&str> = line[name.len()..].split_whitespace().collect();
        let seconds: f64 = words[0].parse().unwrap();
        let ratio: f64 = words[1].trim_end_matches('x').parse().unwrap();
        (seconds, ratio)
    };
    let pairs = [
        (
            "deployment 0 -> 3 pods, all Ready (one node agent)",
            "  reference: chapter 05's direct burst of 3 pods",
        ),
        (
            "rolling update of 1 pods (25% surge, 25% unavailable)",
            "  reference: deployment 0 -> 1 pods, rollout complete",
        ),
        (
            "3 deployments x 2: all 6 pods exist (no agents)",
            "  reference: the 6 pods created directly (64 at once)",
        ),
        (
            "node failure: node tainted unreachable, from its last heartbeat",
            "  reference: grace 2 s (nodes looked at every 250 ms)",
        ),
        (
            "node failure: 3 pods bound elsewhere, from the last heartbeat",
            "  reference: grace 2 s + toleration 1 s",
        ),
    ];
    for (measured, reference) in pairs {
        let (seconds, ratio) = row(measured);
        let (base, one) = row(reference);
        assert!(
            seconds > 0.0 && base > 0.0,
            "{measured}: {seconds} / {base}"
        );
        assert_eq!(one, 1.0, "{reference}");
        // Seconds are printed to the millisecond, ratios to the hundredth.
        let expected = seconds / base;
        let rounding = expected * (0.0005 / seconds + 0.0005 / base) + 0.005;
        assert!(
            (ratio - expected).abs() <= rounding * 1.01,
            "{measured}: ratio {ratio} is not {seconds} / {base}"
        );
    }
    // The pods cannot move before the node's grace period and their
    // toleration ran out (the taint's time has whole seconds, so the
    // toleration may end up to a second early).
    let (moved, _) = row("node failure: 3 pods bound elsewhere, from the last heartbeat");
    assert!(moved >= 2.0, "the pods moved after {moved} s");
    // ...and never before the toleration ran out, by the taint's time.
    let name = "  of which after the toleration ran out (taint's whole seconds)";
    let line = stdout
        .lines()
        .find(|line| line.starts_with(name))
        .unwrap_or_else(|| panic!("no row {name:?} in:\n{stdout}"));
    let after: f64 = line[name.len()..].trim().parse().unwrap();
    assert!(
        after >= 0.0,
        "the pods moved {after} s after their toleration"
    );
    assert!(
        stderr.contains("deployment 0 -> 3... "),
        "progress on stderr: {stderr}"
    );
}
