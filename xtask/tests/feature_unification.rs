//! Every chapter suite builds its dependencies with the features the
//! workspace's own `cargo test` gives them, so CI compiles tokio, serde and
//! the rest once, not once per chapter (testkit's manifest does the
//! unifying; see the comment there).

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

/// `name version [features]` of every package in the build of `args`.
fn packages(root: &Path, args: &[&str]) -> BTreeSet<String> {
    let output = Command::new(env!("CARGO"))
        .args(["tree", "--offline", "--prefix", "none"])
        .args(["--edges", "normal,build,dev", "--format", "{p} [{f}]"])
        .args(args)
        .current_dir(root)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "cargo tree {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|l| !l.ends_with("(*)") && !l.is_empty())
        .map(|l| l.split(" (").next().unwrap_or(l).to_string())
        .filter(|l| !l.starts_with("chapter-") && !l.starts_with("exercise-"))
        .collect()
}

#[test]
fn chapter_suites_build_dependencies_with_the_workspace_features() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let workspace = packages(root, &["--workspace"]);
    let mut drift = Vec::new();
    for entry in std::fs::read_dir(root.join("chapters")).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        let number = &name[..2];
        // Chapter 06 builds no tokio and has no testkit: its few crates
        // (serde, serde_json) building twice costs little.
        if number == "06"
            || !root
                .join("chapters")
                .join(&name)
                .join("Cargo.toml")
                .exists()
        {
            continue;
        }
        let package = format!("chapter-{number}");
        for features in [&[][..], &["--features", "solution"][..]] {
            let mut args = vec!["--package", package.as_str()];
            args.extend_from_slice(features);
            for line in packages(root, &args).difference(&workspace) {
                drift.push(format!("{package} {features:?}: {line}"));
            }
        }
    }
    assert!(
        drift.is_empty(),
        "these dependencies build with other features than in the workspace build; add \
         the missing features to testkit/Cargo.toml:\n{}",
        drift.join("\n")
    );
}
