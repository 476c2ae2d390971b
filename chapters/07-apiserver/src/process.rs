//! The API server as a separate program (the suite's `apiserver` binary),
//! for the tests that kill it with SIGKILL and start it again.

use std::ffi::OsStr;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// Starts `binary` with `args`; returns it and its URL once it says
/// `listening on URL` (within 30 s). It is killed when dropped.
pub async fn start_server_program(binary: &str, args: &[impl AsRef<OsStr>]) -> (Child, String) {
    let mut child = Command::new(binary)
        .args(args)
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("the server starts");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .expect("the server says where it listens within 30 s")
        .expect("readable")
        .expect("a line");
    let url = line
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line: {line}"))
        .to_string();
    (child, url)
}
