//! The official Python client (`pip install kubernetes`), unmodified, on
//! pods and deployments: it validates every answer against its models, so
//! a missing required field fails here.

use chapter_07::{Lab, guard, settings};
use insta::assert_snapshot;

const SCRIPT: &str = include_str!("fixtures/client.py");

#[tokio::test]
async fn the_python_client_works_unmodified() {
    guard(python()).await
}

async fn python() {
    let lab = Lab::start().await;
    let output = tokio::process::Command::new("python3")
        .args(["-c", SCRIPT])
        .env("KUBECONFIG", lab.kubeconfig())
        .output()
        .await
        .unwrap_or_else(|error| {
            panic!("\n\n*** this test needs python3 with the official Kubernetes client (python3 -m pip install kubernetes): {error} ***\n\n")
        });
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !stderr.contains("No module named 'kubernetes'"),
        "\n\n*** this test needs the official Kubernetes client: python3 -m pip install kubernetes ***\n\n"
    );
    assert!(
        output.status.success(),
        "the Python client failed:\n{stderr}"
    );
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    settings().bind(|| {
        insta::with_settings!({filters => vec![(r"created py1 \d+", "created py1 <rv>")]}, {
            assert_snapshot!(text);
        })
    });
    lab.stop().await;
}
