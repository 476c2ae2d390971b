//! `check NN [--solution]`: run a chapter's suite and tell the learner, briefly,
//! where they stand and what to do next.

use crate::generator;
use crate::hint;
use crate::holes::Hole;
use crate::libtest::{Outcome, Report, TestCase};
use crate::suite::{self, Against, SuiteRun};
use crate::tamper;
use crate::ui;
use crate::workspace::{Chapter, Repo};
use anyhow::Result;

/// Longest failure text shown; the rest is one `cargo test` away.
const MAX_FAILURE_LINES: usize = 60;

/// How a todo!() panics.
const TODO_PANIC: &str = "not yet implemented: ";

pub fn run(repo: &Repo, name: &str, solution: bool) -> Result<bool> {
    let chapter = repo.chapter(name)?;
    let (against, code) = if solution {
        (
            Against::Solution,
            format!("the reference solution in {}", chapter.solution_dir()),
        )
    } else {
        (
            Against::Exercise,
            format!("your code in {}", chapter.exercise_dir()),
        )
    };
    println!(
        "{}",
        ui::bold(&format!("Chapter {}: testing {code}", chapter.title()))
    );
    let options = suite::Options {
        progress: true,
        ..suite::Options::default()
    };
    let mut run = suite::run(repo, &chapter, against, &options)?;
    println!();
    // Results arrive as tests finish; show them in a stable order.
    run.report
        .tests
        .sort_by(|a, b| (&a.target, &a.name).cmp(&(&b.target, &b.name)));
    let report = &run.report;

    if let Some(error) = report.compile_error() {
        print_compile_error(&chapter, against, error);
        return Ok(false);
    }
    if report.tests.is_empty() {
        if run.captured.success() {
            println!("{} has no tests yet.", chapter.suite_dir());
        } else {
            println!("cargo test failed before any test ran:\n{}", run.tail(20));
        }
        return Ok(false);
    }

    print_tests(&chapter, report);
    let passed = report.count(Outcome::Passed);
    let ran = report.ran();
    let ignored = not_run(report);
    println!();
    if let Some(changes) = tamper::suite_changes(repo, &chapter) {
        println!("{}", ui::red(&tamper::warning(&chapter, &changes)));
        println!();
    }
    if passed == ran && run.captured.success() {
        println!("{}", ui::green(&format!("All {ran} tests pass{ignored}.")));
        if against == Against::Exercise {
            println!("Chapter {} is done: well done!", chapter.number);
        }
        return Ok(true);
    }
    println!(
        "{}",
        ui::bold(&format!("{passed} of {ran} tests pass{ignored}."))
    );

    let holes = if against == Against::Exercise {
        generator::chapter_holes(repo, &chapter)?
    } else {
        Vec::new()
    };
    let next = next_hole(report, &holes);
    print_first_failure(&chapter, &run, next.map(|(_, test)| test));
    if let Some((index, _)) = next {
        let (file, hole) = &holes[index];
        print_next_hole(repo, &chapter, file, hole);
    }
    Ok(false)
}

/// The failure to read first: a wrong answer matters more than the todo!()s
/// still ahead, which come in hint order.
fn print_first_failure(chapter: &Chapter, run: &SuiteRun, at_next_hole: Option<&TestCase>) {
    let mut failed = run
        .report
        .tests
        .iter()
        .filter(|t| t.outcome == Outcome::Failed);
    let wrong = failed
        .clone()
        .find(|t| !t.failure.as_deref().unwrap_or("").contains(TODO_PANIC));
    let Some(test) = wrong.or(at_next_hole).or_else(|| failed.next()) else {
        println!(
            "\ncargo test failed without a failing test; its last lines:\n{}",
            run.tail(20)
        );
        return;
    };
    println!();
    println!(
        "First failure: {} ({})",
        ui::bold(&test.name),
        target_label(chapter, &test.target)
    );
    let text = test.failure.as_deref().unwrap_or("(no output)");
    println!("{}", indent(&trim_failure(text, MAX_FAILURE_LINES)));
    if text.contains("-old snapshot") {
        println!("    (- lines: what the test expects; + lines: what your code gave)");
    }
}

fn print_next_hole(repo: &Repo, chapter: &Chapter, file: &str, hole: &Hole) {
    let place = hint::locate(repo, chapter, file, hole);
    println!();
    println!(
        "{} exercise {}, {} {}: {}",
        ui::bold("Next hole:"),
        hole.order,
        place.path,
        ui::bold(&hole.name),
        hole.hint
    );
    println!(
        "{}",
        ui::dim(&format!(
            "(Stuck? `cargo workshop hint {0}` gives a hint, `--more` the next one; \
             the book's chapter {0} explains the holes in this order.)",
            chapter.number
        ))
    );
}

