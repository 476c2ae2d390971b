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
    /// One HTTP request (clients other than kubectl: kubectl sends a bearer
    /// token only over https, so it cannot use one here); the status line
    /// and the body.
    #[allow(dead_code)] // not every test file sends raw requests
    pub fn request(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: &str,
    ) -> (String, String) {
        use std::io::{Read, Write};
        let address = self.url.trim_start_matches("http://");
        let mut stream = std::net::TcpStream::connect(address).expect("the server listens");
        let auth = token
            .map(|token| format!("Authorization: Bearer {token}\r\n"))
            .unwrap_or_default();
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: {address}\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        let status = answer.lines().next().unwrap_or_default().to_string();
        let body = answer
            .split("\r\n\r\n")
            .nth(1)
            .unwrap_or_default()
            .to_string();
        (status, body)
    }

    /// Starts it with its data under `data_dir` and these extra options;
    /// returns once it says where it serves.
    pub fn start(data_dir: &Path, options: &[&str]) -> ApiServer {
        ApiServer::start_on("127.0.0.1:0", data_dir, options)
    }

    /// Starts it on `address` (a server started again where it was).
    pub fn start_on(address: &str, data_dir: &Path, options: &[&str]) -> ApiServer {
        let mut child = Command::new(BINARY)
            .arg("--data-dir")
            .arg(data_dir)
            .args(["apiserver", "--listen", address])
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

impl ApiServer {
    /// SIGKILL, by its pid: the server crashes.
    #[allow(dead_code)] // only the restart tests crash it
    pub fn kill(mut self) {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL).unwrap();
        let _ = self.child.wait();
    }
}

impl Drop for ApiServer {
    fn drop(&mut self) {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        let _ = self.child.wait();
    }
}
