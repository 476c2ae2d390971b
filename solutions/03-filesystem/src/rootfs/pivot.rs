use std::path::Path;

use nix::mount::{MntFlags, umount2};
use nix::unistd::{chdir, pivot_root};

// ANCHOR: pivot_into
/// Makes `new_root` the root of this mount namespace, and drops the old one.
///
/// `chroot` only changes where path lookups start, and a process that is
/// root can walk back out (`chroot` again into a subdirectory, then `..`).
/// `pivot_root` instead moves the old root away, and once it is unmounted
/// nothing of the host's filesystem is reachable at all. `new_root` must be
/// a mount point.
pub fn pivot_into(new_root: &Path) -> nix::Result<()> {
    // exercise 6: make `new_root` the root of this mount namespace and leave the old root unreachable
    // hint: pivot_root(2) swaps the root mount for another and puts the old one somewhere; the old root must then be unmounted, or the host stays reachable. Read `man 2 pivot_root`, its NOTES in particular.
    // hint: The man page's trick needs no directory for the old root: with the new root as the current directory, `pivot_root(".", ".")` stacks the old root on top of the new one at ".". Unmount it lazily (MNT_DETACH: things may still use it), and make sure the current directory is the new `/`.
    // hint: chdir(new_root)?; pivot_root(".", ".")?; umount2(".", MntFlags::MNT_DETACH)?; chdir("/").
    chdir(new_root)?;
    // With both arguments ".", the old root ends up mounted on top of the
    // new one, at "/"; there is no need for a directory to put it in.
    pivot_root(".", ".")?;
    umount2(".", MntFlags::MNT_DETACH)?;
    chdir("/")
}
// ANCHOR_END: pivot_into
