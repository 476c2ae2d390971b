// Generated from solutions/02-namespaces/src/userns.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
use std::path::Path;

use crate::{IdMapping, InitError};

// ANCHOR: id_map_line
/// One line of `/proc/<pid>/uid_map` or `gid_map`: "inside outside count".
pub fn id_map_line(mapping: IdMapping) -> String {
    format!("{} {} {}\n", mapping.inside, mapping.outside, mapping.count)
}
// ANCHOR_END: id_map_line

// ANCHOR: write_id_maps
/// Maps ids in a user namespace just created by the process whose `/proc`
/// directory is `proc_dir` (usually `/proc/self`).
///
/// An unprivileged process may map only its own ids, and only after it has
/// given up `setgroups` (otherwise it could drop a group that was denying it
/// access to something): so `setgroups` is denied first.
pub fn write_id_maps(proc_dir: &Path, uid: IdMapping, gid: IdMapping) -> Result<(), InitError> {
    todo!(
        "exercise 3: write the uid and gid maps of the new user namespace under `proc_dir`, as an unprivileged process may"
    )
}
// ANCHOR_END: write_id_maps
