//! `doctor`: what this machine offers the chapters, and how to get what is missing.

use crate::ui;
use std::path::{Path, PathBuf};

/// The mdbook release the book is built with (also pinned in .ci/run).
pub const MDBOOK_VERSION: &str = "0.5.4";

/// The one way the book runs a chapter as root. Plain `sudo cargo` resets
/// PATH and so loses the toolchain that rustup installed in your home
/// directory; `-E` keeps the rest of the environment (HOME, so rustup finds
/// its toolchains, and CARGO_HOME when set).
pub const AS_ROOT: &str = r#"sudo -E env "PATH=$PATH" cargo workshop check NN"#;

struct Check {
    what: &'static str,
    needed_by: &'static str,
    ok: bool,
    detail: String,
    fix: Option<String>,
}

pub fn run() -> anyhow::Result<bool> {
    let linux = linux();
    let isolation = root_or_user_namespaces();
    let cgroups = cgroups();
    let overlay = overlayfs();
    let busybox = busybox();
    let mdbook = mdbook();
    let root = root();
    let ip = program(
        "ip",
        "ip (iproute2)",
        "chapter 05 (the pod network's tests)",
        "apt-get install iproute2",
    );
    let kubectl = program(
        "kubectl",
        "kubectl",
        "chapter 07 (its suite drives stock kubectl)",
        "install kubectl (https://kubernetes.io/docs/tasks/tools/)",
    );
    let python = python_client();
    let checks = [
        &linux, &isolation, &root, &cgroups, &overlay, &busybox, &ip, &kubectl, &python, &mdbook,
    ];

    println!("{}", ui::bold("What this machine offers the workshop"));
    println!();
    for check in checks {
        let state = if check.ok {
            ui::green("ok     ")
        } else {
            ui::red("missing")
        };
        println!("  {state}  {:<22} {}", check.what, check.detail);
        println!(
            "           {:<22} {}",
            "",
            ui::dim(&format!("needed by {}", check.needed_by))
        );
        if let Some(fix) = &check.fix {
            println!("           {:<22} fix: {fix}", "");
        }
    }

    let ready = |needs: &[&Check]| needs.iter().all(|c| c.ok);
    let chapters = [
        ("01", ready(&[&linux])),
        ("02", ready(&[&linux, &isolation])),
        ("03", ready(&[&linux, &isolation, &overlay, &busybox])),
        ("04", ready(&[&linux, &isolation, &cgroups])),
        (
            "05",
            ready(&[&linux, &root, &cgroups, &overlay, &busybox, &ip]),
        ),
        ("06", ready(&[&python])),
        ("07", ready(&[&kubectl, &python])),
    ];
    // Only the chapters this checkout has.
    let solutions = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../solutions");
    let written: Vec<String> = std::fs::read_dir(&solutions)
        .map(|entries| {
            entries
                .flatten()
                .map(|entry| entry.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    let chapters: Vec<_> = chapters
        .into_iter()
        .filter(|(number, _)| {
            written
                .iter()
                .any(|dir| dir.starts_with(&format!("{number}-")))
        })
        .collect();
    let list = |want: bool| {
        let numbers: Vec<&str> = chapters
            .iter()
            .filter(|c| c.1 == want)
            .map(|c| c.0)
            .collect();
        let mut parts = Vec::new();
        if !numbers.is_empty() {
            let noun = if numbers.len() == 1 {
                "chapter"
            } else {
                "chapters"
            };
            parts.push(format!("{noun} {}", numbers.join(", ")));
        }
        if mdbook.ok == want {
            parts.push("the book".to_string());
        }
        parts.join(" and ")
    };
    println!();
    if root.ok {
        println!("You are root: chapters 02 to 05 run as `cargo workshop check NN`.");
    } else {
        println!(
            "Chapters 02 to 05 need root; run them so (plain `sudo cargo` loses rustup's PATH):"
        );
        println!("    {AS_ROOT}");
    }
    let (can, cannot) = (list(true), list(false));
    if !can.is_empty() {
        println!("Ready here: {can}.");
    }
    if !cannot.is_empty() {
        println!("Not ready yet: {cannot} (see the fixes above).");
    }
    Ok(true)
}

fn read(path: &str) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .map(|s| s.trim().to_string())
}

fn linux() -> Check {
    let ok = cfg!(target_os = "linux");
    Check {
        what: "Linux",
        needed_by: "every chapter",
        ok,
        detail: match read("/proc/sys/kernel/osrelease") {
            Some(release) if ok => format!("kernel {release}"),
            _ if ok => "kernel version unknown".to_string(),
            _ => format!("this is {}", std::env::consts::OS),
        },
        fix: (!ok).then(|| "use a Linux machine or VM (WSL2 works)".to_string()),
    }
}

fn root() -> Check {
    let ok = nix::unistd::Uid::effective().is_root();
    Check {
        what: "root",
        needed_by: "chapter 05 (pods: network namespaces, veth pairs, cgroups)",
        ok,
        detail: if ok { "running as root" } else { "not root" }.to_string(),
        fix: (!ok).then(|| format!("run the chapter's suite as root: {AS_ROOT}")),
    }
}

/// A program the suites run, found on the PATH.
fn program(name: &str, what: &'static str, needed_by: &'static str, fix: &str) -> Check {
    let found = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .find(|candidate| candidate.is_file())
    });
    Check {
        what,
        needed_by,
        ok: found.is_some(),
        detail: match &found {
            Some(path) => format!("{}", path.display()),
            None => "not on the PATH".to_string(),
        },
        fix: found.is_none().then(|| fix.to_string()),
    }
}

