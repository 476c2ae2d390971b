//! Chapter 03: filesystems.
//!
//! A container should see its image, not the host: this crate keeps images
//! in a local store ([`image`]), builds each container a root filesystem
//! of its own (a copy-on-write layer over the image, entered with
//! `pivot_root`, with a fresh `/proc`, a minimal `/dev` and the files a
//! program expects in `/etc`), mounts volumes, hides what runc hides and
//! drops the privileges a container does not need.

pub mod image;
pub mod programs;
pub mod rootfs;

mod command;
mod container;
mod error;
mod extension;
mod hardening;
mod prepare;
mod seccomp;
mod secure_join;
mod tree;

pub use command::effective_command;
pub use container::{ContainerRequest, Containers};
pub use error::FsError;
pub use extension::{EXTENSION_KEY, Filesystem, FilesystemConfig};
pub use hardening::{DEFAULT_CAPABILITIES, drop_privileges};
pub use prepare::{ContainerRoot, EtcFiles, container_dir, overlay_usable, prepare_root};
pub use seccomp::install_seccomp_filter;
pub use secure_join::secure_join;
pub use tree::remove_tree;

// ANCHOR: run_init_if_requested
/// Call this first thing in `main` of a program that serves as init program
/// (k8s-mini does), instead of chapter 02's: it also runs the programs of
/// the built-in images, and builds root filesystems.
pub fn run_init_if_requested() {
    programs::run_program_if_requested();
    namespaces::run_init_with(&Filesystem);
}
// ANCHOR_END: run_init_if_requested

/// The extension configuration to pass to
/// [`Runtime::wrap_with`](namespaces::Runtime::wrap_with).
pub fn extensions(
    config: &FilesystemConfig,
) -> std::collections::BTreeMap<String, serde_json::Value> {
    let value = serde_json::to_value(config).expect("a filesystem config is always valid JSON");
    [(EXTENSION_KEY.to_string(), value)].into_iter().collect()
}
