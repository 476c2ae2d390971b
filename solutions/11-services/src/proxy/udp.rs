//! A UDP Service port. UDP has no connections, so the proxy makes
//! "associations": the first datagram from a client address picks an
//! endpoint and opens a socket connected to it; the client's later
//! datagrams go out on that socket, and the endpoint's replies come back
//! to the client from the listening socket, so from the ClusterIP:port
//! (or NodePort) the client sent to. An association ends after
//! [`Shared::udp_idle`] without traffic either way, or when the endpoint
//! refuses (ICMP port unreachable): the next datagram then picks again.
//!
//! Kubernetes: the userspace kube-proxy's `udpProxySocket`, whose
//! `--udp-timeout` (250 ms by default) ended idle associations.

use std::collections::HashMap;
use std::net::{SocketAddr, SocketAddrV4};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use super::Shared;
use super::table::ServicePortName;

/// At most this many clients at once per port; datagrams of further new
/// clients are dropped (UDP may lose them anyway).
const MAX_ASSOCIATIONS: usize = 4096;
/// The largest UDP payload.
const DATAGRAM: usize = 65_535;

struct Association {
    upstream: Arc<UdpSocket>,
    /// When the client last sent: the reply task reads it to tell idle.
    last_sent: Arc<Mutex<Instant>>,
    /// False once the reply task has ended: the association is spent.
    alive: Arc<AtomicBool>,
    id: u64,
}

/// Serves until the task is aborted; the associations end with it.
pub(crate) async fn serve(socket: UdpSocket, name: ServicePortName, shared: Arc<Shared>) {
    let socket = Arc::new(socket);
    let mut associations: HashMap<SocketAddr, Association> = HashMap::new();
    let mut replies = JoinSet::new();
    let (ended, mut ended_rx) = mpsc::unbounded_channel::<(SocketAddr, u64)>();
    let mut buffer = vec![0u8; DATAGRAM];
    let mut next_id = 0u64;
    loop {
        tokio::select! {
            received = socket.recv_from(&mut buffer) => {
                let (len, client) = match received {
                    Ok(received) => received,
                    // An ICMP error for an earlier reply to a client: not
                    // this socket's problem.
                    Err(error) => {
                        tracing::debug!(service = %name, %error, "receive failed");
                        continue;
                    }
                };
                let spent = associations.get(&client).is_none_or(|a| !a.alive.load(Ordering::Acquire));
                if spent {
                    associations.remove(&client);
                    if associations.len() >= MAX_ASSOCIATIONS {
                        tracing::debug!(service = %name, %client, "too many UDP clients: datagram dropped");
                        continue;
                    }
                    next_id += 1;
                    let Some((association, reply)) = associate(&shared, &name, client, &socket, next_id, ended.clone()).await else {
                        continue;
                    };
                    replies.spawn(reply);
                    associations.insert(client, association);
                }
                let association = &associations[&client];
                *association.last_sent.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now();
                if let Err(error) = association.upstream.send(&buffer[..len]).await {
                    tracing::debug!(service = %name, %client, %error, "cannot pass a datagram on");
                    associations.remove(&client);
                }
            }
            Some((client, id)) = ended_rx.recv() => {
                if associations.get(&client).is_some_and(|a| a.id == id) {
                    associations.remove(&client);
                }
            }
            Some(_) = replies.join_next(), if !replies.is_empty() => {}
        }
    }
}

/// A new association for `client`, and the task that carries its replies.
async fn associate(
    shared: &Arc<Shared>,
    name: &ServicePortName,
    client: SocketAddr,
    listener: &Arc<UdpSocket>,
    id: u64,
    ended: mpsc::UnboundedSender<(SocketAddr, u64)>,
) -> Option<(Association, impl Future<Output = ()> + use<>)> {
    let Some(endpoint) = shared.pick(name, client.ip(), &[]) else {
        tracing::debug!(service = %name, %client, "no ready endpoint: datagram dropped");
        return None;
    };
    let upstream = match connect(endpoint).await {
        Ok(upstream) => Arc::new(upstream),
        Err(error) => {
            tracing::debug!(service = %name, %endpoint, %error, "cannot open a UDP socket");
            return None;
        }
    };
    let association = Association {
        upstream: Arc::clone(&upstream),
        last_sent: Arc::new(Mutex::new(Instant::now())),
        alive: Arc::new(AtomicBool::new(true)),
        id,
    };
    let reply = carry_replies(
        upstream,
        Arc::clone(listener),
        client,
        Arc::clone(&association.last_sent),
        Arc::clone(&association.alive),
        shared.udp_idle,
        move || {
            let _ = ended.send((client, id));
        },
    );
    Some((association, reply))
}

async fn connect(endpoint: SocketAddrV4) -> std::io::Result<UdpSocket> {
    let upstream = UdpSocket::bind((std::net::Ipv4Addr::UNSPECIFIED, 0)).await?;
    upstream.connect(endpoint).await?;
    Ok(upstream)
}

/// Sends the endpoint's replies to the client from the listening socket,
/// until the association is idle or the endpoint refuses.
async fn carry_replies(
    upstream: Arc<UdpSocket>,
    listener: Arc<UdpSocket>,
    client: SocketAddr,
    last_sent: Arc<Mutex<Instant>>,
    alive: Arc<AtomicBool>,
    idle: Duration,
    on_end: impl FnOnce(),
) {
    let mut buffer = vec![0u8; DATAGRAM];
    let mut last_reply = Instant::now();
    loop {
        let last = (*last_sent.lock().unwrap_or_else(|e| e.into_inner())).max(last_reply);
        let deadline = last + idle;
        if Instant::now() >= deadline {
            break;
        }
        match tokio::time::timeout_at(deadline.into(), upstream.recv(&mut buffer)).await {
            Err(_) => continue, // idle, unless the client sent meanwhile
            Ok(Ok(len)) => {
                last_reply = Instant::now();
                if let Err(error) = listener.send_to(&buffer[..len], client).await {
                    tracing::debug!(%client, %error, "cannot send a reply back");
                }
            }
            Ok(Err(error)) => {
                tracing::debug!(%client, %error, "the endpoint refused: association ended");
                break;
            }
        }
    }
    alive.store(false, Ordering::Release);
    on_end();
}
