// Generated from solutions/02-namespaces/src/extension.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
use crate::{ContainerConfig, InitError};

/// What a later chapter adds to the init program, at the two points where
/// it can act: chapter 03 builds the container's root filesystem in
/// `prepare` and drops privileges in `before_exec`.
///
/// Both run in the init program, single-threaded, inside the container's
/// namespaces.
pub trait Extension {
    /// In PID 1, after the mounts were made private, before the hostname and
    /// the network. Returns true if it mounted `/proc` itself (in a new root
    /// filesystem), so that it is not mounted again.
    fn prepare(&self, config: &ContainerConfig) -> Result<bool, InitError> {
        let _ = config;
        Ok(false)
    }

    /// In the application's process, right before `exec`.
    fn before_exec(&self, config: &ContainerConfig) -> Result<(), InitError> {
        let _ = config;
        Ok(())
    }
}

/// This chapter alone: nothing more.
pub struct NoExtension;

impl Extension for NoExtension {}
