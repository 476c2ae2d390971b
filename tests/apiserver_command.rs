//! `k8s-mini apiserver` end to end: the built binary, with a bearer token,
//! and its data kept across a restart. (Stock kubectl against it is
//! chapter 07's suite.)

mod api_server;

use api_server::ApiServer as Server;

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
    let server = Server::start(&data, &["--token-file", token_file.to_str().unwrap()]);
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
    let server = Server::start(&data, &["--token-file", token_file.to_str().unwrap()]);
    let (found, body) = request(
        &server,
        "GET",
        "/api/v1/namespaces/kept",
        Some("s3cret-token"),
        "",
    );
    assert_eq!(found, "HTTP/1.1 200 OK", "{body}");
}
