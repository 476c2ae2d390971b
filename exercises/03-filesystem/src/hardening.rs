// Generated from solutions/03-filesystem/src/hardening.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
use caps::{CapSet, Capability, CapsHashSet};
use namespaces::InitError;

/// The capabilities container runtimes leave a container (containerd's and
/// Docker's default set): enough to run as root inside and change file
/// ownership, bind low ports and switch users; not enough to mount, load
/// kernel modules, trace other processes or change the clock.
///
/// What capabilities do not cover: the many system calls that need none.
/// Without a filter, root in the container (or anyone) may still create a
/// user namespace and be root with every capability in it, use key rings
/// (keyctl, add_key), eBPF, perf events, userfaultfd and io_uring: kernel
/// code that needs no privilege and has had its share of exploitable bugs.
/// Those are what [`install_seccomp_filter`](crate::install_seccomp_filter)
/// refuses. And nothing here limits what the kernel itself exposes (a bug in
/// an allowed call is still reachable), nor how much a container may use:
/// that is chapter 04's cgroups.
pub const DEFAULT_CAPABILITIES: &[Capability] = &[
    Capability::CAP_AUDIT_WRITE,
    Capability::CAP_CHOWN,
    Capability::CAP_DAC_OVERRIDE,
    Capability::CAP_FOWNER,
    Capability::CAP_FSETID,
    Capability::CAP_KILL,
    Capability::CAP_MKNOD,
    Capability::CAP_NET_BIND_SERVICE,
    Capability::CAP_NET_RAW,
    Capability::CAP_SETFCAP,
    Capability::CAP_SETGID,
    Capability::CAP_SETPCAP,
    Capability::CAP_SETUID,
    Capability::CAP_SYS_CHROOT,
];

fn failed(what: &str) -> impl FnOnce(caps::errors::CapsError) -> InitError + '_ {
    move |error| InitError::Setup {
        what: format!("{what} ({error})"),
        source: nix::errno::Errno::last(),
    }
}

// ANCHOR: drop_privileges
/// Gives up, for good, every privilege the application should not have.
/// Runs in the application's process, right before `exec`.
///
/// Capabilities live in five sets. The *bounding* set caps what the process
/// and its descendants can ever regain (a setuid-root program included), so
/// it is cut first, while we still hold CAP_SETPCAP to cut it. Then the
/// sets the process holds now. `no_new_privs` finally makes `exec` unable to
/// grant anything more (setuid bits and file capabilities stop working).
pub fn drop_privileges() -> Result<(), InitError> {
    todo!(
        "exercise 7: give up, for good, every capability outside DEFAULT_CAPABILITIES, and let no exec gain new privileges"
    )
}
// ANCHOR_END: drop_privileges
