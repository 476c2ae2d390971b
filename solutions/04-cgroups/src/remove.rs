//! Removal: kill what is left, then delete the directories, children first.

use std::io::ErrorKind;
use std::path::Path;
use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::{CgroupError, Version, files};

/// How many times to look for survivors before giving up, and the pause
/// between looks. A killed process leaves `cgroup.procs` within
/// microseconds to milliseconds; a second is plenty, and the bound keeps a
/// stuck process from hanging the caller.
const KILL_ROUNDS: u32 = 200;
const KILL_PAUSE: Duration = Duration::from_millis(5);

// ANCHOR: remove_tree
/// Removes the cgroup directory `dir` and every cgroup below it: the
/// children first (a cgroup with children cannot be removed), then, for
/// `dir` itself, kill its processes and `rmdir` it. A directory that is
/// already gone is fine.
pub(crate) fn remove_tree(dir: &Path, version: Version) -> Result<(), CgroupError> {
    // exercise 6: remove the cgroup `dir` and every cgroup below it; one that is already gone is fine
    // hint: A cgroup is a directory, but rmdir fails on one that has child cgroups or live processes: think of the order, and of recursion.
    // hint: Children first: every subdirectory is a child cgroup, removed the same way. Then `dir` itself: `kill_processes` (given) empties it, and `std::fs::remove_dir` removes it. NotFound is not an error, at either end: someone else got there first. Other errors become CgroupError::io.
    // hint: match std::fs::read_dir(dir): NotFound → Ok(()); for each entry that is a directory, remove_tree(&entry.path(), version)?; then kill_processes(dir, version)?; then std::fs::remove_dir(dir), where Ok and NotFound are Ok(()) and other errors are CgroupError::io("remove cgroup", dir, e).
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(CgroupError::io("read", dir, e)),
    };
    for entry in entries {
        let entry = entry.map_err(|e| CgroupError::io("read", dir, e))?;
        let is_dir = entry.file_type().is_ok_and(|kind| kind.is_dir());
        if is_dir {
            remove_tree(&entry.path(), version)?;
        }
    }
    kill_processes(dir, version)?;
    match std::fs::remove_dir(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
        Err(e) => Err(CgroupError::io("remove cgroup", dir, e)),
    }
}
// ANCHOR_END: remove_tree

// ANCHOR: kill_processes
/// Kills every process in the cgroup directory `dir` and waits until
/// `cgroup.procs` is empty.
///
/// v2 has `cgroup.kill` (Linux 5.14): one write and the kernel kills every
/// process, including ones forked meanwhile. Without it, SIGKILL each pid
/// in `cgroup.procs`, again and again: a process may fork between our read
/// and our kill, and its child shows up in the next round.
pub(crate) fn kill_processes(dir: &Path, version: Version) -> Result<(), CgroupError> {
    let procs = dir.join("cgroup.procs");
    let kill_file = dir.join("cgroup.kill");
    let kernel_kills = version == Version::V2 && kill_file.exists();
    if kernel_kills {
        files::write(&kill_file, "1")?;
    }
    let mut pids = files::procs(&procs)?;
    for _ in 0..KILL_ROUNDS {
        if pids.is_empty() {
            return Ok(());
        }
        if !kernel_kills {
            for &pid in &pids {
                // ESRCH: it died meanwhile, which is what we want.
                let _ = kill(Pid::from_raw(pid as i32), Signal::SIGKILL);
            }
        }
        std::thread::sleep(KILL_PAUSE);
        pids = files::procs(&procs)?;
    }
    if pids.is_empty() {
        return Ok(());
    }
    Err(CgroupError::StillRunning {
        path: dir.to_path_buf(),
        pids,
        rounds: KILL_ROUNDS,
    })
}
// ANCHOR_END: kill_processes
