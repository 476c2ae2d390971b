//! The sockets: one UDP socket and one TCP listener on the same port, a
//! task per UDP query and per TCP connection (mini-redis's shape), a bound
//! on how many run at once, and a stop signal every loop listens to.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinHandle;

use super::handler::{Handler, Transport};

/// A TCP connection with no query for this long is closed (RFC 7766 asks
/// servers to close idle connections; CoreDNS waits 10 s too).
const TCP_IDLE: Duration = Duration::from_secs(10);
/// The largest UDP query read: EDNS clients may send up to 4096 bytes.
const UDP_BUFFER: usize = 4096;
/// How often binding the UDP socket on the TCP listener's free port is tried.
const BIND_ATTEMPTS: usize = 10;

/// Binds UDP and TCP on `listen`. With port 0, both get the same free
/// port: TCP picks it, UDP takes it if it can (else another try).
pub async fn bind(listen: SocketAddr) -> io::Result<(UdpSocket, TcpListener)> {
    let mut last = None;
    for _ in 0..BIND_ATTEMPTS {
        let tcp = TcpListener::bind(listen).await?;
        match UdpSocket::bind(tcp.local_addr()?).await {
            Ok(udp) => return Ok((udp, tcp)),
            Err(err) if listen.port() == 0 && err.kind() == io::ErrorKind::AddrInUse => {
                last = Some(err)
            }
            Err(err) => return Err(err),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::other("no free port for both UDP and TCP")))
}

/// Starts the UDP and TCP loops; they end when `stop` turns true.
pub fn spawn(
    handler: Arc<Handler>,
    udp: UdpSocket,
    tcp: TcpListener,
    max_in_flight: usize,
    stop: watch::Receiver<bool>,
) -> Vec<JoinHandle<()>> {
    let limit = Arc::new(Semaphore::new(max_in_flight.max(1)));
    vec![
        tokio::spawn(serve_udp(
            Arc::clone(&handler),
            Arc::new(udp),
            Arc::clone(&limit),
            stop.clone(),
        )),
        tokio::spawn(serve_tcp(handler, tcp, limit, stop)),
    ]
}

async fn serve_udp(
    handler: Arc<Handler>,
    socket: Arc<UdpSocket>,
    limit: Arc<Semaphore>,
    mut stop: watch::Receiver<bool>,
) {
    let mut buffer = vec![0; UDP_BUFFER];
    loop {
        let (n, peer) = tokio::select! {
            () = stopped(&mut stop) => return,
            received = socket.recv_from(&mut buffer) => match received {
                Ok(received) => received,
                // An ICMP error from an earlier reply: nothing to do.
                Err(err) => {
                    tracing::debug!("UDP receive: {err}");
                    continue;
                }
            },
        };
        // Past the bound the query is dropped: the client asks again
        // (resolvers retry after a second), and the server stays bounded.
        let Ok(permit) = Arc::clone(&limit).try_acquire_owned() else {
            tracing::debug!(%peer, "too many queries in flight; dropped one");
            continue;
        };
        let query = buffer[..n].to_vec();
        let handler = Arc::clone(&handler);
        let socket = Arc::clone(&socket);
        tokio::spawn(async move {
            if let Some(reply) = handler.handle(&query, Transport::Udp).await
                && let Err(err) = socket.send_to(&reply, peer).await
            {
                tracing::debug!(%peer, "UDP send: {err}");
            }
            drop(permit);
        });
    }
}

async fn serve_tcp(
    handler: Arc<Handler>,
    listener: TcpListener,
    limit: Arc<Semaphore>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        // Wait for room before accepting: past the bound, connections
        // queue in the kernel's backlog instead of in our memory.
        let permit = tokio::select! {
            () = stopped(&mut stop) => return,
            permit = Arc::clone(&limit).acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => return,
            },
        };
        let (stream, peer) = tokio::select! {
            () = stopped(&mut stop) => return,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    // Out of descriptors, most likely: give others time to close.
                    tracing::warn!("TCP accept: {err}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let handler = Arc::clone(&handler);
        let stop = stop.clone();
        tokio::spawn(async move {
            if let Err(err) = connection(&handler, stream, stop).await {
                tracing::debug!(%peer, "TCP connection: {err}");
            }
            drop(permit);
        });
    }
}

/// Serves the queries of one TCP connection, one after the other, each
/// framed by a two-byte length (RFC 1035 4.2.2).
async fn connection(
    handler: &Handler,
    mut stream: TcpStream,
    mut stop: watch::Receiver<bool>,
) -> io::Result<()> {
    loop {
        let length = tokio::select! {
            () = stopped(&mut stop) => return Ok(()),
            length = tokio::time::timeout(TCP_IDLE, stream.read_u16()) => match length {
                Err(_) => return Ok(()),
                Ok(Err(err)) if err.kind() == io::ErrorKind::UnexpectedEof => return Ok(()),
                Ok(length) => length?,
            },
        };
        let mut query = vec![0; usize::from(length)];
        tokio::time::timeout(TCP_IDLE, stream.read_exact(&mut query))
            .await
            .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "query cut short"))??;
        let Some(reply) = handler.handle(&query, Transport::Tcp).await else {
            return Ok(());
        };
        let length = u16::try_from(reply.len())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "reply too long"))?;
        let mut framed = Vec::with_capacity(reply.len() + 2);
        framed.extend_from_slice(&length.to_be_bytes());
        framed.extend_from_slice(&reply);
        stream.write_all(&framed).await?;
    }
}

/// Returns when the stop signal is (or has been) given, or its sender is gone.
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|stop| *stop).await;
}
