//! Running a chapter's test suite: `cargo test -p chapter-NN`, captured and read.

use crate::libtest::{self, Report};
use crate::run::{self, Captured};
use crate::workspace::{Chapter, Repo};
use anyhow::Result;
use std::io::{IsTerminal, Write};
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Against {
    Exercise,
    Solution,
}

#[derive(Default)]
pub struct Options {
    /// Kill the run after this long.
    pub limit: Option<Duration>,
    /// Warnings never fail the build, whatever RUSTFLAGS says: an emptied
    /// hole leaves unused variables behind.
    pub cap_lints: bool,
    /// Stop at the first test binary that fails (verify's mutants: one
    /// failure is all the proof needed), instead of running every one.
    pub fail_fast: bool,
    /// Tell the person at the terminal what is going on (on stderr).
    pub progress: bool,
}

pub struct SuiteRun {
    pub report: Report,
    pub captured: Captured,
}

impl SuiteRun {
    pub fn timed_out(&self) -> bool {
        self.captured.status.is_none()
    }

    /// Output lines from the end, for failures the report cannot explain.
    pub fn tail(&self, lines: usize) -> String {
        let all: Vec<&str> = self.captured.output.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }
}

pub fn run(
    repo: &Repo,
    chapter: &Chapter,
    against: Against,
    options: &Options,
) -> Result<SuiteRun> {
    let mut cargo = repo.cargo_plain();
    cargo.args(["test", "--package", &chapter.suite_package()]);
    if !options.fail_fast {
        cargo.arg("--no-fail-fast");
    }
    if against == Against::Solution {
        cargo.args(["--features", "solution"]);
    }
    // Only when RUSTFLAGS turns warnings into errors: changing RUSTFLAGS
    // rebuilds every crate, which would double what verify builds.
    let flags = std::env::var("RUSTFLAGS").unwrap_or_default();
    if options.cap_lints
        && std::env::var_os("CARGO_ENCODED_RUSTFLAGS").is_none()
        && denies_warnings(&flags)
    {
        cargo.env(
            "RUSTFLAGS",
            format!("{flags} --cap-lints=warn").trim_start(),
        );
    }
    // The captured output of passing tests too: a test that skipped says
    // so there (see `testkit::skip`).
    cargo.args(["--", "--show-output"]);
    let mut progress = Progress::new(options.progress);
    let captured = run::capture(cargo, options.limit, |line| progress.line(line))?;
    progress.finish();
    Ok(SuiteRun {
        report: libtest::parse(&captured.output),
        captured,
    })
}

/// `-D warnings`, `--deny=warnings`, `-Dwarnings` and the like.
fn denies_warnings(flags: &str) -> bool {
    let words: Vec<&str> = flags.split_whitespace().collect();
    words.iter().enumerate().any(|(i, word)| {
        let level = ["-D", "--deny", "-F", "--forbid"]
            .iter()
            .find_map(|flag| word.strip_prefix(flag));
        match level {
            Some("") => words.get(i + 1).is_some_and(|next| *next == "warnings"),
            Some(rest) => rest.trim_start_matches('=') == "warnings",
            None => false,
        }
    })
}

/// "building..." then "running the tests...", so nobody stares at nothing
/// through a first build; on a terminal, with a count of compiled crates.
struct Progress {
    enabled: bool,
    terminal: bool,
    compiled: usize,
    /// The tests started: the build is over.
    running: bool,
}

impl Progress {
    fn new(enabled: bool) -> Progress {
        let terminal = std::io::stderr().is_terminal();
        if enabled {
            if terminal {
                eprint!("building...");
            } else {
                eprintln!("building...");
            }
        }
        Progress {
            enabled,
            terminal,
            compiled: 0,
            running: false,
        }
    }

    fn line(&mut self, line: &str) {
        if !self.enabled {
            return;
        }
        let line = line.trim_start();
        if line.starts_with("Compiling ") && self.terminal && !self.running {
            self.compiled += 1;
            let noun = if self.compiled == 1 {
                "crate"
            } else {
                "crates"
            };
            eprint!("\r\x1b[Kbuilding... ({} {noun} compiled)", self.compiled);
            let _ = std::io::stderr().flush();
        } else if (line.starts_with("Running ") || line.starts_with("Doc-tests ")) && !self.running
        {
            self.running = true;
            self.end_counter();
            eprintln!("running the tests...");
        }
    }

    /// Ends the terminal's "building..." line.
    fn end_counter(&mut self) {
        if self.terminal {
            eprintln!();
        }
    }

    fn finish(&mut self) {
        if self.enabled && !self.running {
            self.end_counter();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::denies_warnings;

    #[test]
    fn only_flags_that_deny_warnings_count() {
        for flags in [
            "-D warnings",
            "-Dwarnings",
            "--deny=warnings",
            "-C x -F warnings",
        ] {
            assert!(denies_warnings(flags), "{flags}");
        }
        for flags in ["", "-C debuginfo=1", "-D unused", "-W warnings", "-D"] {
            assert!(!denies_warnings(flags), "{flags}");
        }
    }
}
