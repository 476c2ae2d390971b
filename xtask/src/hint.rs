//! `hint NN`: the holes of a chapter, in order, with where to find them.

use crate::generator;
use crate::holes::{self, Hole};
use crate::ui;
use crate::workspace::{Chapter, Repo};
use anyhow::Result;

pub fn run(repo: &Repo, name: &str) -> Result<bool> {
    let chapter = repo.chapter(name)?;
    let holes = generator::chapter_holes(repo, &chapter)?;
    println!(
        "{}",
        ui::bold(&format!(
            "Chapter {}: {} holes to fill in",
            chapter.title(),
            holes.len()
        ))
    );
    for (index, (file, hole)) in holes.iter().enumerate() {
        let place = locate(repo, &chapter, file, hole);
        let state = if place.filled {
            ui::dim(" (filled in)")
        } else {
            String::new()
        };
        println!();
        println!(
            "{:>3}. {} {}{state}",
            index + 1,
            place.path,
            ui::bold(&hole.name)
        );
        println!("     {}", hole.hint);
    }
    Ok(true)
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
    let literal = generator::todo_literal(&hole.hint);
    let lines: Vec<&str> = text.lines().collect();
    if let Some(mut index) = lines.iter().position(|l| l.contains(&literal)) {
        // A long hint sits on the line after `todo!(`.
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
