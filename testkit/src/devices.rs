//! A host block device to aim at: what a container must never open.

use std::os::unix::fs::MetadataExt;
use std::path::Path;

use nix::sys::stat::{Mode, SFlag, major, makedev, minor, mknod};

/// A block device that this (root) process can open for reading.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostBlockDevice {
    pub major: u32,
    pub minor: u32,
    /// Which one it is: the disk that holds `/`, or another.
    pub what: String,
}

/// The block device that holds `/` when this process can open a node of it,
/// else the first of `/sys/dev/block` that it can (some sandboxes keep even
/// root away from their disk, but not from a loop device). `None` when it
/// can open none: then no test can show that a container cannot.
///
/// Each candidate is tried through a node made with `mknod` in `scratch`,
/// exactly as a container would make it, and the node is removed again.
pub fn openable_block_device(scratch: &Path) -> Option<HostBlockDevice> {
    let mut candidates = Vec::new();
    if let Ok(root) = std::fs::metadata("/") {
        let dev = root.dev();
        candidates.push((
            major(dev) as u32,
            minor(dev) as u32,
            "the disk that holds /",
        ));
    }
    let mut listed: Vec<(u32, u32)> = std::fs::read_dir("/sys/dev/block")
        .map(|entries| {
            entries
                .flatten()
                .filter_map(|entry| {
                    let name = entry.file_name().to_string_lossy().into_owned();
                    let (major, minor) = name.split_once(':')?;
                    Some((major.parse().ok()?, minor.parse().ok()?))
                })
                .collect()
        })
        .unwrap_or_default();
    listed.sort_unstable();
    candidates.extend(
        listed
            .into_iter()
            .map(|(a, b)| (a, b, "a block device of this machine")),
    );
    let node = scratch.join("block-device-probe");
    candidates
        .into_iter()
        // Major 0 is the anonymous devices of overlayfs, btrfs, tmpfs.
        .filter(|(major, _, _)| *major != 0)
        .find(|(major, minor, _)| {
            let _ = std::fs::remove_file(&node);
            let dev = makedev(u64::from(*major), u64::from(*minor));
            let made = mknod(&node, SFlag::S_IFBLK, Mode::from_bits_truncate(0o600), dev);
            let opens = made.is_ok() && std::fs::File::open(&node).is_ok();
            let _ = std::fs::remove_file(&node);
            opens
        })
        .map(|(major, minor, what)| HostBlockDevice {
            major,
            minor,
            what: what.to_string(),
        })
}
