//! Usage figures: of a real process added by pid, and as read from v1 and
//! v2 files.

use std::fmt::Write;

use chapter_04::cgroups::{CgroupName, ExitStatus, Limits};
use chapter_04::{FakeTree, Lab, guard};
use insta::{assert_snapshot, with_settings};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

#[tokio::test]
async fn a_process_added_by_pid_is_counted() {
    guard(async {
        let lab = Lab::new();
        let name = lab.name(&["pod", "worker"]);
        let cgroup = lab.cgroups.create(&name, &Limits::default()).unwrap();
        // The shell waits for a line, works, says so, and waits again.
        let script = "read go; i=0; while [ $i -lt 20000 ]; do i=$((i + 1)); done; echo done; read stop";
        let mut worker = tokio::process::Command::new("sh")
            .args(["-c", script])
            .env("K8S_MINI_INSTANCE", &lab.instance)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let pid = worker.id().unwrap();
        let mut report = String::new();
        writeln!(report, "before add_process: {} process(es)", cgroup.pids().unwrap().len()).unwrap();
        cgroup.add_process(pid).unwrap();
        let inside = cgroup.pids().unwrap() == vec![pid];
        writeln!(report, "after add_process: the worker and nothing else: {inside}").unwrap();

        let mut stdin = worker.stdin.take().unwrap();
        let mut stdout = BufReader::new(worker.stdout.take().unwrap()).lines();
        stdin.write_all(b"go\n").await.unwrap();
        let said = stdout.next_line().await.unwrap();
        let usage = cgroup.usage().unwrap();
        eprintln!("worker: {usage}");
        writeln!(report, "the worker said: {said:?}").unwrap();
        writeln!(report, "pids: {}", usage.pids).unwrap();
        writeln!(report, "CPU time counted: {}", !usage.cpu_time.is_zero()).unwrap();
        writeln!(report, "memory counted: {}", usage.memory_bytes > 0).unwrap();
        if let Some(peak) = usage.memory_peak_bytes {
            assert!(peak >= usage.memory_bytes, "peak {peak} below current {usage}");
        }

        stdin.write_all(b"stop\n").await.unwrap();
        drop(stdin);
        let status = ExitStatus::from_std(worker.wait().await.unwrap());
        writeln!(report, "the worker ended with {status}").unwrap();
        writeln!(report, "processes left in the cgroup: {:?}", cgroup.pids().unwrap()).unwrap();
        cgroup.remove().unwrap();
        writeln!(report, "left after removal: {:?}", lab.leftovers_of(&name)).unwrap();
        with_settings!({
            description => "a shell moved into a cgroup with add_process(pid), made to work, then to exit",
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
fn usage_as_read_from_v1_and_v2_files() {
    let app = CgroupName::new("fake", &["app"]).unwrap();
    let dirs = ["k8s-mini-fake", "k8s-mini-fake/app"];
    let v2 = FakeTree::v2(&dirs);
    let d = "k8s-mini-fake/app";
    v2.set(&format!("{d}/memory.current"), "8388608\n");
    v2.set(&format!("{d}/memory.peak"), "33550336\n");
    v2.set(
        &format!("{d}/cpu.stat"),
        "usage_usec 2500000\nuser_usec 2400000\nsystem_usec 100000\n\
         nr_periods 250\nnr_throttled 240\nthrottled_usec 21000000\n\
         nr_bursts 0\nburst_usec 0\n",
    );
    v2.set(&format!("{d}/pids.current"), "3\n");
    std::fs::remove_file(v2.path(&format!("{d}/pids.peak"))).unwrap();

    let v1 = FakeTree::v1(&dirs);
    v1.set(&format!("memory/{d}/memory.usage_in_bytes"), "8388608\n");
    v1.set(
        &format!("memory/{d}/memory.max_usage_in_bytes"),
        "33550336\n",
    );
    v1.set(&format!("cpu,cpuacct/{d}/cpuacct.usage"), "2500000000\n");
    v1.set(
        &format!("cpu,cpuacct/{d}/cpu.stat"),
        "nr_periods 250\nnr_throttled 240\nthrottled_time 21000000000\n",
    );
    v1.set(&format!("pids/{d}/pids.current"), "3\n");

    let report = format!(
        "v2: {}\nv1: {}\n",
        v2.cgroups.open(&app).usage().unwrap(),
        v1.cgroups.open(&app).usage().unwrap()
    );
    with_settings!({
        description => "Cgroup::usage on fake trees that say the same in v2 and v1 words (no pids.peak on either)",
        omit_expression => true,
    }, {
        assert_snapshot!(report);
    });
}
