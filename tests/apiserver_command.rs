//! `k8s-mini apiserver` end to end: the built binary, with a bearer token,
//! and its data kept across a restart. (Stock kubectl against it is
//! chapter 07's suite.)

mod api_server;

use api_server::ApiServer as Server;

fn request(
    server: &Server,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &str,
) -> (String, String) {
    server.request(method, path, token, body)
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
