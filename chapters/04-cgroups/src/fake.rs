//! Temporary directory trees that look like cgroupfs.
//!
//! cgroupfs fills a directory with control files the moment it is made; a
//! plain directory does not. So a fake tree holds, from the start, every
//! cgroup a test will create, each with its files and their initial
//! contents, and the test compares the tree before and after.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::cgroups::{Cgroups, Controller};

const V2_ROOT: &[(&str, &str)] = &[
    (
        "cgroup.controllers",
        "cpuset cpu io memory hugetlb pids rdma misc\n",
    ),
    // The root already hands `cpu` down; memory and pids are still to do.
    ("cgroup.subtree_control", "cpu\n"),
    ("cgroup.procs", ""),
];

const V2_CGROUP: &[(&str, &str)] = &[
    ("cgroup.controllers", "cpu memory pids\n"),
    ("cgroup.subtree_control", ""),
    ("cgroup.procs", ""),
    ("cgroup.kill", ""),
    ("memory.max", "max\n"),
    ("memory.swap.max", "max\n"),
    ("memory.current", "0\n"),
    ("memory.peak", "0\n"),
    (
        "memory.events",
        "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\noom_group_kill 0\n",
    ),
    ("cpu.max", "max 100000\n"),
    ("cpu.weight", "100\n"),
    (
        "cpu.stat",
        "usage_usec 0\nuser_usec 0\nsystem_usec 0\nnr_periods 0\nnr_throttled 0\nthrottled_usec 0\n",
    ),
    ("pids.max", "max\n"),
    ("pids.current", "0\n"),
    ("pids.peak", "0\n"),
];

/// "No limit" in v1 memory files: the largest page-aligned i64.
const V1_UNLIMITED: &str = "9223372036854771712\n";

const V1_MEMORY: &[(&str, &str)] = &[
    ("cgroup.procs", ""),
    ("memory.limit_in_bytes", V1_UNLIMITED),
    ("memory.memsw.limit_in_bytes", V1_UNLIMITED),
    ("memory.usage_in_bytes", "0\n"),
    ("memory.max_usage_in_bytes", "0\n"),
    ("memory.failcnt", "0\n"),
    (
        "memory.oom_control",
        "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n",
    ),
];

/// `cpu` and `cpuacct` mounted together, as many distributions do.
const V1_CPU_CPUACCT: &[(&str, &str)] = &[
    ("cgroup.procs", ""),
    ("cpu.cfs_period_us", "100000\n"),
    ("cpu.cfs_quota_us", "-1\n"),
    ("cpu.shares", "1024\n"),
    (
        "cpu.stat",
        "nr_periods 0\nnr_throttled 0\nthrottled_time 0\n",
    ),
    ("cpuacct.usage", "0\n"),
];

const V1_PIDS: &[(&str, &str)] = &[
    ("cgroup.procs", ""),
    ("pids.max", "max\n"),
    ("pids.current", "0\n"),
];

/// A new v1 cgroup below the root allows every device, as its parent.
const V1_DEVICES: &[(&str, &str)] = &[
    ("cgroup.procs", ""),
    ("devices.allow", ""),
    ("devices.deny", ""),
    ("devices.list", "a *:* rwm\n"),
];

/// A fake cgroup tree in a temporary directory.
pub struct FakeTree {
    pub dir: tempfile::TempDir,
    pub cgroups: Cgroups,
}

impl FakeTree {
    /// A v2 tree, with these cgroups (paths relative to the root) already
    /// made. Its device programs are recorded, not attached (a plain
    /// directory takes none): `cgroups.recorded_device_programs()`.
    pub fn v2(cgroups: &[&str]) -> FakeTree {
        let dir = tempfile::tempdir().expect("a temporary directory");
        write_files(dir.path(), V2_ROOT);
        for cgroup in cgroups {
            write_files(&dir.path().join(cgroup), V2_CGROUP);
        }
        let cgroups = Cgroups::v2(dir.path())
            .expect("the fake v2 root should be readable")
            .record_device_programs();
        FakeTree { dir, cgroups }
    }

