use std::path::Path;
use std::time::Duration;

use tokio::io::AsyncWriteExt;

/// Runs stock kubectl (`program`) with `kubeconfig`, a cache and `HOME` of
/// its own under `home`, and `input` on its standard input; returns stdout
/// and stderr as one text, with the exit code at the end when it failed.
/// `suite` names the chapter in the message when kubectl is missing.
pub async fn run_kubectl(
    program: &Path,
    kubeconfig: &Path,
    home: &Path,
    args: &[&str],
    input: Option<&str>,
    suite: &str,
) -> String {
    let mut child = tokio::process::Command::new(program)
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .arg("--cache-dir")
        .arg(home.join("kube-cache"))
        .args(args)
        .env("HOME", home)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|error| {
            panic!("\n\n*** {suite} drives stock kubectl, which is not installed ({error}) ***\n\n")
        });
    let mut stdin = child.stdin.take().expect("stdin");
    if let Some(input) = input {
        stdin
            .write_all(input.as_bytes())
            .await
            .expect("kubectl reads");
    }
    drop(stdin);
    let output = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .expect("kubectl ends within a minute")
        .expect("kubectl runs");
    let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&output.stderr));
    if !output.status.success() {
        text.push_str(&format!(
            "(exit code {})\n",
            output.status.code().unwrap_or(-1)
        ));
    }
    text
}
