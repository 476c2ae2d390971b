// Generated from solutions/03-filesystem/src/programs/identity.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
use std::net::IpAddr;

use nix::ifaddrs::getifaddrs;
use nix::net::if_::InterfaceFlags;

use super::Request;

/// Who answers a request: what the echo server's page says besides the
/// request itself. Read afresh for every request, since a pod's network
/// may be set up after the server started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// `$POD_NAME` (Kubernetes sets it through the downward API when asked
    /// to), else the hostname, which is the pod's name too.
    pub pod: String,
    pub hostname: String,
    /// The container's addresses, loopback and IPv6 link-local left out.
    pub addresses: Vec<IpAddr>,
}

impl Identity {
    pub fn detect() -> Identity {
        let hostname = nix::unistd::gethostname()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_else(|_| "unknown".to_string());
        let pod = std::env::var("POD_NAME")
            .ok()
            .filter(|pod| !pod.is_empty())
            .unwrap_or_else(|| hostname.clone());
        Identity {
            pod,
            hostname,
            addresses: addresses(),
        }
    }

    /// The echo server's page: one `key: value` line each.
    pub fn page(&self, request: &Request) -> String {
        let addresses = if self.addresses.is_empty() {
            "(none)".to_string()
        } else {
            self.addresses
                .iter()
                .map(IpAddr::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        };
        format!(
            "pod: {}\nhostname: {}\naddresses: {addresses}\nrequest: {} {}\nclient: {}\n",
            self.pod, self.hostname, request.method, request.target, request.client
        )
    }
}

fn addresses() -> Vec<IpAddr> {
    let Ok(interfaces) = getifaddrs() else {
        return Vec::new();
    };
    let mut addresses: Vec<IpAddr> = interfaces
        .filter(|interface| !interface.flags.contains(InterfaceFlags::IFF_LOOPBACK))
        .filter_map(|interface| {
            let address = interface.address?;
            if let Some(v4) = address.as_sockaddr_in() {
                Some(IpAddr::V4(v4.ip()))
            } else {
                address.as_sockaddr_in6().map(|v6| IpAddr::V6(v6.ip()))
            }
        })
        .filter(|ip| !ip.is_loopback() && !is_link_local_v6(ip))
        .collect();
    addresses.sort();
    addresses.dedup();
    addresses
}

fn is_link_local_v6(ip: &IpAddr) -> bool {
    matches!(ip, IpAddr::V6(v6) if v6.segments()[0] & 0xffc0 == 0xfe80)
}