    /// v1 hierarchies `memory`, `cpu,cpuacct`, `pids` and `devices`, with
    /// these cgroups already made in each.
    pub fn v1(cgroups: &[&str]) -> FakeTree {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let hierarchies: [(&str, &[(&str, &str)]); 4] = [
            ("memory", V1_MEMORY),
            ("cpu,cpuacct", V1_CPU_CPUACCT),
            ("pids", V1_PIDS),
            ("devices", V1_DEVICES),
        ];
        for (hierarchy, files) in hierarchies {
            write_files(&dir.path().join(hierarchy), &[("cgroup.procs", "")]);
            for cgroup in cgroups {
                write_files(&dir.path().join(hierarchy).join(cgroup), files);
            }
        }
        let at = |hierarchy: &str| dir.path().join(hierarchy);
        let cgroups = Cgroups::v1([
            (Controller::Memory, at("memory")),
            (Controller::Cpu, at("cpu,cpuacct")),
            (Controller::Cpuacct, at("cpu,cpuacct")),
            (Controller::Pids, at("pids")),
            (Controller::Devices, at("devices")),
        ]);
        FakeTree { dir, cgroups }
    }

    pub fn path(&self, relative: &str) -> PathBuf {
        self.dir.path().join(relative)
    }

    /// Overwrites one file, to set the scene (a kernel counter, say).
    pub fn set(&self, relative: &str, content: &str) {
        std::fs::write(self.path(relative), content).expect("writing a fake cgroup file");
    }

    pub fn snapshot(&self) -> BTreeMap<String, Option<String>> {
        read_tree(self.dir.path())
    }
}

fn write_files(dir: &Path, files: &[(&str, &str)]) {
    std::fs::create_dir_all(dir).expect("creating a fake cgroup");
    for (name, content) in files {
        std::fs::write(dir.join(name), content).expect("writing a fake cgroup file");
    }
}

/// Every directory (`None`) and file (its content) under `root`, by
/// relative path.
pub fn read_tree(root: &Path) -> BTreeMap<String, Option<String>> {
    let mut tree = BTreeMap::new();
    visit(root, root, &mut tree);
    tree
}

fn visit(root: &Path, dir: &Path, tree: &mut BTreeMap<String, Option<String>>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let relative = path
            .strip_prefix(root)
            .unwrap_or(&path)
            .display()
            .to_string();
        if path.is_dir() {
            tree.insert(relative, None);
            visit(root, &path, tree);
        } else {
            tree.insert(
                relative,
                Some(std::fs::read_to_string(&path).unwrap_or_default()),
            );
        }
    }
}

/// What differs between two readings of a tree, one line per path:
/// `memory.max: "max" -> "33554432"`, `created directory`, `removed`. A
/// file written with the value it had shows too: the write happened.
pub fn changes(
    before: &BTreeMap<String, Option<String>>,
    after: &BTreeMap<String, Option<String>>,
) -> String {
    let mut lines = Vec::new();
    for (path, new) in after {
        match (before.get(path), new) {
            (None, None) => lines.push(format!("{path}/: created directory")),
            (None, Some(content)) => {
                lines.push(format!("{path}: created file {:?}", content.trim()))
            }
            (Some(Some(old)), Some(new)) if old != new => {
                let (old, new) = (old.trim(), new.trim());
                if old == new {
                    lines.push(format!("{path}: {old:?} (written again, same value)"));
                } else {
                    lines.push(format!("{path}: {old:?} -> {new:?}"));
                }
            }
            (Some(old), new) if old != new => lines.push(format!(
                "{path}: {}",
                if new.is_none() {
                    "became a directory"
                } else {
                    "became a file"
                }
            )),
            _ => {}
        }
    }
    for path in before.keys().filter(|path| !after.contains_key(*path)) {
        lines.push(format!("{path}: removed"));
    }
    if lines.is_empty() {
        "(nothing changed)".to_string()
    } else {
        lines.join("\n")
    }
}
