// Generated from solutions/05-pods/src/network/node.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
//! A node's pod network: its bridge, and the veth pair, address and
//! routes of each pod attached to it.

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use nix::errno::Errno;

use super::error::NetworkError;
use super::ipam::Ipam;
use super::names::{self, MAX_ALIAS};
use super::netlink::{Link, Socket};
use super::netns::Namespace;
use super::reset;
use super::subnet::Subnet;

/// The name of a pod's interface inside its own namespace.
pub const POD_INTERFACE: &str = "eth0";

/// What a node's pod network is made of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeConfig {
    /// The cluster's instance name: it names the bridge, the veths and the
    /// IPAM directory, so that two clusters (or two tests) never collide.
    pub instance: String,
    /// The node's share of the pod addresses, for example 10.244.0.0/24:
    /// the bridge takes its first address, pods get the others. Two nodes
    /// in one network namespace must have different pod CIDRs, or routing
    /// there is ambiguous.
    pub pod_cidr: Subnet,
    /// The subnets pods reach through the bridge (the cluster's pod CIDR,
    /// for example 10.244.0.0/16, and the service CIDR, 10.96.0.0/16).
    pub cluster_cidrs: Vec<Subnet>,
    /// k8s-mini's data directory: the allocations live in
    /// `<data_dir>/networks/<instance>/`.
    pub data_dir: PathBuf,
    /// The node's network namespace, where the bridge lives; `None` is the
    /// caller's own. Several nodes on one machine each get one.
    pub netns: Option<PathBuf>,
}

/// A route: to `destination` through `gateway`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    pub destination: Subnet,
    pub gateway: Ipv4Addr,
}

/// What a pod got when it was attached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodAddress {
    /// The pod's IP (Kubernetes' `status.podIP`).
    pub ip: Ipv4Addr,
    /// The node's pod CIDR, which the pod reaches directly.
    pub subnet: Subnet,
    /// The bridge's address.
    pub gateway: Ipv4Addr,
    /// `eth0`, inside the pod.
    pub interface: String,
    /// The other end of the veth pair, a port of the bridge.
    pub host_interface: String,
    pub routes: Vec<Route>,
}

/// The IPAM directory of an instance.
pub fn ipam_dir(data_dir: &Path, instance: &str) -> PathBuf {
    data_dir.join("networks").join(instance)
}

// ANCHOR: pod_routes
/// The routes a pod gets besides the one to its own subnet (which the
/// kernel adds with the address): one to each cluster CIDR, through the
/// bridge. A cluster CIDR inside the pod's own subnet is already reached
/// directly and gets none; a CIDR listed twice gets one route. There is
/// deliberately no default route: a pod reaches the cluster, not the
/// world behind the host.
pub fn pod_routes(pod_cidr: Subnet, cluster_cidrs: &[Subnet]) -> Vec<Route> {
    let mut routes: Vec<Route> = Vec::new();
    for &destination in cluster_cidrs {
        if pod_cidr.covers(&destination)
            || routes.iter().any(|route| route.destination == destination)
        {
            continue;
        }
        routes.push(Route {
            destination,
            gateway: pod_cidr.gateway(),
        });
    }
    routes
}
// ANCHOR_END: pod_routes

/// A node's pod network, set up. Its methods block on netlink and the
/// IPAM files for a few milliseconds: from async code, call them through
/// `tokio::task::spawn_blocking`. They never change the caller's
/// namespaces.
#[derive(Debug)]
pub struct NodeNetwork {
    config: NodeConfig,
    bridge: Link,
    ipam: Ipam,
    /// In the node's namespace; one request at a time.
    socket: Mutex<Socket>,
}

