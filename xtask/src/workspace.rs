//! The repository and its chapters, found from the directory layout alone.

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The root of the k8s-mini checkout.
#[derive(Debug, Clone)]
pub struct Repo {
    pub root: PathBuf,
}

/// Chapter `NN-topic`: `solutions/NN-topic`, `exercises/NN-topic`, `chapters/NN-topic`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chapter {
    pub number: String,
    pub topic: String,
}

impl Chapter {
    /// `01-process`: the directory name under solutions/, exercises/ and chapters/.
    pub fn dir_name(&self) -> String {
        format!("{}-{}", self.number, self.topic)
    }

    pub fn solution_dir(&self) -> String {
        format!("solutions/{}", self.dir_name())
    }

    pub fn exercise_dir(&self) -> String {
        format!("exercises/{}", self.dir_name())
    }

    pub fn suite_dir(&self) -> String {
        format!("chapters/{}", self.dir_name())
    }

    /// The cargo package of the chapter's test suite.
    pub fn suite_package(&self) -> String {
        format!("chapter-{}", self.number)
    }

    /// `01 (process)`, how the tool names a chapter to people.
    pub fn title(&self) -> String {
        format!("{} ({})", self.number, self.topic)
    }
}

impl Repo {
    /// The checkout this binary was built from, unless `--root` says otherwise.
    pub fn locate(root: Option<PathBuf>) -> Repo {
        let root = root.unwrap_or_else(|| {
            let xtask = Path::new(env!("CARGO_MANIFEST_DIR"));
            xtask.parent().unwrap_or(xtask).to_path_buf()
        });
        Repo { root }
    }

    pub fn path(&self, relative: impl AsRef<Path>) -> PathBuf {
        self.root.join(relative)
    }

    /// Every chapter with a `solutions/NN-topic` directory, in order.
    pub fn chapters(&self) -> Result<Vec<Chapter>> {
        let dir = self.path("solutions");
        let entries =
            std::fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))?;
        let mut chapters = Vec::new();
        for entry in entries {
            let entry = entry.with_context(|| format!("reading {}", dir.display()))?;
            if !entry.file_type()?.is_dir() {
                continue;
            }
            if let Some(chapter) = entry.file_name().to_str().and_then(parse_dir_name) {
                chapters.push(chapter);
            }
        }
        chapters.sort_by(|a, b| a.number.cmp(&b.number));
        Ok(chapters)
    }

    /// The chapter a person means by `1`, `01`, `01-process` or `process`.
    pub fn chapter(&self, name: &str) -> Result<Chapter> {
        let chapters = self.chapters()?;
        let wanted = name.trim_start_matches("solutions/").trim_end_matches('/');
        let number = match wanted.parse::<u32>() {
            Ok(n) => format!("{n:02}"),
            Err(_) => String::new(),
        };
        let found = chapters
            .iter()
            .find(|c| c.number == number || c.dir_name() == wanted || c.topic == wanted);
        match found {
            Some(chapter) => Ok(chapter.clone()),
            None => {
                let known: Vec<String> = chapters.iter().map(Chapter::title).collect();
                bail!(
                    "there is no chapter {name:?}; the chapters are: {}",
                    if known.is_empty() {
                        "none yet".to_string()
                    } else {
                        known.join(", ")
                    }
                )
            }
        }
    }

    /// The chapters named on the command line, or all of them.
    pub fn chapters_or_all(&self, names: &[String]) -> Result<Vec<Chapter>> {
        if names.is_empty() {
            self.chapters()
        } else {
            names.iter().map(|n| self.chapter(n)).collect()
        }
    }

    /// `cargo` (the one that runs us, when there is one) in the repository root.
    pub fn cargo(&self) -> Command {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut command = Command::new(cargo);
        command.current_dir(&self.root);
        command
    }

    /// `cargo` with colours off and snapshots read-only, for output that we parse.
    pub fn cargo_plain(&self) -> Command {
        let mut command = self.cargo();
        command
            .env("NO_COLOR", "1")
            .env("CLICOLOR", "0")
            .env("CLICOLOR_FORCE", "0")
            .env("CARGO_TERM_COLOR", "never")
            // Snapshots are the answer key, whatever the environment says:
            // never written, never waved through, never filtered.
            .env("INSTA_UPDATE", "no")
            .env("INSTA_FORCE_PASS", "0")
            .env_remove("INSTA_FORCE_UPDATE")
            .env_remove("INSTA_FORCE_UPDATE_SNAPSHOTS")
            .env_remove("INSTA_GLOB_FILTER")
            .env_remove("INSTA_WORKSPACE_ROOT")
            // A backtrace buries the one line a learner needs.
            .env("RUST_BACKTRACE", "0")
            .env("RUST_LIB_BACKTRACE", "0");
        command
    }
}

