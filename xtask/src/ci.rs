//! `ci`: every test of the repository, in order, each step timed and judged,
//! carrying on after failures so one run shows everything that is wrong.

use crate::doctor::{MDBOOK_VERSION, on_path};
use crate::run;
use crate::ui;
use crate::workspace::Repo;
use crate::{generator, verify};
use anyhow::Result;
use std::time::Instant;

enum Action {
    Cargo(&'static [&'static str]),
    GenCheck,
    Verify,
    BookBuild,
}

const STEPS: &[(&str, Action)] = &[
    (
        "cargo fmt --all --check",
        Action::Cargo(&["fmt", "--all", "--check"]),
    ),
    (
        "cargo clippy --workspace --all-targets -- -D warnings",
        Action::Cargo(&[
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ]),
    ),
    ("cargo test", Action::Cargo(&["test", "--no-fail-fast"])),
    // Not folded into the clippy step: a workspace-wide --all-features
    // mixes the learner's types with the solutions' in the later chapters.
    (
        "k8s-mini builds with every learner-NN feature",
        Action::Cargo(&["check", "--package", "k8s-mini", "--all-features"]),
    ),
    ("cargo workshop gen --check", Action::GenCheck),
    ("cargo workshop verify", Action::Verify),
    ("mdbook build book", Action::BookBuild),
];

pub fn run(repo: &Repo) -> Result<bool> {
    // A run that builds once gains nothing from incremental compilation's
    // caches, which take gigabytes of the target directory.
    if std::env::var_os("CARGO_INCREMENTAL").is_none() {
        // SAFETY: no other thread exists yet to read the environment.
        unsafe { std::env::set_var("CARGO_INCREMENTAL", "0") };
    }
    let mut results = Vec::new();
    for (index, (title, action)) in STEPS.iter().enumerate() {
        println!(
            "{}",
            ui::bold(&format!("==> [{}/{}] {title}", index + 1, STEPS.len()))
        );
        let start = Instant::now();
        let passed = match perform(repo, action) {
            Ok(passed) => passed,
            Err(error) => {
                println!("error: {error:#}");
                false
            }
        };
        let took = ui::duration(start.elapsed());
        println!(
            "{}",
            ui::bold(&format!("==> {} {title} ({took})", verdict(passed)))
        );
        println!();
        results.push((title, passed, took));
    }

    println!("{}", ui::bold("ci summary"));
    for (title, passed, took) in &results {
        println!("  {} {title} ({took})", verdict(*passed));
    }
    let failed = results.iter().filter(|r| !r.1).count();
    println!("ci: {} passed, {failed} failed", results.len() - failed);
    Ok(failed == 0)
}

fn verdict(passed: bool) -> String {
    if passed {
        ui::green("PASS")
    } else {
        ui::red("FAIL")
    }
}

fn perform(repo: &Repo, action: &Action) -> Result<bool> {
    match action {
        Action::Cargo(args) => {
            let mut cargo = repo.cargo();
            cargo.args(*args);
            Ok(run::stream(cargo)?.success())
        }
        Action::GenCheck => generator::run(repo, &[], true, false),
        Action::Verify => verify::run(repo, &[], verify::SUITE_LIMIT),
        Action::BookBuild => {
            let Some(mdbook) = on_path("mdbook") else {
                println!(
                    "mdbook is not installed; install it with \
                     `cargo install --locked mdbook --version {MDBOOK_VERSION}`"
                );
                return Ok(false);
            };
            // mdbook exits 0 even when an include fails: read what it says.
            let output = std::process::Command::new(mdbook)
                .args(["build", "book"])
                .current_dir(&repo.root)
                .output()?;
            let said = format!(
                "{}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
            print!("{said}");
            let complaints = said
                .lines()
                .filter(|line| line.contains("ERROR") || line.contains("WARN"))
                .count();
            if complaints > 0 {
                println!("mdbook reported {complaints} error or warning line(s)");
            }
            Ok(output.status.success() && complaints == 0)
        }
    }
}
