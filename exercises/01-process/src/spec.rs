// Generated from solutions/01-process/src/spec.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
use std::path::PathBuf;

use crate::{Backoff, RestartPolicy};

/// What to run and how to look after it: the part of a Kubernetes container
/// spec that a plain process can honour.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerSpec {
    /// A name for messages and file names.
    pub name: String,
    /// The program: a path, or a name looked up in `PATH`.
    pub command: String,
    /// Arguments after the program name.
    pub args: Vec<String>,
    /// The whole environment: nothing is inherited from the supervisor, so a
    /// process runs the same wherever it is started. `PATH` defaults to
    /// [`DEFAULT_PATH`](crate::DEFAULT_PATH).
    pub env: Vec<(String, String)>,
    /// Where the process starts; the supervisor's own directory when `None`.
    pub working_dir: Option<PathBuf>,
    /// The log file that stdout and stderr are appended to.
    pub log_path: PathBuf,
    /// Whether to restart after an exit.
    pub restart_policy: RestartPolicy,
    /// How long to wait between restarts.
    pub backoff: Backoff,
}

impl ContainerSpec {
    /// A spec with Kubernetes' defaults: restart Always, the kubelet's
    /// back-off, and the log in `<name>.log` in the current directory.
    pub fn new(name: impl Into<String>, command: impl Into<String>) -> ContainerSpec {
        let name = name.into();
        ContainerSpec {
            log_path: PathBuf::from(format!("{name}.log")),
            name,
            command: command.into(),
            args: Vec::new(),
            env: Vec::new(),
            working_dir: None,
            restart_policy: RestartPolicy::default(),
            backoff: Backoff::default(),
        }
    }

    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    pub fn working_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.working_dir = Some(dir.into());
        self
    }

    pub fn log_path(mut self, path: impl Into<PathBuf>) -> Self {
        self.log_path = path.into();
        self
    }

    pub fn restart_policy(mut self, policy: RestartPolicy) -> Self {
        self.restart_policy = policy;
        self
    }

    pub fn backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = backoff;
        self
    }

    /// The `PATH` the process will see.
    pub fn path_var(&self) -> &str {
        self.env
            .iter()
            .rev()
            .find(|(key, _)| key == "PATH")
            .map_or(crate::DEFAULT_PATH, |(_, value)| value.as_str())
    }
}
