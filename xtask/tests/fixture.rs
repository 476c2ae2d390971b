//! The runner end to end on a throwaway workspace: one chapter with two holes
//! and a two-test suite, built with the real cargo (no dependencies, so no
//! network).

mod common;

use common::{assert_contains, workshop, workshop_with, write};
use std::fs;

const SOLUTION: &str = r#"//! A demo chapter.

/// Twice `x`.
pub fn double(x: u32) -> u32 {
    // exercise 2: multiply by two
    // hint: arithmetic
    // hint: the `*` operator
    x * 2
}

/// A greeting.
pub fn greet(name: &str) -> String {
    // exercise 1: say hello to {name}
    // hint: a macro builds strings
    // hint: format!
    // hint: `format!("hello {name}")`
    format!("hello {name}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn doubles() {
        assert_eq!(super::double(2), 4);
    }
}
"#;

const SUITE: &str = r#"use chapter_01::*;

#[test]
fn doubles() {
    assert_eq!(double(21), 42);
}

#[test]
fn greets() {
    assert_eq!(greet("you"), "hello you");
}
"#;

fn fixture() -> tempfile::TempDir {
    workshop_with(SOLUTION, SUITE)
}

#[test]
fn the_learners_loop_and_the_maintainers_checks() {
    let dir = fixture();
    let root = dir.path();

    let (ok, out) = workshop(root, &["gen"]);
    assert!(ok, "{out}");
    let exercise = fs::read_to_string(root.join("exercises/01-demo/src/lib.rs")).unwrap();
    assert_contains(&exercise, "    todo!(\"exercise 2: multiply by two\")\n}");
    assert_contains(
        &exercise,
        "    todo!(\"exercise 1: say hello to {{name}}\")\n}",
    );
    assert!(!exercise.contains("hint"), "hints stay hidden:\n{exercise}");
    assert!(!exercise.contains("mod tests"));
    assert!(workshop(root, &["gen", "--check"]).0);

    let (ok, out) = workshop(root, &["hint", "1", "--all"]);
    assert!(ok);
    assert_contains(
        &out,
        "1. exercises/01-demo/src/lib.rs:12 greet\n     say hello to {name}\n       1. a macro",
    );
    assert_contains(
        &out,
        "2. exercises/01-demo/src/lib.rs:7 double\n     multiply by two\n       1. arithmetic",
    );

    assert_contains(&workshop(root, &["status"]).1, "01 demo  not started");

    let (ok, out) = workshop(root, &["check", "01"]);
    assert!(!ok, "{out}");
    assert_contains(
        &out,
        "chapters/01-demo/tests/demo.rs\n  ✗ doubles\n  ✗ greets\n",
    );
    assert_contains(&out, "0 of 2 tests pass.");
    assert_contains(&out, "not yet implemented: exercise 1: say hello to {name}");
    // The numbers decide what comes next, not the order in the file.
    assert_contains(
        &out,
        "Next hole: exercise 1, exercises/01-demo/src/lib.rs:12 greet: say hello to {name}",
    );

    let (ok, out) = workshop(root, &["check", "demo", "--solution"]);
    assert!(ok, "{out}");
    assert_contains(&out, "All 2 tests pass.");

    let (ok, out) = workshop(root, &["verify", "01"]);
    assert!(ok, "{out}");
    assert_contains(
        &out,
        "hole 1 (solutions/01-demo/src/lib.rs:13 greet) ... ok",
    );
    assert_contains(&out, "verify: all 1 chapter(s) ok");

    // The learner answers the first hole in the file (hole 2), wrongly.
    let answered = exercise.replace("todo!(\"exercise 2: multiply by two\")", "x + 2");
    write(root, "exercises/01-demo/src/lib.rs", &answered);
    let (ok, out) = workshop(root, &["check", "01"]);
    assert!(!ok);
    assert_contains(&out, "First failure: doubles");
    assert_contains(&out, "left: 23");
    assert_contains(
        &out,
        "Next hole: exercise 1, exercises/01-demo/src/lib.rs:12 greet",
    );
    assert_contains(
        &workshop(root, &["status"]).1,
        "in progress (0 of 2 tests), next: exercise 1 (greet)",
    );

    // gen would erase that answer: it refuses, and --check names the file.
    let (ok, out) = workshop(root, &["gen"]);
    assert!(!ok);
    assert_contains(&out, "exercises/01-demo/src/lib.rs: double");
    let (ok, out) = workshop(root, &["gen", "--check"]);
    assert!(!ok);
    assert_contains(&out, "stale    exercises/01-demo/src/lib.rs");
}

#[test]
fn verify_fails_a_hole_without_a_test_with_teeth() {
    let dir = fixture();
    let root = dir.path();
    let untested = "\n/// Never tested.\npub fn triple(x: u32) -> u32 {\n    // exercise 3: times three\n    // hint: `*`\n    x * 3\n}\n";
    let solution = SOLUTION.replace("\n#[cfg(test)]", &format!("{untested}\n#[cfg(test)]"));
    write(root, "solutions/01-demo/src/lib.rs", &solution);
    assert!(workshop(root, &["gen"]).0);

    let (ok, out) = workshop(root, &["verify"]);
    assert!(!ok, "{out}");
    assert_contains(
        &out,
        "hole 3 (solutions/01-demo/src/lib.rs:22 triple) has no test with teeth",
    );
    assert_contains(&out, "verify: 1 of 1 chapter(s) failed: 01");
}

