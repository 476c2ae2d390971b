//! `gen`: exercises/NN from solutions/NN, every hole's body replaced by a todo!().
//!
//! Everything outside the holes and the `#[cfg(test)]` items is copied byte for
//! byte, so the learner's code reads exactly like the book's listings.

use crate::holes::{self, Hole};
use crate::workspace::{Chapter, Repo, files_under, source_files};
use anyhow::{Context, Result, bail};
use std::collections::BTreeMap;
use std::ops::Range;

/// Path (relative to the chapter directory) to content.
pub type Files = BTreeMap<String, Vec<u8>>;

/// rustfmt's default; a longer `todo!("...")` line is broken the way rustfmt would.
const DEFAULT_MAX_WIDTH: usize = 100;

/// The exercise files that `gen` makes for `chapter`.
pub fn generate(repo: &Repo, chapter: &Chapter) -> Result<Files> {
    // The numbering is the chapter's, not one file's: check it first.
    chapter_holes(repo, chapter)?;
    let solution = repo.path(chapter.solution_dir());
    let max_width = max_width(repo);
    let mut files = Files::new();
    for relative in source_files(repo, &chapter.solution_dir())? {
        if solution_only(&relative) {
            continue;
        }
        let path = solution.join(&relative);
        let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        let origin = format!("{}/{relative}", chapter.solution_dir());
        let content = if relative == "Cargo.toml" {
            exercise_manifest(&utf8(bytes, &origin)?, &origin, chapter)?.into_bytes()
        } else if relative.ends_with(".rs") {
            let src = utf8(bytes, &origin)?;
            exercise_source(&src, &origin, relative == "src/lib.rs", max_width)?.into_bytes()
        } else {
            bytes
        };
        files.insert(relative, content);
    }
    if files.is_empty() {
        bail!("{} has no files", solution.display());
    }
    Ok(files)
}

/// The solution's own integration tests, examples, benchmarks and helper
/// binaries: they test or measure the solution, by its crate name, and have
/// no place in the learner's copy (the chapter suite is the learner's test).
pub fn solution_only(relative: &str) -> bool {
    ["tests/", "examples/", "benches/", "src/bin/"]
        .iter()
        .any(|dir| relative.starts_with(dir))
}

/// The holes of `chapter` in their order (`// exercise N:`), with their file
/// (relative to the chapter directory); an error unless they are numbered
/// 1..=n without gaps or twins.
pub fn chapter_holes(repo: &Repo, chapter: &Chapter) -> Result<Vec<(String, Hole)>> {
    let solution = repo.path(chapter.solution_dir());
    let mut all = Vec::new();
    for relative in files_under(&solution)? {
        if !relative.ends_with(".rs") {
            continue;
        }
        let path = solution.join(&relative);
        let src = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        let origin = format!("{}/{relative}", chapter.solution_dir());
        for hole in holes::analyse(&src, &origin)?.holes {
            all.push((relative.clone(), hole));
        }
    }
    holes::in_order(all, &chapter.solution_dir())
}

fn utf8(bytes: Vec<u8>, origin: &str) -> Result<String> {
    String::from_utf8(bytes).with_context(|| format!("{origin} is not UTF-8"))
}

/// The first line of every generated Rust file.
pub fn header(origin: &str) -> String {
    format!(
        "// Generated from {origin} by `cargo workshop gen`: \
         fill in the todo!()s, leave the rest as it is.\n"
    )
}

/// A solution source file as the learner gets it.
pub fn exercise_source(src: &str, origin: &str, is_lib: bool, max_width: usize) -> Result<String> {
    let analysis = holes::analyse(src, origin)?;
    let mut edits: Vec<(Range<usize>, String)> = analysis
        .holes
        .iter()
        .map(|hole| (hole.body.clone(), todo_body(hole, max_width)))
        .collect();
    for item in &analysis.test_items {
        // A test item inside a hole goes with the hole's body.
        if !analysis.holes.iter().any(|h| h.body.contains(&item.start)) {
            edits.push((removal(src, item.clone()), String::new()));
        }
    }
    edits.sort_by_key(|(range, _)| range.start);

    let mut out = header(origin);
    if is_lib {
        // Holes leave parameters, imports and helpers unused.
        out.push_str("#![allow(unused)]\n");
    }
    let mut copied = 0;
    for (range, replacement) in edits {
        out.push_str(&src[copied..range.start]);
        out.push_str(&replacement);
        copied = range.end;
    }
    out.push_str(&src[copied..]);
    Ok(out)
}

