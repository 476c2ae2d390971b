//! `watch [NN]`: check the chapter again whenever a file of the learner's
//! exercise changes, as rustlings' watch mode does.
//!
//! File events come from the `notify` crate (inotify on Linux). Editors save a
//! file in several steps (a swap file, a rename, a write), so events are
//! gathered until the directory has been quiet for a moment, and only then is
//! the suite run again.

use crate::check;
use crate::generator;
use crate::hint;
use crate::ui;
use crate::workspace::{Chapter, Repo};
use anyhow::{Context, Result};
use notify::{EventKind, RecursiveMode, Watcher};
use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::time::Duration;

/// How long the exercise must stay quiet before the suite runs again.
const QUIET: Duration = Duration::from_millis(300);

/// What wakes the watch loop.
#[derive(Debug)]
pub enum Wake {
    /// A file system event under the exercise directory.
    Files(notify::Result<notify::Event>),
    /// `q` + Enter.
    Quit,
}

pub fn run(repo: &Repo, name: Option<&str>) -> Result<bool> {
    let chapter = match name {
        Some(name) => repo.chapter(name)?,
        None => first_unfinished(repo)?,
    };
    let dir = repo.path(chapter.exercise_dir());
    let (sender, receiver) = channel();
    let files = sender.clone();
    let mut watcher = notify::recommended_watcher(move |event| {
        let _ = files.send(Wake::Files(event));
    })
    .context("starting the file watcher")?;
    watcher
        .watch(&dir, RecursiveMode::Recursive)
        .with_context(|| format!("watching {}", dir.display()))?;
    read_quit_from_stdin(sender);

    loop {
        clear_screen();
        // A failing check is the normal state of a chapter in progress; an
        // error (a broken solution tree, say) is worth showing, not fatal.
        if let Err(error) = check::run(repo, &chapter.number, false) {
            println!("{}", ui::red(&format!("error: {error:#}")));
        }
        println!();
        println!(
            "{}",
            ui::dim(&format!(
                "Watching {}: save a file to check again; q + Enter or Ctrl-C quits.",
                chapter.exercise_dir()
            ))
        );
        let _ = std::io::stdout().flush();
        match wait_for_change(&receiver, &dir, QUIET) {
            Some(_) => continue,
            None => return Ok(true),
        }
    }
}

/// The chapter to watch when none is named: the first whose exercise still
/// has a todo!() left, or else the last chapter.
pub fn first_unfinished(repo: &Repo) -> Result<Chapter> {
    let chapters = repo.chapters()?;
    for chapter in &chapters {
        let holes = generator::chapter_holes(repo, chapter)?;
        if holes
            .iter()
            .any(|(file, hole)| !hint::locate(repo, chapter, file, hole).filled)
        {
            return Ok(chapter.clone());
        }
    }
    chapters
        .last()
        .cloned()
        .context("no chapters yet (nothing under solutions/)")
}

/// Wait for a change under `dir` that matters, then for `quiet` without
/// another; the paths that changed, or `None` to stop (`q`, or the watcher
/// is gone).
pub fn wait_for_change(
    receiver: &Receiver<Wake>,
    dir: &Path,
    quiet: Duration,
) -> Option<Vec<PathBuf>> {
    let mut changed: Vec<PathBuf> = Vec::new();
    loop {
        let wake = if changed.is_empty() {
            receiver.recv().ok()?
        } else {
            match receiver.recv_timeout(quiet) {
                Ok(wake) => wake,
                Err(RecvTimeoutError::Timeout) => return Some(changed),
                Err(RecvTimeoutError::Disconnected) => return None,
            }
        };
        match wake {
            Wake::Quit => return None,
            // A watcher error (a queue overflow, say) may hide a change.
            Wake::Files(Err(_)) => changed.push(dir.to_path_buf()),
            Wake::Files(Ok(event)) => {
                if matters(&event.kind) {
                    for path in event.paths.into_iter().filter(|p| is_source(dir, p)) {
                        if !changed.contains(&path) {
                            changed.push(path);
                        }
                    }
                }
            }
        }
    }
}

/// Changes to content or to the set of files; not reads or metadata.
fn matters(kind: &EventKind) -> bool {
    use notify::event::ModifyKind;
    match kind {
        EventKind::Create(_) | EventKind::Remove(_) => true,
        EventKind::Modify(ModifyKind::Metadata(_)) => false,
        EventKind::Modify(_) => true,
        EventKind::Access(_) | EventKind::Any | EventKind::Other => false,
    }
}

