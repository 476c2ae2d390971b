// Generated from solutions/03-filesystem/src/programs/http.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
use std::io::{self, BufRead, Read, Write};
use std::net::SocketAddr;

/// The longest request head (request line and headers) the server reads.
const MAX_HEAD: u64 = 8 * 1024;
/// The longest request body it reads (and throws away).
const MAX_BODY: u64 = 1024 * 1024;

/// What the echo server needs of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub method: String,
    /// The path and query, as sent: `/crash?code=3`.
    pub target: String,
    /// Who sent it.
    pub client: SocketAddr,
}

/// A request the server cannot answer normally: the status to send and
/// why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refused {
    pub status: u16,
    pub reason: String,
}

fn bad(reason: impl Into<String>) -> Refused {
    Refused {
        status: 400,
        reason: reason.into(),
    }
}

/// Splits `GET /path HTTP/1.1` into method and target, refusing anything
/// that is not a well-formed HTTP/1.x request line.
pub fn parse_request_line(line: &str) -> Result<(String, String), String> {
    let mut parts = line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err("the request line is not `METHOD TARGET HTTP/1.1`".to_string());
    };
    if method.is_empty() || !method.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(format!("{method:?} is not a method"));
    }
    if !target.starts_with('/') || target.bytes().any(|b| b.is_ascii_control()) {
        return Err(format!("{target:?} is not a path"));
    }
    if !matches!(version, "HTTP/1.0" | "HTTP/1.1") {
        return Err(format!("{version:?} is not HTTP/1.0 or HTTP/1.1"));
    }
    Ok((method.to_string(), target.to_string()))
}

/// Reads one request from `reader`: its head, and its body (which is
/// read so that closing the connection does not reset it, then dropped).
/// `None` when the client closed the connection without sending anything,
/// as TCP probes do.
pub(crate) fn read_request(
    reader: &mut impl BufRead,
    client: SocketAddr,
) -> Result<Option<Request>, Refused> {
    let mut head = reader.take(MAX_HEAD);
    let mut lines = Vec::new();
    loop {
        let mut line = Vec::new();
        let read = head
            .read_until(b'\n', &mut line)
            .map_err(|error| bad(format!("cannot read the request: {error}")))?;
        if read == 0 {
            if lines.is_empty() && line.is_empty() {
                return Ok(None);
            }
            return Err(if head.limit() == 0 {
                Refused {
                    status: 431,
                    reason: format!("the request head is longer than {MAX_HEAD} bytes"),
                }
            } else {
                bad("the request ended before its blank line")
            });
        }
        let line = String::from_utf8(line).map_err(|_| bad("the request is not UTF-8"))?;
        let line = line.trim_end_matches(['\r', '\n']).to_string();
        if line.is_empty() {
            if lines.is_empty() {
                continue; // Tolerated before the request line (RFC 9112).
            }
            break;
        }
        lines.push(line);
    }
    let (method, target) = parse_request_line(&lines[0]).map_err(bad)?;
    let mut length = 0;
    for header in &lines[1..] {
        let Some((name, value)) = header.split_once(':') else {
            return Err(bad(format!("{header:?} is not a header")));
        };
        if name.eq_ignore_ascii_case("content-length") {
            length = value
                .trim()
                .parse::<u64>()
                .map_err(|_| bad(format!("content-length {:?} is not a number", value.trim())))?;
        }
    }
    if length > MAX_BODY {
        return Err(Refused {
            status: 413,
            reason: format!("the body is longer than {MAX_BODY} bytes"),
        });
    }
    io::copy(&mut reader.take(length), &mut io::sink())
        .map_err(|error| bad(format!("cannot read the body: {error}")))?;
    Ok(Some(Request {
        method,
        target,
        client,
    }))
}

/// Writes a complete plain-text response; the connection closes after it.
pub(crate) fn write_response(
    writer: &mut impl Write,
    status: u16,
    body: &str,
    with_body: bool,
) -> io::Result<()> {
    let head = format!(
        "HTTP/1.1 {status} {}\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\
         Content-Length: {}\r\n\
         Connection: close\r\n\r\n",
        reason_phrase(status),
        body.len()
    );
    writer.write_all(head.as_bytes())?;
    if with_body {
        writer.write_all(body.as_bytes())?;
    }
    writer.flush()
}

fn reason_phrase(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        413 => "Content Too Large",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        _ => "Unknown",
    }
}