/// `src` with only `hole` emptied, the way verify tests each hole alone. The
/// marker and hints stay, so that the mutated file is still the same hole to
/// anything that reads it meanwhile (verify mutates the solution in place).
pub fn with_one_hole(src: &str, hole: &Hole) -> String {
    crate::mutants::with_body(src, hole, &todo_body(hole, usize::MAX))
}

/// The body that replaces a hole: `{ todo!("exercise N: goal") }`, laid out
/// as rustfmt would; the hints stay behind, for `cargo workshop hint`.
pub fn todo_body(hole: &Hole, max_width: usize) -> String {
    let literal = todo_literal(&hole.todo_message());
    let indent = &hole.marker_indent;
    let close = &hole.fn_indent;
    let line = format!("{indent}todo!({literal})");
    if line.chars().count() <= max_width {
        format!("{{\n{line}\n{close}}}")
    } else {
        format!("{{\n{indent}todo!(\n{indent}    {literal}\n{indent})\n{close}}}")
    }
}

/// The string literal inside `todo!(...)`: a format string, so braces double.
pub fn todo_literal(hint: &str) -> String {
    format!("{:?}", hint.replace('{', "{{").replace('}', "}}"))
}

/// The bytes to delete for a `#[cfg(test)]` item: its whole lines, plus the
/// blank lines that would otherwise pile up where it was (rustfmt allows
/// neither a blank line at the start of a block nor at the end of a file).
fn removal(src: &str, item: Range<usize>) -> Range<usize> {
    let mut start = src[..item.start].rfind('\n').map_or(0, |i| i + 1);
    if !src[start..item.start].trim().is_empty() {
        start = item.start;
    }
    let mut end = match src[item.end..].find('\n') {
        Some(i) if src[item.end..item.end + i].trim().is_empty() => item.end + i + 1,
        _ => item.end,
    };
    while start > 0 {
        let previous = src[..start - 1].rfind('\n').map_or(0, |i| i + 1);
        if !src[previous..start].trim().is_empty() {
            break;
        }
        start = previous;
    }
    let before = src[..start].trim_end();
    if before.is_empty() || before.ends_with('{') {
        while let Some(i) = src[end..].find('\n') {
            if !src[end..end + i].trim().is_empty() {
                break;
            }
            end += i + 1;
        }
    }
    start..end
}

/// The solution's manifest, renamed to the exercise package.
pub fn exercise_manifest(src: &str, origin: &str, chapter: &Chapter) -> Result<String> {
    let from = format!("name = \"solution-{}\"", chapter.dir_name());
    let to = format!("name = \"exercise-{}\"", chapter.dir_name());
    if !src.contains(&from) {
        bail!("{origin}: expected the package line `{from}`");
    }
    Ok(format!(
        "# Generated from {origin} by `cargo workshop gen`.\n{}",
        src.replacen(&from, &to, 1)
    ))
}

/// `max_width` from the repository's rustfmt.toml, if it sets one.
fn max_width(repo: &Repo) -> usize {
    ["rustfmt.toml", ".rustfmt.toml"]
        .iter()
        .filter_map(|name| std::fs::read_to_string(repo.path(name)).ok())
        .flat_map(|text| {
            text.lines()
                .filter_map(|line| line.split_once('='))
                .filter(|(key, _)| key.trim() == "max_width")
                .filter_map(|(_, value)| value.trim().parse().ok())
                .collect::<Vec<usize>>()
        })
        .next()
        .unwrap_or(DEFAULT_MAX_WIDTH)
}

/// How exercises/NN differs from what gen would write.
#[derive(Debug, Default)]
pub struct Drift {
    pub stale: Vec<String>,
    pub missing: Vec<String>,
    pub extra: Vec<String>,
}

impl Drift {
    pub fn is_empty(&self) -> bool {
        self.stale.is_empty() && self.missing.is_empty() && self.extra.is_empty()
    }
}

/// Compare the exercise directory of `chapter` with `generated`.
pub fn drift(repo: &Repo, chapter: &Chapter, generated: &Files) -> Result<Drift> {
    let dir = repo.path(chapter.exercise_dir());
    let existing = files_under(&dir)?;
    let mut drift = Drift::default();
    for (relative, content) in generated {
        if !existing.contains(relative) {
            drift.missing.push(relative.clone());
            continue;
        }
        let path = dir.join(relative);
        let current =
            std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        if &current != content {
            drift.stale.push(relative.clone());
        }
    }
    drift.extra = existing
        .into_iter()
        .filter(|f| !generated.contains_key(f))
        .collect();
    Ok(drift)
}

