//! The interface that holds the ClusterIPs: a dummy interface the proxy
//! creates (`kmsvc-<tag>`, alias `k8s-mini/<instance>`), with each
//! ClusterIP on it as a /32. The kernel then delivers a packet for a
//! ClusterIP locally, to the proxy's listener on it: no route toward the
//! host's real interfaces, no forwarding, no NAT. A ClusterIP whose port
//! nobody listens on answers with a reset (TCP) or port unreachable
//! (UDP): refused at once, never hung.
//!
//! Kubernetes: kube-proxy's IPVS mode binds every ClusterIP to the dummy
//! interface `kube-ipvs0` for the same reason. Kernels built without the
//! dummy driver (some VM kernels) get a bridge without ports instead,
//! which holds addresses just as well.

use std::collections::BTreeSet;
use std::net::Ipv4Addr;

use nix::errno::Errno;
use pods::network::netlink::{Link, NetlinkError, Socket};
use pods::network::{bridge_alias, dummy_name};

/// A netlink request about the interface failed.
#[derive(Debug, thiserror::Error)]
#[error("cannot {what}: {error}")]
pub struct InterfaceError {
    pub what: String,
    #[source]
    pub error: NetlinkError,
}

fn failed(what: impl Into<String>) -> impl FnOnce(NetlinkError) -> InterfaceError {
    let what = what.into();
    move |error| InterfaceError { what, error }
}

/// The proxy's interface, removed when dropped.
#[derive(Debug)]
pub struct ServiceInterface {
    socket: Socket,
    name: String,
    alias: String,
    index: i32,
    /// The ClusterIPs on it.
    addresses: BTreeSet<Ipv4Addr>,
    removed: bool,
}

impl ServiceInterface {
    /// Creates the instance's interface, or takes over the one a previous
    /// run left: a proxy restarted while the old one drains its
    /// connections must not take their addresses away. Stale addresses go
    /// at the first sync. An interface of that name that is not ours
    /// (another alias) is refused, not touched.
    pub fn create(instance: &str) -> Result<ServiceInterface, InterfaceError> {
        let socket =
            Socket::open().map_err(|error| failed("open a netlink socket")(error.into()))?;
        let mut interface = ServiceInterface {
            socket,
            name: dummy_name(instance),
            alias: bridge_alias(instance),
            index: 0,
            addresses: BTreeSet::new(),
            removed: false,
        };
        interface.make()?;
        interface.addresses = addresses_on(&interface.name);
        Ok(interface)
    }

