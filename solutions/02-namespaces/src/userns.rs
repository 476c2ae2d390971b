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
    // exercise: Write "deny" to proc_dir/setgroups first (an unprivileged process may not write gid_map before), then id_map_line(uid) to uid_map and id_map_line(gid) to gid_map; turn an io::Error into InitError::IdMap with the path.
    let write = |file: &str, content: String| {
        let path = proc_dir.join(file);
        std::fs::write(&path, content).map_err(|source| InitError::IdMap { path, source })
    };
    write("setgroups", "deny\n".to_string())?;
    write("uid_map", id_map_line(uid))?;
    write("gid_map", id_map_line(gid))
}
// ANCHOR_END: write_id_maps
