//! `k8s-mini apiserver` as a child process of a test, on a free loopback
//! port, stopped (SIGTERM, by its pid) when dropped.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

const BINARY: &str = env!("CARGO_BIN_EXE_k8s-mini");

pub struct ApiServer {
    child: Child,
    pub url: String,
}

impl ApiServer {
    /// Starts it with its data under `data_dir` and these extra options;
    /// returns once it says where it serves.
    pub fn start(data_dir: &Path, options: &[&str]) -> ApiServer {
        let mut child = Command::new(BINARY)
            .arg("--data-dir")
            .arg(data_dir)
            .args(["apiserver", "--listen", "127.0.0.1:0"])
            .args(options)
            .stderr(Stdio::piped())
            .spawn()
            .expect("k8s-mini starts");
        let stderr = child.stderr.take().expect("stderr");
        for line in BufReader::new(stderr).lines() {
            let line = line.expect("readable");
            if let Some(rest) = line.split("serving the Kubernetes API on ").nth(1) {
                let url = rest
                    .split_whitespace()
                    .next()
                    .expect("an address")
                    .to_string();
                return ApiServer { child, url };
            }
        }
        let _ = child.wait();
        panic!("the API server ended before it served");
    }
}

impl Drop for ApiServer {
    fn drop(&mut self) {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        let _ = self.child.wait();
    }
}
