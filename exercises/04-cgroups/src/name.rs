// Generated from solutions/04-cgroups/src/name.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
use std::fmt;
use std::path::{Path, PathBuf};

use crate::CgroupError;

/// A cgroup's path below the root of every hierarchy, such as
/// `k8s-mini-dev/web-1/app`: the cluster's instance, then the pod, then the
/// container.
///
/// The first part always carries the instance name, so that two clusters on
/// one machine (or two tests running side by side) never share a cgroup, and
/// `k8s-mini reset` can find everything one instance left behind.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CgroupName {
    path: PathBuf,
}

/// Longest part accepted: a directory name on any filesystem.
const MAX_PART: usize = 255;

impl CgroupName {
    /// The cgroup of everything an instance runs: `k8s-mini-<instance>`.
    pub fn instance(instance: &str) -> Result<CgroupName, CgroupError> {
        let root = format!("k8s-mini-{instance}");
        check_part(&root, &root)?;
        Ok(CgroupName {
            path: PathBuf::from(root),
        })
    }

    /// `k8s-mini-<instance>/<part>/<part>...`, for example
    /// `CgroupName::new("dev", &["web-1", "app"])`.
    pub fn new(instance: &str, parts: &[&str]) -> Result<CgroupName, CgroupError> {
        parts
            .iter()
            .try_fold(CgroupName::instance(instance)?, |name, part| {
                name.child(part)
            })
    }

    /// The cgroup `part` below this one.
    pub fn child(&self, part: &str) -> Result<CgroupName, CgroupError> {
        let full = format!("{}/{part}", self.path.display());
        check_part(part, &full)?;
        Ok(CgroupName {
            path: self.path.join(part),
        })
    }

    /// The relative path, to join to a hierarchy's mount point.
    pub fn as_path(&self) -> &Path {
        &self.path
    }
}

impl fmt::Display for CgroupName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())
    }
}

/// One directory name. Only the characters of Kubernetes names (and `_`),
/// so that a name can never climb out of its parent (`..`), hide (`.x`) or
/// need quoting in a log.
fn check_part(part: &str, full: &str) -> Result<(), CgroupError> {
    let problem = if part.is_empty() {
        "a part is empty".to_string()
    } else if part.len() > MAX_PART {
        format!("a part is longer than {MAX_PART} bytes")
    } else if part.starts_with('.') {
        format!("{part:?} starts with a dot")
    } else if let Some(bad) = part
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
    {
        format!("{bad:?} in {part:?}: use letters, digits, '-', '_' and '.'")
    } else {
        return Ok(());
    };
    Err(CgroupError::InvalidName {
        name: full.to_string(),
        problem,
    })
}
