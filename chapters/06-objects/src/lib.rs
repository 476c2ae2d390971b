//! Chapter 06's test suite and the helpers its tests share.
//!
//! The tests import the crate under test as `chapter_06::objects`: your
//! exercise (`exercises/06-objects`) by default, the reference solution
//! (`solutions/06-objects`) with `--features solution`.
//!
//! Nothing here touches the machine: every test reads text (the manifests
//! under `fixtures/`) and checks what the crate makes of it.

#[cfg(not(feature = "solution"))]
pub use exercise as objects;
#[cfg(feature = "solution")]
pub use solution as objects;

use std::path::PathBuf;

/// The text of `fixtures/<name>`.
pub fn fixture(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// Pretty JSON, as the API server would send it (and a snapshot shows it).
pub fn json(value: &impl serde::Serialize) -> String {
    serde_json::to_string_pretty(value).expect("API objects serialize")
}
