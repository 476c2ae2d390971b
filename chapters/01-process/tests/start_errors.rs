//! A bad spec is an error value naming what is wrong, and nothing starts.

use std::fmt::Write;

use chapter_01::process::{ContainerSpec, Supervisor};
use chapter_01::{guard, redact};
use insta::{assert_snapshot, with_settings};

#[tokio::test]
async fn bad_specs_are_refused_with_the_path_in_the_message() {
    guard(async {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        std::fs::write(root.join("plain-file"), "not a directory\n").unwrap();
        std::fs::write(root.join("script.sh"), "#!/bin/sh\necho hi\n").unwrap();
        let log = root.join("logs/app.log");
        let cases = [
            (
                "a command that is not installed",
                ContainerSpec::new("a", "no-such-command-k8s-mini").log_path(&log),
            ),
            (
                "a path that does not exist",
                ContainerSpec::new("b", format!("{}/missing", root.display())).log_path(&log),
            ),
            (
                "a file without execute permission",
                ContainerSpec::new("c", "./script.sh")
                    .working_dir(root)
                    .log_path(&log),
            ),
            (
                "a working directory that does not exist",
                ContainerSpec::new("d", "true")
                    .working_dir(root.join("nowhere"))
                    .log_path(&log),
            ),
            (
                "a working directory that is a file",
                ContainerSpec::new("e", "true")
                    .working_dir(root.join("plain-file"))
                    .log_path(&log),
            ),
            (
                "a log directory that cannot be created",
                ContainerSpec::new("f", "true").log_path(root.join("plain-file/app.log")),
            ),
            (
                "an empty command",
                ContainerSpec::new("g", "").log_path(&log),
            ),
        ];
        let mut report = String::new();
        for (what, spec) in cases {
            match Supervisor::start(spec).await {
                Ok(_) => {
                    writeln!(report, "{what}:\n    started (it should have been refused)").unwrap()
                }
                Err(error) => writeln!(report, "{what}:\n    {error}").unwrap(),
            }
        }
        with_settings!({
            description => "Supervisor::start on bad specs: each error names the path or command",
            omit_expression => true,
        }, {
            assert_snapshot!(redact(&report, root));
        });
    })
    .await;
}
