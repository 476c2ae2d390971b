//! The local image store.
//!
//! Kubernetes runs images, not programs: a container's files come from an
//! image, which a node pulls from a registry. k8s-mini keeps its images in
//! a directory instead (`<data-dir>/images`): each image is a root
//! filesystem and a small config (entrypoint, cmd, env, working
//! directory). Images come from [`ImageStore::import`] (a directory or a
//! tar archive) or are built in ([`ImageStore::install_builtin`]): `k8s-mini/pause`,
//! `k8s-mini/echo` and `busybox` need no download.
//!
//! Whatever is imported is untrusted input: an image name must not lead
//! out of the store ([`ImageName::parse`]), and an archive entry must not
//! land outside the image ([`entry_destination`]).

mod archive;
mod builtin;
mod config;
mod copy;
mod error;
mod import;
mod libs;
mod name;
mod record;
mod staging;
mod store;

pub use archive::{Refusal, entry_destination};
pub use builtin::{
    BUSYBOX_IMAGE, BuiltinReport, ECHO_IMAGE, PAUSE_IMAGE, PROGRAM_IN_IMAGE, find_busybox,
};
pub use config::ImageConfig;
pub(crate) use copy::copy_tree;
pub use error::ImageError;
pub use import::ImportProgress;
pub use libs::{parse_ldd, shared_libraries};
pub use name::{BadName, DEFAULT_TAG, ImageName};
pub use store::{Image, ImageStore, ImageSummary};
