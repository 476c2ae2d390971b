//! The supervisor at work: restart policies, back-off, graceful stops.
//! Holes exercised: all of them, through `Supervisor` (src/supervisor.rs).

use std::time::Duration;

use chapter_01::process::{ContainerSpec, Event, RestartPolicy, Supervisor};
use chapter_01::{
    all_events, events_until, fast_backoff, guard, is_gone, readable_log, started_pids, timeline,
    wait_for_log,
};
use insta::{assert_snapshot, with_settings};

/// A script that prints its run number (kept in the file `count` of its
/// working directory) and exits with 1 until run `succeed_at`, then `last`.
fn counting_script(succeed_at: u32, last: &str) -> String {
    format!(
        "n=$(cat count 2>/dev/null || echo 0); echo \"run $n\"; echo $((n + 1)) > count; \
         if [ \"$n\" -lt {succeed_at} ]; then exit 1; fi; {last}"
    )
}

#[tokio::test]
async fn never_runs_once() {
    guard(async {
        let tmp = tempfile::tempdir().unwrap();
        let spec = ContainerSpec::new("once", "sh")
            .args(["-c", "exit 3"])
            .log_path(tmp.path().join("once.log"))
            .restart_policy(RestartPolicy::Never);
        let events = all_events(Supervisor::start(spec).await.unwrap()).await;
        with_settings!({ description => "restart policy Never, `exit 3`", omit_expression => true }, {
            assert_snapshot!(timeline(&events));
        });
        assert!(started_pids(&events).into_iter().all(is_gone), "a process was left behind");
    })
    .await;
}

#[tokio::test]
async fn on_failure_restarts_with_growing_back_off_until_success() {
    guard(async {
        let tmp = tempfile::tempdir().unwrap();
        let log = tmp.path().join("job.log");
        let spec = ContainerSpec::new("job", "sh")
            .args(["-c", &counting_script(3, "exit 0")])
            .working_dir(tmp.path())
            .log_path(&log)
            .restart_policy(RestartPolicy::OnFailure)
            .backoff(fast_backoff());
        let events = all_events(Supervisor::start(spec).await.unwrap()).await;
        with_settings!({
            description => "OnFailure, back-off 1 ms doubling to 4 ms: a job that fails three times, then succeeds",
            omit_expression => true,
        }, {
            assert_snapshot!("on_failure_events", timeline(&events));
            assert_snapshot!("on_failure_log", readable_log(&std::fs::read_to_string(&log).unwrap()));
        });
        assert!(started_pids(&events).into_iter().all(is_gone), "a process was left behind");
    })
    .await;
}

#[tokio::test]
async fn always_restarts_even_after_success_and_stops_on_request() {
    guard(async {
        let tmp = tempfile::tempdir().unwrap();
        let log = tmp.path().join("server.log");
        // Runs 0 and 1 exit cleanly; run 2 stays up, like a server.
        let script = "n=$(cat count 2>/dev/null || echo 0); echo \"run $n\"; echo $((n + 1)) > count; \
             if [ \"$n\" -lt 2 ]; then exit 0; fi; exec sleep 60";
        let spec = ContainerSpec::new("server", "sh")
            .args(["-c", script])
            .working_dir(tmp.path())
            .log_path(&log)
            .backoff(fast_backoff());
        let mut supervisor = Supervisor::start(spec).await.unwrap();
        let mut events = events_until(&mut supervisor, |event| {
            matches!(event, Event::Started { restart_count: 2, .. })
        })
        .await;
        wait_for_log(&log, "run 2").await;
        supervisor.stop(Duration::from_secs(10));
        events.extend(all_events(supervisor).await);
        with_settings!({
            description => "Always (the default): two clean exits are restarted; the third run is stopped with SIGTERM",
            omit_expression => true,
        }, {
            assert_snapshot!(timeline(&events));
        });
        assert!(started_pids(&events).into_iter().all(is_gone), "a process was left behind");
    })
    .await;
}

#[tokio::test]
async fn a_process_that_handles_sigterm_exits_in_its_own_time() {
    guard(async {
        let tmp = tempfile::tempdir().unwrap();
        let log = tmp.path().join("polite.log");
        let script =
            "trap 'echo cleaning up; exit 0' TERM; echo ready; while :; do sleep 0.05; done";
        let spec = ContainerSpec::new("polite", "sh")
            .args(["-c", script])
            .log_path(&log);
        let supervisor = Supervisor::start(spec).await.unwrap();
        wait_for_log(&log, "ready").await;
        supervisor.stop(Duration::from_secs(20));
        let events = all_events(supervisor).await;
        with_settings!({
            description => "stop(20 s) on a shell that traps SIGTERM, cleans up and exits 0",
            omit_expression => true,
        }, {
            assert_snapshot!("graceful_events", timeline(&events));
            assert_snapshot!("graceful_log", readable_log(&std::fs::read_to_string(&log).unwrap()));
        });
        assert!(
            started_pids(&events).into_iter().all(is_gone),
            "a process was left behind"
        );
    })
    .await;
}