fn print_tests(chapter: &Chapter, report: &Report) {
    let mut target = None;
    for test in &report.tests {
        if target != Some(&test.target) {
            target = Some(&test.target);
            println!("{}", target_label(chapter, &test.target));
        }
        let mark = match test.outcome {
            Outcome::Passed => ui::pass_mark(),
            Outcome::Failed => ui::fail_mark(),
            Outcome::Ignored | Outcome::Skipped => ui::dim("-"),
        };
        let note = match (test.outcome, &test.skip_reason) {
            (Outcome::Ignored, _) => " (ignored)".to_string(),
            (Outcome::Skipped, reason) => {
                format!(
                    " (skipped: {})",
                    reason.as_deref().unwrap_or("no reason given")
                )
            }
            _ => String::new(),
        };
        println!("  {mark} {}{note}", test.name);
    }
}

/// ` (2 skipped, 1 ignored)`: the tests that proved nothing, counted apart
/// from those that passed.
fn not_run(report: &Report) -> String {
    let parts: Vec<String> = [(Outcome::Skipped, "skipped"), (Outcome::Ignored, "ignored")]
        .iter()
        .filter_map(|(outcome, word)| match report.count(*outcome) {
            0 => None,
            n => Some(format!("{n} {word}")),
        })
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!(" ({})", parts.join(", "))
    }
}

fn print_compile_error(chapter: &Chapter, against: Against, error: &str) {
    let location = error
        .lines()
        .find_map(|l| l.trim_start().strip_prefix("--> "))
        .unwrap_or("");
    let what = if location.starts_with("chapters/") {
        format!(
            "in chapter {}'s tests ({}): did a signature in {} change? Keep the public API as generated",
            chapter.number,
            chapter.suite_dir(),
            chapter.exercise_dir()
        )
    } else if against == Against::Solution || location.starts_with("solutions/") {
        format!("in {}", chapter.solution_dir())
    } else {
        format!("in {} (your code)", chapter.exercise_dir())
    };
    println!(
        "{}",
        ui::red(&format!("It does not compile: a compile error {what}."))
    );
    println!();
    println!("{}", indent(&trim_failure(error, MAX_FAILURE_LINES)));
    println!();
    println!(
        "Fix it and run `cargo workshop check {}` again.",
        chapter.number
    );
}

/// The earliest hole (in the chapter's order) that a failure reached, with that failure.
pub fn next_hole<'a>(
    report: &'a Report,
    holes: &[(String, Hole)],
) -> Option<(usize, &'a TestCase)> {
    report
        .tests
        .iter()
        .filter_map(|test| Some((test, test.failure.as_deref()?)))
        .flat_map(|(test, text)| {
            text.lines().filter_map(move |line| {
                let message = line.split_once(TODO_PANIC)?.1.trim();
                let index = holes
                    .iter()
                    .position(|(_, hole)| hole.todo_message() == message)?;
                Some((index, test))
            })
        })
        .min_by_key(|(index, _)| *index)
}

/// `tests/events.rs` -> `chapters/01-process/tests/events.rs`.
pub fn target_label(chapter: &Chapter, target: &str) -> String {
    let dir = chapter.suite_dir();
    if let Some(file) = target.strip_prefix("unittests ") {
        format!("{dir}/{file}")
    } else if target == "doc tests" {
        format!("{dir} (doc tests)")
    } else {
        format!("{dir}/{target}")
    }
}

/// A failure without the advice that does not apply here (accepting
/// snapshots would make the tests agree with wrong code), cut to `max` lines.
pub fn trim_failure(text: &str, max: usize) -> String {
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| !l.contains("cargo insta") && !l.contains("RUST_BACKTRACE"))
        // insta's own panic location says nothing about the learner's code.
        .filter(|l| !(l.contains("panicked at") && l.contains("/.cargo/registry/")))
        .collect();
    if lines.len() <= max {
        return lines.join("\n");
    }
    format!(
        "{}\n... ({} more lines: `cargo test -p <chapter>` shows everything)",
        lines[..max].join("\n"),
        lines.len() - max
    )
}

pub fn indent(text: &str) -> String {
    text.lines()
        .map(|l| {
            if l.is_empty() {
                String::new()
            } else {
                format!("    {l}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The summary a failed suite run deserves in verify's and status's reports.
pub fn failure_summary(chapter: &Chapter, run: &SuiteRun) -> String {
    if run.timed_out() {
        return "killed: still running at the time limit (a test that hangs?)".to_string();
    }
    if let Some(error) = run.report.compile_error() {
        return format!("compile error:\n{}", indent(&trim_failure(error, 30)));
    }
    match run
        .report
        .tests
        .iter()
        .find(|t| t.outcome == Outcome::Failed)
    {
        Some(test) => {
            let failed: Vec<&str> = run
                .report
                .tests
                .iter()
                .filter(|t| t.outcome == Outcome::Failed)
                .map(|t| t.name.as_str())
                .collect();
            format!(
                "failing: {}\nfirst failure, {} ({}):\n{}",
                failed.join(", "),
                test.name,
                target_label(chapter, &test.target),
                indent(&trim_failure(test.failure.as_deref().unwrap_or(""), 30))
            )
        }
        None => format!(
            "cargo test failed; its last lines:\n{}",
            indent(&run.tail(15))
        ),
    }
}
