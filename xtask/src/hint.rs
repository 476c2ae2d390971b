//! `hint NN [M] [--more] [--all]`: the next hole's goal and its hints, one
//! tier at a time, as rustlings keeps hints hidden until asked.
//!
//! How many tiers a learner has seen is kept per hole in a small file under
//! `target/` (git-ignored), so `--more` goes one step further each time.

use crate::generator;
use crate::holes::{self, Hole};
use crate::ui;
use crate::workspace::{Chapter, Repo};
use anyhow::{Context, Result, bail};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Width that hint texts are wrapped to.
const WIDTH: usize = 88;

/// What `hint` was asked for.
#[derive(Debug, Default, Clone, Copy)]
pub struct Request {
    /// Hole M instead of the next unfilled one.
    pub hole: Option<usize>,
    /// Reveal one more tier.
    pub more: bool,
    /// Every hole with every tier (maintainers).
    pub all: bool,
}

pub fn run(repo: &Repo, name: &str, request: Request) -> Result<bool> {
    let chapter = repo.chapter(name)?;
    let holes = generator::chapter_holes(repo, &chapter)?;
    if request.all {
        print_all(repo, &chapter, &holes);
        return Ok(true);
    }
    let chosen = match request.hole {
        Some(order) => match holes.iter().find(|(_, h)| h.order == order) {
            Some(found) => found,
            None => bail!(
                "chapter {} has holes 1 to {}, no hole {order}",
                chapter.number,
                holes.len()
            ),
        },
        None => {
            let next = holes
                .iter()
                .find(|(file, hole)| !locate(repo, &chapter, file, hole).filled);
            match next {
                Some(next) => next,
                None => {
                    println!(
                        "Every hole of chapter {0} is filled in. `cargo workshop check {0}` \
                         tells whether they are right; `cargo workshop hint {0} N` shows the \
                         hints of hole N.",
                        chapter.number
                    );
                    return Ok(true);
                }
            }
        }
    };
    let (file, hole) = chosen;
    let mut state = Revealed::load(repo, &chapter);
    let shown = state.reveal(hole, request.more);
    state.save()?;
    print_hole(repo, &chapter, file, hole, holes.len(), shown);
    Ok(true)
}

fn print_hole(repo: &Repo, chapter: &Chapter, file: &str, hole: &Hole, total: usize, shown: usize) {
    let place = locate(repo, chapter, file, hole);
    let filled = if place.filled {
        ui::dim(" (filled in)")
    } else {
        String::new()
    };
    println!(
        "{}{filled}",
        ui::bold(&format!(
            "Chapter {}, exercise {} of {total}: {}",
            chapter.title(),
            hole.order,
            hole.name
        ))
    );
    println!("  at {}", place.path);
    println!(
        "{}",
        wrap(&format!("goal: {}", hole.hint), "  ", "        ")
    );
    let count = hole.tiers.len();
    for (index, tier) in hole.tiers.iter().take(shown).enumerate() {
        println!();
        let label = format!("Hint {} of {count}: ", index + 1);
        let rest = " ".repeat(label.len() + 2);
        println!("{}", wrap(&format!("{label}{tier}"), "  ", &rest));
    }
    println!();
    let number = &chapter.number;
    let order = hole.order;
    let note = if shown < count {
        format!(
            "(`cargo workshop hint {number} --more` shows hint {} of {count}.)",
            shown + 1
        )
    } else {
        format!(
            "(That was the last hint. `cargo workshop check {number}` tells whether your \
             answer works; `cargo workshop hint {number} {order}` shows these hints again.)"
        )
    };
    println!("{}", ui::dim(&wrap(&note, "", "")));
}

fn print_all(repo: &Repo, chapter: &Chapter, holes: &[(String, Hole)]) {
    println!(
        "{}",
        ui::bold(&format!(
            "Chapter {}: {} holes, with every hint",
            chapter.title(),
            holes.len()
        ))
    );
    for (file, hole) in holes {
        let place = locate(repo, chapter, file, hole);
        let state = if place.filled {
            ui::dim(" (filled in)")
        } else {
            String::new()
        };
        println!();
        println!(
            "{:>3}. {} {}{state}",
            hole.order,
            place.path,
            ui::bold(&hole.name)
        );
        println!("{}", wrap(&hole.hint, "     ", "     "));
        for (index, tier) in hole.tiers.iter().enumerate() {
            let label = format!("{}. ", index + 1);
            println!(
                "{}",
                wrap(&format!("{label}{tier}"), "       ", "          ")
            );
        }
    }
}

/// `text` wrapped at [`WIDTH`], the first line indented by `first`, the
/// others by `rest`.
fn wrap(text: &str, first: &str, rest: &str) -> String {
    let mut out = first.to_string();
    let mut column = first.chars().count();
    let mut empty = true;
    for word in text.split_whitespace() {
        let length = word.chars().count();
        if !empty && column + 1 + length > WIDTH {
            out.push('\n');
            out.push_str(rest);
            column = rest.chars().count();
            empty = true;
        }
        if !empty {
            out.push(' ');
            column += 1;
        }
        out.push_str(word);
        column += length;
        empty = false;
    }
    out
}

/// How many tiers of each hole's hints the learner has seen.
struct Revealed {
    path: PathBuf,
    /// Hole name to tiers seen; names survive a renumbering.
    seen: BTreeMap<String, usize>,
}

