//! Reading and writing cgroupfs files.
//!
//! Every cgroupfs file exists as soon as its directory does, so writes never
//! create files: a missing file is an error that names it, not a stray
//! regular file in the tree.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::Path;

use crate::CgroupError;

pub(crate) fn read(path: &Path) -> Result<String, CgroupError> {
    std::fs::read_to_string(path).map_err(|e| CgroupError::io("read", path, e))
}

/// A file that holds one number (`memory.usage_in_bytes`, `pids.current`).
pub(crate) fn read_u64(path: &Path) -> Result<u64, CgroupError> {
    let text = read(path)?;
    parse_u64(text.trim()).ok_or_else(|| {
        let problem = format!("expected a number, found {:?}", text.trim());
        CgroupError::io("parse", path, std::io::Error::other(problem))
    })
}

/// One write, as `echo value > file` does it: the kernel takes the whole
/// value from a single write(2).
pub(crate) fn write(path: &Path, value: &str) -> Result<(), CgroupError> {
    let mut file = OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(path)
        .map_err(|e| CgroupError::io("open", path, e))?;
    file.write_all(value.as_bytes())
        .map_err(|e| CgroupError::io("write to", path, e))
}

/// One write at the end of the file. cgroupfs takes each write as one
/// command wherever it lands (`devices.allow` takes one rule per write); a
/// plain file, as in the tests' fake trees, keeps every line written.
pub(crate) fn append(path: &Path, value: &str) -> Result<(), CgroupError> {
    let mut file = OpenOptions::new()
        .append(true)
        .open(path)
        .map_err(|e| CgroupError::io("open", path, e))?;
    file.write_all(value.as_bytes())
        .map_err(|e| CgroupError::io("write to", path, e))
}

/// The value of `key` in a "flat keyed" file: one `key value` pair a line,
/// as in `memory.events`, `memory.oom_control` and `cpu.stat`. The key must
/// match whole: `oom_kill` is not `oom_kill_disable`.
pub(crate) fn keyed(text: &str, key: &str) -> Option<u64> {
    text.lines().find_map(|line| {
        let (name, value) = line.split_once(' ')?;
        if name == key {
            parse_u64(value.trim())
        } else {
            None
        }
    })
}

/// `max` is how v2 spells "no limit".
fn parse_u64(text: &str) -> Option<u64> {
    if text == "max" {
        Some(u64::MAX)
    } else {
        text.parse().ok()
    }
}

/// The pids in a `cgroup.procs` file. A cgroup that is already gone has
/// none.
pub(crate) fn procs(path: &Path) -> Result<Vec<u32>, CgroupError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(text.lines().filter_map(|l| l.trim().parse().ok()).collect()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(CgroupError::io("read", path, e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_match_whole_words() {
        let control = "oom_kill_disable 1\nunder_oom 0\noom_kill 3\n";
        assert_eq!(keyed(control, "oom_kill"), Some(3));
        assert_eq!(keyed(control, "oom_kill_disable"), Some(1));
        assert_eq!(keyed(control, "oom"), None);
        assert_eq!(keyed("max max\n", "max"), Some(u64::MAX));
    }
}
