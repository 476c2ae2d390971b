// Generated from solutions/01-process/src/error.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
use std::io;
use std::path::PathBuf;

/// Why a process could not be started. Every variant names the path or
/// command at fault, because "No such file or directory" alone does not say
/// *which* file.
#[derive(Debug, thiserror::Error)]
pub enum SpawnError {
    #[error("the command is empty")]
    EmptyCommand,
    #[error("command {command:?} not found in PATH {path:?}")]
    CommandNotFound { command: String, path: String },
    #[error("command {} does not exist", path.display())]
    MissingCommand { path: PathBuf },
    #[error("command {} is a directory, not a program", path.display())]
    CommandIsDirectory { path: PathBuf },
    #[error("command {} is not executable (mode {mode:o})", path.display())]
    NotExecutable { path: PathBuf, mode: u32 },
    #[error("working directory {} does not exist", path.display())]
    MissingWorkingDir { path: PathBuf },
    #[error("working directory {} is not a directory", path.display())]
    WorkingDirNotDirectory { path: PathBuf },
    #[error("cannot open log file {}: {source}", path.display())]
    Log { path: PathBuf, source: io::Error },
    #[error("cannot start {}: {source}", path.display())]
    Spawn { path: PathBuf, source: io::Error },
}
