//! Devices: a container may make any device node, but open only the
//! harmless ones. Without that, its root (which keeps CAP_MKNOD) makes a
//! node for the host's disk and reads it.
//! No hole here: `Cgroups::create` gives every cgroup runc's allow-list,
//! in v1's `devices.*` files or as an eBPF program on v2.

use std::ffi::CString;
use std::fmt::Write;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};

use chapter_04::cgroups::{
    CGROUP2_MAGIC, CgroupName, Cgroups, DEFAULT_DEVICE_RULES, DeviceAccess, DeviceKind, Limits,
    Mode, Version, attached_device_programs, device_allowed, device_program,
};
use chapter_04::{FakeTree, Lab, changes, run_device_program};
use insta::{assert_snapshot, with_settings};

fn container() -> CgroupName {
    CgroupName::new("fake", &["web-1", "app"]).unwrap()
}

const TREE: [&str; 3] = [
    "k8s-mini-fake",
    "k8s-mini-fake/web-1",
    "k8s-mini-fake/web-1/app",
];

/// Requests worth a line each: every rule's own device, the devices the
/// list leaves out, and the host's disk.
const REQUESTS: &[(&str, DeviceKind, u32, u32, DeviceAccess)] = {
    use DeviceKind::{Block, Char};
    const RW: DeviceAccess = DeviceAccess::READ_WRITE;
    const R: DeviceAccess = DeviceAccess::READ;
    const M: DeviceAccess = DeviceAccess::MKNOD;
    &[
        ("the host's disk (sda), opened", Block, 8, 0, RW),
        ("the host's disk, read only", Block, 8, 0, R),
        ("a node for the host's disk, made", Block, 8, 0, M),
        ("a virtio disk (vda), opened", Block, 254, 0, RW),
        ("/dev/null", Char, 1, 3, RW),
        ("a node for /dev/null, made", Char, 1, 3, M),
        ("/dev/zero", Char, 1, 5, RW),
        ("/dev/full", Char, 1, 7, RW),
        ("/dev/random", Char, 1, 8, RW),
        ("/dev/urandom", Char, 1, 9, RW),
        ("/dev/tty", Char, 5, 0, RW),
        ("/dev/ptmx", Char, 5, 2, RW),
        ("/dev/pts/7", Char, 136, 7, RW),
        ("/dev/mem (the host's memory)", Char, 1, 1, R),
        ("/dev/kmsg (the kernel's log)", Char, 1, 11, R),
        ("/dev/console (the host's)", Char, 5, 1, RW),
        ("/dev/net/tun", Char, 10, 200, RW),
        ("/dev/fuse", Char, 10, 229, RW),
        ("a char device with the disk's numbers", Char, 8, 0, RW),
    ]
};

