//! Images before a pod starts. The local image store stands in for a
//! registry: an image present runs whatever the pull policy says; a missing
//! one cannot be pulled, so the pod waits with Kubernetes' reasons
//! (`ErrImageNeverPull`, or `ErrImagePull` then `ImagePullBackOff`) and a
//! message that says how to get the image, and is tried again with a
//! back-off in case someone imports it meanwhile.

use filesystem::image::{ImageError, ImageStore};
use objects::Pod;

/// A container whose image is not in the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Missing {
    pub container: String,
    pub image: String,
    /// `imagePullPolicy: Never`: no pull would ever be tried.
    pub never: bool,
}

/// The first container (init containers first) whose image is missing.
pub fn missing(pod: &Pod, store: &ImageStore) -> Option<Missing> {
    let spec = &pod.spec;
    spec.init_containers
        .iter()
        .chain(&spec.containers)
        .find_map(|container| {
            let image = container.image.clone().unwrap_or_default();
            match store.get(&image) {
                Err(ImageError::NotFound { .. }) => Some(Missing {
                    container: container.name.clone(),
                    image,
                    never: container.image_pull_policy.as_deref() == Some("Never"),
                }),
                // Present, or damaged or misnamed: the runtime says which.
                _ => None,
            }
        })
}

/// The waiting reason and message of the container, and the event's
/// reason and message, for the `attempt`-th failed pull (0 is the first).
pub fn waiting(missing: &Missing, attempt: u32) -> (&'static str, String, &'static str, String) {
    let image = &missing.image;
    let how = format!("import it with `k8s-mini image import {image} PATH`");
    if missing.never {
        let message =
            format!("Container image \"{image}\" is not present with pull policy of Never; {how}");
        return (
            "ErrImageNeverPull",
            message.clone(),
            "ErrImageNeverPull",
            message,
        );
    }
    let pull = format!(
        "Failed to pull image \"{image}\": this node has no registry and the image is not in its image store; {how}"
    );
    if attempt == 0 {
        ("ErrImagePull", pull.clone(), "Failed", pull)
    } else {
        (
            "ImagePullBackOff",
            format!("Back-off pulling image \"{image}\": {how}"),
            "BackOff",
            format!("Back-off pulling image \"{image}\""),
        )
    }
}