impl NodeNetwork {
    /// Makes sure the node's bridge exists, holds the gateway address and
    /// is up; opens the allocations. Calling it again (after a restart of
    /// the agent) finds what is there and keeps it. (A bridge kept from a
    /// run with another pod CIDR keeps its old address too: remove the
    /// node's network before changing its CIDR.)
    pub fn ensure(config: NodeConfig) -> Result<NodeNetwork, NetworkError> {
        validate(&config)?;
        let mut socket = match &config.netns {
            None => Socket::open()
                .map_err(|error| NetworkError::netlink("open a netlink socket")(error.into()))?,
            Some(path) => Namespace::open(path)?.socket()?,
        };
        let name = names::bridge_name(&config.instance);
        let alias = names::bridge_alias(&config.instance);
        let bridge = match ours(&mut socket, &name, &alias)? {
            Some(bridge) => bridge,
            None => {
                match socket.add_bridge(&name) {
                    Err(error) if error.errno == Errno::EEXIST => {} // made meanwhile
                    other => {
                        other.map_err(NetworkError::netlink(format!("create bridge {name}")))?
                    }
                }
                ours(&mut socket, &name, &alias)?.ok_or_else(|| missing(&name))?
            }
        };
        socket
            .set_link(bridge.index, Some(&alias), None, true)
            .map_err(NetworkError::netlink(format!("set up bridge {name}")))?;
        let gateway = config.pod_cidr.gateway();
        match socket.add_address(bridge.index, gateway, config.pod_cidr) {
            Err(error) if error.errno == Errno::EEXIST => {} // kept from before
            other => other.map_err(NetworkError::netlink(format!(
                "give bridge {name} the address {gateway}/{}",
                config.pod_cidr.prefix()
            )))?,
        }
        let ipam = Ipam::open(
            &ipam_dir(&config.data_dir, &config.instance),
            config.pod_cidr,
        )?;
        Ok(NodeNetwork {
            config,
            bridge,
            ipam,
            socket: Mutex::new(socket),
        })
    }

    pub fn config(&self) -> &NodeConfig {
        &self.config
    }

    pub fn bridge_name(&self) -> &str {
        &self.bridge.name
    }

    /// The bridge's address, the pods' gateway.
    pub fn gateway(&self) -> Ipv4Addr {
        self.config.pod_cidr.gateway()
    }

    pub fn ipam(&self) -> &Ipam {
        &self.ipam
    }

    /// Connects the pod whose network namespace is `netns` (its pause
    /// process's `/proc/<pid>/ns/net`): allocates an address, creates a veth
    /// pair with one end in the pod as `eth0` and the other on the bridge,
    /// gives `eth0` the address, brings it up and adds the cluster routes.
    /// On failure, whatever was done is undone. Calls for different pods
    /// may run at once; calls for one pod must not (the agent handles a pod
    /// in one place at a time, as the kubelet's pod workers do).
    pub fn attach(&self, pod_id: &str, netns: &Path) -> Result<PodAddress, NetworkError> {
        validate_pod_id(&self.config.instance, pod_id)?;
        if let Some(ip) = self.ipam.address_of(pod_id)? {
            return Err(NetworkError::AlreadyAttached {
                pod: pod_id.to_string(),
                ip,
            });
        }
        let namespace = Namespace::open(netns)?;
        let pod_socket = namespace.socket()?;
        let ip = self.ipam.allocate(pod_id)?;
        match self.plumb(pod_id, &namespace, pod_socket, ip) {
            Ok(address) => Ok(address),
            Err(error) => {
                // Best effort: the error that matters is the first one.
                let _ = self.detach(pod_id);
                Err(error)
            }
        }
    }

    // ANCHOR: plumb
    fn plumb(
        &self,
        pod_id: &str,
        namespace: &Namespace,
        mut pod: Socket,
        ip: Ipv4Addr,
    ) -> Result<PodAddress, NetworkError> {
        let host_name = names::host_veth_name(&self.config.instance, pod_id);
        let alias = names::veth_alias(&self.config.instance, pod_id);
        let mut node = self.socket();
        // A veth of this pod left by a crash halfway through an attach.
        if let Some(stale) = ours(&mut node, &host_name, &alias)? {
            delete(&mut node, &stale)?;
        }
        node.add_veth(&host_name, POD_INTERFACE, namespace)
            .map_err(NetworkError::netlink(format!(
                "create veth pair {host_name} / {POD_INTERFACE} in {}",
                namespace.path().display()
            )))?;
        let host = ours(&mut node, &host_name, &alias)?.ok_or_else(|| missing(&host_name))?;
        node.set_link(host.index, Some(&alias), Some(self.bridge.index), true)
            .map_err(NetworkError::netlink(format!(
                "attach {host_name} to bridge {}",
                self.bridge.name
            )))?;
        drop(node);

        let subnet = self.config.pod_cidr;
        let inside = |action: &str| {
            NetworkError::netlink(format!("{action} in {}", namespace.path().display()))
        };
        let eth0 = pod
            .link(POD_INTERFACE)
            .map_err(inside("find eth0"))?
            .ok_or_else(|| missing(POD_INTERFACE))?;
        pod.add_address(eth0.index, ip, subnet)
            .map_err(inside(&format!(
                "give eth0 the address {ip}/{}",
                subnet.prefix()
            )))?;
        pod.set_link(eth0.index, None, None, true)
            .map_err(inside("bring eth0 up"))?;
        let routes = pod_routes(subnet, &self.config.cluster_cidrs);
        for route in &routes {
            pod.add_route(route.destination, route.gateway, eth0.index)
                .map_err(inside(&format!(
                    "add the route to {} via {}",
                    route.destination, route.gateway
                )))?;
        }
        Ok(PodAddress {
            ip,
            subnet,
            gateway: subnet.gateway(),
            interface: POD_INTERFACE.to_string(),
            host_interface: host_name,
            routes,
        })
    }
    // ANCHOR_END: plumb