#[test]
fn a_misplaced_marker_is_an_error_naming_the_line() {
    let dir = fixture();
    let root = dir.path();
    let broken = SOLUTION.replace("    x * 2\n", "    x * 2\n    // exercise 3: late\n");
    write(root, "solutions/01-demo/src/lib.rs", &broken);
    let (ok, out) = workshop(root, &["gen"]);
    assert!(!ok);
    assert_contains(
        &out,
        "error: solutions/01-demo/src/lib.rs:9: `// exercise 3:` must be the first line of a function body",
    );
}

#[test]
fn verify_kills_a_suite_that_hangs() {
    let dir = fixture();
    let root = dir.path();
    let hanging = "\n#[test]\nfn hangs() {\n    std::thread::sleep(std::time::Duration::from_secs(600));\n}\n";
    write(
        root,
        "chapters/01-demo/tests/demo.rs",
        &format!("{SUITE}{hanging}"),
    );
    assert!(workshop(root, &["gen"]).0);
    // The fixture builds in about a second, well within the limit.

    let (ok, out) = workshop(root, &["verify", "--time-limit", "5"]);
    assert!(!ok, "{out}");
    assert_contains(&out, "[1/4] the suite passes on the solution ... FAILED");
    assert_contains(&out, "killed: still running at the time limit");
}

#[test]
fn hints_come_one_tier_at_a_time_for_the_next_hole_in_order() {
    let dir = fixture();
    let root = dir.path();
    assert!(workshop(root, &["gen"]).0);

    // Hole 1 comes second in the file: the number decides.
    let (ok, out) = workshop(root, &["hint", "01"]);
    assert!(ok, "{out}");
    assert_contains(&out, "Chapter 01 (demo), exercise 1 of 2: greet\n");
    assert_contains(&out, "  at exercises/01-demo/src/lib.rs:12\n");
    assert_contains(&out, "  goal: say hello to {name}\n");
    assert_contains(&out, "  Hint 1 of 3: a macro builds strings\n");
    assert!(!out.contains("Hint 2"), "{out}");
    assert_contains(&out, "`cargo workshop hint 01 --more` shows hint 2 of 3");
    // Asking again shows the same, not more.
    assert!(!workshop(root, &["hint", "01"]).1.contains("Hint 2"));

    let out = workshop(root, &["hint", "01", "--more"]).1;
    assert_contains(&out, "Hint 1 of 3: a macro");
    assert_contains(&out, "Hint 2 of 3: format!");
    assert!(!out.contains("Hint 3"), "{out}");
    let out = workshop(root, &["hint", "01", "--more"]).1;
    assert_contains(&out, "Hint 3 of 3: `format!(\"hello {name}\")`");
    assert_contains(&out, "That was the last hint.");
    let again = workshop(root, &["hint", "01", "--more"]).1;
    assert_eq!(again, out, "nothing past the last tier");
    assert!(root.join("target/workshop/hints-01-demo.txt").is_file());

    // Another hole by its number starts at its own first tier.
    let out = workshop(root, &["hint", "01", "2"]).1;
    assert_contains(&out, "exercise 2 of 2: double");
    assert_contains(&out, "Hint 1 of 2: arithmetic");
    assert!(!out.contains("Hint 2"), "{out}");
    let (ok, out) = workshop(root, &["hint", "01", "3"]);
    assert!(!ok);
    assert_contains(&out, "chapter 01 has holes 1 to 2, no hole 3");

    // Once hole 1 is filled in, hole 2 is next.
    let exercise = fs::read_to_string(root.join("exercises/01-demo/src/lib.rs")).unwrap();
    let answered = exercise.replace(
        "todo!(\"exercise 1: say hello to {{name}}\")",
        "format!(\"hi {name}\")",
    );
    write(root, "exercises/01-demo/src/lib.rs", &answered);
    let out = workshop(root, &["hint", "01"]).1;
    assert_contains(&out, "exercise 2 of 2: double");
    let answered = answered.replace("todo!(\"exercise 2: multiply by two\")", "x * 2");
    write(root, "exercises/01-demo/src/lib.rs", &answered);
    let out = workshop(root, &["hint", "01"]).1;
    assert_contains(&out, "Every hole of chapter 01 is filled in.");
}

#[test]
fn holes_numbered_twice_or_with_a_gap_are_errors() {
    let dir = fixture();
    let root = dir.path();
    let twins = SOLUTION.replace("// exercise 2:", "// exercise 1:");
    write(root, "solutions/01-demo/src/lib.rs", &twins);
    let (ok, out) = workshop(root, &["gen"]);
    assert!(!ok);
    assert_contains(
        &out,
        "error: solutions/01-demo: two holes are numbered 1: `double` (src/lib.rs:5) and \
         `greet` (src/lib.rs:13); number the holes 1 to 2 in the order the book presents them",
    );
    let gap = SOLUTION.replace("// exercise 2:", "// exercise 3:");
    write(root, "solutions/01-demo/src/lib.rs", &gap);
    let (ok, out) = workshop(root, &["gen"]);
    assert!(!ok);
    assert_contains(
        &out,
        "error: solutions/01-demo: no hole is numbered 2 (the holes are numbered 1, 3); \
         number them 1 to 2 without gaps",
    );
    assert!(!workshop(root, &["hint", "01"]).0, "hint refuses too");
    let unnumbered = SOLUTION.replace("// exercise 2:", "// exercise:");
    write(root, "solutions/01-demo/src/lib.rs", &unnumbered);
    let (ok, out) = workshop(root, &["gen"]);
    assert!(!ok);
    assert_contains(
        &out,
        "error: solutions/01-demo/src/lib.rs:5: holes are numbered",
    );
}
