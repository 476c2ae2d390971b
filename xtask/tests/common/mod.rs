//! A throwaway one-chapter workshop for the runner's end-to-end tests,
//! built with the real cargo (no dependencies, so no network).

#![allow(dead_code)] // each test file uses its own part of it

use std::fs;
use std::path::Path;
use std::process::Command;

pub fn write(root: &Path, path: &str, content: &str) {
    let path = root.join(path);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, content).unwrap();
}

/// A workspace with chapter 01-demo: `solution` as the solution's lib.rs and
/// `suite` as the chapter's one test file.
pub fn workshop_with(solution: &str, suite: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        "Cargo.toml",
        "[workspace]\nresolver = \"3\"\nmembers = [\"solutions/*\", \"exercises/*\", \"chapters/*\"]\n",
    );
    write(
        root,
        "solutions/01-demo/Cargo.toml",
        "[package]\nname = \"solution-01-demo\"\nversion = \"0.1.0\"\nedition = \"2024\"\n",
    );
    write(root, "solutions/01-demo/src/lib.rs", solution);
    write(
        root,
        "chapters/01-demo/Cargo.toml",
        "[package]\nname = \"chapter-01\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n\
         [features]\nsolution = []\n\n[dependencies]\n\
         exercise = { package = \"exercise-01-demo\", path = \"../../exercises/01-demo\" }\n\
         solution = { package = \"solution-01-demo\", path = \"../../solutions/01-demo\" }\n",
    );
    write(
        root,
        "chapters/01-demo/src/lib.rs",
        "#[cfg(not(feature = \"solution\"))]\npub use exercise::*;\n\
         #[cfg(feature = \"solution\")]\npub use solution::*;\n",
    );
    write(root, "chapters/01-demo/tests/demo.rs", suite);
    dir
}

/// Run the runner on `root`: whether it succeeded, and all it printed.
pub fn workshop(root: &Path, args: &[&str]) -> (bool, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_workshop"))
        .arg("--root")
        .arg(root)
        .args(args)
        .env("CARGO_TARGET_DIR", root.join("target"))
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

pub fn assert_contains(text: &str, wanted: &str) {
    assert!(text.contains(wanted), "expected {wanted:?} in:\n{text}");
}
