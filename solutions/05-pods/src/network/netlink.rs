//! A small rtnetlink client: the handful of requests the pod network needs.
//!
//! Container networking plugins (CNI's bridge plugin, Docker's libnetwork)
//! configure interfaces by talking netlink to the kernel, not by running
//! `ip`: a netlink request is one `sendmsg`, its answer says exactly what
//! went wrong, and nothing depends on a program being installed. A netlink
//! message is a 16-byte header, a fixed-size struct (`ifinfomsg`,
//! `ifaddrmsg`, `rtmsg`) and a list of type-length-value attributes, some of
//! which nest more attributes.
//!
//! A netlink socket belongs to the network namespace of the thread that
//! created it, for its whole life: that is how the pod network changes a
//! pod's namespace without ever entering it on the caller's thread (see
//! [`super::netns`]).

use std::fmt;
use std::io;
use std::net::Ipv4Addr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use nix::errno::Errno;

use super::subnet::Subnet;

// Message types and flags (linux/netlink.h, linux/rtnetlink.h).
const NLMSG_ERROR: u16 = libc::NLMSG_ERROR as u16;
const NLMSG_DONE: u16 = libc::NLMSG_DONE as u16;
const NLM_F_REQUEST: u16 = libc::NLM_F_REQUEST as u16;
const NLM_F_ACK: u16 = libc::NLM_F_ACK as u16;
const NLM_F_EXCL: u16 = libc::NLM_F_EXCL as u16;
const NLM_F_CREATE: u16 = libc::NLM_F_CREATE as u16;
const NLM_F_DUMP: u16 = libc::NLM_F_DUMP as u16;
/// In an error message: extended-ack attributes follow.
const NLM_F_ACK_TLVS: u16 = 0x200;
const NLMSGERR_ATTR_MSG: u16 = 1;
const NETLINK_CAP_ACK: libc::c_int = 10;
const NETLINK_EXT_ACK: libc::c_int = 11;

const RTM_NEWLINK: u16 = libc::RTM_NEWLINK;
const RTM_DELLINK: u16 = libc::RTM_DELLINK;
const RTM_GETLINK: u16 = libc::RTM_GETLINK;
const RTM_SETLINK: u16 = libc::RTM_SETLINK;
const RTM_NEWADDR: u16 = libc::RTM_NEWADDR;
const RTM_DELADDR: u16 = libc::RTM_DELADDR;
const RTM_NEWROUTE: u16 = libc::RTM_NEWROUTE;

// Attributes.
const IFLA_IFNAME: u16 = libc::IFLA_IFNAME;
const IFLA_MASTER: u16 = libc::IFLA_MASTER;
const IFLA_IFALIAS: u16 = libc::IFLA_IFALIAS;
const IFLA_LINKINFO: u16 = libc::IFLA_LINKINFO;
const IFLA_NET_NS_FD: u16 = libc::IFLA_NET_NS_FD;
const IFLA_INFO_KIND: u16 = libc::IFLA_INFO_KIND;
const IFLA_INFO_DATA: u16 = libc::IFLA_INFO_DATA;
const VETH_INFO_PEER: u16 = 1;
const IFA_ADDRESS: u16 = libc::IFA_ADDRESS;
const IFA_LOCAL: u16 = libc::IFA_LOCAL;
const RTA_DST: u16 = libc::RTA_DST;
const RTA_OIF: u16 = libc::RTA_OIF;
const RTA_GATEWAY: u16 = libc::RTA_GATEWAY;
const NLA_F_NESTED: u16 = 1 << 15;

const HEADER_LEN: usize = 16;
const IFINFOMSG_LEN: usize = 16;

/// A request the kernel refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetlinkError {
    pub errno: Errno,
    /// The kernel's own explanation (extended ack), when it gives one.
    pub detail: Option<String>,
}

impl fmt::Display for NetlinkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.errno.desc())?;
        if let Some(detail) = &self.detail {
            write!(f, " ({detail})")?;
        }
        Ok(())
    }
}

impl std::error::Error for NetlinkError {}

impl From<io::Error> for NetlinkError {
    fn from(error: io::Error) -> NetlinkError {
        NetlinkError {
            errno: Errno::from_raw(error.raw_os_error().unwrap_or(libc::EIO)),
            detail: None,
        }
    }
}

