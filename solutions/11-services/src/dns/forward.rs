//! Names outside the cluster domain go to the host's resolver, as CoreDNS's
//! `forward . /etc/resolv.conf` sends them: the query's bytes as they came,
//! the upstream's reply as it comes back. A bounded wait keeps a dead
//! upstream from hanging the pod that asked: it gets SERVFAIL instead.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};

/// The largest reply a UDP upstream may send (EDNS's usual ceiling).
const MAX_UDP_REPLY: usize = 4096;

/// The first `nameserver` of a resolv.conf's text, the one the C library
/// asks first. Comments (`#`, `;`) and other options are skipped.
pub fn first_nameserver(resolv_conf: &str) -> Option<IpAddr> {
    resolv_conf.lines().find_map(|line| {
        let line = line.split(['#', ';']).next().unwrap_or("");
        let mut words = line.split_whitespace();
        match (words.next(), words.next()) {
            // An IPv6 address may carry a zone (`fe80::1%eth0`): not ours to reach.
            (Some("nameserver"), Some(address)) => address.parse().ok(),
            _ => None,
        }
    })
}

/// The upstream resolver for `/etc/resolv.conf` on this host.
pub fn host_upstream() -> io::Result<SocketAddr> {
    let text = std::fs::read_to_string("/etc/resolv.conf")?;
    let ip = first_nameserver(&text).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::NotFound,
            "/etc/resolv.conf names no nameserver",
        )
    })?;
    Ok(SocketAddr::new(ip, 53))
}

/// Sends `query` to `upstream` over UDP and returns its reply, or an
/// error after `timeout`. Replies with another ID (a late answer to an
/// earlier query, a spoofing attempt) are skipped.
pub async fn over_udp(
    query: &[u8],
    upstream: SocketAddr,
    timeout: Duration,
) -> io::Result<Vec<u8>> {
    let local: SocketAddr = match upstream.ip() {
        IpAddr::V4(_) => (Ipv4Addr::UNSPECIFIED, 0).into(),
        IpAddr::V6(_) => (Ipv6Addr::UNSPECIFIED, 0).into(),
    };
    let exchange = async {
        let socket = UdpSocket::bind(local).await?;
        socket.connect(upstream).await?;
        socket.send(query).await?;
        let mut buffer = vec![0; MAX_UDP_REPLY];
        loop {
            let n = socket.recv(&mut buffer).await?;
            if n >= 2 && query.len() >= 2 && buffer[..2] == query[..2] {
                buffer.truncate(n);
                return Ok(buffer);
            }
        }
    };
    within(timeout, exchange).await
}

/// Sends `query` to `upstream` over TCP (two-byte length prefix, RFC 1035
/// 4.2.2) and returns its reply, or an error after `timeout`.
pub async fn over_tcp(
    query: &[u8],
    upstream: SocketAddr,
    timeout: Duration,
) -> io::Result<Vec<u8>> {
    let exchange = async {
        let mut stream = TcpStream::connect(upstream).await?;
        let length = u16::try_from(query.len())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "query too long"))?;
        let mut framed = Vec::with_capacity(query.len() + 2);
        framed.extend_from_slice(&length.to_be_bytes());
        framed.extend_from_slice(query);
        stream.write_all(&framed).await?;
        let length = stream.read_u16().await?;
        let mut reply = vec![0; usize::from(length)];
        stream.read_exact(&mut reply).await?;
        Ok(reply)
    };
    within(timeout, exchange).await
}

async fn within<T>(
    timeout: Duration,
    work: impl std::future::Future<Output = io::Result<T>>,
) -> io::Result<T> {
    tokio::time::timeout(timeout, work)
        .await
        .unwrap_or_else(|_| {
            Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the upstream resolver did not answer in time",
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_nameserver_wins() {
        let text = "# generated\nsearch example.com\nnameserver 127.0.0.53 # stub\nnameserver 8.8.8.8\noptions edns0\n";
        assert_eq!(first_nameserver(text), Some("127.0.0.53".parse().unwrap()));
        assert_eq!(
            first_nameserver("nameserver ::1\n"),
            Some("::1".parse().unwrap())
        );
        assert_eq!(first_nameserver("; nameserver 1.1.1.1\nsearch x\n"), None);
    }
}
