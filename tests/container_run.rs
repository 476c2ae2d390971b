//! `k8s-mini run --image` and `k8s-mini image`: chapters 01 to 04 together
//! in the built binary.

use std::io::BufRead;
use std::process::{Command, Stdio};

use insta::{assert_snapshot, with_settings};

mod common;

use common::stable_events as stable;

const BINARY: &str = env!("CARGO_BIN_EXE_k8s-mini");

fn k8s_mini(data_dir: &std::path::Path) -> Command {
    let mut command = Command::new(BINARY);
    command
        .arg("--data-dir")
        .arg(data_dir)
        .current_dir(data_dir);
    command
}

#[test]
fn a_memory_hog_in_a_container_is_oom_killed() {
    let tmp = tempfile::tempdir().unwrap();
    let child = k8s_mini(tmp.path())
        .args([
            "run",
            "--image",
            "busybox",
            "--restart",
            "Never",
            "--memory",
            "32Mi",
            "--name",
            "hog",
        ])
        .args(["--", "sh", "-c", "echo allocating; exec tail /dev/zero"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // `k8s-mini run` names its instance after its own pid.
    let leaks = testkit::LeakCheck::new(&format!("run-{}", child.id()));
    let output = child.wait_with_output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(137),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    with_settings!({
        omit_expression => true,
        description => "k8s-mini run --image busybox --memory 32Mi: `tail /dev/zero` keeps its input in memory until the kernel kills it",
    }, {
        assert_snapshot!(stable(&output.stdout));
    });
    leaks.assert_clean();
    let left: Vec<_> = std::fs::read_dir(tmp.path().join("containers"))
        .unwrap()
        .flatten()
        .collect();
    assert!(left.is_empty(), "container directories left: {left:?}");
}

#[test]
fn an_imported_directory_runs_as_an_image() {
    let tmp = tempfile::tempdir().unwrap();
    let rootfs = tmp.path().join("rootfs");
    std::fs::create_dir_all(rootfs.join("bin")).unwrap();
    let busybox = ["/usr/bin/busybox", "/bin/busybox"]
        .into_iter()
        .find(|path| std::path::Path::new(path).exists())
        .expect("busybox is installed (apt-get install busybox-static)");
    std::fs::copy(busybox, rootfs.join("bin/busybox")).unwrap();
    std::os::unix::fs::symlink("busybox", rootfs.join("bin/sh")).unwrap();
    std::fs::write(rootfs.join("greeting"), "hello from my image\n").unwrap();
    let import = k8s_mini(tmp.path())
        .args(["image", "import", "demo/hello:1.0"])
        .arg(&rootfs)
        .args([
            "--entrypoint",
            r#"["/bin/sh", "-c"]"#,
            "--env",
            "MODE=loud",
            "--",
        ])
        .arg("cat /greeting; echo \"MODE=$MODE\"")
        .output()
        .unwrap();
    assert!(
        import.status.success(),
        "{}",
        String::from_utf8_lossy(&import.stderr)
    );
    let list = k8s_mini(tmp.path()).args(["image", "ls"]).output().unwrap();
    let names: Vec<String> = String::from_utf8_lossy(&list.stdout)
        .lines()
        .map(|line| line.split_whitespace().next().unwrap_or("").to_string())
        .collect();
    let run = k8s_mini(tmp.path())
        .args(["run", "--image", "demo/hello:1.0", "--restart", "Never"])
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let unknown = k8s_mini(tmp.path())
        .args(["run", "--image", "nginx", "--restart", "Never"])
        .output()
        .unwrap();
    with_settings!({
        omit_expression => true,
        description => "image import of a directory with an entrypoint and env, image ls, running it, and running an image that is not there",
    }, {
        assert_snapshot!(format!(
            "import: {}\nimage ls: {names:?}\nrun:\n{}\nunknown image (exit {:?}):\n{}",
            String::from_utf8_lossy(&import.stdout).replace(&tmp.path().display().to_string(), "[tmp]").trim(),
            stable(&run.stdout),
            unknown.status.code(),
            String::from_utf8_lossy(&unknown.stderr).trim()
        ));
    });
}

#[test]
fn reset_removes_what_a_killed_run_left_behind() {
    let tmp = tempfile::tempdir().unwrap();
    let mut run = k8s_mini(tmp.path())
        .args([
            "run", "--image", "busybox", "--memory", "32Mi", "--name", "doomed", "--", "sleep",
            "60",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let instance = format!("run-{}", run.id());
    let leaks = testkit::LeakCheck::new(&instance);
    // The init program's pid, from the "Started pid N" line.
    let lines = std::io::BufReader::new(run.stdout.take().unwrap()).lines();
    let started = lines
        .map_while(Result::ok)
        .find_map(|line| {
            let rest = line.split("Started pid ").nth(1)?;
            rest.split_whitespace().next()?.parse::<i32>().ok()
        })
        .expect("k8s-mini run reports the container's start");
    // Crash k8s-mini, then its container: both are this test's descendants.
    let kill = |pid: i32| {
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGKILL,
        )
    };
    kill(run.id() as i32).unwrap();
    run.wait().unwrap();
    kill(started).unwrap();
    // PID 1 follows its parent through PDEATHSIG, a moment later: reset
    // rightly keeps an instance while any of its processes lives.
    for _ in 0..500 {
        if leaks.leaks().processes.is_empty() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let leftovers = leaks.leaks();
    assert!(
        leftovers.processes.is_empty(),
        "the killed container still runs:\n{leftovers}"
    );
    let dir_left = tmp.path().join("containers").join(&instance).exists();
    // Only this test's instance: others may be running in parallel.
    let reset = k8s_mini(tmp.path())
        .args(["reset", "--instance", &instance])
        .output()
        .unwrap();
    assert!(
        reset.status.success(),
        "{}",
        String::from_utf8_lossy(&reset.stderr)
    );
    let said = String::from_utf8_lossy(&reset.stdout).replace(&instance, "[instance]");
    let said = said.replace(&tmp.path().display().to_string(), "[tmp]");
    with_settings!({
        omit_expression => true,
        description => "k8s-mini run killed with SIGKILL, its container too: reset removes the container's directory and cgroup",
    }, {
        assert_snapshot!(format!(
            "left behind: cgroups {}, container directory {}\nreset said:\n{said}",
            !leftovers.cgroups.is_empty(),
            dir_left
        ));
    });
    leaks.assert_clean();
    assert!(!tmp.path().join("containers").join(&instance).exists());
}

/// A container keeps CAP_MKNOD (as under containerd), so its root can make
/// a node for the host's disk; the device cgroup is what keeps it from
/// opening that node, while /dev/null and friends work as ever.
#[test]
fn a_container_can_make_a_node_for_the_hosts_disk_but_not_open_it() {
    let tmp = tempfile::tempdir().unwrap();
    let disk = testkit::openable_block_device(tmp.path()).expect(
        "this machine has no block device that root can open, so no test can show that a \
         container cannot",
    );
    eprintln!(
        "the host's block device {}:{} ({})",
        disk.major, disk.minor, disk.what
    );
    let script = "mknod /tmp/disk b \"$MAJOR\" \"$MINOR\" && echo 'mknod: made a node for the disk'; \
        if err=$(head -c 1 /tmp/disk 2>&1 > /dev/null); then echo 'disk: read'; \
        else echo \"disk: refused ($err)\"; fi; \
        echo hello > /dev/null && echo '/dev/null: written'; \
        echo \"/dev/zero: $(head -c 4 /dev/zero | wc -c) bytes read\"";
    let child = k8s_mini(tmp.path())
        .args([
            "run",
            "--image",
            "busybox",
            "--restart",
            "Never",
            "--name",
            "mknod",
        ])
        .args(["--env", &format!("MAJOR={}", disk.major)])
        .args(["--env", &format!("MINOR={}", disk.minor)])
        .args(["--", "sh", "-c", script])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let leaks = testkit::LeakCheck::new(&format!("run-{}", child.id()));
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    with_settings!({
        omit_expression => true,
        description => "k8s-mini run --image busybox as root: mknod of the host's disk (a block device the host itself can open), then reading it; /dev/null and /dev/zero",
    }, {
        assert_snapshot!(stable(&output.stdout));
    });
    leaks.assert_clean();
}

/// A start that fails after the cgroup and the container's directory were
/// made (here: a log file that cannot be opened) leaves neither behind.
#[test]
fn a_start_that_fails_leaves_nothing_behind() {
    let tmp = tempfile::tempdir().unwrap();
    let child = k8s_mini(tmp.path())
        .args([
            "run",
            "--image",
            "busybox",
            "--restart",
            "Never",
            "--memory",
            "32Mi",
        ])
        .args(["--log", "/proc/no-such-dir/app.log", "--", "true"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let instance = format!("run-{}", child.id());
    let leaks = testkit::LeakCheck::new(&instance)
        .expect_gone(tmp.path().join("containers").join(&instance));
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("cannot open log file /proc/no-such-dir/app.log"),
        "{stderr}"
    );
    leaks.assert_clean();
}

/// The kernel's OOM kill count only grows: after one kill, a restarted run
/// that ends on its own is reported for what it did, not as OOMKilled again.
#[test]
fn an_oom_kill_is_reported_for_its_own_run_only() {
    let tmp = tempfile::tempdir().unwrap();
    let volume = tmp.path().join("volume");
    std::fs::create_dir(&volume).unwrap();
    // The first run eats memory; the marker it leaves makes the next one
    // exit at once.
    let script = "if [ -e /state/ran ]; then echo 'second run: done'; exit 0; fi; \
        touch /state/ran; echo 'first run: allocating'; exec tail /dev/zero";
    let child = k8s_mini(tmp.path())
        .args([
            "run",
            "--image",
            "busybox",
            "--restart",
            "OnFailure",
            "--memory",
            "32Mi",
        ])
        .args(["--backoff-initial", "1ms", "--name", "twice", "--volume"])
        .arg(format!("{}:/state", volume.display()))
        .args(["--", "sh", "-c", script])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let leaks = testkit::LeakCheck::new(&format!("run-{}", child.id()));
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    with_settings!({
        omit_expression => true,
        description => "k8s-mini run --restart OnFailure --memory 32Mi: OOM-killed once, then a run that exits 0",
    }, {
        assert_snapshot!(stable(&output.stdout));
    });
    leaks.assert_clean();
}