    /// Lets go of the interface without removing it: a successor has
    /// taken it over (`k8s-mini proxy` restarted).
    pub fn keep(mut self) {
        self.removed = true;
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Makes sure the interface still exists with every address it should
    /// have: someone may have deleted it (`k8s-mini reset`, `ip link del`).
    pub fn ensure(&mut self) -> Result<(), InterfaceError> {
        match self.find()? {
            Some(link) if link.index == self.index => Ok(()),
            Some(link) => {
                self.index = link.index;
                self.readd()
            }
            None => {
                self.make()?;
                self.readd()
            }
        }
    }

    /// Puts exactly `wanted` on the interface.
    pub fn set_addresses(&mut self, wanted: &BTreeSet<Ipv4Addr>) -> Result<(), InterfaceError> {
        let gone: Vec<Ipv4Addr> = self.addresses.difference(wanted).copied().collect();
        for ip in gone {
            match self.socket.delete_address(self.index, ip, 32) {
                Err(error) if error.errno != Errno::EADDRNOTAVAIL => {
                    return Err(failed(format!("remove {ip} from {}", self.name))(error));
                }
                _ => {
                    self.addresses.remove(&ip);
                }
            }
        }
        for ip in wanted.difference(&self.addresses.clone()) {
            self.add(*ip)?;
            self.addresses.insert(*ip);
        }
        Ok(())
    }

    /// Deletes the interface (and so every ClusterIP on it).
    pub fn remove(mut self) -> Result<(), InterfaceError> {
        self.removed = true;
        match self.find()? {
            Some(link) => self.delete(&link),
            None => Ok(()),
        }
    }

    /// The interface by our name, if it is ours; an error if it is not.
    fn find(&mut self) -> Result<Option<Link>, InterfaceError> {
        let link = self
            .socket
            .link(&self.name)
            .map_err(failed(format!("look up {}", self.name)))?;
        match link {
            Some(link) if link.alias.as_deref().is_some_and(|a| a != self.alias) => {
                Err(InterfaceError {
                    what: format!(
                        "use {}: it belongs to someone else ({:?})",
                        self.name, link.alias
                    ),
                    error: Errno::EEXIST.into(),
                })
            }
            other => Ok(other),
        }
    }

    fn make(&mut self) -> Result<(), InterfaceError> {
        let name = self.name.clone();
        let created = match self.socket.add_dummy(&name) {
            Err(error) if error.errno == Errno::EOPNOTSUPP => self.socket.add_bridge(&name),
            other => other,
        };
        match created {
            Err(error) if error.errno != Errno::EEXIST => {
                return Err(failed(format!("create {name}"))(error));
            }
            _ => {}
        }
        let link = self
            .find()?
            .ok_or_else(|| failed(format!("find {name}"))(Errno::ENODEV.into()))?;
        self.socket
            .set_link(link.index, Some(&self.alias), None, true)
            .map_err(failed(format!("set up {name}")))?;
        self.index = link.index;
        Ok(())
    }

    fn readd(&mut self) -> Result<(), InterfaceError> {
        for ip in self.addresses.clone() {
            self.add(ip)?;
        }
        Ok(())
    }

    fn add(&mut self, ip: Ipv4Addr) -> Result<(), InterfaceError> {
        let host = format!("{ip}/32").parse().expect("a /32 is a subnet");
        match self.socket.add_address(self.index, ip, host) {
            Err(error) if error.errno != Errno::EEXIST => {
                Err(failed(format!("put {ip} on {}", self.name))(error))
            }
            _ => Ok(()),
        }
    }

    fn delete(&mut self, link: &Link) -> Result<(), InterfaceError> {
        match self.socket.delete_link(link.index) {
            Err(error) if error.errno != Errno::ENODEV => {
                Err(failed(format!("delete {}", link.name))(error))
            }
            _ => Ok(()),
        }
    }
}

/// Whether `ip` is a local address of this network namespace: in the
/// local routing table (`/proc/net/fib_trie` lists each local address with
/// a `/32 host LOCAL` line under it). Only then does a packet for a
/// ClusterIP stay on the machine: tests and benchmarks send to one only
/// once this holds.
pub fn is_local(ip: Ipv4Addr) -> bool {
    let Ok(trie) = std::fs::read_to_string("/proc/net/fib_trie") else {
        return false;
    };
    let mut lines = trie.lines();
    while let Some(line) = lines.next() {
        if line.trim_start_matches([' ', '|', '+', '-']) == ip.to_string()
            && lines.next().is_some_and(|next| next.contains("host LOCAL"))
        {
            return true;
        }
    }
    false
}

/// The IPv4 addresses on interface `name` now.
fn addresses_on(name: &str) -> BTreeSet<Ipv4Addr> {
    nix::ifaddrs::getifaddrs()
        .map(|all| {
            all.filter(|address| address.interface_name == name)
                .filter_map(|address| address.address?.as_sockaddr_in().map(|a| a.ip()))
                .collect()
        })
        .unwrap_or_default()
}

/// The safety net: an interface left behind would keep answering for the
/// ClusterIPs with resets.
impl Drop for ServiceInterface {
    fn drop(&mut self) {
        if !self.removed
            && let Ok(Some(link)) = self.find()
        {
            let _ = self.delete(&link);
        }
    }
}
