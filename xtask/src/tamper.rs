//! Is the chapter's suite what git has committed? A suite (its tests and
//! snapshots) edited until it agrees with the code proves nothing, so `check`
//! says so before its summary. Without git (or outside a checkout) it says
//! nothing: there is nothing to compare with.

use crate::workspace::{Chapter, Repo};
use std::process::Command;

/// The changed, added or deleted files under `chapters/NN-topic`, as `git
/// status --porcelain` names them (` M chapters/01-process/tests/x.rs`);
/// `None` when nothing changed or git cannot tell.
pub fn suite_changes(repo: &Repo, chapter: &Chapter) -> Option<Vec<String>> {
    let output = Command::new("git")
        .args(["status", "--porcelain", "--untracked-files=all", "--"])
        .arg(chapter.suite_dir())
        .current_dir(&repo.root)
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    let changes: Vec<String> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(str::to_string)
        .collect();
    (!changes.is_empty()).then_some(changes)
}

/// The warning `check` prints for `changes`.
pub fn warning(chapter: &Chapter, changes: &[String]) -> String {
    let mut text = format!(
        "Warning: {} differs from what git has committed, so these results may not \
         be the chapter's own:",
        chapter.suite_dir()
    );
    for change in changes {
        text.push_str(&format!("\n  {change}"));
    }
    text.push_str(&format!(
        "\n(The suite is the answer key: `git diff -- {0}` shows what changed, \
         `git checkout -- {0}` puts it back.)",
        chapter.suite_dir()
    ));
    text
}
