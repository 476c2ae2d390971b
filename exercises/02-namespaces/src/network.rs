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
    todo!("exercise 6: bring up `lo`, the loopback device of the current network namespace")
}
// ANCHOR_END: loopback_up
