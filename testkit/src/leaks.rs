use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Finds what a test left behind on the host: processes, mounts, cgroups,
/// network interfaces (of this process's network namespace, found by name
/// or by alias) and directories of one cluster instance.
///
/// Call [`LeakCheck::new`] before the test creates anything and
/// [`LeakCheck::assert_clean`] at its end.
#[derive(Debug)]
pub struct LeakCheck {
    instance: String,
    paths: Vec<PathBuf>,
    interfaces_before: BTreeSet<String>,
}

/// Everything of the instance still there.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Leaks {
    pub processes: Vec<String>,
    pub mounts: Vec<String>,
    pub cgroups: Vec<PathBuf>,
    pub interfaces: Vec<String>,
    pub paths: Vec<PathBuf>,
}

impl Leaks {
    pub fn is_empty(&self) -> bool {
        *self == Leaks::default()
    }
}

impl fmt::Display for Leaks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for process in &self.processes {
            writeln!(f, "  process {process}")?;
        }
        for mount in &self.mounts {
            writeln!(f, "  mount {mount}")?;
        }
        for cgroup in &self.cgroups {
            writeln!(f, "  cgroup {}", cgroup.display())?;
        }
        for interface in &self.interfaces {
            writeln!(f, "  network interface {interface}")?;
        }
        for path in &self.paths {
            writeln!(f, "  path {}", path.display())?;
        }
        Ok(())
    }
}

impl LeakCheck {
    /// Starts watching the instance `instance`.
    pub fn new(instance: &str) -> LeakCheck {
        LeakCheck {
            instance: instance.to_string(),
            paths: Vec::new(),
            interfaces_before: interfaces(),
        }
    }

    /// Also require that this path is gone at the end (a state directory).
    pub fn expect_gone(mut self, path: impl Into<PathBuf>) -> LeakCheck {
        self.paths.push(path.into());
        self
    }

    /// What is left now.
    pub fn leaks(&self) -> Leaks {
        Leaks {
            processes: processes_of(&self.instance),
            mounts: mounts_of(&self.instance),
            cgroups: cgroups_of(&self.instance),
            interfaces: interfaces()
                .into_iter()
                .filter(|name| {
                    let new = !self.interfaces_before.contains(name);
                    is_instance_interface(name, new, alias(name).as_deref(), &self.instance)
                })
                .collect(),
            paths: self
                .paths
                .iter()
                .filter(|path| path.exists())
                .cloned()
                .collect(),
        }
    }

    /// Deletes the instance's network interfaces (those [`LeakCheck::leaks`]
    /// reports) with `ip link del`, and returns their names. For a test's
    /// cleanup when it fails halfway (from a `Drop`): it does not rely on
    /// the code under test, and a failed test must not leave bridges and
    /// veths on the machine.
    pub fn remove_interfaces(&self) -> Vec<String> {
        let interfaces = self.leaks().interfaces;
        for interface in &interfaces {
            // A veth whose peer was deleted first is gone already.
            let _ = std::process::Command::new("ip")
                .args(["link", "del", interface])
                .stderr(std::process::Stdio::null())
                .status();
        }
        interfaces
    }

    /// Kills the processes in the instance's cgroups and removes the
    /// cgroups, deepest first; returns the ones it could not remove. For
    /// tidying after a test that failed half-way.
    pub fn remove_cgroups(&self) -> Vec<PathBuf> {
        let mut left = Vec::new();
        for top in cgroups_of(&self.instance) {
            let mut dirs = Vec::new();
            walk(&top, 0, &mut |path| {
                dirs.push(path.to_path_buf());
                true
            });
            dirs.sort_by_key(|dir| std::cmp::Reverse(dir.components().count()));
            dirs.push(top);
            for dir in dirs {
                for _ in 0..100 {
                    let procs =
                        std::fs::read_to_string(dir.join("cgroup.procs")).unwrap_or_default();
                    if procs.trim().is_empty() {
                        break;
                    }
                    for pid in procs
                        .split_whitespace()
                        .filter_map(|p| p.parse::<i32>().ok())
                    {
                        // A pid of the instance's own cgroup.
                        let _ = nix::sys::signal::kill(
                            nix::unistd::Pid::from_raw(pid),
                            nix::sys::signal::Signal::SIGKILL,
                        );
                    }
                    std::thread::sleep(Duration::from_millis(10));
                }
                if std::fs::remove_dir(&dir).is_err() && dir.exists() {
                    left.push(dir);
                }
            }
        }
        left
    }

    /// Panics with a list of what is left, if anything. Processes that were
    /// killed a moment ago may take a little while to be gone, so this looks
    /// again for up to two seconds before it calls something a leak.
    pub fn assert_clean(&self) {
        let mut leaks = self.leaks();
        for _ in 0..200 {
            if leaks.is_empty() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
            leaks = self.leaks();
        }
        panic!(
            "instance {} left things behind on the host:\n{leaks}",
            self.instance
        );
    }
}

/// Processes whose command line or environment names the instance (the
/// init programs carry the container's configuration in theirs).
fn processes_of(instance: &str) -> Vec<String> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return found;
    };
    let own = std::process::id().to_string();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.bytes().all(|b| b.is_ascii_digit()) || name == own {
            continue;
        }
        let dir = entry.path();
        let mentions = |file: &str| {
            std::fs::read(dir.join(file))
                .map(|bytes| contains(&bytes, instance.as_bytes()))
                .unwrap_or(false)
        };
        if mentions("cmdline") || mentions("environ") {
            let comm = std::fs::read_to_string(dir.join("comm")).unwrap_or_default();
            let state = std::fs::read_to_string(dir.join("stat"))
                .ok()
                .and_then(|stat| {
                    stat.rsplit_once(") ")
                        .map(|(_, rest)| rest.chars().next().unwrap_or('?'))
                })
                .unwrap_or('?');
            found.push(format!("{name} ({}, state {state})", comm.trim()));
        }
    }
    found
}

