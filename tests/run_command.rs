//! `k8s-mini run` end to end: the built binary supervising real processes.

use std::process::{Command, Stdio};
use std::time::Duration;

use insta::{assert_snapshot, with_settings};

mod common;

use common::stable;

const BINARY: &str = env!("CARGO_BIN_EXE_k8s-mini");

#[test]
fn a_failing_job_is_retried_until_it_succeeds() {
    let tmp = tempfile::tempdir().unwrap();
    let output = Command::new(BINARY)
        .arg("--data-dir")
        .arg(tmp.path().join("data"))
        .args(["run", "--name", "job", "--restart", "OnFailure", "--quiet"])
        .args(["--backoff-initial", "1ms", "--backoff-max", "2ms"])
        .args(["--", "sh", "-c"])
        .arg("n=$(cat count 2>/dev/null || echo 0); echo $((n + 1)) > count; [ $n -ge 2 ]")
        .current_dir(tmp.path())
        .output()
        .unwrap();
    assert!(output.status.success(), "exit status {:?}", output.status);
    let stdout = stable(&output.stdout).replace(&tmp.path().display().to_string(), "[tmp]");
    with_settings!({ omit_expression => true, description => "k8s-mini --data-dir [tmp]/data run --restart OnFailure --quiet on a job that fails twice" }, {
        assert_snapshot!(stdout);
    });
    // The log is kept with the rest of the state, not where the command ran.
    let log = std::fs::read_to_string(tmp.path().join("data/logs/job.log")).unwrap();
    assert_eq!(log, "", "the job prints nothing, so its log is empty");
    assert!(
        !tmp.path().join("k8s-mini-logs").exists(),
        "k8s-mini run wrote into the directory it was run in"
    );
}

#[test]
fn the_exit_code_is_the_processes_and_its_output_is_shown() {
    let tmp = tempfile::tempdir().unwrap();
    let output = Command::new(BINARY)
        .args(["run", "--restart", "Never", "--log"])
        .arg(tmp.path().join("out.log"))
        .args(["--", "sh", "-c", "echo hello; exit 3"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3));
    let stdout = stable(&output.stdout).replace(&tmp.path().display().to_string(), "[tmp]");
    with_settings!({ omit_expression => true, description => "k8s-mini run --restart Never -- sh -c 'echo hello; exit 3'" }, {
        assert_snapshot!(stdout);
    });
}

#[test]
fn sigterm_stops_the_process_gracefully() {
    let tmp = tempfile::tempdir().unwrap();
    let child = Command::new(BINARY)
        .arg("--data-dir")
        .arg(tmp.path())
        .args(["run", "--name", "server", "--quiet", "--grace", "5s", "--"])
        .args([
            "sh",
            "-c",
            "trap 'echo bye; exit 0' TERM; echo ready; while :; do sleep 0.05; done",
        ])
        .current_dir(tmp.path())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let log = tmp.path().join("logs/server.log");
    for _ in 0..1000 {
        if std::fs::read_to_string(&log)
            .unwrap_or_default()
            .contains("ready")
        {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    let stdout = stable(&output.stdout).replace(&tmp.path().display().to_string(), "[tmp]");
    with_settings!({ omit_expression => true, description => "SIGTERM to k8s-mini run: the process gets SIGTERM and exits 0 in its grace period" }, {
        assert_snapshot!(stdout);
    });
}

#[test]
fn bad_input_is_a_clear_error() {
    let output = Command::new(BINARY)
        .args(["run", "--restart", "Sometimes", "--", "true"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("expected Always, OnFailure or Never"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let output = Command::new(BINARY)
        .args(["run", "--", "no-such-program-k8s-mini"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert_snapshot!(String::from_utf8_lossy(&output.stderr), @r#"k8s-mini: cannot run no-such-program-k8s-mini: command "no-such-program-k8s-mini" not found in PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin""#);
}
