//! The two ends of `bench proxy`'s traffic, the same whichever way it
//! goes: the "pod" (a minimal keep-alive HTTP/1.1 responder and a bulk
//! sender) and the clients that drive it over raw TCP.
//!
//! Kubernetes has no counterpart; these stand in for a web server in a pod
//! and a load generator (`wrk`, `iperf`), kept small so that what they
//! cost is the same tiny amount on both paths and the difference is the
//! proxy's.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The request the clients send: a GET with no body, as a browser's or a
/// health check's.
const REQUEST: &[u8] = b"GET / HTTP/1.1\r\nHost: bench\r\nUser-Agent: k8s-mini-bench\r\n\r\n";

/// The responder's answer to every request: a tiny body, keep-alive (the
/// HTTP/1.1 default).
const RESPONSE: &[u8] =
    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\nok\n";

/// The bulk sender writes, and the bulk client reads, in pieces this big
/// (as `iperf3`'s default 128 KiB, rounded up to a pipe-sized 256 KiB).
const CHUNK: usize = 256 * 1024;

/// How long one connection's part of a case may overrun its deadline
/// before the benchmark gives up on it (a request that never gets its
/// answer must not hang the run).
const OVERRUN: Duration = Duration::from_secs(30);

/// The "pod": answers each request with [`RESPONSE`] until the client
/// closes; runs until its runtime is dropped.
pub(super) async fn http_server(listener: TcpListener) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                tokio::spawn(async move {
                    if let Err(error) = http_connection(stream).await {
                        tracing::debug!(%error, "bench responder: connection failed");
                    }
                });
            }
            // Out of file descriptors, most likely: wait rather than spin.
            Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
        }
    }
}

/// One keep-alive connection: every complete request read (headers up to
/// the empty line; a GET has no body) gets its answer, pipelined ones too.
async fn http_connection(mut stream: TcpStream) -> anyhow::Result<()> {
    // As web servers do (Go's net/http, hyper with tokio): an answer goes
    // out at once, not after the client's ACK.
    stream.set_nodelay(true)?;
    let mut buffer = vec![0u8; 4096];
    let mut filled = 0;
    loop {
        let read = stream.read(&mut buffer[filled..]).await?;
        if read == 0 {
            return Ok(());
        }
        filled += read;
        let mut answers = 0;
        let mut start = 0;
        while let Some(end) = find_blank_line(&buffer[start..filled]) {
            answers += 1;
            start += end + 4;
        }
        buffer.copy_within(start..filled, 0);
        filled -= start;
        if filled == buffer.len() {
            bail!("a request's headers exceed {} bytes", buffer.len());
        }
        match answers {
            0 => {}
            1 => stream.write_all(RESPONSE).await?,
            many => stream.write_all(&RESPONSE.repeat(many)).await?,
        }
    }
}

/// The bulk "pod": writes `size` bytes to each connection, then closes it.
pub(super) async fn bulk_server(listener: TcpListener, size: u64) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                tokio::spawn(async move {
                    if let Err(error) = send(stream, size).await {
                        tracing::debug!(%error, "bench bulk sender: connection failed");
                    }
                });
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
        }
    }
}

async fn send(mut stream: TcpStream, size: u64) -> std::io::Result<()> {
    let chunk = vec![0x5a_u8; CHUNK];
    let mut left = size;
    while left > 0 {
        let piece = left.min(CHUNK as u64) as usize;
        stream.write_all(&chunk[..piece]).await?;
        left -= piece as u64;
    }
    stream.shutdown().await
}

/// What one request case measured on one path.
#[derive(Default)]
pub(super) struct Requests {
    /// Each request's time, from its write until its whole answer was read.
    pub latencies: Vec<Duration>,
    /// From the start of the first request until the last answer.
    pub elapsed: Duration,
}

impl Requests {
    pub fn add(&mut self, other: Requests) {
        self.latencies.extend(other.latencies);
        self.elapsed += other.elapsed;
    }

    pub fn per_second(&self) -> f64 {
        self.latencies.len() as f64 / self.elapsed.as_secs_f64()
    }
}

/// `connections` keep-alive connections to `address`, each sending a
/// request as soon as it has the previous answer, for `length`. The
/// connections are opened first and not timed: what is measured is the
/// requests.
pub(super) async fn requests(
    address: SocketAddr,
    connections: usize,
    length: Duration,
) -> anyhow::Result<Requests> {
    let mut streams = Vec::with_capacity(connections);
    for _ in 0..connections {
        let stream = tokio::time::timeout(OVERRUN, TcpStream::connect(address))
            .await
            .with_context(|| format!("connecting to {address} timed out"))?
            .with_context(|| format!("cannot connect to {address}"))?;
        // As HTTP clients do (Go's, hyper's): a request goes out at once.
        stream.set_nodelay(true)?;
        streams.push(stream);
    }
    let started = Instant::now();
    let deadline = started + length;
    let tasks: Vec<_> = streams
        .into_iter()
        .map(|stream| {
            tokio::spawn(tokio::time::timeout(
                length + OVERRUN,
                client(stream, deadline),
            ))
        })
        .collect();
    let mut measured = Requests::default();
    for task in tasks {
        let latencies = task
            .await?
            .with_context(|| format!("a connection to {address} stopped answering"))??;
        measured.latencies.extend(latencies);
    }
    measured.elapsed = started.elapsed();
    if measured.latencies.is_empty() {
        bail!("no request to {address} was answered in {length:?}");
    }
    Ok(measured)
}

