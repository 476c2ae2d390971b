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
    // exercise 4: `root` joined with `path` as if `root` were `/`: symlinks followed but kept inside `root`, `..` never above it
    // hint: Resolve the path yourself, one name at a time, as the kernel would, but with `root` as the top: keep a stack of the names resolved so far and a list of the names still to walk. The given `components` helper turns a path into names.
    // hint: `..` pops the stack (popping an empty stack stays at root); `.` and `/` are skipped. When root + stack + name is a symlink (`fs::symlink_metadata`), replace the name by the link target's names (`fs::read_link`); an absolute target starts again from root (clear the stack). Count the links: past MAX_LINKS it is a loop, Errno::ELOOP.
    // hint: pending = components(path) reversed; while let Some(part) = pending.pop(): ".." → resolved.pop(); "."/"/"/"" → continue; candidate = root.join(resolved...).join(&part); not a link → resolved.push(part); a link → links += 1 (ELOOP past MAX_LINKS), target = read_link (EIO on error), clear resolved if absolute, push the target's components reversed onto pending. Return root.join(resolved).
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
