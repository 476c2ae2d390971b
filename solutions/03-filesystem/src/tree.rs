use std::fs;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::Path;

/// Copies a directory tree as it is: modes kept, symlinks copied as
/// symlinks (never followed: they point into the image, not the host).
pub fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    fs::create_dir_all(to)?;
    fs::set_permissions(to, fs::metadata(from)?.permissions())?;
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let source = entry.path();
        let target = to.join(entry.file_name());
        let kind = entry.file_type()?;
        if kind.is_symlink() {
            symlink(fs::read_link(&source)?, &target)?;
        } else if kind.is_dir() {
            copy_tree(&source, &target)?;
        } else if kind.is_file() {
            fs::copy(&source, &target)?;
            let mode = fs::symlink_metadata(&source)?.permissions().mode();
            fs::set_permissions(&target, fs::Permissions::from_mode(mode))?;
        }
        // Device nodes, sockets and fifos are not part of an image.
    }
    Ok(())
}

/// Removes a container's directory, whatever is in it. overlayfs leaves a
/// `work/work` directory with no permissions at all, which only matters to
/// a non-root owner: give directories their permissions back first.
pub fn remove_tree(dir: &Path) -> std::io::Result<()> {
    match fs::remove_dir_all(dir) {
        Err(error) if error.kind() == std::io::ErrorKind::PermissionDenied => {
            make_writable(dir);
            fs::remove_dir_all(dir)
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

fn make_writable(dir: &Path) {
    let _ = fs::set_permissions(dir, fs::Permissions::from_mode(0o700));
    if let Ok(entries) = fs::read_dir(dir) {
        for entry in entries.flatten() {
            if entry.file_type().is_ok_and(|kind| kind.is_dir()) {
                make_writable(&entry.path());
            }
        }
    }
}