/// `gen [--check] [--force] [NN ...]`; `Ok(false)` when `--check` finds drift.
pub fn run(repo: &Repo, names: &[String], check: bool, force: bool) -> Result<bool> {
    let chapters = repo.chapters_or_all(names)?;
    let mut clean = true;
    for chapter in &chapters {
        let generated = generate(repo, chapter)?;
        let drift = drift(repo, chapter, &generated)?;
        let dir = chapter.exercise_dir();
        if check {
            if drift.is_empty() {
                println!("{dir}: up to date");
            } else {
                clean = false;
                println!(
                    "{dir}: not what `cargo workshop gen` makes from {}:",
                    chapter.solution_dir()
                );
                for (kind, files) in [
                    ("stale", &drift.stale),
                    ("missing", &drift.missing),
                    ("extra", &drift.extra),
                ] {
                    for file in files {
                        println!("  {kind:<8} {dir}/{file}");
                    }
                }
            }
        } else {
            write(repo, chapter, &generated, &drift, force)?;
        }
    }
    if names.is_empty() {
        clean &= orphans_reported(repo, &chapters)?;
    }
    if check && !clean {
        println!("run `cargo workshop gen` to regenerate exercises/ (never edit it by hand)");
    }
    Ok(clean)
}

/// Exercise directories without a solution; `false` if there are any.
fn orphans_reported(repo: &Repo, chapters: &[Chapter]) -> Result<bool> {
    let dir = repo.path("exercises");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Ok(true);
    };
    let mut clean = true;
    for entry in entries {
        let entry = entry.with_context(|| format!("reading {}", dir.display()))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if entry.path().is_dir() && !chapters.iter().any(|c| c.dir_name() == name) {
            clean = false;
            println!("exercises/{name}: no solutions/{name} to generate it from; remove it");
        }
    }
    Ok(clean)
}

fn write(
    repo: &Repo,
    chapter: &Chapter,
    generated: &Files,
    drift: &Drift,
    force: bool,
) -> Result<()> {
    let dir = repo.path(chapter.exercise_dir());
    let shown = chapter.exercise_dir();
    if !force {
        let mut filled = Vec::new();
        for relative in drift.stale.iter().filter(|f| f.ends_with(".rs")) {
            let path = dir.join(relative);
            let current = std::fs::read_to_string(&path).unwrap_or_default();
            let new = String::from_utf8_lossy(&generated[relative]);
            for name in filled_in(&current, &new, relative)? {
                filled.push(format!("{shown}/{relative}: {name}"));
            }
        }
        if !filled.is_empty() {
            bail!(
                "gen would overwrite work in {shown}: these holes are no longer todo!():\n  {}\n\
                 If that is someone's answer, save it first; to overwrite anyway, run \
                 `cargo workshop gen --force`.",
                filled.join("\n  ")
            );
        }
    }
    for relative in drift.stale.iter().chain(&drift.missing) {
        let path = dir.join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        std::fs::write(&path, &generated[relative])
            .with_context(|| format!("writing {}", path.display()))?;
    }
    for relative in &drift.extra {
        let path = dir.join(relative);
        std::fs::remove_file(&path).with_context(|| format!("removing {}", path.display()))?;
        // Drop directories the removal left empty (remove_dir fails on the others).
        let mut parent = path.parent();
        while let Some(p) = parent.filter(|p| *p != dir) {
            if std::fs::remove_dir(p).is_err() {
                break;
            }
            parent = p.parent();
        }
    }
    let written = drift.stale.len() + drift.missing.len();
    if written + drift.extra.len() == 0 {
        println!("{shown}: up to date");
    } else {
        println!(
            "{shown}: {written} file(s) written, {} removed",
            drift.extra.len()
        );
    }
    Ok(())
}

