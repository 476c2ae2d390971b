//! Reading `cargo test`'s human output: which tests passed, how the failures
//! failed, which skipped, and whether the build itself broke.

/// How a test says that it skipped for want of something on this machine
/// (`testkit::skip` prints it; the suite runs with `--show-output`, so
/// libtest shows what passing tests printed).
pub const SKIP_PREFIX: &str = "k8s-mini-skip: ";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Passed,
    Failed,
    Ignored,
    /// It returned early, saying why with [`SKIP_PREFIX`]: it proved nothing.
    Skipped,
}

#[derive(Debug, Clone)]
pub struct TestCase {
    /// The test target, as cargo names it: `tests/events.rs`, `unittests src/lib.rs`.
    pub target: String,
    pub name: String,
    pub outcome: Outcome,
    /// The `---- name stdout ----` section of a failure.
    pub failure: Option<String>,
    /// Why a skipped test skipped.
    pub skip_reason: Option<String>,
}

#[derive(Debug, Default)]
pub struct Report {
    pub tests: Vec<TestCase>,
    /// Each `error...` block of the output, up to its blank line.
    pub errors: Vec<String>,
    /// The package of `error: could not compile `x``, when the build failed.
    pub uncompiled: Option<String>,
}

impl Report {
    pub fn count(&self, outcome: Outcome) -> usize {
        self.tests.iter().filter(|t| t.outcome == outcome).count()
    }

    /// Tests that ran (passed or failed, not ignored or skipped).
    pub fn ran(&self) -> usize {
        self.count(Outcome::Passed) + self.count(Outcome::Failed)
    }

    /// The first compiler error, if the build failed.
    pub fn compile_error(&self) -> Option<&str> {
        self.uncompiled.as_ref()?;
        self.errors
            .iter()
            .find(|e| !is_cargo_summary(e))
            .map(String::as_str)
    }
}

/// Cargo's own closing lines, which are not the error a person needs to see.
fn is_cargo_summary(block: &str) -> bool {
    [
        "error: could not compile",
        "error: test failed",
        "error: doctest failed",
    ]
    .iter()
    .any(|p| block.starts_with(p))
        || (block.starts_with("error: ") && block.contains(" target") && block.contains(" failed:"))
}

pub fn parse(output: &str) -> Report {
    let mut report = Report::default();
    let mut target = String::new();
    // The failure section being read: (test name, its lines).
    let mut section: Option<(String, Vec<&str>)> = None;
    let mut error: Option<Vec<&str>> = None;

    for line in output.lines() {
        let trimmed = line.trim_start();
        if let Some(block) = error.as_mut() {
            // Cargo's own errors are not followed by a blank line.
            let cargo_status = ["Running ", "Doc-tests ", "Compiling ", "Finished "]
                .iter()
                .any(|p| trimmed.starts_with(p));
            if !line.trim().is_empty() && !cargo_status {
                block.push(line);
                continue;
            }
            report.errors.push(block.join("\n"));
            error = None;
            if !cargo_status {
                continue;
            }
        }
        if let Some((name, lines)) = section.as_mut() {
            let ends = line == "failures:"
                || line == "successes:"
                || line.starts_with("test result: ")
                || trimmed.starts_with("Running ")
                || line.starts_with("---- ");
            if !ends {
                lines.push(line);
                continue;
            }
            attach_failure(&mut report, &target, name, lines);
            section = None;
        }
        if let Some(rest) = trimmed.strip_prefix("Running ") {
            target = rest.split(" (").next().unwrap_or(rest).to_string();
        } else if trimmed.starts_with("Doc-tests ") {
            target = "doc tests".to_string();
        } else if let Some(name) = line
            .strip_prefix("---- ")
            .and_then(|rest| rest.strip_suffix(" stdout ----"))
        {
            section = Some((name.to_string(), Vec::new()));
        } else if let Some(test) = test_line(line) {
            report.tests.push(TestCase {
                target: target.clone(),
                name: test.0.to_string(),
                outcome: test.1,
                failure: None,
                skip_reason: None,
            });
        } else if line.starts_with("error") {
            if let Some(package) = line
                .strip_prefix("error: could not compile `")
                .and_then(|rest| rest.split('`').next())
            {
                report.uncompiled.get_or_insert_with(|| package.to_string());
            }
            error = Some(vec![line]);
        }
    }
    if let Some((name, lines)) = section.as_mut() {
        attach_failure(&mut report, &target, name, lines);
    }
    if let Some(block) = error {
        report.errors.push(block.join("\n"));
    }
    report
}

fn attach_failure(report: &mut Report, target: &str, name: &str, lines: &mut Vec<&str>) {
    while lines.last().is_some_and(|l| l.trim().is_empty()) {
        lines.pop();
    }
    let first = lines
        .iter()
        .position(|l| !l.trim().is_empty())
        .unwrap_or(lines.len());
    let text = lines[first..].join("\n");
    let Some(test) = report
        .tests
        .iter_mut()
        .find(|t| t.target == target && t.name == name)
    else {
        return;
    };
    match test.outcome {
        Outcome::Failed => test.failure = Some(text),
        Outcome::Passed => {
            if let Some(reason) = text
                .lines()
                .find_map(|l| l.trim_start().strip_prefix(SKIP_PREFIX))
            {
                test.outcome = Outcome::Skipped;
                test.skip_reason = Some(reason.trim().to_string());
            }
        }
        Outcome::Ignored | Outcome::Skipped => {}
    }
}

