use std::fmt;
use std::str::FromStr;

use crate::ExitStatus;

/// When to restart a process that exited: the pod's `restartPolicy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum RestartPolicy {
    /// Restart after every exit, even a clean one: for servers that should
    /// never stop. Kubernetes' default.
    #[default]
    Always,
    /// Restart only after a failure: for jobs that should run to completion.
    OnFailure,
    /// Never restart: for one-shot work whose failure someone else handles.
    Never,
}

impl RestartPolicy {
    // ANCHOR: should_restart
    /// Whether a process that ended with `status` is started again.
    pub fn should_restart(self, status: ExitStatus) -> bool {
        // exercise 2: say whether a process that ended with `status` is started again under this policy
        // hint: One `match` on the policy; only one of the three arms needs to look at the status.
        // hint: For OnFailure, what counts as a failure? Anything but exit code 0, a death by signal included: ExitStatus has a method that says so.
        // hint: Always gives true, Never gives false, OnFailure gives `!status.success()`.
        match self {
            RestartPolicy::Always => true,
            RestartPolicy::OnFailure => !status.success(),
            RestartPolicy::Never => false,
        }
    }
    // ANCHOR_END: should_restart
}

impl fmt::Display for RestartPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `pad` so that `{:<9}` lines up tables.
        f.pad(match self {
            RestartPolicy::Always => "Always",
            RestartPolicy::OnFailure => "OnFailure",
            RestartPolicy::Never => "Never",
        })
    }
}

impl FromStr for RestartPolicy {
    type Err = String;

    /// Parses the names Kubernetes uses, exactly as it spells them.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "Always" => Ok(RestartPolicy::Always),
            "OnFailure" => Ok(RestartPolicy::OnFailure),
            "Never" => Ok(RestartPolicy::Never),
            other => Err(format!(
                "unknown restart policy {other:?}: expected Always, OnFailure or Never"
            )),
        }
    }
}