/// `01-process` -> chapter 01, topic `process`.
fn parse_dir_name(name: &str) -> Option<Chapter> {
    let (number, topic) = name.split_once('-')?;
    let numeric = number.len() == 2 && number.bytes().all(|b| b.is_ascii_digit());
    (numeric && !topic.is_empty()).then(|| Chapter {
        number: number.to_string(),
        topic: topic.to_string(),
    })
}

/// The files under `dir` as sorted `/`-separated relative paths, build output
/// left out (`target/`, or any directory cargo tagged with CACHEDIR.TAG).
/// A missing `dir` has no files.
pub fn files_under(dir: &Path) -> Result<Vec<String>> {
    let mut files = Vec::new();
    if dir.is_dir() {
        collect_files(dir, "", &mut files)?;
    }
    files.sort();
    Ok(files)
}

fn collect_files(dir: &Path, prefix: &str, files: &mut Vec<String>) -> Result<()> {
    let entries = std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))?;
    for entry in entries {
        let entry = entry.with_context(|| format!("reading {}", dir.display()))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let relative = format!("{prefix}{name}");
        let path = entry.path();
        if path.is_dir() {
            if name == "target" || path.join("CACHEDIR.TAG").exists() {
                continue;
            }
            collect_files(&path, &format!("{relative}/"), files)?;
        } else {
            files.push(relative);
        }
    }
    Ok(())
}

/// The files of a solution directory that gen copies: those git tracks, so
/// that a stray local file (an editor's backup, a scratch test) never lands
/// in exercises/. Files on disk that git does not track are named on stderr;
/// without git (or outside a checkout) every file counts, with a warning.
pub fn source_files(repo: &Repo, relative_dir: &str) -> Result<Vec<String>> {
    let dir = repo.path(relative_dir);
    let on_disk = files_under(&dir)?;
    let Some(tracked) = tracked_files(&dir) else {
        eprintln!(
            "warning: git cannot list the files of {relative_dir}; using every file in it, \
             untracked ones included"
        );
        return Ok(on_disk);
    };
    let (kept, untracked): (Vec<String>, Vec<String>) =
        on_disk.into_iter().partition(|f| tracked.contains(f));
    for file in &untracked {
        eprintln!(
            "note: {relative_dir}/{file} is not tracked by git; left out (`git add` it to include it)"
        );
    }
    Ok(kept)
}

/// `git ls-files` of `dir`, relative to it; `None` when git cannot tell.
fn tracked_files(dir: &Path) -> Option<std::collections::BTreeSet<String>> {
    if !dir.is_dir() {
        return None;
    }
    let output = Command::new("git")
        .args(["ls-files", "-z", "--"])
        .current_dir(dir)
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    let listed = String::from_utf8(output.stdout).ok()?;
    Some(
        listed
            .split('\0')
            .filter(|f| !f.is_empty())
            .map(str::to_string)
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suite_runs_never_let_insta_pass_or_write_snapshots() {
        let cargo = Repo::locate(None).cargo_plain();
        let env: std::collections::BTreeMap<_, _> = cargo
            .get_envs()
            .map(|(k, v)| (k.to_string_lossy().into_owned(), v.map(|v| v.to_owned())))
            .collect();
        assert_eq!(env["INSTA_UPDATE"], Some("no".into()));
        assert_eq!(env["INSTA_FORCE_PASS"], Some("0".into()));
        for removed in [
            "INSTA_FORCE_UPDATE",
            "INSTA_FORCE_UPDATE_SNAPSHOTS",
            "INSTA_GLOB_FILTER",
            "INSTA_WORKSPACE_ROOT",
        ] {
            assert_eq!(env[removed], None, "{removed}");
        }
    }

    #[test]
    fn chapter_directories_parse() {
        let chapter = parse_dir_name("01-process").unwrap();
        assert_eq!(chapter.number, "01");
        assert_eq!(chapter.topic, "process");
        assert_eq!(chapter.suite_package(), "chapter-01");
        assert_eq!(parse_dir_name("1-process"), None);
        assert_eq!(parse_dir_name("target"), None);
        assert_eq!(parse_dir_name("01-"), None);
    }
}
