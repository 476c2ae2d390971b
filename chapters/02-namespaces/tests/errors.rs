//! What goes wrong inside the container is reported, with the path in it.

use chapter_02::{Lab, guard};
use insta::{assert_snapshot, with_settings};

const INIT: &str = env!("CARGO_BIN_EXE_container-init");

#[tokio::test]
async fn bad_commands_and_settings_are_reported_in_the_log() {
    guard(async {
        let lab = Lab::new(INIT);
        let script = lab.tmp.path().join("script.sh");
        std::fs::write(&script, "#!/bin/sh\necho hi\n").unwrap();
        let isolation = lab.isolation();
        let mut reports = Vec::new();
        let missing = lab.app("missing", "no-such-command-k8s-mini", &[]);
        reports.push(("a command that does not exist", lab.run(&missing, &isolation).await));
        let not_executable = lab.app("not-executable", &script.display().to_string(), &[]);
        reports.push(("a file without execute permission", lab.run(&not_executable, &isolation).await));
        let nowhere = lab.app("nowhere", "true", &[]).working_dir(lab.tmp.path().join("nowhere"));
        reports.push(("a working directory that does not exist", lab.run(&nowhere, &isolation).await));
        let mut long_name = isolation.clone();
        long_name.hostname = Some("h".repeat(100));
        reports.push(("a hostname longer than 64 bytes", lab.run(&lab.app("hostname", "true", &[]), &long_name).await));
        let text: Vec<String> = reports.iter().map(|(what, report)| format!("--- {what}\n{report}")).collect();
        with_settings!({
            description => "containers that cannot start: 127 for a missing command, 126 for one that cannot run, 125 for a setup failure, each with a message in the log",
            omit_expression => true,
        }, {
            assert_snapshot!(text.join("\n\n"));
        });
        lab.assert_no_leaks();
    })
    .await;
}
