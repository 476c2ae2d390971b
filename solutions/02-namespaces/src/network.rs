use std::os::fd::AsRawFd;

use nix::sys::socket::{AddressFamily, SockFlag, SockType, socket};

// ANCHOR: loopback_up
/// Brings up the loopback device of the current network namespace.
///
/// A new network namespace has exactly one device, `lo`, and it is down:
/// without this, even `127.0.0.1` is unreachable inside the container.
/// Device flags are read and written with two ioctls on any socket.
pub fn loopback_up() -> nix::Result<()> {
    // exercise: Open an AF_INET datagram socket, read lo's flags with SIOCGIFFLAGS into a libc::ifreq whose ifr_name is "lo", add IFF_UP to ifr_ifru.ifru_flags, write them back with SIOCSIFFLAGS.
    let socket = socket(
        AddressFamily::Inet,
        SockType::Datagram,
        SockFlag::SOCK_CLOEXEC,
        None,
    )?;
    // SAFETY: ifreq is plain old data; all zeroes is a valid value.
    let mut request: libc::ifreq = unsafe { std::mem::zeroed() };
    for (slot, byte) in request.ifr_name.iter_mut().zip(b"lo\0") {
        *slot = *byte as libc::c_char;
    }
    // SAFETY: the socket is open and `request` names a device and has room
    // for the flags the kernel writes.
    nix::errno::Errno::result(unsafe {
        libc::ioctl(socket.as_raw_fd(), libc::SIOCGIFFLAGS, &mut request)
    })?;
    // SAFETY: SIOCGIFFLAGS filled in the flags member of the union.
    unsafe { request.ifr_ifru.ifru_flags |= libc::IFF_UP as libc::c_short };
    // SAFETY: as above; the kernel only reads `request`.
    nix::errno::Errno::result(unsafe {
        libc::ioctl(socket.as_raw_fd(), libc::SIOCSIFFLAGS, &request)
    })?;
    Ok(())
}
// ANCHOR_END: loopback_up
