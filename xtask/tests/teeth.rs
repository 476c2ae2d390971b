//! verify's second mutant (a plausible wrong value), its in-place mutation,
//! skipped tests, the tamper warning and git-tracked gen, end to end on a
//! throwaway workspace built with the real cargo (no dependencies, so no
//! network).

mod common;

use common::{assert_contains, workshop, workshop_with, write};
use std::fs;
use std::path::Path;
use std::process::Command;

/// Two holes: `double` (a u32 in, a u32 out: the input unchanged and 0 are
/// the wrong values) and `meters` (its type has no default, and no input
/// of its type: no plausible wrong value).
const SOLUTION: &str = r#"//! A demo chapter.

/// Twice `x`.
pub fn double(x: u32) -> u32 {
    // exercise 1: multiply by two
    // hint: x and 2
    x * 2
}

/// A length.
#[derive(Debug, PartialEq)]
pub struct Meters(pub u32);

/// `n` metres.
pub fn meters(n: u32) -> Meters {
    // exercise 2: wrap it
    // hint: Meters(n)
    Meters(n)
}
"#;

/// Catches every hole as a todo!() and `double`'s wrong values too.
const STRONG: &str = r#"use chapter_01::*;

#[test]
fn doubles() {
    assert_eq!(double(21), 42);
}

#[test]
fn measures() {
    assert_eq!(meters(3), Meters(3));
}
"#;

fn fixture(suite: &str) -> tempfile::TempDir {
    workshop_with(SOLUTION, suite)
}

fn git(root: &Path, args: &[&str]) {
    let status = Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args(args)
        .current_dir(root)
        .output()
        .unwrap();
    assert!(status.status.success(), "git {args:?}: {status:?}");
}

/// The fixture as a git checkout with everything committed.
fn committed(dir: &tempfile::TempDir) {
    let root = dir.path();
    write(root, ".gitignore", "target/\n");
    git(root, &["init", "-q"]);
    git(root, &["add", "."]);
    git(root, &["commit", "-q", "-m", "fixture"]);
}

#[test]
fn verify_fails_a_hole_whose_wrong_value_survives_and_restores_the_solution() {
    // Reaches double (a todo!() fails it) but 0 doubled is 0, which the
    // input unchanged returns as well.
    let weak = STRONG.replace("double(21), 42", "double(0), 0");
    let dir = fixture(&weak);
    let root = dir.path();
    assert!(workshop(root, &["gen"]).0);

    let (ok, out) = workshop(root, &["verify", "01"]);
    assert!(!ok, "{out}");
    assert_contains(&out, "solutions/01-demo/src/lib.rs:5 double) ... FAILED");
    assert_contains(
        &out,
        "double): the wrong value survives: the suite still passes when its body is `x`",
    );
    assert_contains(
        &out,
        "ok: todo!() caught; no plausible wrong value (`Default::default()` does not compile)",
    );
    // Mutated in place, and put back.
    let solution = fs::read_to_string(root.join("solutions/01-demo/src/lib.rs")).unwrap();
    assert_eq!(solution, SOLUTION);
    assert!(!root.join("target/workshop-mutant").exists());

    write(root, "chapters/01-demo/tests/demo.rs", STRONG);
    let (ok, out) = workshop(root, &["verify", "01"]);
    assert!(ok, "{out}");
    assert_contains(&out, "double) ... ok: todo!() and `x` both caught");
}

#[test]
fn verify_restores_what_a_killed_verify_left_mutated() {
    let dir = fixture(STRONG);
    let root = dir.path();
    assert!(workshop(root, &["gen"]).0);
    let mutant = SOLUTION.replace("    x * 2\n", "    x\n");
    write(root, "solutions/01-demo/src/lib.rs", &mutant);
    // Its record, under the pid of a process that is gone (pids never
    // reach i32::MAX).
    let record = format!("target/workshop-mutant/{}", i32::MAX);
    write(
        root,
        &format!("{record}/path"),
        "solutions/01-demo/src/lib.rs",
    );
    write(root, &format!("{record}/pristine"), SOLUTION);
    write(root, &format!("{record}/mutant"), &mutant);
    // A live verify's record (this test's own pid) is left alone.
    let live = format!("target/workshop-mutant/{}", std::process::id());
    write(
        root,
        &format!("{live}/path"),
        "solutions/01-demo/src/other.rs",
    );

    let (ok, out) = workshop(root, &["verify", "01"]);
    assert!(ok, "{out}");
    assert_contains(&out, "an earlier verify was killed with");
    let solution = fs::read_to_string(root.join("solutions/01-demo/src/lib.rs")).unwrap();
    assert_eq!(solution, SOLUTION);
    assert!(!root.join(&record).exists());
    assert!(root.join(&live).exists());
}

#[test]
fn a_test_that_skips_is_shown_and_counted_as_skipped() {
    let skipping = format!(
        "{STRONG}\n#[test]\nfn needs_a_unicorn() {{\n    eprintln!(\"k8s-mini-skip: this machine has no unicorn\");\n}}\n"
    );
    let dir = fixture(&skipping);
    let root = dir.path();
    assert!(workshop(root, &["gen"]).0);

    let (ok, out) = workshop(root, &["check", "01", "--solution"]);
    assert!(ok, "{out}");
    assert_contains(
        &out,
        "  - needs_a_unicorn (skipped: this machine has no unicorn)\n",
    );
    assert_contains(&out, "All 2 tests pass (1 skipped).");

    // Every test must run where verify runs as root (CI).
    let (ok, out) = workshop(root, &["verify", "01"]);
    if nix::unistd::geteuid().is_root() {
        assert!(!ok, "{out}");
        assert_contains(&out, "1 test(s) skipped although this runs as root");
        assert_contains(
            &out,
            "skipped: needs_a_unicorn (tests/demo.rs): this machine has no unicorn",
        );
    } else {
        assert!(ok, "{out}");
        assert_contains(&out, "2 tests pass, 1 skipped (not root?)");
    }
}