/// Functions that are todo!() in `new` but hold real code in `current`: the
/// learner's answers, which a regeneration would erase.
fn filled_in(current: &str, new: &str, file: &str) -> Result<Vec<String>> {
    let Ok(current_fns) = holes::functions(current, file) else {
        return Ok(vec![
            "(the file does not parse, so it was edited)".to_string(),
        ]);
    };
    let mut names = Vec::new();
    for function in holes::functions(new, file)? {
        if !is_todo(&new[function.body.clone()]) {
            continue;
        }
        let answered = current_fns
            .iter()
            .any(|f| f.name == function.name && !is_todo(&current[f.body.clone()]));
        if answered {
            names.push(function.name);
        }
    }
    Ok(names)
}

fn is_todo(body: &str) -> bool {
    let inner = body.trim_start_matches('{').trim_end_matches('}').trim();
    inner.starts_with("todo!(") && inner.ends_with(')')
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORIGIN: &str = "solutions/01-process/src/lib.rs";

    const SOLUTION: &str = r#"//! Restart back-off.

use std::time::Duration;

/// How long to wait before the next restart.
pub struct Backoff {
    pub initial: Duration,
    pub max: Duration,
}

impl Backoff {
    /// The delay before restart number `restarts`.
    pub fn delay(&self, restarts: u32) -> Duration {
        // exercise 2: `initial` doubled per restart, never past `max`
        // hint: powers of two
        // hint: `2u32.saturating_pow(restarts)`, then `min`
        let factor = 2u32.saturating_pow(restarts);
        self.initial.saturating_mul(factor).min(self.max)
    }

    /// Whether the process should be restarted after exiting with `code`.
    pub fn should_restart(&self, code: i32) -> bool {
        // exercise 1: restart only after a failure, like {OnFailure}
        // hint: what is a failure?
        code != 0
    }
}

/// Unit tests of the solution.
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles() {
        let second = Duration::from_secs(1);
        let b = Backoff {
            initial: second,
            max: second * 10,
        };
        assert_eq!(b.delay(1), second * 2);
    }
}
"#;

    const EXERCISE: &str = r#"// Generated from solutions/01-process/src/lib.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
#![allow(unused)]
//! Restart back-off.

use std::time::Duration;

/// How long to wait before the next restart.
pub struct Backoff {
    pub initial: Duration,
    pub max: Duration,
}

impl Backoff {
    /// The delay before restart number `restarts`.
    pub fn delay(&self, restarts: u32) -> Duration {
        todo!("exercise 2: `initial` doubled per restart, never past `max`")
    }

