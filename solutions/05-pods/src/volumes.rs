//! A pod's volumes on the host, and the bind mounts that put them into its
//! containers.

use std::path::{Path, PathBuf};

use filesystem::rootfs::Volume as BindMount;

use crate::PodError;
use crate::spec::{Container, Volume, VolumeSource};

/// Where the pod's emptyDir volumes live: inside the pod's directory, so
/// that they go with it.
pub fn empty_dir_path(pod_dir: &Path, volume: &str) -> PathBuf {
    pod_dir.join("volumes").join(volume)
}

/// Makes the directory of every emptyDir volume and checks that every
/// hostPath exists. (Kubernetes' runtimes create a missing hostPath
/// directory; k8s-mini refuses, so that a typo creates nothing on the node.)
pub fn prepare(pod_dir: &Path, volumes: &[Volume]) -> Result<(), PodError> {
    for volume in volumes {
        match &volume.source {
            VolumeSource::EmptyDir => {
                let path = empty_dir_path(pod_dir, &volume.name);
                std::fs::create_dir_all(&path).map_err(|source| PodError::io(&path, source))?;
            }
            VolumeSource::HostPath { path, .. } => {
                if let Err(source) = std::fs::metadata(path) {
                    return Err(PodError::Volume {
                        volume: volume.name.clone(),
                        message: format!("hostPath {}: {source}", path.display()),
                    });
                }
            }
        }
    }
    Ok(())
}

// ANCHOR: mounts
/// The bind mounts of one container: each of its volume mounts, with the
/// host directory of the volume it names. A mount is read-only when it
/// asks to be, and a hostPath volume is read-only unless it is writable.
pub fn mounts(
    pod_dir: &Path,
    volumes: &[Volume],
    container: &Container,
) -> Result<Vec<BindMount>, PodError> {
    container
        .volume_mounts
        .iter()
        .map(|mount| {
            let volume = volumes
                .iter()
                .find(|volume| volume.name == mount.name)
                .ok_or_else(|| PodError::Volume {
                    volume: mount.name.clone(),
                    message: format!(
                        "container {} mounts a volume the pod does not have",
                        container.name
                    ),
                })?;
            let (source, read_only) = match &volume.source {
                VolumeSource::EmptyDir => (empty_dir_path(pod_dir, &volume.name), mount.read_only),
                VolumeSource::HostPath { path, writable } => {
                    (path.clone(), mount.read_only || !writable)
                }
            };
            Ok(BindMount {
                source,
                target: PathBuf::from(&mount.mount_path),
                read_only,
            })
        })
        .collect()
}
// ANCHOR_END: mounts
