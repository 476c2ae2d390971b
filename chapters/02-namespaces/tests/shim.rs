//! Stage zero as a shim: with a `Shim` in its configuration, the first
//! process holds the application's output and status itself, so that the
//! container does not depend on whoever started it.
//!
//! These tests start the init program directly, as the supervisor would.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chapter_02::namespaces::{CONFIG_VAR, ContainerConfig, INIT_ARG, Isolation, Shim};

const INIT: &str = env!("CARGO_BIN_EXE_container-init");

/// Starts `script` with `sh -c` in a container (every namespace) whose
/// first process is a shim writing into `dir`; the init's own stdout and
/// stderr are pipes, as a supervisor's would be.
fn start(instance: &str, script: &str, dir: &Path) -> Child {
    let config = ContainerConfig {
        name: "shimmed".into(),
        instance: instance.to_string(),
        isolation: Isolation::container(false),
        command: "sh".into(),
        args: vec!["-c".into(), script.into()],
        env: Vec::new(),
        working_dir: "/".into(),
        extensions: Default::default(),
        shim: Some(Shim {
            log_path: dir.join("0.log"),
            exit_file: dir.join("0.exit"),
        }),
    };
    Command::new(INIT)
        .arg(INIT_ARG)
        .env_clear()
        .env(CONFIG_VAR, serde_json::to_string(&config).unwrap())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the init program starts")
}

/// The log's entries without their time: `<stream> <P|F> <content>`.
fn entries(dir: &Path) -> Vec<String> {
    std::fs::read_to_string(dir.join("0.log"))
        .unwrap_or_default()
        .lines()
        .map(|line| {
            let (time, rest) = line.split_once(' ').expect("a time first");
            assert!(testkit::is_rfc3339_nanos(time), "not a CRI time: {time}");
            rest.to_string()
        })
        .collect()
}

fn exit_file(dir: &Path) -> Option<String> {
    std::fs::read_to_string(dir.join("0.exit")).ok()
}

fn wait_until(limit: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if condition() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    condition()
}

#[test]
fn the_shim_writes_the_log_and_the_exit_file_itself() {
    if !testkit::is_root() {
        return testkit::skip("containers with every namespace need root");
    }
    let instance = testkit::unique_instance("ch02-shim");
    let leaks = testkit::LeakCheck::new(&instance);
    let tmp = tempfile::tempdir().unwrap();
    let child = start(
        &instance,
        "echo out; echo err >&2; printf 'no newline'; exit 7",
        tmp.path(),
    );
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(7), "{output:?}");
    // Nothing went through the parent's pipes.
    assert!(
        output.stdout.is_empty() && output.stderr.is_empty(),
        "{output:?}"
    );
    let mut seen = entries(tmp.path());
    // The two streams are copied independently: their order may vary.
    seen.sort();
    assert_eq!(
        seen,
        ["stderr F err", "stdout F no newline", "stdout F out"]
    );
    assert_eq!(exit_file(tmp.path()).as_deref(), Some("code 7"));
    assert!(!tmp.path().join("0.exit.tmp").exists());

    // Death by a signal is written as such.
    let other = tempfile::tempdir().unwrap();
    let output = start(&instance, "kill -TERM $$", other.path())
        .wait_with_output()
        .unwrap();
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&output.status),
        Some(libc::SIGTERM)
    );
    assert_eq!(exit_file(other.path()).as_deref(), Some("signal 15"));
    leaks.assert_clean();
}

#[test]
fn the_container_outlives_its_parents_pipes() {
    if !testkit::is_root() {
        return testkit::skip("containers with every namespace need root");
    }
    let instance = testkit::unique_instance("ch02-orphan");
    let leaks = testkit::LeakCheck::new(&instance);
    let tmp = tempfile::tempdir().unwrap();
    let mut child = start(
        &instance,
        "echo before; sleep 1; echo after; echo late >&2; exit 0",
        tmp.path(),
    );
    // The first process runs in a session of its own, away from its
    // parent's (it makes one right after forking PID 1).
    let session = |pid: u32| -> Option<String> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // After the command name: state, ppid, pgrp, session.
        Some(stat.rsplit_once(") ")?.1.split(' ').nth(3)?.to_string())
    };
    let pid = child.id();
    assert!(
        wait_until(Duration::from_secs(5), || session(pid)
            == Some(pid.to_string())),
        "not a session leader: session {:?}",
        session(pid)
    );
    // The parent stops reading, as a dead supervisor would: its pipes
    // have no reader any more.
    assert!(wait_until(Duration::from_secs(5), || entries(tmp.path())
        .len()
        == 1));
    drop(child.stdout.take());
    drop(child.stderr.take());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
    assert_eq!(
        entries(tmp.path()),
        ["stdout F before", "stdout F after", "stderr F late"]
    );
    assert_eq!(exit_file(tmp.path()).as_deref(), Some("code 0"));
    leaks.assert_clean();
}
