// Generated from solutions/02-namespaces/src/error.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
use std::path::PathBuf;

/// What can go wrong while setting up a container, inside the init program.
/// The init program prints it on stderr (so it lands in the container's log)
/// and exits with [`InitError::exit_code`].
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    #[error("cannot read the container configuration: {0}")]
    Config(String),
    #[error("cannot join cgroup {}: {source}", path.display())]
    JoinCgroup {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot join the {what} namespace of {}: {source}", path.display())]
    Join {
        what: String,
        path: PathBuf,
        source: nix::Error,
    },
    #[error("cannot create namespaces ({what}): {source}")]
    Unshare { what: String, source: nix::Error },
    #[error("cannot write {}: {source}", path.display())]
    IdMap {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot {what}: {source}")]
    Setup { what: String, source: nix::Error },
    #[error("cannot run {command}: {message}")]
    Exec {
        command: String,
        message: String,
        code: i32,
    },
}

impl InitError {
    /// The exit status the init program reports: 127 and 126 for a command
    /// that is missing or not executable, as shells do; 125 for everything
    /// that went wrong before the command, as `docker run` does.
    pub fn exit_code(&self) -> i32 {
        match self {
            InitError::Exec { code, .. } => *code,
            _ => 125,
        }
    }
}
