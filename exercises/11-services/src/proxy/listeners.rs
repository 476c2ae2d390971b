// Generated from solutions/11-services/src/proxy/listeners.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
//! Which sockets the proxy listens on, and opening and closing them to
//! match the service table.
//!
//! A Service port gets a listener on its ClusterIP:port and, for NodePort
//! Services, one on each node address for its NodePort, for TCP or UDP,
//! but only while it has a ready endpoint: with none, nobody listens and
//! the kernel refuses a connection at once (a TCP reset, an ICMP port
//! unreachable), which is what kube-proxy's REJECT rule for a Service
//! without endpoints does. Closing a listener leaves the connections it
//! accepted alone.
//!
//! Kubernetes: the userspace kube-proxy opened a `ProxySocket` per Service
//! port; the iptables mode holds the NodePorts open with a socket each
//! (`openLocalPort`) so that nothing else takes them.

use std::collections::BTreeMap;
use std::io;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::sync::Arc;

use tokio::task::JoinHandle;

use super::Shared;
use super::table::{Protocol, ServicePortName, ServiceTable};
use super::{tcp, udp};

/// One socket the proxy listens on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ListenKey {
    pub address: SocketAddrV4,
    pub protocol: Protocol,
}

impl std::fmt::Display for ListenKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.address, self.protocol.as_str())
    }
}

// ANCHOR: desired
/// The sockets `table` asks for, with the Service port each serves:
/// ClusterIP:port, and NodePort on each of `node_addresses`, for every
/// Service port that has a ready endpoint. When two Service ports ask for
/// one socket (which the API server's allocation prevents), the first in
/// the table's order has it.
pub fn desired(
    table: &ServiceTable,
    node_addresses: &[Ipv4Addr],
) -> BTreeMap<ListenKey, ServicePortName> {
    todo!(
        "exercise 6: the sockets the table asks for, each with the Service port it serves: ClusterIP:port and the NodePort on each node address, for Service ports with a ready endpoint only; the first in table order keeps a socket two ports ask for"
    )
}
// ANCHOR_END: desired

/// A socket being served; its task (and so the socket) ends when dropped.
struct Open {
    name: ServicePortName,
    task: JoinHandle<()>,
}

impl Drop for Open {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The open listeners.
pub(crate) struct Listeners {
    open: BTreeMap<ListenKey, Open>,
    shared: Arc<Shared>,
}

impl Listeners {
    pub fn new(shared: Arc<Shared>) -> Listeners {
        Listeners {
            open: BTreeMap::new(),
            shared,
        }
    }

    /// Opens what `wanted` has and is not open, closes what is open and
    /// not wanted (or now serves another Service port). Returns the
    /// sockets that could not be opened, to be tried again next time.
    pub fn reconcile(
        &mut self,
        wanted: &BTreeMap<ListenKey, ServicePortName>,
    ) -> Vec<(ListenKey, ServicePortName, io::Error)> {
        self.open
            .retain(|key, open| wanted.get(key) == Some(&open.name));
        let mut failed = Vec::new();
        for (key, name) in wanted {
            if self.open.contains_key(key) {
                continue;
            }
            match self.listen(*key, name) {
                Ok(task) => {
                    tracing::info!(listener = %key, service = %name, "listening");
                    self.open.insert(
                        *key,
                        Open {
                            name: name.clone(),
                            task,
                        },
                    );
                }
                Err(error) => failed.push((*key, name.clone(), error)),
            }
        }
        failed
    }

    /// The sockets listened on.
    pub fn keys(&self) -> Vec<ListenKey> {
        self.open.keys().copied().collect()
    }

    pub fn close_all(&mut self) {
        self.open.clear();
    }

    /// Binds now (so that a taken port is known now), serves in a task.
    fn listen(&self, key: ListenKey, name: &ServicePortName) -> io::Result<JoinHandle<()>> {
        let shared = Arc::clone(&self.shared);
        let name = name.clone();
        match key.protocol {
            Protocol::Tcp => {
                let socket = tokio::net::TcpSocket::new_v4()?;
                // A restarted proxy rebinds while its old connections
                // linger in TIME_WAIT.
                socket.set_reuseaddr(true)?;
                socket.bind(key.address.into())?;
                let listener = socket.listen(1024)?;
                Ok(tokio::spawn(tcp::serve(listener, name, shared)))
            }
            Protocol::Udp => {
                let socket = std::net::UdpSocket::bind(key.address)?;
                socket.set_nonblocking(true)?;
                let socket = tokio::net::UdpSocket::from_std(socket)?;
                Ok(tokio::spawn(udp::serve(socket, name, shared)))
            }
        }
    }
}
