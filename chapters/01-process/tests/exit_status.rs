//! Hole: `ExitStatus::from_std` (src/exit.rs).

use chapter_01::process::ExitStatus;

fn run_shell(script: &str) -> std::process::ExitStatus {
    std::process::Command::new("sh")
        .args(["-c", script])
        .status()
        .expect("sh should run")
}

#[test]
fn an_exit_code_is_a_code() {
    assert_eq!(
        ExitStatus::from_std(run_shell("exit 0")),
        ExitStatus::Code(0)
    );
    assert_eq!(
        ExitStatus::from_std(run_shell("exit 3")),
        ExitStatus::Code(3)
    );
}

#[test]
fn a_killed_process_reports_the_signal() {
    assert_eq!(
        ExitStatus::from_std(run_shell("kill -KILL $$")),
        ExitStatus::Signal(9),
        "a shell that SIGKILLs itself was killed by signal 9; it did not exit with a code"
    );
    assert_eq!(
        ExitStatus::from_std(run_shell("kill -TERM $$")),
        ExitStatus::Signal(15)
    );
}

#[test]
fn kubernetes_shows_a_signal_as_128_plus_its_number() {
    assert_eq!(ExitStatus::Signal(9).kubernetes_code(), 137);
    assert_eq!(ExitStatus::Code(1).kubernetes_code(), 1);
    assert_eq!(ExitStatus::Signal(9).to_string(), "signal 9 (SIGKILL)");
}