#[test]
fn check_warns_when_the_suite_differs_from_git() {
    let dir = fixture(STRONG);
    let root = dir.path();
    assert!(workshop(root, &["gen"]).0);
    committed(&dir);

    let (ok, out) = workshop(root, &["check", "01", "--solution"]);
    assert!(ok, "{out}");
    assert!(!out.contains("Warning"), "{out}");

    // A suite made to agree with anything.
    write(
        root,
        "chapters/01-demo/tests/demo.rs",
        &STRONG.replace("double(21), 42", "double(21), double(21)"),
    );
    write(root, "chapters/01-demo/tests/extra.rs", "");
    let (ok, out) = workshop(root, &["check", "01", "--solution"]);
    assert!(ok, "{out}");
    let warning = out
        .find("Warning: chapters/01-demo differs from what git has committed")
        .unwrap_or_else(|| panic!("no warning in:\n{out}"));
    let summary = out.find("All 2 tests pass").unwrap();
    assert!(
        warning < summary,
        "the warning comes before the summary:\n{out}"
    );
    assert_contains(&out, "\n   M chapters/01-demo/tests/demo.rs\n");
    assert_contains(&out, "\n  ?? chapters/01-demo/tests/extra.rs\n");
}

#[test]
fn gen_copies_only_what_git_tracks() {
    let dir = fixture(STRONG);
    let root = dir.path();
    committed(&dir);
    write(root, "solutions/01-demo/src/lib.rs~", "editor backup");
    write(root, "solutions/01-demo/notes.txt", "scratch");

    let (ok, out) = workshop(root, &["gen", "01"]);
    assert!(ok, "{out}");
    assert_contains(
        &out,
        "note: solutions/01-demo/notes.txt is not tracked by git; left out",
    );
    assert!(root.join("exercises/01-demo/src/lib.rs").exists());
    assert!(!root.join("exercises/01-demo/src/lib.rs~").exists());
    assert!(!root.join("exercises/01-demo/notes.txt").exists());

    // Without git, every file counts, with a warning.
    fs::remove_dir_all(root.join(".git")).unwrap();
    let (ok, out) = workshop(root, &["gen", "01"]);
    assert!(ok, "{out}");
    assert_contains(
        &out,
        "warning: git cannot list the files of solutions/01-demo",
    );
    assert!(root.join("exercises/01-demo/notes.txt").exists());
}

#[test]
fn ctrl_c_during_a_mutant_puts_the_solution_back() {
    // The mutants make this test hang, so Ctrl-C comes mid-run.
    let hangs = format!(
        "{STRONG}\n#[test]\nfn hangs_when_wrong() {{\n    \
         let wrong = std::panic::catch_unwind(|| double(21)).map_or(true, |v| v != 42);\n    \
         if cfg!(feature = \"solution\") && wrong {{\n        \
         std::thread::sleep(std::time::Duration::from_secs(600));\n    }}\n}}\n"
    );
    let dir = fixture(&hangs);
    let root = dir.path();
    assert!(workshop(root, &["gen"]).0);
    let solution = root.join("solutions/01-demo/src/lib.rs");

    let verify = Command::new(env!("CARGO_BIN_EXE_workshop"))
        .arg("--root")
        .arg(root)
        .args(["verify", "01"])
        .env("CARGO_TARGET_DIR", root.join("target"))
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while fs::read_to_string(&solution).unwrap() == SOLUTION {
        assert!(std::time::Instant::now() < deadline, "verify never mutated");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    // Let cargo start building the mutant, then interrupt.
    std::thread::sleep(std::time::Duration::from_secs(2));
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(verify.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    let output = verify.wait_with_output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(!output.status.success(), "{text}");
    assert_contains(&text, "interrupted");
    assert_eq!(fs::read_to_string(&solution).unwrap(), SOLUTION, "{text}");
    assert!(!root.join("target/workshop-mutant").exists());
}

#[test]
fn check_runs_the_suite_with_insta_strict_whatever_the_environment() {
    let strict = format!(
        "{STRONG}\n#[test]\nfn insta_is_strict() {{\n    \
         assert_eq!(std::env::var(\"INSTA_FORCE_PASS\").as_deref(), Ok(\"0\"));\n    \
         assert_eq!(std::env::var(\"INSTA_UPDATE\").as_deref(), Ok(\"no\"));\n    \
         assert!(std::env::var_os(\"INSTA_FORCE_UPDATE\").is_none());\n}}\n"
    );
    let dir = fixture(&strict);
    let root = dir.path();
    assert!(workshop(root, &["gen"]).0);
    let output = Command::new(env!("CARGO_BIN_EXE_workshop"))
        .arg("--root")
        .arg(root)
        .args(["check", "01", "--solution"])
        .env("CARGO_TARGET_DIR", root.join("target"))
        .env("NO_COLOR", "1")
        .env("INSTA_FORCE_PASS", "1")
        .env("INSTA_UPDATE", "always")
        .env("INSTA_FORCE_UPDATE", "1")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{text}");
    assert_contains(&text, "All 3 tests pass.");
}
