//! `status`: one line per chapter, not started / in progress / done.

use crate::generator;
use crate::hint;
use crate::libtest::Outcome;
use crate::suite::{self, Against};
use crate::ui;
use crate::workspace::{Chapter, Repo};
use anyhow::Result;
use std::io::Write;

pub fn run(repo: &Repo) -> Result<bool> {
    let chapters = repo.chapters()?;
    if chapters.is_empty() {
        println!("No chapters yet (nothing under solutions/).");
    }
    let width = chapters.iter().map(|c| c.topic.len()).max().unwrap_or(0);
    for chapter in &chapters {
        print!("{} {:<width$}  ", chapter.number, chapter.topic);
        let _ = std::io::stdout().flush();
        // Untouched exercises need no test run to know where they stand.
        let generated = generator::generate(repo, chapter)?;
        let drift = generator::drift(repo, chapter, &generated)?;
        if drift.is_empty() {
            println!("not started");
            continue;
        }
        // Learners edit .rs files in place; other differences mean a stale copy.
        let stale_shape = !drift.missing.is_empty()
            || !drift.extra.is_empty()
            || drift.stale.iter().any(|f| !f.ends_with(".rs"));
        if stale_shape {
            println!("exercise out of date (maintainers: `cargo workshop gen`)");
            continue;
        }
        let run = suite::run(repo, chapter, Against::Exercise, &suite::Options::default())?;
        let report = &run.report;
        let done = report.ran() > 0 && report.count(Outcome::Failed) == 0 && run.captured.success();
        let next = if done {
            String::new()
        } else {
            next_hole(repo, chapter)?
        };
        let state = if report.compile_error().is_some() {
            format!("in progress (does not compile){next}")
        } else if report.ran() == 0 {
            format!(
                "in progress (no test ran: try `cargo workshop check {}`)",
                chapter.number
            )
        } else if done {
            ui::green("done")
        } else {
            format!(
                "in progress ({} of {} tests){next}",
                report.count(Outcome::Passed),
                report.ran()
            )
        };
        println!("{state}");
    }
    Ok(true)
}

/// `, next: exercise 3 (Backoff::delay)`: the first hole, in the chapter's
/// order, that still holds its todo!(); empty when every one is filled in.
fn next_hole(repo: &Repo, chapter: &Chapter) -> Result<String> {
    let holes = generator::chapter_holes(repo, chapter)?;
    Ok(holes
        .iter()
        .find(|(file, hole)| !hint::locate(repo, chapter, file, hole).filled)
        .map(|(_, hole)| format!(", next: exercise {} ({})", hole.order, hole.name))
        .unwrap_or_default())
}
