//! `k8s-mini run --isolate`: the binary as its own container init program.

use std::process::Command;

use insta::{assert_snapshot, with_settings};

const BINARY: &str = env!("CARGO_BIN_EXE_k8s-mini");

#[test]
fn an_isolated_process_sees_its_own_world() {
    let tmp = tempfile::tempdir().unwrap();
    let script = "hostname; ps -e -o comm=; sed -n '3,$p' /proc/net/dev | cut -d: -f1 | tr -d ' '";
    let output = Command::new(BINARY)
        .args([
            "run",
            "--isolate",
            "--hostname",
            "box",
            "--restart",
            "Never",
            "--name",
            "look",
        ])
        .args(["--log"])
        .arg(tmp.path().join("look.log"))
        .args(["--", "sh", "-c", script])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // Only the process's own output, without times or the supervisor's lines.
    let shown: Vec<String> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| {
            line.split_once(" look: stdout | ")
                .map(|(_, text)| text.to_string())
        })
        .collect();
    with_settings!({
        omit_expression => true,
        description => "k8s-mini run --isolate --hostname box: hostname, the processes, the network devices",
    }, {
        assert_snapshot!(shown.join("\n"));
    });
}
