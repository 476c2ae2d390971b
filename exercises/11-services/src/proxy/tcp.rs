// Generated from solutions/11-services/src/proxy/tcp.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
//! A TCP Service port: the accept loop (mini-redis's `Listener`) and one
//! task per connection (its `Handler`), which dials an endpoint and copies
//! both ways until both ends are done.
//!
//! Kubernetes: the userspace kube-proxy's `tcpProxySocket`
//! (`pkg/proxy/userspace/proxysocket.go`): `ProxyLoop` accepts,
//! `TryConnectEndpoints` dials with growing timeouts, trying the next
//! endpoint when one fails, and `ProxyTCP` copies.

use std::net::{IpAddr, SocketAddr, SocketAddrV4};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::OwnedSemaphorePermit;

use super::Shared;
use super::splice;
use super::table::ServicePortName;

/// The timeout of each successive dial of one connection, each to the
/// next endpoint (the userspace kube-proxy's `EndpointDialTimeouts`): a
/// refused or silent endpoint costs the client little, and a slow one
/// still gets a chance.
pub const DIAL_TIMEOUTS: [Duration; 4] = [
    Duration::from_millis(250),
    Duration::from_millis(500),
    Duration::from_secs(1),
    Duration::from_secs(2),
];

/// Accepts until the task is aborted (the listener closes with it; the
/// connections it accepted go on).
pub(crate) async fn serve(listener: TcpListener, name: ServicePortName, shared: Arc<Shared>) {
    loop {
        // Back-pressure: past the limit, new connections wait in the
        // kernel's backlog instead of costing memory here.
        let Ok(permit) = Arc::clone(&shared.connections).acquire_owned().await else {
            return;
        };
        match listener.accept().await {
            Ok((client, peer)) => {
                tokio::spawn(handle(
                    client,
                    peer,
                    name.clone(),
                    Arc::clone(&shared),
                    permit,
                ));
            }
            Err(error) => {
                // Out of file descriptors, most likely: wait for some to
                // be given back rather than spin.
                tracing::warn!(service = %name, %error, "cannot accept a connection");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// One connection, until both directions end or the proxy cuts it (a
/// stop rather than a drain: the proxy holds both ends).
async fn handle(
    client: TcpStream,
    peer: SocketAddr,
    name: ServicePortName,
    shared: Arc<Shared>,
    _permit: OwnedSemaphorePermit,
) {
    let mut cut = shared.cut.clone();
    tokio::select! {
        () = super::sync::stopped(&mut cut) => reset(&client),
        () = proxy(&client, peer, &name, &shared) => {}
    }
}

async fn proxy(client: &TcpStream, peer: SocketAddr, name: &ServicePortName, shared: &Shared) {
    let Some((upstream, endpoint)) = dial(shared, name, peer.ip()).await else {
        tracing::debug!(service = %name, %peer, "no endpoint took the connection: reset");
        reset(client);
        return;
    };
    // Small requests and answers go through at once, as between the two
    // ends directly.
    let _ = client.set_nodelay(true);
    let _ = upstream.set_nodelay(true);
    match splice::copy_bidirectional(client, &upstream).await {
        Ok((sent, received)) => {
            tracing::debug!(service = %name, %peer, %endpoint, sent, received, "connection done");
        }
        Err(error) => {
            tracing::debug!(service = %name, %peer, %endpoint, %error, "connection failed");
        }
    }
}

// ANCHOR: dial
/// A connection to an endpoint of `name` for `client`: up to one try per
/// timeout of [`DIAL_TIMEOUTS`], each to an endpoint not tried yet.
pub(crate) async fn dial(
    shared: &Shared,
    name: &ServicePortName,
    client: IpAddr,
) -> Option<(TcpStream, SocketAddrV4)> {
    let mut failed = Vec::new();
    for timeout in DIAL_TIMEOUTS {
        let endpoint = shared.pick(name, client, &failed)?;
        match tokio::time::timeout(timeout, TcpStream::connect(endpoint)).await {
            Ok(Ok(stream)) => return Some((stream, endpoint)),
            Ok(Err(error)) => {
                tracing::debug!(service = %name, %endpoint, %error, "dial failed, trying the next endpoint");
            }
            Err(_) => {
                tracing::debug!(service = %name, %endpoint, ?timeout, "dial timed out, trying the next endpoint");
            }
        }
        failed.push(endpoint);
    }
    None
}
// ANCHOR_END: dial

/// Closes with a reset (SO_LINGER 0) when the stream is dropped: the
/// client learns at once that there is nothing for it, instead of reading
/// an orderly end it could take for an empty answer.
fn reset(stream: &TcpStream) {
    let _ = socket2::SockRef::from(stream).set_linger(Some(Duration::ZERO));
}
