// Generated from solutions/07-apiserver/src/server/allocation/range.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
//! The two ranges Services draw from, the service CIDR (ClusterIPs) and the
//! NodePort range, and the pool that hands out their members: Kubernetes'
//! `ipallocator` and `portallocator` (a bitmap scanned from a random
//! start).
//!
//! Both ranges keep a lower band for explicit requests: dynamic allocation
//! takes from the upper band first, so that an address or port someone
//! chose on purpose (the cluster DNS at the tenth address) is rarely taken
//! already by a Service that did not care which it got.

use std::collections::BTreeMap;
use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

/// An IPv4 network in CIDR notation: `10.96.0.0/16`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv4Cidr {
    network: Ipv4Addr,
    prefix: u8,
}

impl Ipv4Cidr {
    /// The network holding `address` (host bits cleared, as Go's
    /// `ParseCIDR` does). A service range needs room for two addresses
    /// besides the network and broadcast ones (at most /30), and may not
    /// span more than 2^20 (at least /12, kube-apiserver's limit).
    pub fn new(address: Ipv4Addr, prefix: u8) -> Result<Ipv4Cidr, RangeError> {
        if !(12..=30).contains(&prefix) {
            return Err(RangeError(format!(
                "{address}/{prefix}: a service range needs a prefix from /12 to /30"
            )));
        }
        let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
        Ok(Ipv4Cidr {
            network: Ipv4Addr::from(u32::from(address) & mask),
            prefix,
        })
    }

    pub fn network(&self) -> Ipv4Addr {
        self.network
    }

    pub fn prefix(&self) -> u8 {
        self.prefix
    }

    /// How many addresses the network spans, network and broadcast included.
    pub fn size(&self) -> u64 {
        1u64 << (32 - u32::from(self.prefix))
    }

    pub fn contains(&self, address: Ipv4Addr) -> bool {
        u64::from(u32::from(address).wrapping_sub(u32::from(self.network))) < self.size()
    }

    /// The `n`th address of the network (`0` is the network address): the
    /// cluster DNS lives at the tenth, `10.96.0.10`.
    pub fn address(&self, n: u32) -> Option<Ipv4Addr> {
        (u64::from(n) < self.size()).then(|| Ipv4Addr::from(u32::from(self.network) + n))
    }

    /// The pool of the addresses a Service may get: all but the network
    /// and broadcast addresses; index 0 is the network address plus one.
    pub(crate) fn pool(&self) -> Pool {
        let size = (self.size() - 2) as u32;
        Pool::new(size, static_band(self.size(), 16, 256))
    }

    /// The pool index of `address`, when it is one a Service may get.
    pub(crate) fn index_of(&self, address: Ipv4Addr) -> Option<u32> {
        let offset = u32::from(address).wrapping_sub(u32::from(self.network));
        (self.contains(address) && offset >= 1 && u64::from(offset) < self.size() - 1)
            .then(|| offset - 1)
    }

    pub(crate) fn at_index(&self, index: u32) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.network) + 1 + index)
    }
}

impl fmt::Display for Ipv4Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

impl FromStr for Ipv4Cidr {
    type Err = RangeError;

    fn from_str(text: &str) -> Result<Ipv4Cidr, RangeError> {
        let bad = || RangeError(format!("{text:?} is not an IPv4 CIDR such as 10.96.0.0/16"));
        let (address, prefix) = text.trim().split_once('/').ok_or_else(bad)?;
        let address: Ipv4Addr = address.parse().map_err(|_| bad())?;
        let prefix: u8 = prefix.parse().map_err(|_| bad())?;
        if prefix > 32 {
            return Err(bad());
        }
        Ipv4Cidr::new(address, prefix)
    }
}

/// A range of ports, both ends included: `30000-32767`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortRange {
    first: u16,
    last: u16,
}

impl PortRange {
    pub fn new(first: u16, last: u16) -> Result<PortRange, RangeError> {
        if first == 0 || first > last {
            return Err(RangeError(format!(
                "{first}-{last} is not a port range: it needs 1 <= first <= last"
            )));
        }
        Ok(PortRange { first, last })
    }

    pub fn first(&self) -> u16 {
        self.first
    }

