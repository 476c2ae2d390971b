use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

/// The longest response read.
const MAX_RESPONSE: u64 = 16 * 1024 * 1024;
const TIMEOUT: Duration = Duration::from_secs(10);

/// A response as the echo client saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    pub status: u16,
    pub body: String,
}

/// A minimal HTTP GET, for containers that have no curl or wget: `url` is
/// `http://HOST[:PORT][/PATH]`, where HOST is best an IP address (a name
/// needs `/etc/hosts` or DNS in the container).
pub fn get(url: &str) -> Result<HttpResponse, String> {
    let rest = url
        .strip_prefix("http://")
        .ok_or("only http:// URLs are supported")?;
    let (authority, path) = match rest.find('/') {
        Some(slash) => (&rest[..slash], &rest[slash..]),
        None => (rest, "/"),
    };
    let (host, port) = split_host_port(authority)?;
    let addresses: Vec<_> = (host, port)
        .to_socket_addrs()
        .map_err(|error| format!("cannot resolve {host}: {error}"))?
        .collect();
    let mut stream = addresses
        .iter()
        .find_map(|address| TcpStream::connect_timeout(address, TIMEOUT).ok())
        .ok_or_else(|| format!("cannot connect to {authority}"))?;
    stream
        .set_read_timeout(Some(TIMEOUT))
        .and_then(|()| stream.set_write_timeout(Some(TIMEOUT)))
        .map_err(|error| error.to_string())?;
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {authority}\r\nUser-Agent: k8s-mini-echo\r\nConnection: close\r\n\r\n"
    );
    stream
        .write_all(request.as_bytes())
        .map_err(|error| format!("cannot send the request: {error}"))?;
    let mut response = Vec::new();
    stream
        .take(MAX_RESPONSE)
        .read_to_end(&mut response)
        .map_err(|error| format!("cannot read the response: {error}"))?;
    parse_response(&response)
}

fn split_host_port(authority: &str) -> Result<(&str, u16), String> {
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        let (host, after) = rest.split_once(']').ok_or("unclosed `[` in the URL")?;
        (host, after.strip_prefix(':'))
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    let port = match port {
        Some(port) => port
            .parse()
            .map_err(|_| format!("{port:?} is not a port number"))?,
        None => 80,
    };
    if host.is_empty() {
        return Err("the URL has no host".to_string());
    }
    Ok((host, port))
}

fn parse_response(response: &[u8]) -> Result<HttpResponse, String> {
    let split = response
        .windows(4)
        .position(|window| window == b"\r\n\r\n")
        .ok_or("the server closed the connection before a complete answer")?;
    let head = String::from_utf8_lossy(&response[..split]);
    let mut body = &response[split + 4..];
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|line| line.strip_prefix("HTTP/1."))
        .and_then(|rest| rest.split(' ').nth(1))
        .and_then(|code| code.parse::<u16>().ok())
        .ok_or("the answer is not HTTP")?;
    let length = lines
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, value)| value.trim().parse::<usize>().ok());
    if let Some(length) = length {
        body = &body[..length.min(body.len())];
    }
    Ok(HttpResponse {
        status,
        body: String::from_utf8_lossy(body).into_owned(),
    })
}
