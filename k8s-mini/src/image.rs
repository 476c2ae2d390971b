//! `k8s-mini image`: the local image store (chapter 03).

use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::chapters::filesystem::image::{ImageConfig, ImageStore, ImportProgress};

#[derive(Debug, clap::Subcommand)]
pub enum ImageCommand {
    /// Import a directory or a tar archive (plain or gzip) as an image
    #[command(
        after_help = "Example:\n  k8s-mini image import myapp:1.0 ./rootfs --entrypoint /app/server --env MODE=prod"
    )]
    Import {
        /// The image's name, as pods refer to it (`myapp`, `team/app:1.2`)
        name: String,
        /// A directory holding the root filesystem, or a tar archive of it
        path: PathBuf,
        /// The program the image runs: one argument per use (repeatable), or
        /// all of them as a JSON array, as a Dockerfile's exec form
        #[arg(long, value_name = "ARG", allow_hyphen_values = true)]
        entrypoint: Vec<String>,
        /// An environment variable of the image (repeatable)
        #[arg(long = "env", value_name = "KEY=VALUE", value_parser = crate::run::parse_env)]
        env: Vec<(String, String)>,
        /// The working directory of its containers
        #[arg(long)]
        workdir: Option<String>,
        /// Default arguments (the image's cmd), replaced by a container's args
        #[arg(last = true, value_name = "CMD")]
        cmd: Vec<String>,
    },
    /// List the images in the store
    #[command(alias = "list")]
    Ls,
    /// Remove an image
    Rm { name: String },
}

pub fn run(command: ImageCommand, data_dir: &Path) -> anyhow::Result<i32> {
    let store = open_store(data_dir)?;
    match command {
        ImageCommand::Import {
            name,
            path,
            entrypoint,
            cmd,
            env,
            workdir,
        } => {
            let config = ImageConfig {
                entrypoint: exec_form(entrypoint)?,
                cmd,
                env,
                working_dir: workdir,
            };
            let mut last_shown = 0;
            let mut report = |progress: ImportProgress| {
                // One line per 1,000 files is progress enough.
                if progress.files >= last_shown + 1000 {
                    last_shown = progress.files;
                    eprintln!("  {} files, {} bytes", progress.files, progress.bytes);
                }
            };
            let image = store
                .import_with_progress(&name, &path, config, &mut report)
                .with_context(|| format!("cannot import {}", path.display()))?;
            println!("imported {} from {}", image.name, path.display());
        }
        ImageCommand::Ls => {
            println!("{:<40} {:>12} {:>7}  IMPORTED", "NAME", "SIZE", "FILES");
            for image in store.list()? {
                println!(
                    "{:<40} {:>12} {:>7}  {}",
                    image.name, image.size, image.files, image.imported_at
                );
            }
        }
        ImageCommand::Rm { name } => {
            store.remove(&name)?;
            println!("removed {name}");
        }
    }
    Ok(0)
}

/// `["/bin/sh", "-c"]` as one value is the whole entrypoint; otherwise
/// each value is one argument.
fn exec_form(values: Vec<String>) -> anyhow::Result<Vec<String>> {
    match values.as_slice() {
        [only] if only.trim_start().starts_with('[') => serde_json::from_str(only)
            .with_context(|| format!("--entrypoint {only}: not a JSON array of strings")),
        _ => Ok(values),
    }
}

/// The store under the data directory, with the built-in images installed
/// (they are made from this very program).
pub fn open_store(data_dir: &Path) -> anyhow::Result<ImageStore> {
    let dir = data_dir.join("images");
    let store = ImageStore::open(&dir)
        .with_context(|| format!("cannot open the image store in {}", dir.display()))?;
    let program = std::env::current_exe().context("cannot find this program's own path")?;
    let report = store.install_builtin(&program)?;
    for (name, reason) in &report.unavailable {
        eprintln!("k8s-mini: note: built-in image {name} is unavailable: {reason}");
    }
    Ok(store)
}
