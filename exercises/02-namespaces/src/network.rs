// Generated from solutions/02-namespaces/src/network.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
use std::os::fd::AsRawFd;

use nix::sys::socket::{AddressFamily, SockFlag, SockType, socket};

// ANCHOR: loopback_up
/// Brings up the loopback device of the current network namespace.
///
/// A new network namespace has exactly one device, `lo`, and it is down:
/// without this, even `127.0.0.1` is unreachable inside the container.
/// Device flags are read and written with two ioctls on any socket.
pub fn loopback_up() -> nix::Result<()> {
    todo!(
        "Open an AF_INET datagram socket, read lo's flags with SIOCGIFFLAGS into a libc::ifreq whose ifr_name is \"lo\", add IFF_UP to ifr_ifru.ifru_flags, write them back with SIOCSIFFLAGS."
    )
}
// ANCHOR_END: loopback_up
