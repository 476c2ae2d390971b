//! The real thing: cgroups of this machine, one instance name per test, and
//! a cleanup that does not depend on the code under test.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::{AccessFlags, Pid, access};

use crate::cgroups::{Cgroup, CgroupName, Cgroups, Controller};

/// One test's cgroups: the machine's layout, an instance name of its own
/// (so parallel tests never share a cgroup) and a leak check.
///
/// When the lab goes away, even in a test that failed halfway, everything
/// under `k8s-mini-<instance>` is killed and removed by the suite's own
/// code: an unfinished `remove` must not leave cgroups on your machine.
pub struct Lab {
    pub cgroups: Cgroups,
    pub instance: String,
    leaks: testkit::LeakCheck,
}

impl Lab {
    /// Panics with what is missing when this machine cannot run the tests
    /// on real cgroups.
    pub fn new() -> Lab {
        if !testkit::is_root() {
            needs(
                "root",
                "These tests create cgroups under /sys/fs/cgroup and move processes into \
                 them, which only root may do.\nRun the chapter as root, for example: \
                 sudo -E env \"PATH=$PATH\" cargo workshop check 04",
            );
        }
        let cgroups = match Cgroups::detect() {
            Ok(cgroups) => cgroups,
            Err(error) => needs("cgroups", &format!("Cgroups::detect failed: {error}")),
        };
        for controller in Controller::ALL {
            let Some(mount) = cgroups.mount(controller) else {
                needs(
                    "the cpu, cpuacct, memory, pids and devices controllers",
                    &format!("{cgroups}\nThe {controller} controller is not available."),
                );
            };
            if let Err(errno) = access(mount, AccessFlags::W_OK) {
                needs(
                    "writable cgroups",
                    &format!(
                        "{} is not writable: {errno}.\nIn a container, give it its own \
                         writable cgroup tree (docker run --privileged --cgroupns=private).",
                        mount.display()
                    ),
                );
            }
        }
        let instance = testkit::unique_instance("ch04");
        let leaks = testkit::LeakCheck::new(&instance);
        Lab {
            cgroups,
            instance,
            leaks,
        }
    }

    /// `k8s-mini-<instance>/<parts...>`.
    pub fn name(&self, parts: &[&str]) -> CgroupName {
        CgroupName::new(&self.instance, parts).expect("a valid cgroup name")
    }

    /// The instance's own cgroup, parent of all the test's cgroups.
    pub fn root_name(&self) -> CgroupName {
        self.name(&[])
    }

    /// A command that joins `cgroup` between fork and exec, so that it runs
    /// under the cgroup's limits from its first instruction. It carries the
    /// instance name in its environment (for the leak check) and is killed
    /// if the test drops it.
    pub fn command_in(
        &self,
        cgroup: &Cgroup,
        program: &str,
        args: &[&str],
    ) -> tokio::process::Command {
        let join = cgroup.join_files();
        let mut command = tokio::process::Command::new(program);
        command
            .args(args)
            .env("K8S_MINI_INSTANCE", &self.instance)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true);
        // SAFETY: join_self only opens, writes and closes files whose paths
        // were prepared before the fork: async-signal-safe.
        unsafe {
            command.pre_exec(move || join.join_self());
        }
        command
    }

    /// The directories of the instance still on the machine, in any
    /// hierarchy, as `<controller>: <path below the mount>`.
    pub fn leftovers(&self) -> Vec<String> {
        self.leftovers_of(&self.root_name())
    }

    /// The directories of `name` and below it, in any hierarchy.
    pub fn leftovers_of(&self, name: &CgroupName) -> Vec<String> {
        let mut found = Vec::new();
        for controller in Controller::ALL {
            if let Some(mount) = self.cgroups.mount(controller) {
                let top = mount.join(name.as_path());
                for dir in dirs_below(&top) {
                    let relative = dir
                        .strip_prefix(mount)
                        .unwrap_or(&dir)
                        .display()
                        .to_string();
                    found.push(format!("{controller}: {}", self.redact(&relative)));
                }
            }
        }
        found
    }

    /// Text with the instance name (which has the test's pid in it) and the
    /// mount points replaced.
    pub fn redact(&self, text: &str) -> String {
        text.replace(&self.instance, "[instance]")
    }

    /// Fails the test if a process or cgroup of the instance is left.
    pub fn assert_no_leaks(&self) {
        self.leaks.assert_clean();
    }
}

impl Default for Lab {
    fn default() -> Lab {
        Lab::new()
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        let mut mounts: Vec<&Path> = Controller::ALL
            .iter()
            .filter_map(|c| self.cgroups.mount(*c))
            .collect();
        mounts.dedup();
        for mount in mounts {
            clean_up(&mount.join(self.root_name().as_path()));
        }
    }
}

fn needs(what: &str, details: &str) -> ! {
    panic!(
        "\n\n*** chapter 04's tests need {what} ***\n{details}\n\
         (`cargo workshop doctor` shows what this machine offers.)\n\n"
    )
}

/// `dir` and every directory below it, parents first, in name order.
fn dirs_below(dir: &Path) -> Vec<PathBuf> {
    if !dir.is_dir() {
        return Vec::new();
    }
    let mut children: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .filter(|entry| entry.file_type().is_ok_and(|kind| kind.is_dir()))
                .map(|entry| entry.path())
                .collect()
        })
        .unwrap_or_default();
    children.sort();
    let mut found = vec![dir.to_path_buf()];
    for child in children {
        found.extend(dirs_below(&child));
    }
    found
}

/// Best effort, bounded: SIGKILL what is inside, remove the directories
/// deepest first.
fn clean_up(top: &Path) {
    let mut dirs = dirs_below(top);
    dirs.reverse();
    for dir in dirs {
        for _ in 0..200 {
            let procs = std::fs::read_to_string(dir.join("cgroup.procs")).unwrap_or_default();
            let pids: Vec<i32> = procs
                .lines()
                .filter_map(|l| l.trim().parse().ok())
                .collect();
            if pids.is_empty() {
                break;
            }
            for pid in pids {
                let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        let _ = std::fs::remove_dir(&dir);
    }
}

/// True when the process has ended: gone, or a zombie waiting to be reaped
/// by whoever adopted it.
pub fn is_dead(pid: u32) -> bool {
    if kill(Pid::from_raw(pid as i32), None) == Err(nix::errno::Errno::ESRCH) {
        return true;
    }
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    match stat.rsplit_once(") ") {
        Some((_, rest)) => matches!(rest.chars().next(), Some('Z' | 'X')),
        None => true,
    }
}