    /// Whether the process should be restarted after exiting with `code`.
    pub fn should_restart(&self, code: i32) -> bool {
        todo!("exercise 1: restart only after a failure, like {{OnFailure}}")
    }
}
"#;

    #[test]
    fn the_solutions_own_tests_and_tools_stay_out_of_the_exercise() {
        assert!(solution_only("tests/store.rs"));
        assert!(solution_only("src/bin/store-stress.rs"));
        assert!(solution_only("examples/store_bench.rs"));
        assert!(!solution_only("src/lib.rs"));
        assert!(!solution_only("src/store/mod.rs"));
    }

    #[test]
    fn holes_become_todos_and_unit_tests_go() {
        let out = exercise_source(SOLUTION, ORIGIN, true, 100).unwrap();
        assert_eq!(out, EXERCISE);
    }

    #[test]
    fn only_lib_rs_allows_unused() {
        let out = exercise_source("fn f() {}\n", "solutions/01-process/src/a.rs", false, 100);
        assert_eq!(
            out.unwrap(),
            "// Generated from solutions/01-process/src/a.rs by `cargo workshop gen`: \
             fill in the todo!()s, leave the rest as it is.\nfn f() {}\n"
        );
    }

    #[test]
    fn long_hints_are_broken_like_rustfmt_breaks_them() {
        let src = "fn f() {\n    // exercise 1: a goal long enough that `todo!(\"...\")` \
                   does not fit on one line of a hundred chars\n    // hint: h\n    1\n}\n";
        let out = exercise_source(src, ORIGIN, false, 100).unwrap();
        let body = out.split_once('\n').unwrap().1;
        assert_eq!(
            body,
            "fn f() {\n    todo!(\n        \"exercise 1: a goal long enough that `todo!(\\\"...\\\")` \
             does not fit on one line of a hundred chars\"\n    )\n}\n"
        );
    }

    #[test]
    fn test_items_leave_no_stray_blank_lines() {
        let cases = [
            // Last item of the file.
            ("fn a() {}\n\n#[cfg(test)]\nfn t() {}\n", "fn a() {}\n"),
            // Between items.
            (
                "fn a() {}\n\n#[cfg(test)]\nuse x::y;\n\nfn b() {}\n",
                "fn a() {}\n\nfn b() {}\n",
            ),
            // First item of a block, with a doc comment.
            (
                "mod m {\n    /// Doc.\n    #[cfg(test)]\n    fn t() {}\n\n    fn b() {}\n}\n",
                "mod m {\n    fn b() {}\n}\n",
            ),
            // First item of the file.
            ("#[cfg(test)]\nfn t() {}\n\nfn b() {}\n", "fn b() {}\n"),
            // A test-only method.
            (
                "impl A {\n    fn a() {}\n\n    #[cfg(test)]\n    fn t() {}\n}\n",
                "impl A {\n    fn a() {}\n}\n",
            ),
        ];
        for (src, expected) in cases {
            let out = exercise_source(src, ORIGIN, false, 100).unwrap();
            assert_eq!(out.split_once('\n').unwrap().1, expected, "from {src:?}");
        }
    }

    #[test]
    fn manifest_is_renamed_with_a_header() {
        let chapter = Chapter {
            number: "01".into(),
            topic: "process".into(),
        };
        let src = "[package]\nname = \"solution-01-process\"\nversion = \"0.1.0\"\n";
        let out = exercise_manifest(src, "solutions/01-process/Cargo.toml", &chapter).unwrap();
        assert_eq!(
            out,
            "# Generated from solutions/01-process/Cargo.toml by `cargo workshop gen`.\n\
             [package]\nname = \"exercise-01-process\"\nversion = \"0.1.0\"\n"
        );
        let wrong = exercise_manifest("[package]\nname = \"x\"\n", "C.toml", &chapter);
        assert!(
            wrong
                .unwrap_err()
                .to_string()
                .contains("name = \"solution-01-process\"")
        );
    }

    #[test]
    fn a_misplaced_marker_fails_the_generation() {
        let src = "fn f() {\n    let x = 1;\n    // exercise 1: here\n    // hint: h\n}\n";
        let error = exercise_source(src, ORIGIN, true, 100).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("solutions/01-process/src/lib.rs:3: ")
        );
    }

    #[test]
    fn one_hole_at_a_time_for_verify() {
        let holes = holes::analyse(SOLUTION, ORIGIN).unwrap().holes;
        let out = with_one_hole(SOLUTION, &holes[1]);
        assert!(out.contains("let factor"), "the other hole stays solved");
        assert!(out.contains("todo!(\"exercise 1: restart only after"));
        assert!(
            out.contains("what is a failure?"),
            "the marker and hints stay: it is still the same hole"
        );
        let again = holes::analyse(&out, ORIGIN).unwrap().holes;
        assert_eq!(again.len(), holes.len());
        assert!(out.contains("mod tests"), "unit tests stay");
    }

    #[test]
    fn learner_answers_are_detected() {
        let answered = EXERCISE.replace(
            "todo!(\"exercise 2: `initial` doubled per restart, never past `max`\")",
            "self.initial",
        );
        let names = filled_in(&answered, EXERCISE, "lib.rs").unwrap();
        assert_eq!(names, ["Backoff::delay"]);
        assert!(filled_in(EXERCISE, EXERCISE, "lib.rs").unwrap().is_empty());
    }

    /// The generated file must stay `cargo fmt --check` clean when its source is.
    #[test]
    fn output_is_rustfmt_clean() {
        let long = "fn f() -> u32 {\n    // exercise 1: a goal long enough that `todo!(\"...\")` \
                    does not fit on one line of a hundred chars\n    // hint: h\n    1\n}\n";
        for (src, is_lib) in [(SOLUTION, true), (long, false)] {
            assert_rustfmt_clean(src);
            assert_rustfmt_clean(&exercise_source(src, ORIGIN, is_lib, 100).unwrap());
        }
    }

    fn assert_rustfmt_clean(src: &str) {
        use std::io::Write;
        let mut rustfmt = std::process::Command::new("rustfmt")
            .args(["--edition", "2024", "--check"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("rustfmt runs (rustup component add rustfmt)");
        rustfmt
            .stdin
            .take()
            .unwrap()
            .write_all(src.as_bytes())
            .unwrap();
        let output = rustfmt.wait_with_output().unwrap();
        // With stdin, `--check` prints the diff but still exits 0.
        let diff = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success() && diff.is_empty(),
            "rustfmt would change:\n{src}\n{diff}"
        );
    }
}
