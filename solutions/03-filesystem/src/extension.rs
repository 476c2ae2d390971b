use namespaces::{ContainerConfig, Extension, InitError};
use serde::{Deserialize, Serialize};

use crate::rootfs::{RootfsPlan, mount_root};

/// The key of this chapter's part of a container's configuration.
pub const EXTENSION_KEY: &str = "filesystem";

/// This chapter's part of the container configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FilesystemConfig {
    pub rootfs: RootfsPlan,
    /// Drop capabilities, set no_new_privs and install the default seccomp
    /// filter before exec.
    pub harden: bool,
}

/// The init program's extension for this chapter: builds the root
/// filesystem in PID 1 and drops privileges in the application's process.
/// Containers without a `filesystem` configuration run as in chapter 02.
pub struct Filesystem;

fn read(config: &ContainerConfig) -> Result<Option<FilesystemConfig>, InitError> {
    config
        .extensions
        .get(EXTENSION_KEY)
        .map(|value| {
            serde_json::from_value(value.clone())
                .map_err(|error| InitError::Config(format!("{EXTENSION_KEY}: {error}")))
        })
        .transpose()
}

impl Extension for Filesystem {
    fn prepare(&self, config: &ContainerConfig) -> Result<bool, InitError> {
        match read(config)? {
            Some(filesystem) => {
                mount_root(&filesystem.rootfs)?;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    fn before_exec(&self, config: &ContainerConfig) -> Result<(), InitError> {
        match read(config)? {
            Some(filesystem) if filesystem.harden => {
                crate::drop_privileges()?;
                // Last: from here on, the filter refuses mount, unshare...
                crate::install_seccomp_filter()
            }
            _ => Ok(()),
        }
    }
}
