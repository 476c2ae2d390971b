// Generated from solutions/03-filesystem/src/container.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
use std::path::PathBuf;

use namespaces::{Isolation, Runtime};
use process::ContainerSpec;

use crate::image::{Image, ImageStore};
use crate::rootfs::{Layer, Volume};
use crate::{
    ContainerRoot, EtcFiles, FilesystemConfig, FsError, container_dir, effective_command,
    extensions, overlay_usable, prepare_root,
};

/// What a container is made of, as a pod spec's container says it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ContainerRequest {
    pub name: String,
    pub image: String,
    /// Replaces the image's entrypoint (and its cmd).
    pub command: Vec<String>,
    /// Replaces the image's cmd.
    pub args: Vec<String>,
    /// Added to the image's environment, winning over it.
    pub env: Vec<(String, String)>,
    /// The image's working directory, else `/`, when `None`.
    pub working_dir: Option<String>,
    pub volumes: Vec<Volume>,
    pub read_only_root: bool,
    pub etc: EtcFiles,
}

/// Makes containers with root filesystems from a store's images.
#[derive(Debug)]
pub struct Containers {
    pub runtime: Runtime,
    pub store: ImageStore,
    state_dir: PathBuf,
    layer: Layer,
}

impl Containers {
    /// Containers of `runtime`'s instance, from `store`'s images, with their
    /// directories under `state_dir`. The layer is overlayfs where it works,
    /// a copy elsewhere.
    pub fn new(
        runtime: Runtime,
        store: ImageStore,
        state_dir: impl Into<PathBuf>,
    ) -> Result<Containers, FsError> {
        let state_dir = state_dir.into();
        std::fs::create_dir_all(&state_dir).map_err(|source| FsError::Io {
            path: state_dir.clone(),
            source,
        })?;
        let layer = if overlay_usable(&state_dir) {
            Layer::Overlay
        } else {
            Layer::Copy
        };
        Ok(Containers {
            runtime,
            store,
            state_dir,
            layer,
        })
    }

    /// Forces a layer kind (tests use it to cover both).
    pub fn with_layer(mut self, layer: Layer) -> Containers {
        self.layer = layer;
        self
    }

    pub fn layer(&self) -> Layer {
        self.layer
    }

    /// Where container `name` keeps its files.
    pub fn dir(&self, name: &str) -> PathBuf {
        container_dir(&self.state_dir, self.runtime.instance(), name)
    }

    // ANCHOR: create
    /// Prepares container `request` and returns the spec for chapter 01's
    /// supervisor (restart policy Always and the log in the container's
    /// directory, unless the caller changes them) and its root, to
    /// [`remove`](ContainerRoot::remove) once the container has exited.
    pub fn create(
        &self,
        request: &ContainerRequest,
        isolation: &Isolation,
    ) -> Result<(ContainerSpec, ContainerRoot), FsError> {
        let image: Image = self.store.get(&request.image)?;
        let line = effective_command(
            &image.config.entrypoint,
            &image.config.cmd,
            &request.command,
            &request.args,
        )
        .ok_or_else(|| FsError::NoCommand {
            container: request.name.clone(),
            image: request.image.clone(),
        })?;
        let dir = self.dir(&request.name);
        if let Some(parent) = dir.parent() {
            std::fs::create_dir_all(parent).map_err(|source| FsError::Io {
                path: parent.to_path_buf(),
                source,
            })?;
        }
        let root = prepare_root(
            &dir,
            &image.rootfs,
            self.layer,
            request.read_only_root,
            request.volumes.clone(),
            &request.etc,
        )?;
        let mut env = image.config.env.clone();
        for (key, value) in &request.env {
            env.retain(|(existing, _)| existing != key);
            env.push((key.clone(), value.clone()));
        }
        let working_dir = request
            .working_dir
            .clone()
            .or_else(|| image.config.working_dir.clone())
            .unwrap_or_else(|| "/".to_string());
        let mut app = ContainerSpec::new(&request.name, &line[0]).args(line[1..].iter().cloned());
        app.env = env;
        app.working_dir = Some(PathBuf::from(working_dir));
        app.log_path = dir.join("container.log");
        let config = FilesystemConfig {
            rootfs: root.plan.clone(),
            harden: true,
        };
        Ok((
            self.runtime.wrap_with(&app, isolation, extensions(&config)),
            root,
        ))
    }
    // ANCHOR_END: create

    /// The state directory of this instance (the leak checker watches it).
    pub fn instance_dir(&self) -> PathBuf {
        self.state_dir.join(self.runtime.instance())
    }
}