/// The official Kubernetes client for Python, which two suites check the
/// server's answers with.
fn python_client() -> Check {
    let ok = std::process::Command::new("python3")
        .args(["-c", "import kubernetes"])
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    Check {
        what: "Python kubernetes",
        needed_by: "chapters 06 and 07 (the official client reads our objects)",
        ok,
        detail: if ok {
            "python3 imports kubernetes"
        } else {
            "python3 cannot import kubernetes"
        }
        .to_string(),
        fix: (!ok).then(|| "python3 -m pip install kubernetes".to_string()),
    }
}

fn root_or_user_namespaces() -> Check {
    let mut check = Check {
        what: "root or user namespaces",
        needed_by: "chapters 02-05 (namespaces, filesystems, cgroups, pods)",
        ok: true,
        detail: String::new(),
        fix: None,
    };
    if nix::unistd::Uid::effective().is_root() {
        check.detail = "running as root".to_string();
        return check;
    }
    let blocked = [
        (
            "/proc/sys/kernel/unprivileged_userns_clone",
            "0",
            "sudo sysctl -w kernel.unprivileged_userns_clone=1",
        ),
        (
            "/proc/sys/user/max_user_namespaces",
            "0",
            "sudo sysctl -w user.max_user_namespaces=15000",
        ),
        (
            "/proc/sys/kernel/apparmor_restrict_unprivileged_userns",
            "1",
            "sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0",
        ),
    ]
    .into_iter()
    .find(|(path, value, _)| read(path).as_deref() == Some(*value));
    match blocked {
        None => check.detail = "not root; unprivileged user namespaces are available".to_string(),
        Some((path, value, fix)) => {
            check.ok = false;
            check.detail = format!("not root, and {path} is {value}");
            check.fix = Some(format!("run as root (sudo), or: {fix}"));
        }
    }
    check
}

#[cfg(not(target_os = "linux"))]
fn cgroups() -> Check {
    Check {
        what: "cgroups",
        needed_by: "chapter 04 (cgroups), as root",
        ok: false,
        detail: "cgroups are Linux only".to_string(),
        fix: Some("use a Linux machine or VM".to_string()),
    }
}