    pub fn last(&self) -> u16 {
        self.last
    }

    pub fn size(&self) -> u32 {
        u32::from(self.last - self.first) + 1
    }

    pub fn contains(&self, port: i32) -> bool {
        (i32::from(self.first)..=i32::from(self.last)).contains(&port)
    }

    pub(crate) fn pool(&self) -> Pool {
        Pool::new(self.size(), static_band(u64::from(self.size()), 32, 128))
    }

    pub(crate) fn index_of(&self, port: i32) -> Option<u32> {
        self.contains(port)
            .then(|| (port - i32::from(self.first)) as u32)
    }

    pub(crate) fn at_index(&self, index: u32) -> i32 {
        i32::from(self.first) + index as i32
    }
}

impl fmt::Display for PortRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.first, self.last)
    }
}

impl FromStr for PortRange {
    type Err = RangeError;

    /// `30000-32767`, or a single port.
    fn from_str(text: &str) -> Result<PortRange, RangeError> {
        let bad = || RangeError(format!("{text:?} is not a port range such as 30000-32767"));
        let port = |part: &str| part.trim().parse::<u16>().map_err(|_| bad());
        match text.split_once('-') {
            Some((first, last)) => PortRange::new(port(first)?, port(last)?),
            None => {
                let only = port(text)?;
                PortRange::new(only, only)
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct RangeError(String);

/// How many of the lowest members of a range of `size` are kept for
/// explicit requests: `size / step`, but never less than 16 nor more than
/// `max`, and none in a range of 16 or fewer (Kubernetes'
/// `calculateRangeOffset`: step 16 and max 256 for addresses, 32 and 128
/// for ports).
pub fn static_band(size: u64, step: u64, max: u64) -> u32 {
    const MIN: u64 = 16;
    if size <= MIN {
        return 0;
    }
    (size / step).clamp(MIN, max) as u32
}

/// The members `0..size` of a range, those in use with their owner (the
/// store key of the Service holding them).
#[derive(Debug, Clone)]
pub(crate) struct Pool {
    size: u32,
    band: u32,
    used: BTreeMap<u32, String>,
}

/// Why a member cannot be had.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// Another owner holds it.
    Taken,
    /// Every member is in use.
    Full,
}

impl Pool {
    fn new(size: u32, band: u32) -> Pool {
        Pool {
            size,
            band: band.min(size),
            used: BTreeMap::new(),
        }
    }

    /// Takes the member `index` for `owner`, if free.
    pub fn take(&mut self, index: u32, owner: &str) -> Result<(), Refusal> {
        if self.used.contains_key(&index) {
            return Err(Refusal::Taken);
        }
        self.used.insert(index, owner.to_string());
        Ok(())
    }

    /// Takes a free member for `owner`: from the upper band, scanning from
    /// a random start, else from the lower band.
    pub fn take_any(&mut self, owner: &str, random: u32) -> Result<u32, Refusal> {
        let index = pick_free(self.size, self.band, random, |i| self.used.contains_key(&i))
            .ok_or(Refusal::Full)?;
        self.used.insert(index, owner.to_string());
        Ok(index)
    }

    /// Gives `index` back, if `owner` holds it (a stale release never frees
    /// a member someone else has since been given).
    pub fn release(&mut self, index: u32, owner: &str) {
        if self.used.get(&index).is_some_and(|holder| holder == owner) {
            self.used.remove(&index);
        }
    }

    /// Who holds `index`.
    pub fn owner(&self, index: u32) -> Option<&str> {
        self.used.get(&index).map(String::as_str)
    }
}

/// The free member to hand out of `0..size`, whose first `band` are kept
/// for explicit requests: the first free one at or after a random start in
/// the upper band (wrapping around inside it), else likewise in the lower
/// band; `None` when all are taken.
pub fn pick_free(size: u32, band: u32, random: u32, taken: impl Fn(u32) -> bool) -> Option<u32> {
    let scan = |start: u32, end: u32| {
        let len = end - start;
        (len > 0)
            .then(|| {
                let from = random % len;
                (0..len)
                    .map(|i| start + (from + i) % len)
                    .find(|&i| !taken(i))
            })
            .flatten()
    };
    scan(band, size).or_else(|| scan(0, band))
}