/// Requests on one connection, one after the other, until `deadline`.
async fn client(mut stream: TcpStream, deadline: Instant) -> anyhow::Result<Vec<Duration>> {
    let mut buffer = vec![0u8; 4096];
    let mut latencies = Vec::with_capacity(1 << 16);
    loop {
        let started = Instant::now();
        if started >= deadline {
            return Ok(latencies);
        }
        stream.write_all(REQUEST).await?;
        read_response(&mut stream, &mut buffer).await?;
        latencies.push(started.elapsed());
    }
}

/// Reads one answer: a 200 status, the headers up to the empty line, then
/// as many bytes of body as its Content-Length says.
async fn read_response(stream: &mut TcpStream, buffer: &mut [u8]) -> anyhow::Result<()> {
    let mut filled = 0;
    let (end, length) = loop {
        if filled == buffer.len() {
            bail!("an answer's headers exceed {} bytes", buffer.len());
        }
        let read = stream.read(&mut buffer[filled..]).await?;
        if read == 0 {
            bail!("the connection closed before a whole answer");
        }
        filled += read;
        if let Some(end) = find_blank_line(&buffer[..filled]) {
            break (end + 4, content_length(&buffer[..end])?);
        }
    };
    if filled > end + length {
        bail!("more bytes than one answer (none was asked for)");
    }
    let mut left = end + length - filled;
    while left > 0 {
        let piece = left.min(buffer.len());
        let read = stream.read(&mut buffer[..piece]).await?;
        if read == 0 {
            bail!("the connection closed in an answer's body");
        }
        left -= read;
    }
    Ok(())
}

/// The Content-Length of a 200 answer's `head` (status line and headers).
fn content_length(head: &[u8]) -> anyhow::Result<usize> {
    let head = std::str::from_utf8(head).context("an answer's headers are not text")?;
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap_or_default();
    if !status.starts_with("HTTP/1.1 200 ") {
        bail!("the answer is not a 200: {status:?}");
    }
    for line in lines {
        if let Some((name, value)) = line.split_once(':')
            && name.trim().eq_ignore_ascii_case("content-length")
        {
            return value
                .trim()
                .parse()
                .with_context(|| format!("a bad Content-Length: {value:?}"));
        }
    }
    bail!("an answer without a Content-Length")
}

/// Where the empty line ending the headers starts.
fn find_blank_line(bytes: &[u8]) -> Option<usize> {
    bytes.windows(4).position(|window| window == b"\r\n\r\n")
}

/// One bulk transfer from `address`: connect, read and discard until the
/// sender closes; the time it took. Fails unless `size` bytes came.
pub(super) async fn bulk(
    address: SocketAddr,
    size: u64,
    limit: Duration,
) -> anyhow::Result<Duration> {
    let transfer = async {
        let started = Instant::now();
        let mut stream = TcpStream::connect(address)
            .await
            .with_context(|| format!("cannot connect to {address}"))?;
        let mut buffer = vec![0u8; CHUNK];
        let mut total = 0u64;
        loop {
            let read = stream.read(&mut buffer).await?;
            if read == 0 {
                break;
            }
            total += read as u64;
        }
        if total != size {
            bail!("{total} bytes came from {address}, not {size}");
        }
        Ok(started.elapsed())
    };
    tokio::time::timeout(limit, transfer)
        .await
        .with_context(|| format!("a transfer from {address} took over {limit:?}"))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_content_length_is_read_from_any_header_spelling() {
        let head = b"HTTP/1.1 200 OK\r\nServer: x\r\ncontent-LENGTH:  17 ";
        assert_eq!(content_length(head).unwrap(), 17);
        let head = &RESPONSE[..find_blank_line(RESPONSE).unwrap()];
        assert_eq!(content_length(head).unwrap(), 3);
    }

    #[test]
    fn an_answer_without_a_length_or_not_200_is_refused() {
        assert!(content_length(b"HTTP/1.1 200 OK\r\nServer: x").is_err());
        assert!(content_length(b"HTTP/1.1 503 Busy\r\nContent-Length: 0").is_err());
        assert!(content_length(b"HTTP/1.1 200 OK\r\nContent-Length: many").is_err());
    }

    #[tokio::test]
    async fn the_responder_answers_pipelined_requests_in_turn() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let server = tokio::spawn(http_server(listener));
        let mut stream = TcpStream::connect(address).await.unwrap();
        // Two requests in one write, the second split from a third.
        let mut bytes = REQUEST.repeat(2);
        bytes.extend_from_slice(&REQUEST[..10]);
        stream.write_all(&bytes).await.unwrap();
        let mut two = vec![0u8; 2 * RESPONSE.len()];
        stream.read_exact(&mut two).await.unwrap();
        assert_eq!(two, RESPONSE.repeat(2));
        stream.write_all(&REQUEST[10..]).await.unwrap();
        let mut buffer = vec![0u8; 4096];
        read_response(&mut stream, &mut buffer).await.unwrap();
        drop(stream);
        let measured = requests(address, 3, Duration::from_millis(50))
            .await
            .unwrap();
        assert!(measured.latencies.len() >= 3, "each connection got answers");
        server.abort();
    }

    #[tokio::test]
    async fn a_bulk_transfer_counts_every_byte() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let size = 3 * CHUNK as u64 + 5;
        let server = tokio::spawn(bulk_server(listener, size));
        bulk(address, size, OVERRUN).await.unwrap();
        let short = bulk(address, size + 1, OVERRUN).await.unwrap_err();
        assert!(short.to_string().contains("not"), "{short}");
        server.abort();
    }
}