impl Revealed {
    fn load(repo: &Repo, chapter: &Chapter) -> Revealed {
        let path = repo.path(format!("target/workshop/hints-{}.txt", chapter.dir_name()));
        let seen = std::fs::read_to_string(&path)
            .unwrap_or_default()
            .lines()
            .filter_map(|line| {
                let (name, count) = line.rsplit_once(' ')?;
                Some((name.to_string(), count.parse().ok()?))
            })
            .collect();
        Revealed { path, seen }
    }

    /// Tiers to show for `hole` now: at least the first, one more if `more`,
    /// never more than it has.
    fn reveal(&mut self, hole: &Hole, more: bool) -> usize {
        let seen = self.seen.get(&hole.name).copied().unwrap_or(0).max(1);
        let now = if more { seen + 1 } else { seen }.min(hole.tiers.len());
        self.seen.insert(hole.name.clone(), now);
        now
    }

    fn save(&self) -> Result<()> {
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        let text: String = self
            .seen
            .iter()
            .map(|(name, count)| format!("{name} {count}\n"))
            .collect();
        std::fs::write(&self.path, text).with_context(|| format!("writing {}", self.path.display()))
    }
}

/// Where a hole is in the learner's copy now.
pub struct Place {
    /// `exercises/01-process/src/lib.rs:42`
    pub path: String,
    /// Its todo!() is gone: answered, rightly or not.
    pub filled: bool,
}

/// The line of the hole's todo!() in the exercise (earlier answers move it),
/// or of its function once the todo!() is gone.
pub fn locate(repo: &Repo, chapter: &Chapter, file: &str, hole: &Hole) -> Place {
    let path = format!("{}/{file}", chapter.exercise_dir());
    let Ok(text) = std::fs::read_to_string(repo.path(&path)) else {
        // Not generated yet: nothing to point into.
        return Place {
            path,
            filled: false,
        };
    };
    let literal = generator::todo_literal(&hole.todo_message());
    let lines: Vec<&str> = text.lines().collect();
    if let Some(mut index) = lines.iter().position(|l| l.contains(&literal)) {
        // A long goal sits on the line after `todo!(`.
        if index > 0 && lines[index - 1].trim_end().ends_with("todo!(") {
            index -= 1;
        }
        return Place {
            path: format!("{path}:{}", index + 1),
            filled: false,
        };
    }
    let line = holes::functions(&text, &path)
        .ok()
        .and_then(|fns| fns.into_iter().find(|f| f.name == hole.name))
        .map(|f| f.open_line);
    Place {
        path: line.map_or(path.clone(), |l| format!("{path}:{l}")),
        filled: true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hole(name: &str, tiers: usize) -> Hole {
        Hole {
            name: name.into(),
            hint: "goal".into(),
            order: 1,
            tiers: (1..=tiers).map(|i| format!("tier {i}")).collect(),
            line: 1,
            body: 0..0,
            marker_indent: String::new(),
            fn_indent: String::new(),
        }
    }

    #[test]
    fn tiers_are_revealed_one_more_at_a_time_and_remembered() {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repo {
            root: dir.path().to_path_buf(),
        };
        let chapter = Chapter {
            number: "01".into(),
            topic: "demo".into(),
        };
        let (a, b) = (hole("a", 3), hole("b", 2));
        let mut state = Revealed::load(&repo, &chapter);
        assert_eq!(state.reveal(&a, false), 1, "the first tier comes unasked");
        assert_eq!(state.reveal(&a, true), 2);
        state.save().unwrap();

        let mut state = Revealed::load(&repo, &chapter);
        assert_eq!(state.reveal(&a, false), 2, "kept across runs");
        assert_eq!(state.reveal(&a, true), 3);
        assert_eq!(state.reveal(&a, true), 3, "no tier past the last");
        assert_eq!(state.reveal(&b, false), 1, "each hole has its own count");
        state.save().unwrap();
        let text = std::fs::read_to_string(dir.path().join("target/workshop/hints-01-demo.txt"));
        assert_eq!(text.unwrap(), "a 3\nb 1\n");
    }

    /// Every book chapter presents its holes as `### N. \`name\``, in the
    /// order and with the numbers that `check` and `hint` use.
    #[test]
    fn the_book_presents_every_chapters_holes_in_their_order() {
        let repo = Repo::locate(None);
        for chapter in repo.chapters().unwrap() {
            let page = repo.path(format!("book/src/{}/index.md", chapter.dir_name()));
            let Ok(text) = std::fs::read_to_string(&page) else {
                continue; // A chapter without its page yet.
            };
            let in_book: Vec<(usize, String)> = text
                .lines()
                .filter_map(|line| {
                    let (number, rest) = line.strip_prefix("### ")?.split_once(". `")?;
                    Some((number.parse().ok()?, rest.split('`').next()?.to_string()))
                })
                .collect();
            let in_tool: Vec<(usize, String)> = generator::chapter_holes(&repo, &chapter)
                .unwrap()
                .into_iter()
                .map(|(_, hole)| (hole.order, hole.name))
                .collect();
            assert_eq!(in_book, in_tool, "{}", page.display());
        }
    }

    #[test]
    fn wrap_breaks_between_words() {
        let text = "word ".repeat(30);
        let wrapped = wrap(text.trim(), "  ", "    ");
        let lines: Vec<&str> = wrapped.lines().collect();
        assert!(lines.len() > 1);
        assert!(lines.iter().all(|l| l.chars().count() <= WIDTH));
        assert!(lines[0].starts_with("  word"));
        assert!(lines[1].starts_with("    word"));
        assert_eq!(wrapped.split_whitespace().count(), 30);
    }
}
