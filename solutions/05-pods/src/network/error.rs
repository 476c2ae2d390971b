use std::io;
use std::net::Ipv4Addr;
use std::path::PathBuf;

use super::netlink::NetlinkError;
use super::subnet::{CidrError, Subnet};

/// What can go wrong setting up or tearing down the pod network.
#[derive(Debug, thiserror::Error)]
pub enum NetworkError {
    #[error(transparent)]
    InvalidCidr(#[from] CidrError),
    #[error("the {what} {subnet} {reason}")]
    UnusableCidr {
        what: &'static str,
        subnet: Subnet,
        reason: &'static str,
    },
    #[error("invalid {what} {value:?}: {reason}")]
    InvalidName {
        what: &'static str,
        value: String,
        reason: &'static str,
    },
    #[error(
        "the pod CIDR {subnet} is exhausted: every one of its {capacity} pod addresses is allocated"
    )]
    Exhausted { subnet: Subnet, capacity: u64 },
    #[error("pod {pod} already has the address {ip}: detach it first")]
    AlreadyAttached { pod: String, ip: Ipv4Addr },
    #[error(
        "network interface {name} exists and is not this cluster's ({}): remove it or use another instance name",
        alias.as_deref().map_or("it has no alias".to_string(), |alias| format!("its alias is {alias:?}"))
    )]
    InterfaceTaken { name: String, alias: Option<String> },
    #[error("the network namespace {} is gone (the process holding it has exited)", path.display())]
    NamespaceGone { path: PathBuf },
    #[error("cannot enter the network namespace {}: {source}", path.display())]
    Namespace { path: PathBuf, source: io::Error },
    #[error("IPAM state {}: {source}", path.display())]
    Ipam { path: PathBuf, source: io::Error },
    #[error("{action}: {source}")]
    Netlink {
        action: String,
        source: NetlinkError,
    },
}

impl NetworkError {
    pub(crate) fn ipam(path: impl Into<PathBuf>) -> impl FnOnce(io::Error) -> NetworkError {
        let path = path.into();
        move |source| NetworkError::Ipam { path, source }
    }

    pub(crate) fn netlink(action: impl Into<String>) -> impl FnOnce(NetlinkError) -> NetworkError {
        let action = action.into();
        move |source| NetworkError::Netlink { action, source }
    }
}
