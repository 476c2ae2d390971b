// Generated from solutions/03-filesystem/src/image/archive.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
use std::fmt;
use std::fs;
use std::io::Read;
use std::os::unix::fs::{PermissionsExt, lchown};
use std::path::{Component, Path, PathBuf};

use tar::EntryType;

use super::ImageError;
use super::import::Progress;

/// Why an archive entry may not be unpacked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    Absolute,
    ParentDir,
    /// The symlink on the way, relative to the rootfs.
    ThroughSymlink(PathBuf),
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::Absolute => write!(f, "an absolute name would write outside the image"),
            Refusal::ParentDir => write!(f, "`..` would write outside the image"),
            Refusal::ThroughSymlink(link) => write!(
                f,
                "it goes through the symlink {}, which may point anywhere",
                link.display()
            ),
        }
    }
}

// ANCHOR: entry_destination
/// Where an archive entry called `entry` goes inside `rootfs`, or why it
/// may not be unpacked at all.
///
/// A tar archive is input from anywhere, and its entry names are just
/// strings: `/etc/cron.d/x` or `../../root/.ssh/authorized_keys` would
/// write to the host, and so would `link/x` after an entry `link ->
/// /etc`. So: no absolute names, no `..`, and no existing symlink on the
/// way (the last component may be one: it is replaced, not followed).
pub fn entry_destination(rootfs: &Path, entry: &Path) -> Result<PathBuf, Refusal> {
    todo!(
        "exercise 3: where the archive entry `entry` goes inside `rootfs`, or the Refusal that keeps it out"
    )
}
// ANCHOR_END: entry_destination

/// Unpacks the tar archive read from `reader` (the file `archive`) into
/// `rootfs`. Refuses the whole archive at its first unsafe entry; the
/// caller's staging directory then takes the part already unpacked away.
///
/// Directories, regular files, symlinks and hard links are unpacked;
/// device nodes and fifos are left out (a container gets a fresh `/dev`).
pub(crate) fn unpack(
    archive: &Path,
    reader: impl Read,
    rootfs: &Path,
    progress: &mut Progress,
) -> Result<(), ImageError> {
    let as_root = nix::unistd::geteuid().is_root();
    let mut tar = tar::Archive::new(reader);
    tar.set_preserve_permissions(true);
    tar.set_preserve_mtime(true);
    tar.set_preserve_ownerships(as_root);
    tar.set_overwrite(true);
    let bad_archive = |source| ImageError::Archive {
        archive: archive.to_path_buf(),
        source,
    };
    // Directory modes are set at the end: a read-only directory must
    // first receive its content.
    let mut dirs = Vec::new();
    for entry in tar.entries().map_err(bad_archive)? {
        let mut entry = entry.map_err(bad_archive)?;
        let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let kind = entry.header().entry_type();
        if !matches!(
            kind,
            EntryType::Directory
                | EntryType::Regular
                | EntryType::Continuous
                | EntryType::GNUSparse
                | EntryType::Symlink
                | EntryType::Link
        ) {
            continue;
        }
        let unsafe_entry = |reason: String| ImageError::UnsafeEntry {
            archive: archive.to_path_buf(),
            entry: name.clone(),
            reason,
        };
        let path = entry.path().map_err(bad_archive)?.into_owned();
        let target = entry_destination(rootfs, &path)
            .map_err(|refusal| unsafe_entry(refusal.to_string()))?;
        if target == rootfs {
            continue;
        }
        let failed = |source| ImageError::Unpack {
            archive: archive.to_path_buf(),
            entry: name.clone(),
            source,
        };
        if let Some(parent) = target.parent() {
            fs::create_dir_all(parent).map_err(failed)?;
        }
        match kind {
            EntryType::Directory => {
                let is_dir = fs::symlink_metadata(&target).is_ok_and(|meta| meta.is_dir());
                if !is_dir {
                    remove_existing(&target).map_err(failed)?;
                    fs::create_dir(&target).map_err(failed)?;
                }
                let header = entry.header();
                let mode = header.mode().map_err(bad_archive)? & 0o7777;
                let owner = (header.uid().unwrap_or(0), header.gid().unwrap_or(0));
                dirs.push((target, mode, owner));
            }
            EntryType::Link => {
                let link = entry
                    .link_name()
                    .map_err(bad_archive)?
                    .map(|link| link.into_owned())
                    .unwrap_or_default();
                let source = entry_destination(rootfs, &link)
                    .map_err(|reason| unsafe_entry(format!("a hard link to {link:?}: {reason}")))?;
                remove_existing(&target).map_err(failed)?;
                fs::hard_link(&source, &target).map_err(failed)?;
            }
            _ => {
                // tar replaces an existing file or symlink rather than
                // writing through it.
                let size = entry.size();
                entry.unpack(&target).map_err(failed)?;
                progress.entry(size);
                continue;
            }
        }
        progress.entry(0);
    }
    for (dir, mode, (uid, gid)) in dirs.into_iter().rev() {
        let failed = |source| ImageError::io("set the mode of", &dir)(source);
        if as_root {
            lchown(&dir, Some(uid as u32), Some(gid as u32)).map_err(failed)?;
        }
        fs::set_permissions(&dir, fs::Permissions::from_mode(mode)).map_err(failed)?;
    }
    Ok(())
}

/// Removes what is at `path`, unless it is a directory; nothing there is
/// fine.
fn remove_existing(path: &Path) -> std::io::Result<()> {
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.is_dir() => Ok(()),
        Ok(_) => fs::remove_file(path),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(error) => Err(error),
    }
}
