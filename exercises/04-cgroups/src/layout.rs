// Generated from solutions/04-cgroups/src/layout.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
//! Which cgroup layout this machine has, and where each controller lives.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use crate::CgroupError;

/// Where every distribution mounts cgroups.
pub const CGROUP_ROOT: &str = "/sys/fs/cgroup";

/// `statfs` filesystem types (`f_type`), from linux/magic.h.
pub const CGROUP2_MAGIC: u64 = 0x6367_7270;
pub const CGROUP1_MAGIC: u64 = 0x0027_e0eb;
pub const TMPFS_MAGIC: u64 = 0x0102_1994;

/// The two cgroup APIs. The files differ (`memory.limit_in_bytes` against
/// `memory.max`), and so does the shape: one tree per controller in v1, one
/// tree for all of them in v2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    V1,
    V2,
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Version::V1 => f.write_str("cgroup v1"),
            Version::V2 => f.write_str("cgroup v2"),
        }
    }
}

/// How `/sys/fs/cgroup` is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `/sys/fs/cgroup` is itself a cgroup2 filesystem: v2 only.
    Unified,
    /// A tmpfs of v1 hierarchies, plus a cgroup2 mount at
    /// `/sys/fs/cgroup/unified` that systemd uses for tracking only. The
    /// controllers are in the v1 hierarchies, so that is what we use.
    Hybrid,
    /// A tmpfs of v1 hierarchies (or a single v1 hierarchy) and no v2.
    Legacy,
}

impl Mode {
    // ANCHOR: from_magic
    /// Decides the layout from the filesystem types of `/sys/fs/cgroup`
    /// (`root`) and of `/sys/fs/cgroup/unified` (`unified`, `None` when it
    /// does not exist). `None` when `/sys/fs/cgroup` is no cgroup layout.
    pub fn from_magic(root: u64, unified: Option<u64>) -> Option<Mode> {
        todo!(
            "exercise 1: the cgroup layout that these filesystem types of /sys/fs/cgroup and /sys/fs/cgroup/unified mean, if any"
        )
    }
    // ANCHOR_END: from_magic

    /// Asks the kernel, with statfs(2), what is mounted at `root`.
    pub fn detect(root: &Path) -> Result<Mode, CgroupError> {
        let root_magic = magic(root).map_err(|e| CgroupError::io("statfs", root, e))?;
        let unified_magic = magic(&root.join("unified")).ok();
        Mode::from_magic(root_magic, unified_magic).ok_or_else(|| CgroupError::NotMounted {
            path: root.to_path_buf(),
            magic: root_magic,
        })
    }

    /// The API this layout's controllers speak.
    pub fn version(self) -> Version {
        match self {
            Mode::Unified => Version::V2,
            Mode::Hybrid | Mode::Legacy => Version::V1,
        }
    }
}

fn magic(path: &Path) -> std::io::Result<u64> {
    let stat = nix::sys::statfs::statfs(path)?;
    // f_type's C type differs between libcs; the magic numbers are small.
    Ok(stat.filesystem_type().0 as u64)
}

/// The controllers k8s-mini uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Controller {
    Memory,
    Cpu,
    /// CPU time accounting. A separate controller in v1 (often mounted with
    /// `cpu` as `cpu,cpuacct`); part of every v2 cgroup's `cpu.stat`.
    Cpuacct,
    Pids,
    /// Which device nodes the processes may open or make. A controller with
    /// its own hierarchy in v1 (`devices.allow`, `devices.deny`); in v2 an
    /// eBPF program attached to the cgroup, so there it is in every cgroup
    /// and never in `cgroup.controllers`.
    Devices,
}

impl Controller {
    pub const ALL: [Controller; 5] = [
        Controller::Memory,
        Controller::Cpu,
        Controller::Cpuacct,
        Controller::Pids,
        Controller::Devices,
    ];

    /// The name the kernel uses, in mount options and `cgroup.controllers`.
    pub fn name(self) -> &'static str {
        match self {
            Controller::Memory => "memory",
            Controller::Cpu => "cpu",
            Controller::Cpuacct => "cpuacct",
            Controller::Pids => "pids",
            Controller::Devices => "devices",
        }
    }

    fn from_name(name: &str) -> Option<Controller> {
        Controller::ALL.into_iter().find(|c| c.name() == name)
    }
}

impl fmt::Display for Controller {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.name())
    }
}

/// Where each v1 controller is mounted, read from `/proc/self/mountinfo`.
///
/// Never assume `/sys/fs/cgroup/<name>`: some machines combine `cpu,cpuacct`
/// in one hierarchy, others mount them apart, and a container may see its
/// hierarchies anywhere. A mountinfo line reads
/// `36 25 0:31 / /sys/fs/cgroup/memory rw,relatime shared:9 - cgroup cgroup rw,memory`:
/// the mount point is the fifth field, and after the ` - ` come the
/// filesystem type, the source and the super options, which name the
/// controllers. The first mount of a controller wins.
pub fn parse_v1_mounts(mountinfo: &str) -> BTreeMap<Controller, PathBuf> {
    let mut mounts = BTreeMap::new();
    for line in mountinfo.lines() {
        let Some((fields, tail)) = line.split_once(" - ") else {
            continue;
        };
        let mut tail = tail.split(' ');
        let (Some("cgroup"), Some(_source), Some(options)) =
            (tail.next(), tail.next(), tail.next())
        else {
            continue;
        };
        let Some(mount_point) = fields.split(' ').nth(4) else {
            continue;
        };
        for option in options.split(',') {
            if let Some(controller) = Controller::from_name(option) {
                mounts
                    .entry(controller)
                    .or_insert_with(|| PathBuf::from(unescape(mount_point)));
            }
        }
    }
    mounts
}

/// mountinfo writes space, tab, newline and backslash in paths as `\040`,
/// `\011`, `\012` and `\134`.
fn unescape(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let octal = bytes
            .get(i + 1..i + 4)
            .filter(|d| d.iter().all(|b| (b'0'..=b'7').contains(b)));
        match (bytes[i], octal) {
            (b'\\', Some(digits)) => {
                let value = digits.iter().fold(0u32, |n, d| n * 8 + u32::from(d - b'0'));
                out.push(value as u8);
                i += 4;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