impl From<Errno> for NetlinkError {
    fn from(errno: Errno) -> NetlinkError {
        NetlinkError {
            errno,
            detail: None,
        }
    }
}

/// A network interface, as the kernel describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub index: i32,
    pub name: String,
    pub alias: Option<String>,
}

/// A NETLINK_ROUTE socket in the network namespace it was created in.
#[derive(Debug)]
pub struct Socket {
    fd: OwnedFd,
    sequence: u32,
}

impl Socket {
    /// Opens a socket in the calling thread's network namespace.
    pub fn open() -> io::Result<Socket> {
        // SAFETY: plain system call; the result is checked.
        let fd = unsafe {
            libc::socket(
                libc::AF_NETLINK,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC,
                libc::NETLINK_ROUTE,
            )
        };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `fd` was just opened and nobody else owns it.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        // Ask for error messages in words, without the request echoed back.
        // Old kernels lack these options: the numbers alone still work.
        for option in [NETLINK_EXT_ACK, NETLINK_CAP_ACK] {
            let on: libc::c_int = 1;
            // SAFETY: `on` lives across the call and its size is passed.
            unsafe {
                libc::setsockopt(
                    fd.as_raw_fd(),
                    libc::SOL_NETLINK,
                    option,
                    (&on as *const libc::c_int).cast(),
                    std::mem::size_of::<libc::c_int>() as libc::socklen_t,
                )
            };
        }
        Ok(Socket { fd, sequence: 0 })
    }

    /// Every interface of the socket's namespace.
    pub fn links(&mut self) -> Result<Vec<Link>, NetlinkError> {
        let mut request = Message::new(RTM_GETLINK, NLM_F_DUMP);
        request.ifinfomsg(0, 0, 0);
        let replies = self.exchange(request, true)?;
        Ok(replies
            .iter()
            .filter(|reply| reply.kind == RTM_NEWLINK)
            .filter_map(|reply| parse_link(&reply.payload))
            .collect())
    }

