//! `verify [NN ...]`: prove each chapter sound. The solution passes its suite,
//! the exercise compiles and fails it, every hole alone makes it fail (no hole
//! without a test with teeth), and exercises/ is what gen makes.

use crate::check::failure_summary;
use crate::generator;
use crate::libtest::Outcome;
use crate::suite::{self, Against, SuiteRun};
use crate::ui;
use crate::workspace::{Chapter, Repo};
use anyhow::{Context, Result};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A suite run longer than this is stuck (a hole that hangs, say): kill it.
pub const SUITE_LIMIT: Duration = Duration::from_secs(10 * 60);

pub fn run(repo: &Repo, names: &[String], limit: Duration) -> Result<bool> {
    let chapters = repo.chapters_or_all(names)?;
    if chapters.is_empty() {
        println!("verify: no chapters under solutions/");
        return Ok(true);
    }
    let mut scratch = None;
    let mut failed = Vec::new();
    for chapter in &chapters {
        println!("{}", ui::bold(&format!("Chapter {}", chapter.title())));
        let ok = verify_chapter(repo, chapter, limit, &mut scratch);
        let verdict = if ok {
            ui::green("ok")
        } else {
            ui::red("FAILED")
        };
        println!("chapter {}: {verdict}\n", chapter.number);
        if !ok {
            failed.push(chapter.number.clone());
        }
    }
    if failed.is_empty() {
        println!("verify: all {} chapter(s) ok", chapters.len());
    } else {
        println!(
            "verify: {} of {} chapter(s) failed: {}",
            failed.len(),
            chapters.len(),
            failed.join(", ")
        );
    }
    Ok(failed.is_empty())
}

/// A step's verdict: `Ok(Ok(note))` passed, `Ok(Err(why))` failed.
type Verdict = Result<std::result::Result<String, String>>;

fn verify_chapter(
    repo: &Repo,
    chapter: &Chapter,
    limit: Duration,
    scratch: &mut Option<Scratch>,
) -> bool {
    let solution_dir = chapter.solution_dir();
    let exercise_dir = chapter.exercise_dir();
    let mut ok = true;
    ok &= step("[1/4] the suite passes on the solution", || {
        solution_passes(repo, chapter, limit)
    });
    ok &= step("[2/4] the exercise compiles and fails its suite", || {
        exercise_fails(repo, chapter, limit)
    });

    println!("  [3/4] every hole has a test with teeth ({solution_dir} with one hole emptied)");
    match generator::chapter_holes(repo, chapter) {
        Err(error) => ok &= report_error(&error),
        Ok(holes) if holes.is_empty() => {
            println!(
                "        {}: {solution_dir} has no `// exercise:` holes",
                ui::red("FAILED")
            );
            ok = false;
        }
        Ok(holes) => {
            for (index, (file, hole)) in holes.iter().enumerate() {
                let name = format!(
                    "hole {} ({solution_dir}/{file}:{} {})",
                    index + 1,
                    hole.line,
                    hole.name
                );
                ok &= step(&format!("      {name}"), || {
                    let scratch = match scratch {
                        Some(scratch) => scratch,
                        None => scratch.insert(Scratch::new(repo)?),
                    };
                    hole_has_teeth(scratch, chapter, file, hole, &name, limit)
                });
            }
        }
    }

    ok &= step(&format!("[4/4] {exercise_dir} is what gen makes"), || {
        let generated = generator::generate(repo, chapter)?;
        let drift = generator::drift(repo, chapter, &generated)?;
        if drift.is_empty() {
            return Ok(Ok(String::new()));
        }
        let mut why = "run `cargo workshop gen`:".to_string();
        for (kind, files) in [
            ("stale", &drift.stale),
            ("missing", &drift.missing),
            ("extra", &drift.extra),
        ] {
            for file in files {
                why.push_str(&format!("\n  {kind:<8} {exercise_dir}/{file}"));
            }
        }
        Ok(Err(why))
    });
    ok
}

/// Print `title ...`, run `check`, print its verdict and time; whether it passed.
fn step(title: &str, check: impl FnOnce() -> Verdict) -> bool {
    print!("  {title} ... ");
    let _ = std::io::stdout().flush();
    let start = Instant::now();
    let verdict = check();
    let took = ui::dim(&format!("({})", ui::duration(start.elapsed())));
    match verdict {
        Ok(Ok(note)) => {
            let note = if note.is_empty() {
                String::new()
            } else {
                format!(": {note}")
            };
            println!("{}{note} {took}", ui::green("ok"));
            true
        }
        Ok(Err(why)) => {
            println!("{} {took}", ui::red("FAILED"));
            println!("{}", indent_by(&why, 8));
            false
        }
        Err(error) => report_error(&error),
    }
}

fn report_error(error: &anyhow::Error) -> bool {
    println!("{}", ui::red("FAILED"));
    println!("{}", indent_by(&format!("error: {error:#}"), 8));
    false
}