#[test]
fn on_v1_every_cgroup_denies_all_devices_then_allows_runcs_list() {
    let tree = FakeTree::v1(&TREE);
    let before = tree.snapshot();
    tree.cgroups
        .create(&container(), &Limits::default())
        .unwrap();
    let devices_only = |text: String| {
        text.lines()
            .filter(|line| line.starts_with("devices/"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let first = devices_only(changes(&before, &tree.snapshot()));
    // A cgroup whose list is already right (a container's copies its pod's
    // when it is made) is left alone.
    let list: String = DEFAULT_DEVICE_RULES
        .iter()
        .map(|rule| format!("{rule}\n"))
        .collect();
    tree.set("devices/k8s-mini-fake/web-1/app/devices.list", &list);
    let before = tree.snapshot();
    tree.cgroups
        .create(&container(), &Limits::default())
        .unwrap();
    let again = devices_only(changes(&before, &tree.snapshot()));
    let again = if again.is_empty() {
        "(nothing in devices/)".to_string()
    } else {
        again
    };
    with_settings!({
        description => "create k8s-mini-fake/web-1/app on a fake v1 tree: the devices hierarchy's files, then the same create once devices.list already holds the rules",
        omit_expression => true,
    }, {
        assert_snapshot!(format!("first create:\n{first}\n\ncreate again, the list already right:\n{again}"));
    });
}

#[test]
fn on_v2_a_device_program_allows_exactly_runcs_list() {
    let tree = FakeTree::v2(&TREE);
    tree.cgroups
        .create(&container(), &Limits::default())
        .unwrap();
    let recorded = tree.cgroups.recorded_device_programs();
    assert_eq!(
        recorded.len(),
        1,
        "create on v2 must attach one device program"
    );
    assert_eq!(recorded[0].dir, tree.path("k8s-mini-fake/web-1/app"));
    let program = &recorded[0].program;
    // Every request the kernel could make, against the rules themselves.
    let majors = [0, 1, 2, 4, 5, 7, 8, 10, 136, 254, 4095];
    let minors = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 200, 229, (1 << 20) - 1];
    for kind in [DeviceKind::Char, DeviceKind::Block] {
        for major in majors {
            for minor in minors {
                for bits in 1..=7 {
                    let access = DeviceAccess::from_bits(bits);
                    let expected =
                        device_allowed(&DEFAULT_DEVICE_RULES, kind, major, minor, access);
                    let decided = run_device_program(program, kind, major, minor, access)
                        .unwrap_or_else(|error| {
                            panic!("the program is not one the kernel runs: {error}")
                        });
                    assert_eq!(
                        decided,
                        expected,
                        "{} {major}:{minor} {access}: the program says {}, the rules say {}",
                        kind.letter(),
                        if decided { "allow" } else { "deny" },
                        if expected { "allow" } else { "deny" },
                    );
                }
            }
        }
    }
    let mut report = String::new();
    for (what, kind, major, minor, access) in REQUESTS {
        let allowed = run_device_program(program, *kind, *major, *minor, *access).unwrap();
        let request = format!("{} {major}:{minor} {access}", kind.letter());
        let verdict = if allowed { "allowed" } else { "denied (EPERM)" };
        writeln!(report, "{request:<14} {what:<40} {verdict}").unwrap();
    }
    with_settings!({
        description => "the device program Cgroups::create attaches on v2, run by the suite's eBPF interpreter: what a process in the cgroup may do",
        omit_expression => true,
    }, {
        assert_snapshot!(report);
    });
}

#[test]
fn the_v2_device_program_reads_like_the_rules() {
    let mut listing = String::new();
    let program = device_program(&DEFAULT_DEVICE_RULES);
    let mut rules = DEFAULT_DEVICE_RULES.iter();
    for (at, insn) in program.iter().enumerate() {
        // Each rule's block opens with the test of the device type.
        if at >= 6
            && insn.to_string().starts_with("if r2 != ")
            && let Some(rule) = rules.next()
        {
            writeln!(listing, "; {rule}").unwrap();
        }
        writeln!(listing, "{at:>3}: {insn}").unwrap();
    }
    with_settings!({
        description => "device_program(&DEFAULT_DEVICE_RULES), disassembled: r2 = device type (1 block, 2 char), r3 = access asked (1 mknod, 2 read, 4 write), r4 = major, r5 = minor; r0 = 1 allows",
        omit_expression => true,
    }, {
        assert_snapshot!(listing);
    });
}

/// A closure that moves the calling process into a cgroup, for a child
/// between fork and exec.
type Join = Box<dyn FnMut() -> io::Result<()> + Send + Sync>;

/// Runs `true` after `join` and `step`, which run in the child between
/// fork and exec. The error of either, if any, is what `spawn` returns.
fn in_cgroup(
    mut join: Join,
    mut step: impl FnMut() -> io::Result<()> + Send + Sync + 'static,
) -> io::Result<()> {
    let mut command = std::process::Command::new("true");
    // SAFETY: joining opens, writes and closes prepared paths, and the
    // steps make one system call each on prepared C strings:
    // async-signal-safe.
    unsafe {
        command.pre_exec(move || {
            join()?;
            step()
        });
    }
    let status = command.spawn()?.wait()?;
    assert!(status.success(), "true failed: {status}");
    Ok(())
}

fn c_path(path: &Path) -> CString {
    CString::new(path.as_os_str().as_bytes()).expect("no NUL in a temporary path")
}

/// A step that makes a block node.
fn mknod_step(
    path: &Path,
    major: u32,
    minor: u32,
) -> impl FnMut() -> io::Result<()> + Send + Sync + 'static {
    let path = c_path(path);
    move || {
        let dev = libc::makedev(major, minor);
        // SAFETY: a valid C string; mknod is async-signal-safe.
        if unsafe { libc::mknod(path.as_ptr(), libc::S_IFBLK | 0o600, dev) } < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }
}

/// A step that opens a file with `flags` and closes it.
fn open_step(
    path: &Path,
    flags: libc::c_int,
) -> impl FnMut() -> io::Result<()> + Send + Sync + 'static {
    let path = c_path(path);
    move || {
        // SAFETY: a valid C string; open and close are async-signal-safe.
        let fd = unsafe { libc::open(path.as_ptr(), flags | libc::O_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        unsafe { libc::close(fd) };
        Ok(())
    }
}

/// The host block device to aim at, found as this test's root process can
/// open it; panics when there is none (nothing could be shown).
fn host_disk(scratch: &Path) -> testkit::HostBlockDevice {
    testkit::openable_block_device(scratch).expect(
        "this machine has no block device that root can open, so no test can show that a \
         container cannot",
    )
}

/// What a process in the cgroup that `join` enters can do with the host's
/// disk and /dev/null, and the same disk node opened from outside.
fn disk_story(scratch: &Path, disk: &testkit::HostBlockDevice, join: &dyn Fn() -> Join) -> String {
    let node = scratch.join("disk");
    let steps = [
        (
            "in the cgroup, mknod a node for the host's disk",
            in_cgroup(join(), mknod_step(&node, disk.major, disk.minor)),
        ),
        (
            "in the cgroup, open that node for reading",
            in_cgroup(join(), open_step(&node, libc::O_RDONLY)),
        ),
        (
            "in the cgroup, open /dev/null for reading and writing",
            in_cgroup(join(), open_step(Path::new("/dev/null"), libc::O_RDWR)),
        ),
        (
            "outside the cgroup, open the same node",
            std::fs::File::open(&node).map(drop),
        ),
    ];
    let mut report = String::new();
    for (what, result) in steps {
        let outcome = match result {
            Ok(()) => "ok".to_string(),
            Err(error) => error.to_string(),
        };
        writeln!(report, "{what}: {outcome}").unwrap();
    }
    report
}

const EXPECTED: &str = "\
in the cgroup, mknod a node for the host's disk: ok
in the cgroup, open that node for reading: Operation not permitted (os error 1)
in the cgroup, open /dev/null for reading and writing: ok
outside the cgroup, open the same node: ok
";

/// The real thing, through `Cgroups::create` on this machine's layout:
/// v1's devices hierarchy here (hybrid), the eBPF program on a v2 host.
#[test]
fn a_process_in_a_container_cgroup_can_make_a_disk_node_but_not_open_it() {
    let lab = Lab::new();
    let scratch = tempfile::tempdir().unwrap();
    let disk = host_disk(scratch.path());
    let cgroup = lab
        .cgroups
        .create(&lab.name(&["web-1", "app"]), &Limits::default())
        .unwrap();
    let join = || {
        let files = cgroup.join_files();
        Box::new(move || files.join_self()) as Join
    };
    let report = disk_story(scratch.path(), &disk, &join);
    lab.cgroups.remove(&lab.root_name()).unwrap();
    eprintln!(
        "{}: block device {}:{} ({})",
        lab.cgroups.version(),
        disk.major,
        disk.minor,
        disk.what
    );
    assert_eq!(report, EXPECTED, "on {}", lab.cgroups.version());
    lab.assert_no_leaks();
}

/// Removes a cgroup2 directory tree made by hand, even when the test fails
/// halfway (its processes have all exited: they only ran `true`).
struct RemoveOnDrop(PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        for dir in [self.0.join("app"), self.0.clone()] {
            let _ = std::fs::remove_dir(dir);
        }
    }
}

/// The v2 program in the kernel, wherever this machine has a cgroup2 tree:
/// `/sys/fs/cgroup` on a v2 host, `/sys/fs/cgroup/unified` on a hybrid one
/// (the kernel runs cgroup2 device programs in both layouts).
#[test]
fn the_device_program_is_enforced_by_the_kernel() {
    let lab = Lab::new();
    let root = Path::new("/sys/fs/cgroup");
    let mount = match Mode::detect(root).unwrap() {
        Mode::Unified => root.to_path_buf(),
        Mode::Hybrid => root.join("unified"),
        Mode::Legacy => {
            return testkit::skip(
                "no cgroup2 tree on this machine (cgroup v1 only): the v2 device program \
                 cannot be attached here",
            );
        }
    };
    let magic = nix::sys::statfs::statfs(&mount)
        .unwrap()
        .filesystem_type()
        .0 as u64;
    assert_eq!(magic, CGROUP2_MAGIC, "{} is not cgroup2", mount.display());
    let cgroups = Cgroups::v2(&mount).unwrap();
    let name = lab.name(&["app"]);
    let cgroup = cgroups.open(&name);
    assert_eq!(cgroup.version(), Version::V2);
    let top = mount.join(lab.root_name().as_path());
    let _remove = RemoveOnDrop(top.clone());
    std::fs::create_dir_all(top.join("app")).unwrap();
    if let Err(error) = cgroup.restrict_devices() {
        panic!(
            "\n\n*** the v2 device program cannot be attached on this machine ***\n{error}\n\
             Without it a v2 host gives containers every device. The kernel needs \
             CONFIG_CGROUP_BPF, and the caller root (CAP_SYS_ADMIN).\n\n"
        );
    }
    // Attaching again replaces the program rather than adding one.
    cgroup.restrict_devices().unwrap();
    let app = top.join("app");
    assert_eq!(attached_device_programs(&app).unwrap(), 1);

    let scratch = tempfile::tempdir().unwrap();
    let disk = host_disk(scratch.path());
    let procs = c_path(&top.join("app/cgroup.procs"));
    let join = || {
        let procs = procs.clone();
        Box::new(move || {
            // SAFETY: a prepared C string; open, write, close only.
            unsafe {
                let fd = libc::open(procs.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
                if fd < 0 {
                    return Err(io::Error::last_os_error());
                }
                let written = libc::write(fd, b"0".as_ptr().cast(), 1);
                let error = io::Error::last_os_error();
                libc::close(fd);
                if written != 1 {
                    return Err(error);
                }
            }
            Ok(())
        }) as Join
    };
    let report = disk_story(scratch.path(), &disk, &join);
    cgroups.remove(&lab.root_name()).unwrap();
    assert!(!top.exists(), "{} is left", top.display());
    eprintln!(
        "cgroup2 at {}: {}:{} ({})",
        mount.display(),
        disk.major,
        disk.minor,
        disk.what
    );
    assert_eq!(report, EXPECTED);
    lab.assert_no_leaks();
}

#[test]
fn without_a_devices_hierarchy_v1_create_is_refused() {
    let tree = FakeTree::v1(&[]);
    let v1 = Cgroups::v1(
        [
            chapter_04::cgroups::Controller::Memory,
            chapter_04::cgroups::Controller::Cpu,
            chapter_04::cgroups::Controller::Cpuacct,
            chapter_04::cgroups::Controller::Pids,
        ]
        .map(|c| (c, tree.path(c.name()))),
    );
    let error = v1.create(&container(), &Limits::default()).unwrap_err();
    assert_eq!(
        error.to_string(),
        "the devices controller is not available (cgroup v1); k8s-mini needs memory, cpu and \
         pids (and on v1 also cpuacct and devices)"
    );
}
