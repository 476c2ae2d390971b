//! Repository consistency: the book, the solutions, the exercises and the
//! chapter suites stay in step.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// `NN-topic` directory names under `dir`.
fn chapter_dirs(dir: &str) -> BTreeSet<String> {
    std::fs::read_dir(root().join(dir))
        .unwrap_or_else(|error| panic!("cannot read {dir}/: {error}"))
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| is_chapter_name(name))
        .collect()
}

fn is_chapter_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    bytes.len() > 3 && bytes[0].is_ascii_digit() && bytes[1].is_ascii_digit() && bytes[2] == b'-'
}

/// The chapters that SUMMARY.md links to (drafts with empty links are
/// chapters still to be written, and do not count).
fn book_chapters() -> BTreeSet<String> {
    let summary = std::fs::read_to_string(root().join("book/src/SUMMARY.md")).unwrap();
    summary
        .lines()
        .filter_map(|line| line.split_once("](").map(|(_, rest)| rest))
        .filter_map(|link| link.split(['/', ')']).next())
        .filter(|first| is_chapter_name(first))
        .map(String::from)
        .collect()
}

#[test]
fn every_chapter_has_its_book_page_solution_exercise_and_suite() {
    let book = book_chapters();
    assert!(!book.is_empty(), "SUMMARY.md links no chapter");
    for dir in ["solutions", "exercises", "chapters"] {
        assert_eq!(
            chapter_dirs(dir),
            book,
            "{dir}/ and the chapters linked from book/src/SUMMARY.md differ"
        );
    }
}

#[test]
fn every_chapter_suite_is_named_after_its_number() {
    for chapter in chapter_dirs("chapters") {
        let manifest =
            std::fs::read_to_string(root().join("chapters").join(&chapter).join("Cargo.toml"))
                .unwrap();
        let expected = format!("name = \"chapter-{}\"", &chapter[..2]);
        assert!(
            manifest.contains(&expected),
            "chapters/{chapter}/Cargo.toml should say {expected}"
        );
    }
}

#[test]
fn every_hole_has_a_hint() {
    let mut holes = 0;
    for chapter in chapter_dirs("solutions") {
        for file in files_with_extension(&root().join("solutions").join(&chapter).join("src"), "rs")
        {
            let text = std::fs::read_to_string(&file).unwrap();
            let lines: Vec<&str> = text.lines().collect();
            for (number, line) in lines.iter().enumerate() {
                // `// exercise N: goal`, then its `// hint:` tiers.
                let Some(marker) = line.trim_start().strip_prefix("// exercise ") else {
                    continue;
                };
                let Some((_, goal)) = marker.split_once(':') else {
                    continue;
                };
                holes += 1;
                let at = format!("{}:{}", file.display(), number + 1);
                assert!(
                    goal.trim().len() >= 20,
                    "{at}: a hole needs a goal that says what to do (at least a phrase)"
                );
                let tiers = lines[number + 1..]
                    .iter()
                    .take_while(|l| l.trim_start().starts_with("// hint:"))
                    .count();
                assert!(
                    tiers >= 1,
                    "{at}: a hole needs at least one `// hint:` line"
                );
            }
        }
    }
    assert!(holes > 0, "no holes found in solutions/");
}

/// The files under `dir` whose names end in `.extension`, in order.
fn files_with_extension(dir: &Path, extension: &str) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(files_with_extension(&path, extension));
        } else if path.extension().is_some_and(|ext| ext == extension) {
            files.push(path);
        }
    }
    files.sort();
    files
}

/// Every `{{#include PATH:ANCHOR}}` of the book names a file that exists and
/// an anchor that file has: mdBook itself would only warn.
#[test]
fn every_book_listing_points_at_a_real_anchor() {
    let src = root().join("book/src");
    let mut checked = 0;
    for page in files_with_extension(&src, "md") {
        let text = std::fs::read_to_string(&page).unwrap();
        for include in text.split("{{#include ").skip(1) {
            let target = include.split("}}").next().unwrap().trim();
            let (path, anchor) = match target.rsplit_once(':') {
                Some((path, anchor)) if !anchor.contains('/') => (path, Some(anchor)),
                _ => (target, None),
            };
            let file = page.parent().unwrap().join(path);
            let listing = std::fs::read_to_string(&file).unwrap_or_else(|error| {
                panic!("{}: {{{{#include {target}}}}}: {error}", page.display())
            });
            if let Some(anchor) = anchor {
                let start = format!("ANCHOR: {anchor}");
                let end = format!("ANCHOR_END: {anchor}");
                assert!(
                    listing
                        .lines()
                        .any(|line| line.trim_end().ends_with(&start))
                        && listing.lines().any(|line| line.trim_end().ends_with(&end)),
                    "{}: {} has no anchor {anchor:?}",
                    page.display(),
                    file.display()
                );
            }
            checked += 1;
        }
    }
    assert!(checked > 0, "the book includes no listing at all");
}