fn indent_by(text: &str, width: usize) -> String {
    text.lines()
        .map(|l| format!("{:width$}{l}", ""))
        .collect::<Vec<_>>()
        .join("\n")
}

fn limited(limit: Duration) -> suite::Options {
    suite::Options {
        limit: Some(limit),
        ..suite::Options::default()
    }
}

fn solution_passes(repo: &Repo, chapter: &Chapter, limit: Duration) -> Verdict {
    let run = suite::run(repo, chapter, Against::Solution, &limited(limit))?;
    let ran = run.report.ran();
    Ok(if run.captured.success() && ran > 0 {
        Ok(format!("{ran} tests pass"))
    } else if run.captured.success() {
        Err(format!("{} has no tests", chapter.suite_dir()))
    } else {
        Err(failure_summary(chapter, &run))
    })
}

fn exercise_fails(repo: &Repo, chapter: &Chapter, limit: Duration) -> Verdict {
    let run = suite::run(repo, chapter, Against::Exercise, &limited(limit))?;
    Ok(fails_properly(chapter, &run).map_err(|why| {
        if why.is_empty() {
            "the untouched exercise passes its suite: do the holes give the answers away?"
                .to_string()
        } else {
            why
        }
    }))
}

/// A suite run that failed the right way: it built and ran, and tests failed.
/// `Err("")` when it passed.
fn fails_properly(chapter: &Chapter, run: &SuiteRun) -> std::result::Result<String, String> {
    if run.timed_out() || run.report.compile_error().is_some() {
        return Err(failure_summary(chapter, run));
    }
    let failed = run.report.count(Outcome::Failed);
    if failed > 0 {
        Ok(format!("{failed} of {} tests fail", run.report.ran()))
    } else if !run.captured.success() {
        Ok("the suite fails (a test binary crashed)".to_string())
    } else {
        Err(String::new())
    }
}

fn hole_has_teeth(
    scratch: &Scratch,
    chapter: &Chapter,
    file: &str,
    hole: &crate::holes::Hole,
    name: &str,
    limit: Duration,
) -> Verdict {
    let path = scratch.repo.path(chapter.solution_dir()).join(file);
    let pristine =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    std::fs::write(&path, generator::with_one_hole(&pristine, hole))
        .with_context(|| format!("writing {}", path.display()))?;
    let mut options = limited(limit);
    options.target_dir = Some(scratch.target_dir.clone());
    options.cap_lints = true;
    let run = suite::run(&scratch.repo, chapter, Against::Solution, &options);
    std::fs::write(&path, &pristine).with_context(|| format!("restoring {}", path.display()))?;
    let run = run?;
    Ok(fails_properly(chapter, &run).map_err(|why| {
        if why.is_empty() {
            format!("{name} has no test with teeth: the suite still passes with its body a todo!()")
        } else if run.report.compile_error().is_some() {
            format!("with the hole emptied, the solution does not build: {why}")
        } else {
            why
        }
    }))
}

/// A copy of the repository to empty holes in, away from the working tree.
struct Scratch {
    _dir: tempfile::TempDir,
    repo: Repo,
    /// Shared by every hole run, so dependencies build once.
    target_dir: PathBuf,
}

impl Scratch {
    fn new(repo: &Repo) -> Result<Scratch> {
        let dir = tempfile::Builder::new()
            .prefix("workshop-holes-")
            .tempdir()
            .context("creating a temporary directory")?;
        copy_tree(&repo.root, dir.path(), &repo.root)?;
        let target_dir = match std::env::var_os("CARGO_TARGET_DIR") {
            Some(dir) => repo.root.join(dir).join("workshop-holes"),
            None => repo.path("target/workshop-holes"),
        };
        Ok(Scratch {
            repo: Repo {
                root: dir.path().to_path_buf(),
            },
            _dir: dir,
            target_dir,
        })
    }
}

/// Copy the repository minus build output and history.
fn copy_tree(from: &Path, to: &Path, root: &Path) -> Result<()> {
    std::fs::create_dir_all(to).with_context(|| format!("creating {}", to.display()))?;
    let entries = std::fs::read_dir(from).with_context(|| format!("reading {}", from.display()))?;
    for entry in entries {
        let entry = entry.with_context(|| format!("reading {}", from.display()))?;
        let source = entry.path();
        let target = to.join(entry.file_name());
        let kind = entry.file_type()?;
        let skipped = [
            root.join("target"),
            root.join(".git"),
            root.join("book/build"),
        ];
        if skipped.contains(&source) || source.join("CACHEDIR.TAG").exists() {
            continue;
        }
        if kind.is_symlink() {
            let link = std::fs::read_link(&source)?;
            std::os::unix::fs::symlink(&link, &target)
                .with_context(|| format!("linking {}", target.display()))?;
        } else if kind.is_dir() {
            copy_tree(&source, &target, root)?;
        } else {
            std::fs::copy(&source, &target)
                .with_context(|| format!("copying {} to {}", source.display(), target.display()))?;
        }
    }
    Ok(())
}
