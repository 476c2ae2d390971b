//! PID 1's duties: reap orphans, pass signals on, report the application's
//! exit exactly.

use std::time::Duration;

use chapter_02::{Lab, all_events, guard, wait_for_log};
use insta::{assert_snapshot, with_settings};

const INIT: &str = env!("CARGO_BIN_EXE_container-init");

#[tokio::test]
async fn orphans_are_reaped_not_left_as_zombies() {
    guard(async {
        let lab = Lab::new(INIT);
        // The inner shell starts `sleep 0` in the background and exits: the
        // sleep becomes an orphan, adopted by PID 1. Once it has exited, its
        // /proc entry goes away only if somebody reaps it.
        let script = r#"
            orphan=$(sh -c 'sleep 0 & echo $!')
            i=0
            while [ -e /proc/$orphan ] && [ $i -lt 500 ]; do sleep 0.01; i=$((i + 1)); done
            if [ -e /proc/$orphan ]; then echo "orphan left as: $(cut -d' ' -f2,3 /proc/$orphan/stat)"; else echo "orphan reaped"; fi
        "#;
        let report = lab.run(&lab.app("reaper", "sh", &["-c", script]), &lab.isolation()).await;
        with_settings!({
            description => "an orphan adopted by PID 1 exits: PID 1 must reap it (a zombie keeps its /proc entry, state Z)",
            omit_expression => true,
        }, {
            assert_snapshot!(report);
        });
        lab.assert_no_leaks();
    })
    .await;
}

#[tokio::test]
async fn sigterm_reaches_the_application() {
    guard(async {
        let lab = Lab::new(INIT);
        let script = "trap 'echo got SIGTERM, cleaning up; exit 0' TERM; echo ready; while :; do sleep 0.05; done";
        let app = lab.app("polite", "sh", &["-c", script]);
        let mut supervisor = lab.start(&app, &lab.isolation()).await;
        let mut events = wait_for_log(&mut supervisor, &lab.log_path("polite"), "ready").await;
        supervisor.stop(Duration::from_secs(20));
        events.extend(all_events(supervisor).await);
        with_settings!({
            description => "stop(20 s): SIGTERM goes to the init program, which passes it to PID 1, which passes it to the application",
            omit_expression => true,
        }, {
            assert_snapshot!(lab.report("polite", &events));
        });
        lab.assert_no_leaks();
    })
    .await;
}

#[tokio::test]
async fn a_stubborn_container_is_killed_whole() {
    guard(async {
        let lab = Lab::new(INIT);
        // Ignores SIGTERM and has a child that ignores it too.
        let script = "trap '' TERM; sleep 60 & echo ready; wait";
        let app = lab.app("stubborn", "sh", &["-c", script]);
        let mut supervisor = lab.start(&app, &lab.isolation()).await;
        let mut events = wait_for_log(&mut supervisor, &lab.log_path("stubborn"), "ready").await;
        supervisor.stop(Duration::from_millis(200));
        events.extend(all_events(supervisor).await);
        with_settings!({
            description => "stop(200 ms) on a container that ignores SIGTERM: SIGKILL, and nothing of it survives",
            omit_expression => true,
        }, {
            assert_snapshot!(lab.report("stubborn", &events));
        });
        lab.assert_no_leaks();
    })
    .await;
}

#[tokio::test]
async fn the_supervisor_sees_the_applications_exit() {
    guard(async {
        let lab = Lab::new(INIT);
        let isolation = lab.isolation();
        let code = lab.run(&lab.app("code", "sh", &["-c", "exit 3"]), &isolation).await;
        let killed = lab.run(&lab.app("killed", "sh", &["-c", "kill -KILL $$"]), &isolation).await;
        let terminated = lab.run(&lab.app("terminated", "sh", &["-c", "kill -TERM $$"]), &isolation).await;
        with_settings!({
            description => "`exit 3`, `kill -KILL $$` and `kill -TERM $$` in containers: the supervisor sees exactly what the application did",
            omit_expression => true,
        }, {
            assert_snapshot!(format!("{code}\n\n{killed}\n\n{terminated}"));
        });
        lab.assert_no_leaks();
    })
    .await;
}

#[tokio::test]
async fn real_time_signals_reach_the_application() {
    guard(async {
        let lab = Lab::new(INIT);
        // SIGRTMIN+3 is a number with no name of its own (systemd uses it
        // to ask for a halt); the shell catches it by number.
        let number = libc::SIGRTMIN() + 3;
        let script = format!(
            "trap 'echo got SIGRTMIN+3, stopping; exit 0' {number}; echo ready; while :; do sleep 0.05; done"
        );
        let app = lab.app("realtime", "sh", &["-c", &script]);
        let mut supervisor = lab.start(&app, &lab.isolation()).await;
        let mut events = wait_for_log(&mut supervisor, &lab.log_path("realtime"), "ready").await;
        let Some(process::Event::Started { pid, .. }) = events.first().cloned() else {
            panic!("the container did not start:\n{}", lab.report("realtime", &events));
        };
        // SAFETY: kill only sends a signal, to the init program we started.
        unsafe { libc::kill(pid as libc::pid_t, number) };
        events.extend(all_events(supervisor).await);
        with_settings!({
            description => "SIGRTMIN+3 sent to the init program: it passes it to PID 1, which passes it to the application, whose trap exits 0",
            omit_expression => true,
        }, {
            assert_snapshot!(lab.report("realtime", &events));
        });
        lab.assert_no_leaks();
    })
    .await;
}