/// Whether `haystack` names the instance `needle`: an occurrence not
/// followed by a character that could continue a name, so that instance
/// `t-1` is not found in `t-10`.
fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    if needle.is_empty() || haystack.len() < needle.len() {
        return false;
    }
    (0..=haystack.len() - needle.len()).any(|start| {
        haystack[start..].starts_with(needle)
            && haystack.get(start + needle.len()).is_none_or(|next| {
                !(next.is_ascii_alphanumeric() || *next == b'-' || *next == b'_')
            })
    })
}

fn names(text: &str, instance: &str) -> bool {
    contains(text.as_bytes(), instance.as_bytes())
}

/// Mount points (of this process's mount namespace) whose path or source
/// names the instance.
fn mounts_of(instance: &str) -> Vec<String> {
    std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap_or_default()
        .lines()
        .filter(|line| names(line, instance))
        .map(|line| line.split(' ').nth(4).unwrap_or(line).to_string())
        .collect()
}

/// cgroup directories, in any hierarchy, whose name contains the instance.
fn cgroups_of(instance: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    walk(Path::new("/sys/fs/cgroup"), 0, &mut |path| {
        if path
            .file_name()
            .is_some_and(|name| name.to_string_lossy().contains(instance))
        {
            found.push(path.to_path_buf());
            false
        } else {
            true
        }
    });
    found
}

/// Visits directories up to a few levels down; `visit` says whether to
/// descend.
fn walk(dir: &Path, depth: usize, visit: &mut dyn FnMut(&Path) -> bool) {
    if depth > 4 {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if entry.file_type().is_ok_and(|kind| kind.is_dir()) && visit(&path) {
            walk(&path, depth + 1, visit);
        }
    }
}

/// Whether an interface belongs to the instance: its name names it (and
/// it was not there before the check began), or its alias does. Interface
/// names are at most 15 bytes, too short for most instance names, so the
/// pod network writes the instance into the alias
/// (`k8s-mini/<instance>/...`) and puts only a short tag into the name.
fn is_instance_interface(name: &str, new: bool, alias: Option<&str>, instance: &str) -> bool {
    (new && names(name, instance)) || alias.is_some_and(|alias| names(alias, instance))
}

/// The interface's alias (IFLA_IFALIAS), if it has one.
fn alias(interface: &str) -> Option<String> {
    std::fs::read_to_string(Path::new("/sys/class/net").join(interface).join("ifalias"))
        .ok()
        .map(|alias| alias.trim_end_matches('\n').to_string())
        .filter(|alias| !alias.is_empty())
}

fn interfaces() -> BTreeSet<String> {
    std::fs::read_dir("/sys/class/net")
        .map(|entries| {
            entries
                .flatten()
                .map(|entry| entry.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_process_of_the_instance_is_a_leak_until_it_is_gone() {
        let instance = crate::unique_instance("testkit");
        let check = LeakCheck::new(&instance);
        assert!(check.leaks().is_empty());
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .env("MARKER", &instance)
            .spawn()
            .unwrap();
        // A process's environment becomes readable a moment after `spawn`
        // returns (the kernel sets it up after the exec the parent waited
        // for): look again for a while.
        let mut leaks = check.leaks();
        for _ in 0..200 {
            if !leaks.processes.is_empty() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
            leaks = check.leaks();
        }
        assert_eq!(leaks.processes.len(), 1, "{leaks}");
        assert!(
            leaks.processes[0].starts_with(&child.id().to_string()),
            "{leaks}"
        );
        child.kill().unwrap();
        child.wait().unwrap();
        check.assert_clean();
    }

    #[test]
    fn an_instance_is_not_found_in_a_longer_name() {
        assert!(contains(b"k8s-mini-t-1/pod", b"t-1"));
        assert!(contains(b"{\"instance\":\"t-1\"}", b"t-1"));
        assert!(!contains(b"k8s-mini-t-10/pod", b"t-1"));
        assert!(!contains(b"t-1-x", b"t-1"));
        assert!(contains(b"t-1", b"t-1"));
    }

    #[test]
    fn an_interface_is_the_instances_by_its_new_name_or_its_alias() {
        assert!(is_instance_interface("br.t-1", true, None, "t-1"));
        assert!(!is_instance_interface("br.t-1", false, None, "t-1"));
        assert!(is_instance_interface(
            "kmbr-1a2b3c",
            false,
            Some("k8s-mini/t-1"),
            "t-1"
        ));
        assert!(is_instance_interface(
            "kmv1a2b3c4d5e6f",
            true,
            Some("k8s-mini/t-1/default/web"),
            "t-1"
        ));
        assert!(!is_instance_interface(
            "kmbr-1a2b3c",
            true,
            Some("k8s-mini/t-10"),
            "t-1"
        ));
        assert!(!is_instance_interface("eth0", true, None, "t-1"));
    }

    #[test]
    fn a_directory_that_should_be_gone_is_a_leak() {
        let dir = std::env::temp_dir().join(crate::unique_instance("testkit-dir"));
        std::fs::create_dir(&dir).unwrap();
        let check = LeakCheck::new("no-such-instance").expect_gone(&dir);
        assert_eq!(check.leaks().paths, vec![dir.clone()]);
        std::fs::remove_dir(&dir).unwrap();
        check.assert_clean();
    }
}
