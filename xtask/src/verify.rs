//! `verify [NN ...]`: prove each chapter sound. The solution passes its suite
//! (skipping nothing when run as root), the exercise compiles and fails it,
//! every hole alone makes it fail, both as a todo!() and returning a
//! plausible wrong value (no hole without a test with teeth), and exercises/
//! is what gen makes.
//!
//! The holes are emptied in place, in the solution file itself, so that the
//! mutants build in the one target directory and only the mutated crate and
//! its suite rebuild; [`Mutation`] puts the file back on every path out
//! (an error, a panic, Ctrl-C) and, after a `kill -9`, on the next run.

use crate::check::failure_summary;
use crate::generator;
use crate::holes::Hole;
use crate::libtest::Outcome;
use crate::mutants::{self, WrongValue};
use crate::run;
use crate::suite::{self, Against, SuiteRun};
use crate::ui;
use crate::workspace::{Chapter, Repo};
use anyhow::{Context, Result, bail};
use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// A suite run longer than this is stuck (a hole that hangs, say): kill it.
pub const SUITE_LIMIT: Duration = Duration::from_secs(10 * 60);

pub fn run(repo: &Repo, names: &[String], limit: Duration) -> Result<bool> {
    let chapters = repo.chapters_or_all(names)?;
    if chapters.is_empty() {
        println!("verify: no chapters under solutions/");
        return Ok(true);
    }
    let _only_verify = Mutation::lock(repo)?;
    Mutation::recover(repo)?;
    let mut failed = Vec::new();
    for chapter in &chapters {
        println!("{}", ui::bold(&format!("Chapter {}", chapter.title())));
        let ok = verify_chapter(repo, chapter, limit);
        if run::interrupted() {
            bail!("interrupted");
        }
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

fn verify_chapter(repo: &Repo, chapter: &Chapter, limit: Duration) -> bool {
    let solution_dir = chapter.solution_dir();
    let exercise_dir = chapter.exercise_dir();
    let mut ok = true;
    ok &= step("[1/4] the suite passes on the solution", || {
        solution_passes(repo, chapter, limit)
    });
    ok &= step("[2/4] the exercise compiles and fails its suite", || {
        exercise_fails(repo, chapter, limit)
    });

    println!(
        "  [3/4] every hole has a test with teeth ({solution_dir} with one hole a todo!(), \
         then a wrong value)"
    );
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
                    hole_has_teeth(repo, chapter, file, hole, &name, limit)
                });
                if run::interrupted() {
                    return false;
                }
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
    if !run.captured.success() {
        return Ok(Err(failure_summary(chapter, &run)));
    }
    if ran == 0 {
        return Ok(Err(format!("{} has no tests", chapter.suite_dir())));
    }
    let skipped = skipped_tests(&run);
    if skipped.is_empty() {
        return Ok(Ok(format!("{ran} tests pass")));
    }
    let list = skipped.join("\n");
    Ok(if running_as_root() {
        Err(format!(
            "{} test(s) skipped although this runs as root, where every test must run \
             (CI runs as root):\n{list}",
            skipped.len()
        ))
    } else {
        Ok(format!(
            "{ran} tests pass, {} skipped (not root?):\n{list}",
            skipped.len()
        ))
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
    // Cargo failing before any test ran (a broken manifest, a lock) proves
    // nothing about the tests.
    let tests_started = run
        .captured
        .output
        .lines()
        .any(|l| l.trim_start().starts_with("Running "));
    if failed > 0 {
        Ok(format!("{failed} of {} tests fail", run.report.ran()))
    } else if !run.captured.success() && tests_started {
        Ok("the suite fails (a test binary crashed)".to_string())
    } else if !run.captured.success() {
        Err(failure_summary(chapter, run))
    } else {
        Err(String::new())
    }
}

/// The tests of a run that skipped, one `name (target): reason` a line.
fn skipped_tests(run: &SuiteRun) -> Vec<String> {
    run.report
        .tests
        .iter()
        .filter(|t| t.outcome == Outcome::Skipped)
        .map(|t| {
            format!(
                "  skipped: {} ({}): {}",
                t.name,
                t.target,
                t.skip_reason.as_deref().unwrap_or("")
            )
        })
        .collect()
}

/// Whether this process runs as root, where the suites must skip nothing.
fn running_as_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// The suite must fail with the hole a todo!(), and again with the hole
/// returning a plausible wrong value: a test that only reaches the
/// function passes the first and not the second.
fn hole_has_teeth(
    repo: &Repo,
    chapter: &Chapter,
    file: &str,
    hole: &Hole,
    name: &str,
    limit: Duration,
) -> Verdict {
    let relative = format!("{}/{file}", chapter.solution_dir());
    let path = repo.path(&relative);
    let pristine =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let mut options = limited(limit);
    options.cap_lints = true;
    options.fail_fast = true;

    let run = {
        let _mutation = Mutation::apply(
            repo,
            &relative,
            &pristine,
            &generator::with_one_hole(&pristine, hole),
        )?;
        suite::run(repo, chapter, Against::Solution, &options)?
    };
    if run::interrupted() {
        bail!("interrupted");
    }
    let todo_caught = fails_properly(chapter, &run).map_err(|why| {
        if why.is_empty() {
            format!("{name} has no test with teeth: the suite still passes with its body a todo!()")
        } else if run.report.compile_error().is_some() {
            format!("with the hole emptied, the solution does not build: {why}")
        } else {
            why
        }
    });
    if let Err(why) = todo_caught {
        return Ok(Err(why));
    }

    let mut refused = Vec::new();
    for value in mutants::wrong_values(&pristine, hole, &relative)? {
        let mutant = mutants::with_wrong_value(&pristine, hole, &value);
        let run = {
            let _mutation = Mutation::apply(repo, &relative, &pristine, &mutant)?;
            suite::run(repo, chapter, Against::Solution, &options)?
        };
        if run::interrupted() {
            bail!("interrupted");
        }
        if run.report.compile_error().is_some() {
            refused.push(value.describe());
            continue;
        }
        return Ok(wrong_value_caught(chapter, &run, name, &value));
    }
    let why = if refused.is_empty() {
        "its signature offers none".to_string()
    } else {
        format!("{} does not compile", refused.join(", nor "))
    };
    Ok(Ok(format!(
        "todo!() caught; no plausible wrong value ({why})"
    )))
}

/// The verdict on a suite run with the hole returning `value`.
fn wrong_value_caught(
    chapter: &Chapter,
    run: &SuiteRun,
    name: &str,
    value: &WrongValue,
) -> std::result::Result<String, String> {
    let described = value.describe();
    match fails_properly(chapter, run) {
        Ok(_) => Ok(format!("todo!() and {described} both caught")),
        Err(why) if why.is_empty() => Err(format!(
            "{name}: the wrong value survives: the suite still passes when its body is \
             {described}. A test must check what it returns (or does), not only call it."
        )),
        Err(why) => Err(format!("with the body {described}: {why}")),
    }
}

/// A solution file that holds a mutant, in the working tree itself. Dropping
/// it puts the pristine text back, unless someone changed the file
/// meanwhile (then it says so and leaves their version alone). Its pristine
/// text also waits under the target directory until then, so that a verify
/// killed outright is undone by the next one ([`Mutation::recover`]), and
/// Ctrl-C is deferred while it lives ([`run::defer_interrupts`]).
struct Mutation {
    path: PathBuf,
    pristine: String,
    mutant: String,
    backup: PathBuf,
}

impl Mutation {
    fn apply(repo: &Repo, relative: &str, pristine: &str, mutant: &str) -> Result<Mutation> {
        run::defer_interrupts();
        let backup = Self::backup_dir(repo);
        std::fs::create_dir_all(&backup)
            .with_context(|| format!("creating {}", backup.display()))?;
        for (name, content) in [
            ("path", relative),
            ("pristine", pristine),
            ("mutant", mutant),
        ] {
            let file = backup.join(name);
            std::fs::write(&file, content)
                .with_context(|| format!("writing {}", file.display()))?;
        }
        let path = repo.path(relative);
        let mutation = Mutation {
            path,
            pristine: pristine.to_string(),
            mutant: mutant.to_string(),
            backup,
        };
        std::fs::write(&mutation.path, mutant)
            .with_context(|| format!("writing {}", mutation.path.display()))?;
        Ok(mutation)
    }

    /// Where the live mutations wait: `target/workshop-mutant/`.
    fn records(repo: &Repo) -> PathBuf {
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map_or_else(|| repo.path("target"), |dir| repo.root.join(dir));
        target.join("workshop-mutant")
    }

    /// One verify at a time in a checkout: a mutant in one chapter's
    /// solution changes what every later chapter builds. Held until the
    /// returned file is dropped.
    fn lock(repo: &Repo) -> Result<std::fs::File> {
        let records = Self::records(repo);
        std::fs::create_dir_all(&records)
            .with_context(|| format!("creating {}", records.display()))?;
        let path = records.with_extension("lock");
        let file =
            std::fs::File::create(&path).with_context(|| format!("creating {}", path.display()))?;
        if file.try_lock().is_err() {
            println!("verify: another verify is running in this checkout; waiting for it");
            file.lock()
                .with_context(|| format!("locking {}", path.display()))?;
        }
        Ok(file)
    }

    /// This process's record, by its pid: verifies of other chapters may
    /// run at the same time.
    fn backup_dir(repo: &Repo) -> PathBuf {
        Self::records(repo).join(std::process::id().to_string())
    }

    /// Undo what a verify that was killed outright left behind: the records
    /// of processes that no longer exist.
    fn recover(repo: &Repo) -> Result<()> {
        let Ok(entries) = std::fs::read_dir(Self::records(repo)) else {
            return Ok(());
        };
        for entry in entries.flatten() {
            let backup = entry.path();
            let pid = entry.file_name().to_string_lossy().parse::<i32>();
            let alive = pid.is_ok_and(|pid| {
                nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None)
                    != Err(nix::errno::Errno::ESRCH)
            });
            if alive {
                continue;
            }
            let read = |name: &str| std::fs::read_to_string(backup.join(name));
            let (Ok(relative), Ok(pristine), Ok(mutant)) =
                (read("path"), read("pristine"), read("mutant"))
            else {
                let _ = std::fs::remove_dir_all(&backup);
                continue;
            };
            let stale = Mutation {
                path: repo.path(relative.trim()),
                pristine,
                mutant,
                backup,
            };
            println!(
                "verify: an earlier verify was killed with {} mutated; restoring it",
                stale.path.display()
            );
            drop(stale);
        }
        Ok(())
    }
}

impl Drop for Mutation {
    fn drop(&mut self) {
        let current = std::fs::read_to_string(&self.path).ok();
        if current.as_deref() == Some(self.mutant.as_str()) {
            if let Err(error) = std::fs::write(&self.path, &self.pristine) {
                eprintln!(
                    "error: could not restore {}: {error}; its pristine text is in {}",
                    self.path.display(),
                    self.backup.join("pristine").display()
                );
                return;
            }
        } else if current.as_deref() != Some(self.pristine.as_str()) {
            eprintln!(
                "warning: {} changed while verify had it mutated; leaving it as it is now",
                self.path.display()
            );
        }
        let _ = std::fs::remove_dir_all(&self.backup);
        if let Some(records) = self.backup.parent() {
            // Only when empty: another verify's record stays.
            let _ = std::fs::remove_dir(records);
        }
        run::exit_on_interrupt();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::Captured;
    use std::os::unix::process::ExitStatusExt;

    fn failed_run(output: &str) -> SuiteRun {
        SuiteRun {
            report: crate::libtest::parse(output),
            captured: Captured {
                output: output.to_string(),
                status: Some(std::process::ExitStatus::from_raw(101 << 8)),
            },
        }
    }

    #[test]
    fn cargo_failing_before_any_test_ran_is_no_proof_of_teeth() {
        let chapter = Chapter {
            number: "02".into(),
            topic: "namespaces".into(),
        };
        let broken = failed_run(
            "error: the crate `t v0.1.0` depends on crate `nix v0.30.1` multiple times\n",
        );
        let why = fails_properly(&chapter, &broken).unwrap_err();
        assert!(why.contains("multiple times"), "{why}");

        let crashed = failed_run(
            "     Running tests/a.rs (target/debug/deps/a-1)\n\nrunning 1 test\n\
             error: test failed, to rerun pass `--test a`\n\n\
             Caused by:\n  process didn't exit successfully (signal: 6, SIGABRT)\n",
        );
        assert_eq!(
            fails_properly(&chapter, &crashed).unwrap(),
            "the suite fails (a test binary crashed)"
        );
    }
}