    /// The interface called `name`, if there is one.
    pub fn link(&mut self, name: &str) -> Result<Option<Link>, NetlinkError> {
        let mut request = Message::new(RTM_GETLINK, 0);
        request.ifinfomsg(0, 0, 0);
        request.attr_str(IFLA_IFNAME, name);
        match self.exchange(request, false) {
            Ok(replies) => Ok(replies
                .iter()
                .filter(|reply| reply.kind == RTM_NEWLINK)
                .find_map(|reply| parse_link(&reply.payload))),
            Err(error) if error.errno == Errno::ENODEV => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// Creates a bridge; fails with EEXIST if the name is taken.
    pub fn add_bridge(&mut self, name: &str) -> Result<(), NetlinkError> {
        self.add_link(name, "bridge")
    }

    /// Creates a dummy interface: one that only holds addresses, which the
    /// kernel then delivers locally (the Service proxy's ClusterIPs, as
    /// kube-proxy's IPVS mode puts them on `kube-ipvs0`). EEXIST if taken.
    pub fn add_dummy(&mut self, name: &str) -> Result<(), NetlinkError> {
        self.add_link(name, "dummy")
    }

    /// Creates an interface of a kind that needs no settings.
    fn add_link(&mut self, name: &str, kind: &str) -> Result<(), NetlinkError> {
        let mut request = Message::new(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
        request.ifinfomsg(0, 0, 0);
        request.attr_str(IFLA_IFNAME, name);
        let info = request.nest(IFLA_LINKINFO);
        request.attr_str(IFLA_INFO_KIND, kind);
        request.end(info);
        self.ack(request)
    }

    // ANCHOR: add_veth
    /// Creates a veth pair whose `peer` end is created directly in the
    /// network namespace `peer_netns` (an open `/proc/PID/ns/net`).
    pub fn add_veth(
        &mut self,
        name: &str,
        peer: &str,
        peer_netns: &impl AsRawFd,
    ) -> Result<(), NetlinkError> {
        let mut request = Message::new(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
        request.ifinfomsg(0, 0, 0);
        request.attr_str(IFLA_IFNAME, name);
        let info = request.nest(IFLA_LINKINFO);
        request.attr_str(IFLA_INFO_KIND, "veth");
        let data = request.nest(IFLA_INFO_DATA);
        // The peer is described like a link of its own: an ifinfomsg and
        // its attributes, inside the VETH_INFO_PEER attribute.
        let peer_info = request.nest(VETH_INFO_PEER);
        request.ifinfomsg(0, 0, 0);
        request.attr_str(IFLA_IFNAME, peer);
        request.attr(
            IFLA_NET_NS_FD,
            &(peer_netns.as_raw_fd() as u32).to_ne_bytes(),
        );
        request.end(peer_info);
        request.end(data);
        request.end(info);
        self.ack(request)
    }
    // ANCHOR_END: add_veth

    /// Changes an interface: its alias, its master (the bridge it is a port
    /// of) and whether it is up. `None` leaves a setting as it is.
    pub fn set_link(
        &mut self,
        index: i32,
        alias: Option<&str>,
        master: Option<i32>,
        up: bool,
    ) -> Result<(), NetlinkError> {
        let mut request = Message::new(RTM_SETLINK, 0);
        let flag = if up { libc::IFF_UP as u32 } else { 0 };
        request.ifinfomsg(index, flag, libc::IFF_UP as u32);
        if let Some(alias) = alias {
            request.attr(IFLA_IFALIAS, alias.as_bytes());
        }
        if let Some(master) = master {
            request.attr(IFLA_MASTER, &(master as u32).to_ne_bytes());
        }
        self.ack(request)
    }

    /// Deletes an interface (a veth pair goes whole: deleting one end
    /// deletes the other, wherever it is).
    pub fn delete_link(&mut self, index: i32) -> Result<(), NetlinkError> {
        let mut request = Message::new(RTM_DELLINK, 0);
        request.ifinfomsg(index, 0, 0);
        self.ack(request)
    }

    /// Gives an interface the address `ip` in `subnet` (which also makes the
    /// kernel add the route to the subnet through that interface).
    pub fn add_address(
        &mut self,
        index: i32,
        ip: Ipv4Addr,
        subnet: Subnet,
    ) -> Result<(), NetlinkError> {
        let mut request = Message::new(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
        // struct ifaddrmsg: family, prefix length, flags, scope, index.
        request.bytes(&[
            libc::AF_INET as u8,
            subnet.prefix(),
            0,
            libc::RT_SCOPE_UNIVERSE,
        ]);
        request.bytes(&(index as u32).to_ne_bytes());
        request.attr(IFA_LOCAL, &ip.octets());
        request.attr(IFA_ADDRESS, &ip.octets());
        self.ack(request)
    }

    /// Takes the address `ip`/`prefix` off an interface (EADDRNOTAVAIL if
    /// it has no such address).
    pub fn delete_address(
        &mut self,
        index: i32,
        ip: Ipv4Addr,
        prefix: u8,
    ) -> Result<(), NetlinkError> {
        let mut request = Message::new(RTM_DELADDR, 0);
        request.bytes(&[libc::AF_INET as u8, prefix, 0, libc::RT_SCOPE_UNIVERSE]);
        request.bytes(&(index as u32).to_ne_bytes());
        request.attr(IFA_LOCAL, &ip.octets());
        request.attr(IFA_ADDRESS, &ip.octets());
        self.ack(request)
    }

    /// Adds a route to `destination` through the router `gateway`, out of
    /// the interface `index`.
    pub fn add_route(
        &mut self,
        destination: Subnet,
        gateway: Ipv4Addr,
        index: i32,
    ) -> Result<(), NetlinkError> {
        let mut request = Message::new(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL);
        // struct rtmsg: family, dst_len, src_len, tos, table, protocol,
        // scope, type, flags.
        request.bytes(&[
            libc::AF_INET as u8,
            destination.prefix(),
            0,
            0,
            libc::RT_TABLE_MAIN,
            libc::RTPROT_BOOT,
            libc::RT_SCOPE_UNIVERSE,
            libc::RTN_UNICAST,
        ]);
        request.bytes(&0u32.to_ne_bytes());
        request.attr(RTA_DST, &destination.network().octets());
        request.attr(RTA_GATEWAY, &gateway.octets());
        request.attr(RTA_OIF, &(index as u32).to_ne_bytes());
        self.ack(request)
    }

    fn ack(&mut self, request: Message) -> Result<(), NetlinkError> {
        self.exchange(request, false).map(drop)
    }

    /// Sends one request and collects the answer: the replies up to the
    /// acknowledgement (or, for a dump, up to NLMSG_DONE).
    fn exchange(&mut self, mut request: Message, dump: bool) -> Result<Vec<Reply>, NetlinkError> {
        self.sequence = self.sequence.wrapping_add(1);
        let sequence = self.sequence;
        let bytes = request.finish(sequence);
        // SAFETY: the buffer is valid for its length; the kernel only reads it.
        let sent =
            unsafe { libc::send(self.fd.as_raw_fd(), bytes.as_ptr().cast(), bytes.len(), 0) };
        Errno::result(sent)?;
        let mut replies = Vec::new();
        let mut buffer = vec![0u8; 64 * 1024];
        loop {
            // SAFETY: the buffer is valid and writable for its length.
            let received = unsafe {
                libc::recv(
                    self.fd.as_raw_fd(),
                    buffer.as_mut_ptr().cast(),
                    buffer.len(),
                    0,
                )
            };
            let received = Errno::result(received)? as usize;
            for reply in split(&buffer[..received]) {
                if reply.sequence != sequence {
                    continue; // an answer to an earlier request that gave up
                }
                match reply.kind {
                    NLMSG_ERROR => return check_error(&reply).map(|()| replies),
                    NLMSG_DONE => return Ok(replies),
                    _ => {
                        replies.push(reply);
                        // A plain get answers with its one reply and no ack.
                        if !dump && request.flags & NLM_F_ACK == 0 {
                            return Ok(replies);
                        }
                    }
                }
            }
        }
    }
}

/// One message from the kernel.
#[derive(Debug)]
struct Reply {
    kind: u16,
    flags: u16,
    sequence: u32,
    payload: Vec<u8>,
}

/// A request being built: the header is filled in by [`Message::finish`].
struct Message {
    kind: u16,
    flags: u16,
    buffer: Vec<u8>,
}

impl Message {
    /// Changes (everything but gets) are acknowledged, so that their errors
    /// are seen.
    fn new(kind: u16, flags: u16) -> Message {
        let get = kind == RTM_GETLINK;
        let flags = NLM_F_REQUEST | flags | if get { 0 } else { NLM_F_ACK };
        Message {
            kind,
            flags,
            buffer: vec![0; HEADER_LEN],
        }
    }

    fn bytes(&mut self, bytes: &[u8]) {
        self.buffer.extend_from_slice(bytes);
        self.pad();
    }

    /// struct ifinfomsg: family, padding, type, index, flags, change mask.
    fn ifinfomsg(&mut self, index: i32, flags: u32, change: u32) {
        let start = self.buffer.len();
        self.buffer
            .extend_from_slice(&[libc::AF_UNSPEC as u8, 0, 0, 0]);
        self.buffer.extend_from_slice(&index.to_ne_bytes());
        self.buffer.extend_from_slice(&flags.to_ne_bytes());
        self.buffer.extend_from_slice(&change.to_ne_bytes());
        debug_assert_eq!(self.buffer.len() - start, IFINFOMSG_LEN);
    }

    fn attr(&mut self, kind: u16, value: &[u8]) {
        let len = (4 + value.len()) as u16;
        self.buffer.extend_from_slice(&len.to_ne_bytes());
        self.buffer.extend_from_slice(&kind.to_ne_bytes());
        self.buffer.extend_from_slice(value);
        self.pad();
    }

    /// A string attribute, NUL-terminated as the kernel's policies expect.
    fn attr_str(&mut self, kind: u16, value: &str) {
        let mut bytes = value.as_bytes().to_vec();
        bytes.push(0);
        self.attr(kind, &bytes);
    }

    /// Opens a nested attribute; [`Message::end`] closes it.
    fn nest(&mut self, kind: u16) -> usize {
        let start = self.buffer.len();
        self.buffer.extend_from_slice(&0u16.to_ne_bytes());
        self.buffer
            .extend_from_slice(&(kind | NLA_F_NESTED).to_ne_bytes());
        start
    }

    fn end(&mut self, start: usize) {
        let len = (self.buffer.len() - start) as u16;
        self.buffer[start..start + 2].copy_from_slice(&len.to_ne_bytes());
    }

    fn pad(&mut self) {
        while self.buffer.len() & 3 != 0 {
            self.buffer.push(0);
        }
    }

    fn finish(&mut self, sequence: u32) -> &[u8] {
        let len = self.buffer.len() as u32;
        self.buffer[0..4].copy_from_slice(&len.to_ne_bytes());
        self.buffer[4..6].copy_from_slice(&self.kind.to_ne_bytes());
        self.buffer[6..8].copy_from_slice(&self.flags.to_ne_bytes());
        self.buffer[8..12].copy_from_slice(&sequence.to_ne_bytes());
        // Port id 0: the message is for the kernel.
        self.buffer[12..16].copy_from_slice(&0u32.to_ne_bytes());
        &self.buffer
    }
}

fn u16_at(bytes: &[u8], at: usize) -> u16 {
    u16::from_ne_bytes([bytes[at], bytes[at + 1]])
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_ne_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

fn align(len: usize) -> usize {
    (len + 3) & !3
}

/// The messages in one datagram.
fn split(mut bytes: &[u8]) -> Vec<Reply> {
    let mut replies = Vec::new();
    while bytes.len() >= HEADER_LEN {
        let len = u32_at(bytes, 0) as usize;
        if len < HEADER_LEN || len > bytes.len() {
            break;
        }
        replies.push(Reply {
            kind: u16_at(bytes, 4),
            flags: u16_at(bytes, 6),
            sequence: u32_at(bytes, 8),
            payload: bytes[HEADER_LEN..len].to_vec(),
        });
        bytes = &bytes[align(len).min(bytes.len())..];
    }
    replies
}

/// The attributes in `bytes`, as (type without flags, value).
fn attributes(mut bytes: &[u8]) -> Vec<(u16, &[u8])> {
    let mut found = Vec::new();
    while bytes.len() >= 4 {
        let len = u16_at(bytes, 0) as usize;
        if len < 4 || len > bytes.len() {
            break;
        }
        found.push((u16_at(bytes, 2) & !NLA_F_NESTED, &bytes[4..len]));
        bytes = &bytes[align(len).min(bytes.len())..];
    }
    found
}

fn text(value: &[u8]) -> String {
    let end = value.iter().position(|&b| b == 0).unwrap_or(value.len());
    String::from_utf8_lossy(&value[..end]).into_owned()
}

fn parse_link(payload: &[u8]) -> Option<Link> {
    if payload.len() < IFINFOMSG_LEN {
        return None;
    }
    let index = u32_at(payload, 4) as i32;
    let mut link = Link {
        index,
        name: String::new(),
        alias: None,
    };
    for (kind, value) in attributes(&payload[IFINFOMSG_LEN..]) {
        match kind {
            IFLA_IFNAME => link.name = text(value),
            IFLA_IFALIAS => link.alias = Some(text(value)).filter(|alias| !alias.is_empty()),
            _ => {}
        }
    }
    Some(link)
}

/// An NLMSG_ERROR message: error 0 is the acknowledgement of success.
fn check_error(reply: &Reply) -> Result<(), NetlinkError> {
    let payload = &reply.payload;
    if payload.len() < 4 {
        return Err(Errno::EBADMSG.into());
    }
    let error = u32_at(payload, 0) as i32;
    if error == 0 {
        return Ok(());
    }
    // With NETLINK_CAP_ACK, only the request's header follows the error
    // code; then the extended-ack attributes.
    let detail = (reply.flags & NLM_F_ACK_TLVS != 0 && payload.len() > 4 + HEADER_LEN)
        .then(|| {
            attributes(&payload[4 + HEADER_LEN..])
                .into_iter()
                .find(|(kind, _)| *kind == NLMSGERR_ATTR_MSG)
                .map(|(_, value)| text(value))
        })
        .flatten();
    Err(NetlinkError {
        errno: Errno::from_raw(-error),
        detail,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_attributes_carry_their_whole_length() {
        let mut message = Message::new(RTM_NEWLINK, 0);
        let outer = message.nest(IFLA_LINKINFO);
        message.attr_str(IFLA_INFO_KIND, "veth");
        message.end(outer);
        let bytes = message.finish(7).to_vec();
        let attrs = attributes(&bytes[HEADER_LEN..]);
        assert_eq!(attrs.len(), 1);
        assert_eq!(attrs[0].0, IFLA_LINKINFO);
        assert_eq!(
            attributes(attrs[0].1),
            vec![(IFLA_INFO_KIND, &b"veth\0"[..])]
        );
        assert_eq!(u32_at(&bytes, 0) as usize, bytes.len());
        assert_eq!(u32_at(&bytes, 8), 7);
    }
}
