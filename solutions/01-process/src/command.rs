use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::SpawnError;

/// The `PATH` a process gets when its spec sets none: the one container
/// runtimes use.
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// ANCHOR: resolve_command
/// Finds the program to run the way `execvp` would, but before spawning, so
/// that a typo becomes an error naming the command instead of a failed start.
///
/// A command containing `/` is a path (relative ones are taken from
/// `working_dir`); any other is looked up in the directories of `path`.
pub fn resolve_command(
    command: &str,
    path: &str,
    working_dir: &Path,
) -> Result<PathBuf, SpawnError> {
    // exercise 6: find the program to run for `command`, as execvp would, or the error that says what is wrong
    // hint: Two cases, as in a shell: a command with a `/` is a path; any other is looked up in the directories of `path`. The private helper `check_executable` in this file tells "nothing there" (Err(None)) from "there but not runnable" (Err(Some(error))).
    // hint: An empty command is SpawnError::EmptyCommand. A path is relative to `working_dir` (`working_dir.join(command)`): missing is MissingCommand. In the PATH search, skip empty entries; the first executable file wins; remember the first non-executable match, to report it when nothing better turns up.
    // hint: Path case: match check_executable(&candidate): Ok → Ok(candidate), Err(Some(e)) → Err(e), Err(None) → Err(MissingCommand { path: candidate }). Search: for dir in path.split(':') (non-empty): candidate = working_dir.join(dir).join(command); Ok → return it; Err(Some(e)) → not_executable.get_or_insert(e). After the loop: the remembered error, else CommandNotFound for the command.
    if command.is_empty() {
        return Err(SpawnError::EmptyCommand);
    }
    if command.contains('/') {
        let candidate = working_dir.join(command);
        return match check_executable(&candidate) {
            Ok(()) => Ok(candidate),
            Err(Some(error)) => Err(error),
            Err(None) => Err(SpawnError::MissingCommand { path: candidate }),
        };
    }
    let mut not_executable = None;
    for dir in path.split(':').filter(|dir| !dir.is_empty()) {
        let candidate = working_dir.join(dir).join(command);
        match check_executable(&candidate) {
            Ok(()) => return Ok(candidate),
            Err(Some(error)) => {
                not_executable.get_or_insert(error);
            }
            Err(None) => {}
        }
    }
    Err(
        not_executable.unwrap_or_else(|| SpawnError::CommandNotFound {
            command: command.to_string(),
            path: path.to_string(),
        }),
    )
}
// ANCHOR_END: resolve_command

/// `Ok` for an executable file; `Err(None)` when nothing is there;
/// `Err(Some(..))` when something is there but cannot be run.
fn check_executable(path: &Path) -> Result<(), Option<SpawnError>> {
    let metadata = std::fs::metadata(path).map_err(|_| None)?;
    if metadata.is_dir() {
        return Err(Some(SpawnError::CommandIsDirectory {
            path: path.to_path_buf(),
        }));
    }
    let mode = metadata.permissions().mode();
    if mode & 0o111 == 0 {
        return Err(Some(SpawnError::NotExecutable {
            path: path.to_path_buf(),
            mode: mode & 0o7777,
        }));
    }
    Ok(())
}

/// Checks the working directory up front, for the same reason as
/// [`resolve_command`].
pub(crate) fn check_working_dir(dir: &Path) -> Result<(), SpawnError> {
    match std::fs::metadata(dir) {
        Ok(metadata) if metadata.is_dir() => Ok(()),
        Ok(_) => Err(SpawnError::WorkingDirNotDirectory {
            path: dir.to_path_buf(),
        }),
        Err(_) => Err(SpawnError::MissingWorkingDir {
            path: dir.to_path_buf(),
        }),
    }
}
