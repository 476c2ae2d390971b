use std::path::{Component, Path, PathBuf};

/// How many symlinks a path may go through, as the kernel allows.
const MAX_LINKS: usize = 40;

// ANCHOR: secure_join
/// Joins `path` to `root` as if `root` were `/`: symlinks in the image are
/// followed, but resolved inside `root`, and `..` never climbs above it.
///
/// Before `pivot_root`, the image's files are ordinary host paths: an
/// image that ships `/data -> /etc` would make a volume mounted at `/data`
/// land on the host's `/etc`. runc had that very bug (CVE-2017-1002101 in
/// Kubernetes' subPath is a cousin).
pub fn secure_join(root: &Path, path: &Path) -> nix::Result<PathBuf> {
    // exercise: Walk the components of `path` with a stack of resolved names: skip `/` and `.`; `..` pops (never below root); a name that is a symlink inside root (fs::symlink_metadata + read_link) is replaced by its target's components (an absolute target restarts from root); count links and fail with ELOOP past MAX_LINKS. Return root joined with what is left.
    let mut resolved: Vec<std::ffi::OsString> = Vec::new();
    let mut pending: Vec<std::ffi::OsString> = components(path);
    pending.reverse();
    let mut links = 0;
    while let Some(part) = pending.pop() {
        match part.to_str() {
            Some("..") => {
                resolved.pop();
                continue;
            }
            Some("." | "/" | "") => continue,
            _ => {}
        }
        let candidate = root.join(resolved.iter().collect::<PathBuf>()).join(&part);
        let is_link =
            std::fs::symlink_metadata(&candidate).is_ok_and(|meta| meta.file_type().is_symlink());
        if !is_link {
            resolved.push(part);
            continue;
        }
        links += 1;
        if links > MAX_LINKS {
            return Err(nix::errno::Errno::ELOOP);
        }
        let target = std::fs::read_link(&candidate).map_err(|_| nix::errno::Errno::EIO)?;
        if target.is_absolute() {
            resolved.clear();
        }
        let mut more = components(&target);
        more.reverse();
        pending.extend(more);
    }
    Ok(root.join(resolved.iter().collect::<PathBuf>()))
}
// ANCHOR_END: secure_join

fn components(path: &Path) -> Vec<std::ffi::OsString> {
    path.components()
        .filter_map(|component| match component {
            Component::Normal(name) => Some(name.to_os_string()),
            Component::ParentDir => Some("..".into()),
            Component::RootDir | Component::CurDir | Component::Prefix(_) => None,
        })
        .collect()
}
