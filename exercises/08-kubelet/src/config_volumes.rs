// Generated from solutions/08-kubelet/src/config_volumes.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
//! ConfigMap and Secret volumes: the object's keys as files in a directory
//! of the node that the containers see read-only, kept up to date when the
//! object changes. Secrets live on a tmpfs, never on the node's disk.
//!
//! An update must never show a reader half of the new files: as the
//! kubelet's atomic writer does, each version of the files goes to a new
//! timestamped directory, then a `..data_tmp` symlink to it is renamed
//! over `..data` (a rename is atomic), and each key is a symlink
//! `key -> ..data/key` that never changes. The old directory goes last.

use std::collections::BTreeMap;
use std::io;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};

use objects::pod::{KeyToPath, Volume};

use crate::config_env::ConfigObjects;

/// What one volume holds: a relative path, its bytes and mode.
pub type Files = BTreeMap<String, (Vec<u8>, u32)>;

const DATA: &str = "..data";
const DATA_TMP: &str = "..data_tmp";

/// The directory of a pod's ConfigMap and Secret volumes, under the
/// node's data directory.
pub fn pod_dir(data_dir: &Path, uid: &str) -> PathBuf {
    data_dir.join("config-volumes").join(uid)
}

/// Where one volume's files are, as the container's bind mount sees them.
pub fn volume_dir(data_dir: &Path, uid: &str, volume: &str) -> PathBuf {
    pod_dir(data_dir, uid).join(volume)
}

/// Whether a volume is one this module fills.
pub fn is_config_volume(volume: &Volume) -> bool {
    volume.config_map.is_some() || volume.secret.is_some()
}

/// The files of a ConfigMap or Secret volume, or why they cannot be had
/// (in Kubernetes' words; the pod waits): every key, or the `items`
/// listed, each with its mode.
pub fn volume_files(volume: &Volume, objects: &ConfigObjects) -> Result<Files, String> {
    let (kind, name, items, default_mode, optional, data) = if let Some(source) = &volume.config_map
    {
        let data = objects.config_maps.get(&source.name).map(|c| {
            let mut data: BTreeMap<String, Vec<u8>> = c
                .data
                .iter()
                .map(|(k, v)| (k.clone(), v.clone().into_bytes()))
                .collect();
            data.extend(c.binary_data.iter().map(|(k, v)| (k.clone(), v.0.clone())));
            data
        });
        let (items, mode, optional) = (&source.items, source.default_mode, source.optional);
        ("configmap", &source.name, items, mode, optional, data)
    } else if let Some(source) = &volume.secret {
        let data = objects.secrets.get(&source.secret_name).map(|s| {
            s.data
                .iter()
                .map(|(k, v)| (k.clone(), v.0.clone()))
                .collect()
        });
        let (items, mode, optional) = (&source.items, source.default_mode, source.optional);
        ("secret", &source.secret_name, items, mode, optional, data)
    } else {
        return Ok(Files::new());
    };
    let default_mode = default_mode.map_or(0o644, |m| m as u32 & 0o777);
    let Some(data) = data else {
        return if optional == Some(true) {
            Ok(Files::new())
        } else {
            Err(format!("{kind} {name:?} not found"))
        };
    };
    if items.is_empty() {
        return Ok(data
            .into_iter()
            .map(|(key, bytes)| (key, (bytes, default_mode)))
            .collect());
    }
    let mut files = Files::new();
    for KeyToPath { key, path, mode } in items {
        match data.get(key) {
            Some(bytes) => {
                let mode = mode.map_or(default_mode, |m| m as u32 & 0o777);
                files.insert(path.clone(), (bytes.clone(), mode));
            }
            None if optional == Some(true) => {}
            None if kind == "secret" => {
                return Err(format!("references non-existent secret key: {key}"));
            }
            None => {
                return Err(format!(
                    "configmap references non-existent config key: {key}"
                ));
            }
        }
    }
    Ok(files)
}

