//! HTTP GET probes, spoken over a plain TCP stream: the kubelet needs one
//! request line, three headers and the status code of the answer, which is
//! less than an HTTP client library would bring.

use std::net::IpAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::outcome::{Outcome, net_error};
use super::spec::HttpGet;

/// The kubelet's `User-Agent`: `kube-probe/<major>.<minor>` of the
/// Kubernetes version it imitates. Applications sometimes use it to keep
/// probes out of their access logs.
pub const USER_AGENT: &str = "kube-probe/1.32";

/// The most of the response read while looking for the status line; a
/// server that sends more without a line break is not speaking HTTP.
pub const MAX_STATUS_LINE: usize = 10 * 1024;

/// `host:port`, with brackets around an IPv6 address.
pub fn authority(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// The path as it goes on the request line: never empty, always absolute.
pub fn request_path(path: &str) -> String {
    if path.starts_with('/') {
        path.to_string()
    } else {
        format!("/{path}")
    }
}

// ANCHOR: request
/// The request the kubelet sends for `get` to `authority` (`ip:port`).
///
/// `Connection: close` because every probe uses a fresh connection: a
/// probe that reused a kept-alive connection would not notice that the
/// server stopped accepting new ones.
pub fn request(get: &HttpGet, authority: &str) -> String {
    // exercise 3: the HTTP/1.1 GET request text that the kubelet sends for `get` to `authority`
    // hint: An HTTP/1.1 request is text: a request line, header lines, an empty line, each ended by \r\n. `request_path` (given) makes the path. Look at a real one: `curl -v http://127.0.0.1:8080/` prints what it sends.
    // hint: The kubelet sends Host (the authority), User-Agent (USER_AGENT), Accept (`*/*`) and `Connection: close`, in that order; a custom header named Host, User-Agent or Accept (compare without case) replaces the default value (an empty Accept drops that line); the other custom headers follow, in their order.
    // hint: custom(name) = the first get.headers value whose name eq_ignore_ascii_case(name). Text: "GET {request_path(&get.path)} HTTP/1.1\r\n", "Host: {custom Host or authority}\r\n", "User-Agent: {custom or USER_AGENT}\r\n", "Accept: {custom or */*}\r\n" unless empty, "Connection: close\r\n", then each header not one of those three as "{name}: {value}\r\n", then "\r\n".
    let custom = |name: &str| {
        get.headers
            .iter()
            .find(|header| header.name.eq_ignore_ascii_case(name))
            .map(|header| header.value.as_str())
    };
    let host = custom("Host").unwrap_or(authority);
    let user_agent = custom("User-Agent").unwrap_or(USER_AGENT);
    let accept = custom("Accept").unwrap_or("*/*");

    let mut text = format!("GET {} HTTP/1.1\r\n", request_path(&get.path));
    text.push_str(&format!("Host: {host}\r\n"));
    text.push_str(&format!("User-Agent: {user_agent}\r\n"));
    if !accept.is_empty() {
        text.push_str(&format!("Accept: {accept}\r\n"));
    }
    text.push_str("Connection: close\r\n");
    for header in &get.headers {
        let replaced = ["Host", "User-Agent", "Accept"]
            .iter()
            .any(|name| header.name.eq_ignore_ascii_case(name));
        if !replaced {
            text.push_str(&format!("{}: {}\r\n", header.name, header.value));
        }
    }
    text.push_str("\r\n");
    text
}
// ANCHOR_END: request

// ANCHOR: parse_status_line
/// The status code of a response's first line (without its line break),
/// as in `HTTP/1.1 200 OK`. The errors read like Go's HTTP client's.
pub fn parse_status_line(line: &str) -> Result<u16, String> {
    // exercise 4: the status code of a response's first line, like `HTTP/1.1 200 OK`, or an error saying what is malformed
    // hint: A status line is `<version> <code> <reason>`, split by spaces; the reason may be missing or contain spaces itself. The errors read like Go's HTTP client's (see the tests).
    // hint: Split once at the first space (no space: `malformed HTTP response {line:?}`). The code runs up to the next space and must be exactly three ASCII digits (`malformed HTTP status code {code:?}`). The version must be HTTP/1.0 or HTTP/1.1 (`malformed HTTP version {version:?}`), checked after the code.
    // hint: let Some((version, rest)) = line.split_once(' ') else { Err(...) }; code = rest.split(' ').next().unwrap_or(rest); check code.len() == 3 and code.bytes().all(|b| b.is_ascii_digit()); check the version; code.parse() (mapping the error to the status-code message).
    let Some((version, rest)) = line.split_once(' ') else {
        return Err(format!("malformed HTTP response {line:?}"));
    };
    let code = rest.split(' ').next().unwrap_or(rest);
    if code.len() != 3 || !code.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err(format!("malformed HTTP status code {code:?}"));
    }
    if version != "HTTP/1.0" && version != "HTTP/1.1" {
        return Err(format!("malformed HTTP version {version:?}"));
    }
    code.parse()
        .map_err(|_| format!("malformed HTTP status code {code:?}"))
}
// ANCHOR_END: parse_status_line

// ANCHOR: verdict
/// What a status code means for the probe.
///
/// A redirect is not followed (the kubelet follows one only to the same
/// host; k8s-mini never does) and counts as success with a warning: the
/// server answered, which is what the probe wanted to know.
pub fn verdict(code: u16) -> Outcome {
    match code {
        200..=299 => Outcome::Success,
        300..=399 => Outcome::Warning("Probe terminated redirects".to_string()),
        _ => Outcome::Failure(format!("HTTP probe failed with statuscode: {code}")),
    }
}
// ANCHOR_END: verdict

/// Runs one HTTP GET probe against `pod_ip` (or `get.host`), giving up
/// after `timeout`.
pub async fn probe(get: &HttpGet, pod_ip: IpAddr, timeout: Duration) -> Outcome {
    let host = get.host.clone().unwrap_or_else(|| pod_ip.to_string());
    let authority = authority(&host, get.port);
    let url = format!("http://{authority}{}", request_path(&get.path));
    match tokio::time::timeout(timeout, exchange(get, &authority)).await {
        Err(_) => Outcome::Failure(format!(
            "Get {url:?}: context deadline exceeded (Client.Timeout exceeded while awaiting headers)"
        )),
        Ok(Err(message)) => Outcome::Failure(format!("Get {url:?}: {message}")),
        Ok(Ok(code)) => verdict(code),
    }
}

/// Connects, sends the request, reads up to the end of the status line.
async fn exchange(get: &HttpGet, authority: &str) -> Result<u16, String> {
    let mut stream = TcpStream::connect(authority)
        .await
        .map_err(|error| format!("dial tcp {authority}: {}", net_error(&error)))?;
    stream
        .write_all(request(get, authority).as_bytes())
        .await
        .map_err(|error| net_error(&error))?;
    let mut head = Vec::new();
    let mut buffer = [0u8; 1024];
    let line_end = loop {
        if let Some(end) = head.windows(2).position(|pair| pair == b"\r\n") {
            break end;
        }
        if head.len() >= MAX_STATUS_LINE {
            return Err("net/http: response status line too long".to_string());
        }
        let read = stream
            .read(&mut buffer)
            .await
            .map_err(|error| net_error(&error))?;
        if read == 0 {
            return Err("EOF".to_string());
        }
        head.extend_from_slice(&buffer[..read]);
    };
    parse_status_line(&String::from_utf8_lossy(&head[..line_end]))
}
