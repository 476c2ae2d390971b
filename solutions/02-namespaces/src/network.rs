use std::os::fd::AsRawFd;

use nix::sys::socket::{AddressFamily, SockFlag, SockType, socket};

// ANCHOR: loopback_up
/// Brings up the loopback device of the current network namespace.
///
/// A new network namespace has exactly one device, `lo`, and it is down:
/// without this, even `127.0.0.1` is unreachable inside the container.
/// Device flags are read and written with two ioctls on any socket.
pub fn loopback_up() -> nix::Result<()> {
    // exercise 6: bring up `lo`, the loopback device of the current network namespace
    // hint: A device's flags (IFF_UP among them) are read and written with two ioctls, SIOCGIFFLAGS and SIOCSIFFLAGS, on any socket; `man 7 netdevice` describes them.
    // hint: Open a socket with nix (AF_INET, datagram, SOCK_CLOEXEC). The ioctls take a `libc::ifreq`: start from all zeroes, copy "lo" and a NUL into `ifr_name`; the flags are the union member `ifr_ifru.ifru_flags` (reading a union member is unsafe).
    // hint: socket(AddressFamily::Inet, SockType::Datagram, SockFlag::SOCK_CLOEXEC, None)?; `let mut request: libc::ifreq = unsafe { std::mem::zeroed() };` fill ifr_name from b"lo\0"; Errno::result(unsafe { libc::ioctl(fd, libc::SIOCGIFFLAGS, &mut request) })?; `request.ifr_ifru.ifru_flags |= libc::IFF_UP as libc::c_short`; then the same ioctl with SIOCSIFFLAGS; Ok(()).
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