/// A file of the exercise, not an editor's swap or backup file, nor a build
/// directory inside it.
pub fn is_source(dir: &Path, path: &Path) -> bool {
    let Ok(relative) = path.strip_prefix(dir) else {
        return false;
    };
    let hidden = relative
        .components()
        .any(|c| c.as_os_str().to_string_lossy().starts_with('.'));
    let in_target = relative
        .components()
        .next()
        .is_some_and(|c| c.as_os_str() == "target");
    let name = relative
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    // vim writes a file named 4913 to test that it may write the directory.
    let scratch = name.ends_with('~')
        || name.ends_with(".swp")
        || name.ends_with(".swx")
        || name == "4913"
        || name.starts_with("#");
    !(hidden || in_target || scratch || name.is_empty())
}

/// `q` + Enter on the terminal ends the watch; end of input does not (stdin
/// may be /dev/null).
fn read_quit_from_stdin(sender: Sender<Wake>) {
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { return };
            if line.trim().eq_ignore_ascii_case("q") && sender.send(Wake::Quit).is_err() {
                return;
            }
        }
    });
}

fn clear_screen() {
    if std::io::stdout().is_terminal() {
        // Clear the screen and its scroll-back, cursor to the top left.
        print!("\x1b[2J\x1b[3J\x1b[H");
    } else {
        println!("\n{}", "-".repeat(72));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use notify::event::{AccessKind, CreateKind, DataChange, MetadataKind, ModifyKind};

    fn event(kind: EventKind, path: &Path) -> Wake {
        Wake::Files(Ok(notify::Event::new(kind).add_path(path.to_path_buf())))
    }

    #[test]
    fn sources_are_the_exercise_files_not_editor_litter() {
        let dir = Path::new("/x/exercises/01-process");
        assert!(is_source(dir, &dir.join("src/backoff.rs")));
        assert!(is_source(dir, &dir.join("Cargo.toml")));
        for litter in [
            "src/.backoff.rs.swp",
            "src/backoff.rs~",
            "src/4913",
            "src/#backoff.rs#",
            ".git/index",
            "target/debug/x",
        ] {
            assert!(!is_source(dir, &dir.join(litter)), "{litter}");
        }
        assert!(!is_source(dir, Path::new("/elsewhere/src/lib.rs")));
        assert!(!is_source(dir, dir));
    }

    #[test]
    fn events_are_gathered_until_the_directory_is_quiet() {
        let dir = Path::new("/x");
        let (sender, receiver) = channel();
        let write = EventKind::Modify(ModifyKind::Data(DataChange::Content));
        sender.send(event(write, &dir.join("src/a.rs"))).unwrap();
        sender
            .send(event(
                EventKind::Create(CreateKind::File),
                &dir.join("src/b.rs"),
            ))
            .unwrap();
        sender.send(event(write, &dir.join("src/a.rs"))).unwrap();
        // Noise that must not count.
        sender
            .send(event(
                EventKind::Access(AccessKind::Any),
                &dir.join("src/c.rs"),
            ))
            .unwrap();
        sender
            .send(event(
                EventKind::Modify(ModifyKind::Metadata(MetadataKind::Any)),
                &dir.join("src/d.rs"),
            ))
            .unwrap();
        let changed = wait_for_change(&receiver, dir, Duration::from_millis(50)).unwrap();
        assert_eq!(changed, [dir.join("src/a.rs"), dir.join("src/b.rs")]);

        // Only noise, then q: no run, the watch ends.
        sender
            .send(event(write, &dir.join("src/.a.rs.swp")))
            .unwrap();
        sender.send(Wake::Quit).unwrap();
        assert_eq!(
            wait_for_change(&receiver, dir, Duration::from_millis(50)),
            None
        );
        drop(sender);
        assert_eq!(
            wait_for_change(&receiver, dir, Duration::from_millis(50)),
            None
        );
    }

    /// The real watcher sees a save under the directory.
    #[test]
    fn a_saved_file_wakes_the_watch() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::create_dir(root.join("src")).unwrap();
        let (sender, receiver) = channel();
        let mut watcher = notify::recommended_watcher(move |event| {
            let _ = sender.send(Wake::Files(event));
        })
        .unwrap();
        watcher.watch(&root, RecursiveMode::Recursive).unwrap();
        std::fs::write(root.join("src/lib.rs"), "fn main() {}\n").unwrap();
        let changed = wait_for_change(&receiver, &root, Duration::from_millis(200)).unwrap();
        assert_eq!(changed, [root.join("src/lib.rs")]);
    }
}
