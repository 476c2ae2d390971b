// Generated from solutions/04-cgroups/src/devices.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
//! Which device nodes a container may use: runc's allow-list.
//!
//! A container keeps `CAP_MKNOD` (containerd's default capability set has
//! it), so its root can make a node for any device, the host's disk
//! included: `mknod /tmp/disk b 8 0`. Namespaces do not stop it from opening
//! that node, and neither does a private `/dev`. The device cgroup does: the
//! kernel asks it on every `open` and `mknod` of a device node. Every
//! container's cgroup gets the same list as under runc: make any node, but
//! read and write only the harmless ones.

use std::collections::BTreeSet;
use std::fmt;
use std::path::Path;

use crate::{CgroupError, files};

/// A device node's type, as `ls -l` shows it (`c` or `b`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeviceKind {
    Char,
    Block,
}

impl DeviceKind {
    /// The type's letter in the v1 files (`c`, `b`).
    pub fn letter(self) -> char {
        match self {
            DeviceKind::Char => 'c',
            DeviceKind::Block => 'b',
        }
    }

    /// The type's code in the context of a v2 device program
    /// (`BPF_DEVCG_DEV_*` in linux/bpf.h).
    pub fn bpf_code(self) -> u32 {
        match self {
            DeviceKind::Block => 1,
            DeviceKind::Char => 2,
        }
    }
}

/// What a process asks to do with a device node: any of read, write and
/// mknod. The bits are the kernel's `BPF_DEVCG_ACC_*`, the same in v1 and v2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DeviceAccess(u32);

impl DeviceAccess {
    pub const MKNOD: DeviceAccess = DeviceAccess(1);
    pub const READ: DeviceAccess = DeviceAccess(2);
    pub const WRITE: DeviceAccess = DeviceAccess(4);
    /// `open(O_RDWR)` asks for both.
    pub const READ_WRITE: DeviceAccess = DeviceAccess(2 | 4);
    /// `rwm`.
    pub const ALL: DeviceAccess = DeviceAccess(1 | 2 | 4);

    pub const fn bits(self) -> u32 {
        self.0
    }

    /// The access with these bits (others are dropped).
    pub const fn from_bits(bits: u32) -> DeviceAccess {
        DeviceAccess(bits & DeviceAccess::ALL.0)
    }

    /// True when everything `other` asks for is in `self`.
    pub const fn contains(self, other: DeviceAccess) -> bool {
        other.0 & !self.0 == 0
    }
}

impl fmt::Display for DeviceAccess {
    /// `rwm`, `m`, `rw`: the letters the v1 files use, in their order.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (access, letter) in [
            (DeviceAccess::READ, 'r'),
            (DeviceAccess::WRITE, 'w'),
            (DeviceAccess::MKNOD, 'm'),
        ] {
            if self.contains(access) {
                write!(f, "{letter}")?;
            }
        }
        Ok(())
    }
}

/// One entry of an allow-list: devices of `kind` with this major and minor
/// number (`None` is the wildcard `*`) may be used for `access`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DeviceRule {
    pub kind: DeviceKind,
    pub major: Option<u32>,
    pub minor: Option<u32>,
    pub access: DeviceAccess,
}

impl DeviceRule {
    pub const fn new(
        kind: DeviceKind,
        major: Option<u32>,
        minor: Option<u32>,
        access: DeviceAccess,
    ) -> DeviceRule {
        DeviceRule {
            kind,
            major,
            minor,
            access,
        }
    }

    /// True when this rule alone allows all of `access` on the device. The
    /// kernel never combines rules: `c 1:3 r` and `c 1:3 w` together do not
    /// allow an `O_RDWR` open.
    pub fn allows(&self, kind: DeviceKind, major: u32, minor: u32, access: DeviceAccess) -> bool {
        self.kind == kind
            && self.major.is_none_or(|m| m == major)
            && self.minor.is_none_or(|m| m == minor)
            && self.access.contains(access)
    }
}

impl fmt::Display for DeviceRule {
    /// `c 1:3 rwm`, `b *:* m`: one line of `devices.allow` and
    /// `devices.list`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let number = |n: Option<u32>| n.map_or("*".to_string(), |n| n.to_string());
        write!(
            f,
            "{} {}:{} {}",
            self.kind.letter(),
            number(self.major),
            number(self.minor),
            self.access
        )
    }
}

// ANCHOR: default_rules
/// The devices every container may use: runc's `AllowedDevices`
/// (libcontainer/specconv), which containerd and CRI-O pass on for every
/// Kubernetes container. `mknod` of any node, so that images that make
/// their own nodes still start; read and write only of the null, zero,
/// full, random and urandom devices, the controlling terminal (`tty`), the
/// pseudo-terminal multiplexer (`ptmx`) and the pseudo-terminals
/// themselves (`pts`, major 136). Nothing else, the host's disks least of
/// all.
pub const DEFAULT_DEVICE_RULES: [DeviceRule; 10] = {
    use DeviceKind::{Block, Char};
    const RWM: DeviceAccess = DeviceAccess::ALL;
    [
        DeviceRule::new(Char, None, None, DeviceAccess::MKNOD),
        DeviceRule::new(Block, None, None, DeviceAccess::MKNOD),
        DeviceRule::new(Char, Some(1), Some(3), RWM), // null
        DeviceRule::new(Char, Some(1), Some(8), RWM), // random
        DeviceRule::new(Char, Some(1), Some(7), RWM), // full
        DeviceRule::new(Char, Some(5), Some(0), RWM), // tty
        DeviceRule::new(Char, Some(1), Some(5), RWM), // zero
        DeviceRule::new(Char, Some(1), Some(9), RWM), // urandom
        DeviceRule::new(Char, Some(136), None, RWM),  // pts/*
        DeviceRule::new(Char, Some(5), Some(2), RWM), // ptmx
    ]
};
// ANCHOR_END: default_rules

/// Whether an allow-list lets a process do `access` on a device: yes when
/// one of its rules allows all of it, else no.
pub fn device_allowed(
    rules: &[DeviceRule],
    kind: DeviceKind,
    major: u32,
    minor: u32,
    access: DeviceAccess,
) -> bool {
    rules
        .iter()
        .any(|rule| rule.allows(kind, major, minor, access))
}

// ANCHOR: restrict_v1
/// Gives the v1 cgroup directory `dir` (in the devices hierarchy) exactly
/// the allow-list `rules`: `a` into `devices.deny` takes every device away,
/// then each rule goes into `devices.allow`, one per write.
///
/// A cgroup that has these rules already is left alone. A new cgroup
/// copies its parent's list, so a container's below a pod's has them from
/// `mkdir`; and `a` cannot be written into a cgroup that has children
/// (EINVAL), nor should it be into one whose processes would lose every
/// device for a moment.
pub(crate) fn restrict_v1(dir: &Path, rules: &[DeviceRule]) -> Result<(), CgroupError> {
    let list = files::read(&dir.join("devices.list"))?;
    let current: BTreeSet<&str> = list
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let wanted: Vec<String> = rules.iter().map(ToString::to_string).collect();
    if current == wanted.iter().map(String::as_str).collect() {
        return Ok(());
    }
    files::append(&dir.join("devices.deny"), "a\n")?;
    for rule in &wanted {
        files::append(&dir.join("devices.allow"), &format!("{rule}\n"))?;
    }
    Ok(())
}
// ANCHOR_END: restrict_v1
