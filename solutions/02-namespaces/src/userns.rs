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
    // exercise 3: write the uid and gid maps of the new user namespace under `proc_dir`, as an unprivileged process may
    // hint: A user namespace's id maps are files under /proc/<pid>/: `uid_map`, `gid_map`, and `setgroups`; `man 7 user_namespaces` tells the rules. `id_map_line` (given) formats one mapping.
    // hint: An unprivileged process may write gid_map only after it has written "deny" to setgroups, so the order matters. Errors become InitError::IdMap, which names the file.
    // hint: A small closure `write(file, content)` that does `std::fs::write(proc_dir.join(file), content)` and maps the io::Error to `InitError::IdMap { path, source }`; then write("setgroups", "deny\n"), write("uid_map", id_map_line(uid)), write("gid_map", id_map_line(gid)).
    let write = |file: &str, content: String| {
        let path = proc_dir.join(file);
        std::fs::write(&path, content).map_err(|source| InitError::IdMap { path, source })
    };
    write("setgroups", "deny\n".to_string())?;
    write("uid_map", id_map_line(uid))?;
    write("gid_map", id_map_line(gid))
}
// ANCHOR_END: write_id_maps
