use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt, lchown, symlink};
use std::path::Path;

use super::ImageError;
use super::import::Progress;

/// Copies the directory tree `from` into the existing directory `to`, as
/// an image's root filesystem: modes kept (and owners, when root),
/// symlinks copied as symlinks and never followed, since in the image they
/// point into the image, not into the host. Sockets, fifos and device
/// nodes are left out: a container gets a fresh `/dev`.
///
/// `skip` is a directory (device, inode) not to copy: the store itself,
/// when importing a tree that contains it.
pub(crate) fn copy_dir(
    from: &Path,
    to: &Path,
    skip: &Option<(u64, u64)>,
    progress: &mut Progress,
) -> Result<(), ImageError> {
    let as_root = nix::unistd::geteuid().is_root();
    copy_children(from, to, skip, as_root, progress)?;
    let meta = fs::metadata(from).map_err(ImageError::io("read", from))?;
    finish_dir(to, &meta, as_root)
}

/// A whole tree copied as an image's root filesystem is: the copy layer of
/// a container where overlayfs is not available.
pub(crate) fn copy_tree(from: &Path, to: &Path) -> Result<(), ImageError> {
    fs::create_dir_all(to).map_err(ImageError::io("create", to))?;
    let mut ignore = |_| {};
    copy_dir(from, to, &None, &mut Progress::new(&mut ignore))
}

fn copy_children(
    from: &Path,
    to: &Path,
    skip: &Option<(u64, u64)>,
    as_root: bool,
    progress: &mut Progress,
) -> Result<(), ImageError> {
    for entry in fs::read_dir(from).map_err(ImageError::io("read", from))? {
        let entry = entry.map_err(ImageError::io("read", from))?;
        let source = entry.path();
        let target = to.join(entry.file_name());
        // Not followed: a symlink is described, not its target.
        let meta = fs::symlink_metadata(&source).map_err(ImageError::io("read", &source))?;
        let kind = meta.file_type();
        if kind.is_dir() {
            if *skip == Some((meta.dev(), meta.ino())) {
                continue;
            }
            // Writable by us until its content is in; its mode comes last.
            fs::create_dir(&target).map_err(ImageError::io("create", &target))?;
            copy_children(&source, &target, skip, as_root, progress)?;
            finish_dir(&target, &meta, as_root)?;
            progress.entry(0);
        } else if kind.is_symlink() {
            let link = fs::read_link(&source).map_err(ImageError::io("read", &source))?;
            symlink(&link, &target).map_err(ImageError::io("create", &target))?;
            if as_root {
                lchown(&target, Some(meta.uid()), Some(meta.gid()))
                    .map_err(ImageError::io("change the owner of", &target))?;
            }
            progress.entry(0);
        } else if kind.is_file() {
            fs::copy(&source, &target).map_err(ImageError::io("copy", &source))?;
            // The owner first: chown clears setuid and setgid bits.
            if as_root {
                lchown(&target, Some(meta.uid()), Some(meta.gid()))
                    .map_err(ImageError::io("change the owner of", &target))?;
            }
            fs::set_permissions(&target, meta.permissions())
                .map_err(ImageError::io("set the mode of", &target))?;
            progress.entry(meta.len());
        }
    }
    Ok(())
}

fn finish_dir(dir: &Path, meta: &fs::Metadata, as_root: bool) -> Result<(), ImageError> {
    if as_root {
        lchown(dir, Some(meta.uid()), Some(meta.gid()))
            .map_err(ImageError::io("change the owner of", dir))?;
    }
    let mode = meta.permissions().mode() & 0o7777;
    fs::set_permissions(dir, fs::Permissions::from_mode(mode))
        .map_err(ImageError::io("set the mode of", dir))
}
