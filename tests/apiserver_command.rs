//! `k8s-mini apiserver` end to end: the built binary, with a bearer token,
//! and its data kept across a restart. (Stock kubectl against it is
//! chapter 07's suite.)

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

const BINARY: &str = env!("CARGO_BIN_EXE_k8s-mini");

/// The server, stopped (SIGTERM, by pid) when dropped.
struct Server {
    child: Child,
    url: String,
}

impl Server {
    fn start(data_dir: &std::path::Path, token_file: &std::path::Path) -> Server {
        let mut child = Command::new(BINARY)
            .arg("--data-dir")
            .arg(data_dir)
            .args(["apiserver", "--listen", "127.0.0.1:0", "--token-file"])
            .arg(token_file)
            .stderr(Stdio::piped())
            .spawn()
            .expect("k8s-mini starts");
        let stderr = child.stderr.take().expect("stderr");
        let mut lines = BufReader::new(stderr).lines();
        let url = loop {
            let line = lines
                .next()
                .expect("the server says where it serves")
                .expect("readable");
            if let Some(rest) = line.split("serving the Kubernetes API on ").nth(1) {
                break rest
                    .split_whitespace()
                    .next()
                    .expect("an address")
                    .to_string();
            }
        };
        Server { child, url }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        let _ = self.child.wait();
    }
}

/// One HTTP request (clients other than kubectl: kubectl sends a bearer
/// token only over https, so it cannot use one here); the status line and
/// the body.
fn request(
    server: &Server,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &str,
) -> (String, String) {
    use std::io::{Read, Write};
    let address = server.url.trim_start_matches("http://");
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

#[test]
fn the_api_server_takes_only_its_token_and_keeps_its_data() {
    let tmp = tempfile::tempdir().unwrap();
    let token_file = tmp.path().join("token");
    std::fs::write(&token_file, "s3cret-token\n").unwrap();
    let data = tmp.path().join("data");
    let server = Server::start(&data, &token_file);
    let (refused, body) = request(&server, "GET", "/api/v1/namespaces", None, "");
    assert_eq!(refused, "HTTP/1.1 401 Unauthorized", "{body}");
    assert!(body.contains("\"reason\":\"Unauthorized\""), "{body}");
    let (wrong, _) = request(&server, "GET", "/api/v1/namespaces", Some("guess"), "");
    assert_eq!(wrong, "HTTP/1.1 401 Unauthorized");
    let namespace = r#"{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"kept"}}"#;
    let (created, body) = request(
        &server,
        "POST",
        "/api/v1/namespaces",
        Some("s3cret-token"),
        namespace,
    );
    assert_eq!(created, "HTTP/1.1 201 Created", "{body}");
    drop(server);
    // The store is on disk: a new server finds the namespace.
    let server = Server::start(&data, &token_file);
    let (found, body) = request(
        &server,
        "GET",
        "/api/v1/namespaces/kept",
        Some("s3cret-token"),
        "",
    );
    assert_eq!(found, "HTTP/1.1 200 OK", "{body}");
}
