//! `cargo workshop`: the workshop runner. See `cargo workshop help`.

mod check;
mod ci;
mod doctor;
// `gen` is a reserved word in edition 2024.
#[path = "gen.rs"]
mod generator;
mod hint;
mod holes;
mod libtest;
mod mutants;
mod run;
mod status;
mod suite;
mod tamper;
mod ui;
mod verify;
mod watch;
mod workspace;

use clap::{Parser, Subcommand};
use nix::sys::signal::{self, SigHandler, Signal};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;
use workspace::Repo;

const AFTER_HELP: &str = "\
The learner's loop: read chapter NN in the book, fill in the todo!()s in
exercises/NN-topic, run `cargo workshop check NN`, repeat until it is green.

Examples:
  cargo workshop check 01              test your chapter 01 code
  cargo workshop check 01 --solution   test the reference solution
  cargo workshop watch 01              check again at every save (q + Enter quits)
  cargo workshop hint 01               the next hole of chapter 01 and a first hint
  cargo workshop hint 01 --more        one more hint, down to the recipe
  cargo workshop hint 01 3             the hints of hole 3
  cargo workshop status                how far you are, chapter by chapter
  cargo workshop doctor                what this machine can run
  cargo workshop gen --check           (maintainers) is exercises/ up to date?
  cargo workshop verify 01             (maintainers) is chapter 01 sound?
  cargo workshop ci                    (maintainers) every test, as CI runs it";

#[derive(Parser)]
#[command(
    name = "cargo workshop",
    bin_name = "cargo workshop",
    about = "The k8s-mini workshop runner: check your exercises, get hints, see your progress.",
    after_help = AFTER_HELP
)]
struct Cli {
    /// The repository to work on (default: the one this tool was built from).
    #[arg(long, global = true, hide = true)]
    root: Option<PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run chapter NN's tests against your exercise and summarise them.
    ///
    /// Example: `cargo workshop check 01` (or `check 01 --solution` for the reference).
    Check {
        /// The chapter: 01, 1, 01-process or process.
        chapter: String,
        /// Test the reference solution instead of your exercise.
        #[arg(long)]
        solution: bool,
    },
    /// The next hole of chapter NN to fill in: where it is, its goal and a first hint.
    ///
    /// Hints come in tiers, from a nudge to the recipe: each `--more` shows one
    /// more (remembered under target/). Example: `cargo workshop hint 01 --more`
    Hint {
        /// The chapter: 01, 1, 01-process or process.
        chapter: String,
        /// A given hole (its number in the chapter) instead of the next one to fill in.
        hole: Option<usize>,
        /// Reveal the next hint tier.
        #[arg(long)]
        more: bool,
        /// Maintainers: every hole with every hint.
        #[arg(long, conflicts_with_all = ["more", "hole"])]
        all: bool,
    },
    /// Check chapter NN again whenever you save a file of its exercise.
    ///
    /// Clears the screen and shows what `check` shows; q + Enter or Ctrl-C quits.
    /// Without NN: the first chapter with a todo!() left.
    /// Example: `cargo workshop watch 01`
    Watch {
        /// The chapter: 01, 1, 01-process or process.
        chapter: Option<String>,
    },
    /// One line per chapter: not started, in progress (k of n tests) or done.
    ///
    /// Example: `cargo workshop status`
    Status,
    /// What this machine offers the later chapters (namespaces, cgroups, ...), with fixes.
    ///
    /// Example: `cargo workshop doctor`
    Doctor,
    /// Maintainers: regenerate exercises/ from solutions/ (holes become todo!()).
    ///
    /// Example: `cargo workshop gen`, or `cargo workshop gen --check` in CI.
    Gen {
        /// Only compare, naming every stale, missing or extra file; fail if any.
        #[arg(long)]
        check: bool,
        /// Overwrite holes that were filled in (a learner's answers are lost).
        #[arg(long)]
        force: bool,
        /// Chapters to generate (default: all).
        chapters: Vec<String>,
    },
    /// Maintainers: prove each chapter sound (suite, exercise, every hole, gen --check).
    ///
    /// Example: `cargo workshop verify 01`
    Verify {
        /// Chapters to verify (default: all).
        chapters: Vec<String>,
        /// Seconds after which a suite run counts as hung and is killed.
        #[arg(long, default_value_t = 600, hide = true)]
        time_limit: u64,
    },
    /// Run every test of the repository, in order, and summarise (what CI runs).
    ///
    /// Example: `cargo workshop ci`
    Ci,
}

fn main() -> ExitCode {
    // `cargo workshop hint 01 | head` should end quietly, not panic.
    // SAFETY: restoring the default disposition installs no handler.
    let _ = unsafe { signal::signal(Signal::SIGPIPE, SigHandler::SigDfl) };
    let cli = Cli::parse();
    let repo = Repo::locate(cli.root);
    let outcome = match cli.command {
        Command::Check { chapter, solution } => check::run(&repo, &chapter, solution),
        Command::Hint {
            chapter,
            hole,
            more,
            all,
        } => hint::run(&repo, &chapter, hint::Request { hole, more, all }),
        Command::Watch { chapter } => watch::run(&repo, chapter.as_deref()),
        Command::Status => status::run(&repo),
        Command::Doctor => doctor::run(),
        Command::Gen {
            check,
            force,
            chapters,
        } => generator::run(&repo, &chapters, check, force),
        Command::Verify {
            chapters,
            time_limit,
        } => verify::run(&repo, &chapters, Duration::from_secs(time_limit)),
        Command::Ci => ci::run(&repo),
    };
    match outcome {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