#[cfg(target_os = "linux")]
fn cgroups() -> Check {
    use nix::sys::statfs::{CGROUP2_SUPER_MAGIC, TMPFS_MAGIC, statfs};
    let kind = |path: &str| statfs(path).map(|s| s.filesystem_type());
    let (ok, detail) = match kind("/sys/fs/cgroup") {
        Ok(t) if t == CGROUP2_SUPER_MAGIC => (true, "cgroup v2 (unified)"),
        Ok(t) if t == TMPFS_MAGIC => match kind("/sys/fs/cgroup/unified") {
            Ok(u) if u == CGROUP2_SUPER_MAGIC => (
                true,
                "hybrid (v1 controllers, v2 at /sys/fs/cgroup/unified)",
            ),
            _ => (true, "cgroup v1"),
        },
        Ok(_) => (
            false,
            "/sys/fs/cgroup is neither cgroup2 nor a tmpfs of v1 hierarchies",
        ),
        Err(_) => (false, "/sys/fs/cgroup is not mounted"),
    };
    Check {
        what: "cgroups",
        needed_by: "chapter 04 (cgroups), as root",
        ok,
        detail: detail.to_string(),
        fix: (!ok).then(|| "sudo mount -t cgroup2 none /sys/fs/cgroup".to_string()),
    }
}

fn overlayfs() -> Check {
    let ok = read("/proc/filesystems").is_some_and(|list| {
        list.lines()
            .any(|l| l.split_whitespace().last() == Some("overlay"))
    });
    Check {
        what: "overlayfs",
        needed_by: "chapter 03 (copy-on-write container layers)",
        ok,
        detail: if ok {
            "listed in /proc/filesystems"
        } else {
            "not in /proc/filesystems"
        }
        .to_string(),
        fix: (!ok).then(|| "sudo modprobe overlay".to_string()),
    }
}

fn busybox() -> Check {
    let mut check = Check {
        what: "busybox",
        needed_by: "chapter 03 and later (the built-in busybox image)",
        ok: false,
        detail: "not on PATH".to_string(),
        fix: Some("sudo apt-get install busybox-static".to_string()),
    };
    let Some(path) = on_path("busybox") else {
        return check;
    };
    match is_dynamic_elf(&path) {
        Some(false) => {
            check.ok = true;
            check.fix = None;
            check.detail = format!("{} (static)", path.display());
        }
        Some(true) => {
            check.detail = format!(
                "{} is dynamically linked, so it cannot run inside a container root",
                path.display()
            );
        }
        None => check.detail = format!("{} is not an ELF binary", path.display()),
    }
    check
}

fn mdbook() -> Check {
    let install = format!("cargo install --locked mdbook --version {MDBOOK_VERSION}");
    let version = on_path("mdbook").and_then(|path| {
        let output = std::process::Command::new(path)
            .arg("--version")
            .output()
            .ok()?;
        Some(String::from_utf8_lossy(&output.stdout).trim().to_string())
    });
    let (ok, detail, fix) = match version {
        None => (false, "not on PATH".to_string(), Some(install)),
        Some(v) if v.ends_with(MDBOOK_VERSION) => (true, v, None),
        Some(v) => (
            true,
            format!("{v} (the book is built with {MDBOOK_VERSION})"),
            Some(install),
        ),
    };
    Check {
        what: "mdbook",
        needed_by: "the book (`mdbook serve book` to read it locally)",
        ok,
        detail,
        fix,
    }
}

pub fn on_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}

/// Whether an ELF file asks for a dynamic loader (has a PT_INTERP header).
fn is_dynamic_elf(path: &Path) -> Option<bool> {
    let bytes = std::fs::read(path).ok()?;
    if bytes.get(..4)? != b"\x7fELF" {
        return None;
    }
    let wide = *bytes.get(4)? == 2;
    let little = *bytes.get(5)? == 1;
    let number = |at: usize, size: usize| -> Option<u64> {
        let raw = bytes.get(at..at + size)?;
        let mut buffer = [0u8; 8];
        if little {
            buffer[..size].copy_from_slice(raw);
            Some(u64::from_le_bytes(buffer))
        } else {
            buffer[8 - size..].copy_from_slice(raw);
            Some(u64::from_be_bytes(buffer))
        }
    };
    // ELF64 and ELF32 keep the program header table in different places.
    let (table, entry_size, count) = if wide {
        (number(0x20, 8)?, number(0x36, 2)?, number(0x38, 2)?)
    } else {
        (number(0x1c, 4)?, number(0x2a, 2)?, number(0x2c, 2)?)
    };
    const PT_INTERP: u64 = 3;
    Some((0..count).any(|i| number((table + i * entry_size) as usize, 4) == Some(PT_INTERP)))
}