/// Makes `dir` hold exactly `files`, atomically for a reader (see the
/// module's doc). Returns whether anything changed.
pub fn write_atomically(dir: &Path, files: &Files) -> io::Result<bool> {
    std::fs::create_dir_all(dir)?;
    let current = dir.join(DATA);
    if let Ok(target) = std::fs::read_link(&current)
        && read_files(&dir.join(&target)).ok().as_ref() == Some(files)
    {
        return Ok(false);
    }
    let old = std::fs::read_link(&current).ok();
    let now = chrono::Utc::now();
    let version = format!("..{}", now.format("%Y_%m_%d_%H_%M_%S%.9f"));
    let new_dir = dir.join(&version);
    std::fs::create_dir(&new_dir)?;
    for (path, (bytes, mode)) in files {
        let file = new_dir.join(path);
        if let Some(parent) = file.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&file, bytes)?;
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(*mode))?;
    }
    std::fs::set_permissions(&new_dir, std::fs::Permissions::from_mode(0o755))?;
    let tmp = dir.join(DATA_TMP);
    let _ = std::fs::remove_file(&tmp);
    symlink(&version, &tmp)?;
    std::fs::rename(&tmp, &current)?;
    // The user-visible names: one symlink per top-level entry, through
    // `..data`, so that they follow each swap without being rewritten.
    let tops: std::collections::BTreeSet<&str> = files
        .keys()
        .map(|path| path.split('/').next().unwrap_or(path))
        .collect();
    for top in &tops {
        let link = dir.join(top);
        if std::fs::symlink_metadata(&link).is_err() {
            symlink(Path::new(DATA).join(top), &link)?;
        }
    }
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.starts_with("..") && !tops.contains(name.as_str()) {
            std::fs::remove_file(entry.path())?;
        }
    }
    if let Some(old) = old {
        std::fs::remove_dir_all(dir.join(old))?;
    }
    Ok(true)
}

/// The files of one version's directory, as [`Files`].
fn read_files(dir: &Path) -> io::Result<Files> {
    let mut files = Files::new();
    let mut pending = vec![PathBuf::new()];
    while let Some(relative) = pending.pop() {
        for entry in std::fs::read_dir(dir.join(&relative))? {
            let entry = entry?;
            let path = relative.join(entry.file_name());
            let metadata = entry.metadata()?;
            if metadata.is_dir() {
                pending.push(path);
            } else {
                let bytes = std::fs::read(entry.path())?;
                let mode = metadata.permissions().mode() & 0o777;
                files.insert(path.to_string_lossy().into_owned(), (bytes, mode));
            }
        }
    }
    Ok(files)
}

/// Creates a Secret volume's directory on a tmpfs of its own (the
/// kubelet's `medium: Memory`), so that its values never reach a disk.
pub fn mount_tmpfs(dir: &Path) -> io::Result<()> {
    use nix::mount::{MsFlags, mount};
    std::fs::create_dir_all(dir)?;
    if is_mount_point(dir) {
        return Ok(());
    }
    mount(
        Some("tmpfs"),
        dir,
        Some("tmpfs"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
        Some("mode=0755,size=2m"),
    )
    .map_err(io::Error::from)
}

/// Whether `dir` is the root of a mount (its device differs from its
/// parent's).
fn is_mount_point(dir: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    let (Ok(own), Some(Ok(parent))) = (std::fs::metadata(dir), dir.parent().map(std::fs::metadata))
    else {
        return false;
    };
    own.dev() != parent.dev()
}

/// Removes a pod's ConfigMap and Secret volumes, unmounting the tmpfs of
/// its Secrets first. Nothing of the pod's configuration stays.
pub fn remove_pod_dir(data_dir: &Path, uid: &str) -> io::Result<()> {
    let dir = pod_dir(data_dir, uid);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Ok(());
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if is_mount_point(&path) {
            nix::mount::umount2(&path, nix::mount::MntFlags::MNT_DETACH)
                .map_err(io::Error::from)?;
        }
    }
    std::fs::remove_dir_all(&dir)
}
