use serde::{Deserialize, Serialize};

/// How to run an image when the container does not say otherwise: the
/// part of an OCI image config that Kubernetes uses.
///
/// A container's `command` replaces `entrypoint` (and drops `cmd`), its
/// `args` replace `cmd`; see [`effective_command`](crate::effective_command).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ImageConfig {
    pub entrypoint: Vec<String>,
    pub cmd: Vec<String>,
    pub env: Vec<(String, String)>,
    pub working_dir: Option<String>,
}
