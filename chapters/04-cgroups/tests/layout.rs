//! Which layout a machine has, and where its v1 controllers are mounted.
//! Hole exercised: `Mode::from_magic` (src/layout.rs).

use std::fmt::Write;

use chapter_04::cgroups::{
    CGROUP_ROOT, CGROUP1_MAGIC, CGROUP2_MAGIC, Cgroups, Controller, Mode, TMPFS_MAGIC,
    parse_v1_mounts,
};
use insta::{assert_snapshot, with_settings};

const EXT4_MAGIC: u64 = 0xef53;
const SYSFS_MAGIC: u64 = 0x6265_6572;

fn fs_name(magic: u64) -> &'static str {
    match magic {
        CGROUP2_MAGIC => "cgroup2",
        CGROUP1_MAGIC => "cgroup (v1)",
        TMPFS_MAGIC => "tmpfs",
        EXT4_MAGIC => "ext4",
        SYSFS_MAGIC => "sysfs",
        _ => "?",
    }
}

#[test]
fn the_layout_follows_the_filesystem_types() {
    let cases = [
        (CGROUP2_MAGIC, None),
        (CGROUP2_MAGIC, Some(CGROUP2_MAGIC)),
        (TMPFS_MAGIC, Some(CGROUP2_MAGIC)),
        (TMPFS_MAGIC, None),
        (TMPFS_MAGIC, Some(TMPFS_MAGIC)),
        (CGROUP1_MAGIC, None),
        (EXT4_MAGIC, None),
        (SYSFS_MAGIC, Some(CGROUP2_MAGIC)),
    ];
    let mut report = String::new();
    for (root, unified) in cases {
        let unified_name = unified.map_or("(none)", fs_name);
        let verdict = match Mode::from_magic(root, unified) {
            Some(mode) => format!("{mode:?}, use {}", mode.version()),
            None => "not a cgroup layout".to_string(),
        };
        writeln!(
            report,
            "{:<12} unified: {unified_name:<8} => {verdict}",
            fs_name(root)
        )
        .unwrap();
    }
    with_settings!({
        description => "Mode::from_magic(type of /sys/fs/cgroup, type of /sys/fs/cgroup/unified)",
        omit_expression => true,
    }, {
        assert_snapshot!(report);
    });
}

#[test]
fn v1_controllers_are_found_in_mountinfo_wherever_they_are() {
    let machines = [
        (
            "hybrid, cpu and cpuacct apart (like the build machines)",
            "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n\
             32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n\
             33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n\
             35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n\
             39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n\
             40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n\
             41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw",
        ),
        (
            "legacy, cpu and cpuacct together, optional fields before the separator",
            "25 18 0:21 / /sys/fs/cgroup ro,nosuid shared:9 - tmpfs tmpfs ro,mode=755\n\
             28 25 0:24 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid shared:11 - cgroup cgroup rw,cpu,cpuacct\n\
             29 25 0:25 / /sys/fs/cgroup/memory rw,nosuid shared:12 - cgroup cgroup rw,memory\n\
             30 25 0:26 / /sys/fs/cgroup/pids rw,nosuid shared:13 - cgroup cgroup rw,pids\n\
             31 25 0:26 / /mnt/again/pids rw,nosuid shared:13 - cgroup cgroup rw,pids",
        ),
        (
            "a mount point with a space in it",
            "40 1 0:40 / /srv/my\\040cgroups/memory rw - cgroup none rw,memory",
        ),
        (
            "unified only: no v1 controller",
            "30 23 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate",
        ),
    ];
    let mut report = String::new();
    for (what, mountinfo) in machines {
        writeln!(report, "{what}:").unwrap();
        let mounts = parse_v1_mounts(mountinfo);
        if mounts.is_empty() {
            writeln!(report, "    (none)").unwrap();
        }
        for (controller, path) in mounts {
            writeln!(report, "    {controller:<8} {}", path.display()).unwrap();
        }
    }
    with_settings!({
        description => "parse_v1_mounts on /proc/self/mountinfo of four kinds of machine",
        omit_expression => true,
    }, {
        assert_snapshot!(report);
    });
}

/// Not a snapshot: machines differ. It needs no root.
#[test]
fn this_machine_has_what_chapter_04_needs() {
    let mode = Mode::detect(std::path::Path::new(CGROUP_ROOT))
        .unwrap_or_else(|error| panic!("this machine's cgroup layout: {error}"));
    let cgroups = Cgroups::detect().unwrap_or_else(|error| panic!("Cgroups::detect: {error}"));
    eprintln!("{mode:?}; {cgroups}");
    assert_eq!(cgroups.version(), mode.version());
    for controller in Controller::ALL {
        assert!(
            cgroups.mount(controller).is_some(),
            "the {controller} controller is missing: {cgroups}"
        );
    }
}