#[tokio::test]
async fn a_process_that_ignores_sigterm_is_killed_after_the_grace_period() {
    guard(async {
        let tmp = tempfile::tempdir().unwrap();
        let log = tmp.path().join("stubborn.log");
        // `exec` keeps the ignored SIGTERM: sleep inherits the disposition.
        let script = "trap '' TERM; echo ready; exec sleep 60";
        let spec = ContainerSpec::new("stubborn", "sh")
            .args(["-c", script])
            .log_path(&log);
        let supervisor = Supervisor::start(spec).await.unwrap();
        wait_for_log(&log, "ready").await;
        supervisor.stop(Duration::from_millis(200));
        let events = all_events(supervisor).await;
        with_settings!({
            description => "stop(200 ms) on a process that ignores SIGTERM",
            omit_expression => true,
        }, {
            assert_snapshot!(timeline(&events));
        });
        assert!(
            started_pids(&events).into_iter().all(is_gone),
            "a process was left behind (or not reaped: a zombie)"
        );
    })
    .await;
}

#[tokio::test]
async fn a_forced_stop_takes_the_children_too() {
    guard(async {
        let tmp = tempfile::tempdir().unwrap();
        let log = tmp.path().join("family.log");
        // The shell starts a child that ignores SIGTERM as well, then waits.
        let script = "trap '' TERM; sleep 60 & echo \"child $!\"; wait";
        let spec = ContainerSpec::new("family", "sh")
            .args(["-c", script])
            .log_path(&log);
        let supervisor = Supervisor::start(spec).await.unwrap();
        wait_for_log(&log, "child ").await;
        let content = std::fs::read_to_string(&log).unwrap();
        let child: u32 = content
            .split("child ")
            .nth(1)
            .and_then(|rest| rest.trim().parse().ok())
            .expect("the log names the child's pid");
        supervisor.stop(Duration::from_millis(100));
        all_events(supervisor).await;
        // The child is not ours to reap (init adopts it), so give the kernel a
        // moment to deliver SIGKILL and init to collect it.
        for _ in 0..200 {
            if is_gone(child) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("the child process {child} survived the SIGKILL of its process group");
    })
    .await;
}

#[tokio::test]
async fn a_program_that_disappears_is_reported_and_retried() {
    guard(async {
        let tmp = tempfile::tempdir().unwrap();
        let program = tmp.path().join("vanish");
        std::fs::write(&program, "#!/bin/sh\nrm -- \"$0\"\nexit 1\n").unwrap();
        std::fs::set_permissions(&program, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
        let spec = ContainerSpec::new("vanish", program.display().to_string())
            .log_path(tmp.path().join("vanish.log"))
            .restart_policy(RestartPolicy::OnFailure)
            .backoff(fast_backoff());
        let mut supervisor = Supervisor::start(spec).await.unwrap();
        let mut events = events_until(&mut supervisor, |event| matches!(event, Event::StartFailed { .. })).await;
        supervisor.stop(Duration::from_secs(1));
        events.extend(all_events(supervisor).await);
        with_settings!({
            description => "OnFailure: a program that deletes itself and exits 1; stopped after the restart fails",
            omit_expression => true,
        }, {
            assert_snapshot!(chapter_01::redact(&timeline(&events), tmp.path()));
        });
    })
    .await;
}

#[tokio::test]
async fn the_environment_is_the_specs_and_nothing_else() {
    guard(async {
        let tmp = tempfile::tempdir().unwrap();
        let log = tmp.path().join("env.log");
        let spec = ContainerSpec::new("env", "env")
            .env("GREETING", "hello")
            .env("EMPTY", "")
            .log_path(&log)
            .restart_policy(RestartPolicy::Never);
        all_events(Supervisor::start(spec).await.unwrap()).await;
        let mut lines: Vec<String> = readable_log(&std::fs::read_to_string(&log).unwrap())
            .lines()
            .map(String::from)
            .collect();
        lines.sort();
        with_settings!({
            description => "the output of `env` (sorted): only the spec's variables and the default PATH, nothing inherited from the test",
            omit_expression => true,
        }, {
            assert_snapshot!(lines.join("\n"));
        });
    })
    .await;
}

#[tokio::test]
async fn the_arguments_and_working_dir_are_the_specs() {
    guard(async {
        let tmp = tempfile::tempdir().unwrap();
        let log = tmp.path().join("args.log");
        let spec = ContainerSpec::new("args", "sh")
            .args(["-c", "pwd; printf '[%s]\\n' \"$@\"", "sh", "two words", "", "*"])
            .working_dir(tmp.path())
            .log_path(&log)
            .restart_policy(RestartPolicy::Never);
        all_events(Supervisor::start(spec).await.unwrap()).await;
        let content = chapter_01::redact(&std::fs::read_to_string(&log).unwrap(), tmp.path());
        with_settings!({
            description => "pwd, then each argument in brackets: a space, an empty string and * reach the program as they are, not split or expanded",
            omit_expression => true,
        }, {
            assert_snapshot!(readable_log(&content));
        });
    })
    .await;
}