    /// Disconnects a pod: deletes its veth pair and releases its address.
    /// Works when the pod's namespace is already gone (the kernel deleted
    /// the pair with it), and when there is nothing left to do.
    pub fn detach(&self, pod_id: &str) -> Result<(), NetworkError> {
        let host_name = names::host_veth_name(&self.config.instance, pod_id);
        let alias = names::veth_alias(&self.config.instance, pod_id);
        {
            let mut node = self.socket();
            match ours(&mut node, &host_name, &alias) {
                Ok(Some(link)) => delete(&mut node, &link)?,
                Ok(None) => {}
                // Someone else's interface by that name: not ours to delete.
                Err(NetworkError::InterfaceTaken { .. }) => {}
                Err(error) => return Err(error),
            }
        }
        self.ipam.release(pod_id)?;
        Ok(())
    }

    /// Removes the node's network: every veth of the instance, the bridge
    /// and the allocations.
    pub fn remove(self) -> Result<(), NetworkError> {
        let mut socket = self.socket.into_inner().unwrap_or_else(|e| e.into_inner());
        reset::remove_with(&mut socket, &self.config.instance, &self.config.data_dir)?;
        Ok(())
    }

    fn socket(&self) -> MutexGuard<'_, Socket> {
        self.socket.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The interface `name` if it is ours (carries `alias`, or no alias at
/// all: a crash between creating it and naming it), an error if it is
/// someone else's, `None` if there is none.
fn ours(socket: &mut Socket, name: &str, alias: &str) -> Result<Option<Link>, NetworkError> {
    let link = socket
        .link(name)
        .map_err(NetworkError::netlink(format!("look up {name}")))?;
    match link {
        Some(link) if link.alias.as_deref().is_some_and(|a| a != alias) => {
            Err(NetworkError::InterfaceTaken {
                name: link.name,
                alias: link.alias,
            })
        }
        other => Ok(other),
    }
}

pub(crate) fn delete(socket: &mut Socket, link: &Link) -> Result<(), NetworkError> {
    match socket.delete_link(link.index) {
        Err(error) if error.errno == Errno::ENODEV => Ok(()), // gone meanwhile
        other => other.map_err(NetworkError::netlink(format!("delete {}", link.name))),
    }
}

fn missing(name: &str) -> NetworkError {
    NetworkError::netlink(format!("find {name} just after creating it"))(Errno::ENODEV.into())
}

fn validate(config: &NodeConfig) -> Result<(), NetworkError> {
    let instance = &config.instance;
    let bad = |reason| NetworkError::InvalidName {
        what: "instance name",
        value: instance.clone(),
        reason,
    };
    if instance.is_empty() {
        return Err(bad("it is empty"));
    }
    if instance.contains('/')
        || instance
            .chars()
            .any(|c| c.is_control() || c.is_whitespace())
    {
        return Err(bad("it may not hold '/', spaces or control characters"));
    }
    if names::veth_alias(instance, "").len() > MAX_ALIAS / 2 {
        return Err(bad("it is too long"));
    }
    let prefix = config.pod_cidr.prefix();
    if !(16..=30).contains(&prefix) {
        return Err(NetworkError::UnusableCidr {
            what: "pod CIDR",
            subnet: config.pod_cidr,
            reason: "must be between /16 and /30 (a /30 holds the gateway and one pod)",
        });
    }
    if let Some(all) = config.cluster_cidrs.iter().find(|cidr| cidr.prefix() == 0) {
        return Err(NetworkError::UnusableCidr {
            what: "cluster CIDR",
            subnet: *all,
            reason: "would be a default route: pods reach the cluster's CIDRs, never the world behind the host",
        });
    }
    Ok(())
}

fn validate_pod_id(instance: &str, pod_id: &str) -> Result<(), NetworkError> {
    let bad = |reason| NetworkError::InvalidName {
        what: "pod id",
        value: pod_id.to_string(),
        reason,
    };
    if pod_id.is_empty() {
        return Err(bad("it is empty"));
    }
    if pod_id.chars().any(char::is_control) {
        return Err(bad("it may not hold control characters"));
    }
    if names::veth_alias(instance, pod_id).len() > MAX_ALIAS {
        return Err(bad("it is too long"));
    }
    Ok(())
}