/// `test some::name ... ok` -> (`some::name`, Passed).
fn test_line(line: &str) -> Option<(&str, Outcome)> {
    let (name, result) = line.strip_prefix("test ")?.split_once(" ... ")?;
    let outcome = match result.trim_end() {
        "ok" => Outcome::Passed,
        "FAILED" => Outcome::Failed,
        r if r.starts_with("ignored") => Outcome::Ignored,
        _ => return None,
    };
    Some((name, outcome))
}

#[cfg(test)]
mod tests {
    use super::*;

    const FAILING: &str = r#"   Compiling exercise-01-process v0.1.0 (/r/exercises/01-process)
    Finished `test` profile [unoptimized + debuginfo] target(s) in 1.20s
     Running unittests src/lib.rs (target/debug/deps/chapter_01-0a)

running 0 tests

test result: ok. 0 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s

     Running tests/backoff.rs (target/debug/deps/backoff-1b)

running 3 tests
test delay_is_capped ... FAILED
test delay_doubles ... ok
test slow_one ... ignored, takes a minute

failures:

---- delay_is_capped stdout ----

thread 'delay_is_capped' panicked at exercises/01-process/src/lib.rs:12:9:
not yet implemented: double it
note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace


failures:
    delay_is_capped

test result: FAILED. 1 passed; 1 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.01s

error: test failed, to rerun pass `--test backoff`
     Running tests/events.rs (target/debug/deps/events-2c)

running 1 test
test events::start ... ok

test result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s

error: 1 target failed:
    `--test backoff`
"#;

    #[test]
    fn reads_results_per_target_and_failure_sections() {
        let report = parse(FAILING);
        let seen: Vec<_> = report
            .tests
            .iter()
            .map(|t| (t.target.as_str(), t.name.as_str(), t.outcome))
            .collect();
        assert_eq!(
            seen,
            [
                ("tests/backoff.rs", "delay_is_capped", Outcome::Failed),
                ("tests/backoff.rs", "delay_doubles", Outcome::Passed),
                ("tests/backoff.rs", "slow_one", Outcome::Ignored),
                ("tests/events.rs", "events::start", Outcome::Passed),
            ]
        );
        assert_eq!(
            report.tests[0].failure.as_deref(),
            Some(
                "thread 'delay_is_capped' panicked at exercises/01-process/src/lib.rs:12:9:\n\
                 not yet implemented: double it\n\
                 note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace"
            )
        );
        assert_eq!(report.ran(), 3);
        assert_eq!(report.compile_error(), None);
    }

    #[test]
    fn a_passing_test_that_printed_the_skip_line_is_skipped() {
        let output = "     Running tests/users.rs (target/debug/deps/users-1a)

running 3 tests
test as_nobody ... ok
test plain ... ok
test broken ... FAILED

successes:

---- as_nobody stdout ----
k8s-mini-skip: switching to nobody needs root

---- plain stdout ----
k8s-mini-skip is mentioned here, not at the start of a line: no skip

successes:
    as_nobody
    plain

failures:

---- broken stdout ----
k8s-mini-skip: a failing test that printed it still failed

failures:
    broken

test result: FAILED. 2 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.01s
";
        let report = parse(output);
        let seen: Vec<_> = report
            .tests
            .iter()
            .map(|t| (t.name.as_str(), t.outcome, t.skip_reason.as_deref()))
            .collect();
        assert_eq!(
            seen,
            [
                (
                    "as_nobody",
                    Outcome::Skipped,
                    Some("switching to nobody needs root")
                ),
                ("plain", Outcome::Passed, None),
                ("broken", Outcome::Failed, None),
            ]
        );
        assert_eq!(
            report.tests[2].failure.as_deref(),
            Some("k8s-mini-skip: a failing test that printed it still failed")
        );
        assert_eq!(report.count(Outcome::Skipped), 1);
        assert_eq!(report.ran(), 2);
    }

    #[test]
    fn finds_the_first_compiler_error() {
        let output = "   Compiling exercise-01-process v0.1.0 (/r/exercises/01-process)\n\
            warning: unused variable: `x`\n  --> exercises/01-process/src/lib.rs:3:9\n\n\
            error[E0308]: mismatched types\n  --> exercises/01-process/src/lib.rs:9:5\n   |\n\
            9  |     1u8\n   |     ^^^ expected `u32`, found `u8`\n\n\
            error: could not compile `exercise-01-process` (lib) due to 1 previous error\n";
        let report = parse(output);
        assert_eq!(report.uncompiled.as_deref(), Some("exercise-01-process"));
        assert_eq!(
            report.compile_error(),
            Some(
                "error[E0308]: mismatched types\n  --> exercises/01-process/src/lib.rs:9:5\n   |\n\
                 9  |     1u8\n   |     ^^^ expected `u32`, found `u8`"
            )
        );
        assert!(report.tests.is_empty());
    }
}
