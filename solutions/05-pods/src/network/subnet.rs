//! IPv4 subnets in CIDR notation (`10.244.0.0/24`), and which of their
//! addresses a pod may get.

use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

/// An IPv4 subnet: a network address whose host bits are all zero, and a
/// prefix length from 0 to 32.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Subnet {
    network: Ipv4Addr,
    prefix: u8,
}

/// Why a text is not a subnet.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid CIDR {text:?}: {reason}")]
pub struct CidrError {
    pub text: String,
    pub reason: String,
}

impl CidrError {
    fn new(text: &str, reason: impl Into<String>) -> CidrError {
        CidrError {
            text: text.to_string(),
            reason: reason.into(),
        }
    }
}

/// The netmask of a prefix length: `prefix` one bits, then zeros.
pub fn mask(prefix: u8) -> u32 {
    if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - prefix)
    }
}

// ANCHOR: parse
impl FromStr for Subnet {
    type Err = CidrError;

    /// Parses `a.b.c.d/n`. A subnet written with host bits set
    /// (`10.244.0.5/24`) is refused rather than silently rounded down: it
    /// is almost always a typo for an address or for another subnet.
    fn from_str(text: &str) -> Result<Subnet, CidrError> {
        let Some((address, prefix)) = text.split_once('/') else {
            return Err(CidrError::new(
                text,
                "expected an address, a '/' and a prefix length",
            ));
        };
        let address: Ipv4Addr = address
            .parse()
            .map_err(|_| CidrError::new(text, "bad address"))?;
        let prefix = prefix
            .parse::<u8>()
            .ok()
            .filter(|prefix| *prefix <= 32)
            .ok_or_else(|| CidrError::new(text, "prefix length must be a number from 0 to 32"))?;
        let network = u32::from(address) & mask(prefix);
        if network != u32::from(address) {
            return Err(CidrError::new(
                text,
                format!(
                    "host bits are set: the subnet is {}/{prefix}",
                    Ipv4Addr::from(network)
                ),
            ));
        }
        Ok(Subnet {
            network: address,
            prefix,
        })
    }
}
// ANCHOR_END: parse

impl fmt::Display for Subnet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

impl Subnet {
    /// The network address (all host bits zero).
    pub fn network(&self) -> Ipv4Addr {
        self.network
    }

    pub fn prefix(&self) -> u8 {
        self.prefix
    }

    /// The last address (all host bits one): the broadcast address.
    pub fn broadcast(&self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.network) | !mask(self.prefix))
    }

    /// The first address after the network address. On a node's pod
    /// subnet, the bridge holds it: the pods' gateway.
    pub fn gateway(&self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.network).wrapping_add(1))
    }

    pub fn contains(&self, ip: Ipv4Addr) -> bool {
        u32::from(ip) & mask(self.prefix) == u32::from(self.network)
    }

    /// Whether all of `other` lies inside this subnet.
    pub fn covers(&self, other: &Subnet) -> bool {
        other.prefix >= self.prefix && self.contains(other.network)
    }

    /// How many addresses pods can get: all but the network address, the
    /// gateway and the broadcast address.
    pub fn pod_capacity(&self) -> u64 {
        (1u64 << (32 - self.prefix)).saturating_sub(3)
    }

    // ANCHOR: candidates
    /// The addresses a pod may get, in the order an allocator tries them:
    /// starting right after `last` (the address handed out last) and
    /// wrapping around, as CNI's host-local plugin does. Going round the
    /// subnet instead of always taking the lowest free address keeps a just
    /// released address unused for as long as possible, so that a packet
    /// or a cached neighbour entry meant for the old pod does not reach a
    /// new one. Never the network address, the gateway or the broadcast
    /// address. Empty for subnets too small to hold a pod (/31 and /32).
    pub fn candidates(&self, last: Option<Ipv4Addr>) -> Vec<Ipv4Addr> {
        // exercise 5: the addresses a pod may get, in the order to try them: right after `last`, wrapping around
        // hint: IPv4 addresses are 32-bit numbers: `u32::from(ip)` and `Ipv4Addr::from(n)` convert, and ranges of numbers do the rest. Which addresses of the subnet are not for pods?
        // hint: The network address, the gateway (network + 1) and the broadcast address are taken, so pods get network + 2 up to broadcast - 1 (none in a /31 or /32). Start after `last` when `last` is one of those, else at the first, and go round: the part after the start, then the part before it.
        // hint: first = u32::from(self.network) as u64 + 2; end = u32::from(self.broadcast()) as u64 (exclusive); if first >= end return empty; start = last + 1 if last is in first..end, else first; (start..end).chain(first..start).map(|n| Ipv4Addr::from(n as u32)).collect().
        let first = u32::from(self.network) as u64 + 2;
        let end = u32::from(self.broadcast()) as u64; // exclusive
        if first >= end {
            return Vec::new();
        }
        let start = match last.map(|ip| u32::from(ip) as u64) {
            Some(last) if (first..end).contains(&last) => last + 1,
            _ => first,
        };
        (start..end)
            .chain(first..start)
            .map(|ip| Ipv4Addr::from(ip as u32))
            .collect()
    }
    // ANCHOR_END: candidates
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slash_24() {
        let subnet: Subnet = "10.244.0.0/24".parse().unwrap();
        assert_eq!(subnet.gateway(), Ipv4Addr::new(10, 244, 0, 1));
        assert_eq!(subnet.broadcast(), Ipv4Addr::new(10, 244, 0, 255));
        assert_eq!(subnet.pod_capacity(), 253);
        assert_eq!(subnet.candidates(None).len(), 253);
        assert!(subnet.contains(Ipv4Addr::new(10, 244, 0, 77)));
        assert!(!subnet.contains(Ipv4Addr::new(10, 244, 1, 0)));
        let wide: Subnet = "10.244.0.0/16".parse().unwrap();
        assert!(wide.covers(&subnet));
        assert!(!subnet.covers(&wide));
    }

    #[test]
    fn slash_zero_and_slash_32() {
        let all: Subnet = "0.0.0.0/0".parse().unwrap();
        assert_eq!(all.broadcast(), Ipv4Addr::BROADCAST);
        let one: Subnet = "10.0.0.7/32".parse().unwrap();
        assert!(one.candidates(None).is_empty());
        assert_eq!(one.pod_capacity(), 0);
    }
}
