// Generated from solutions/02-namespaces/src/runtime.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
use std::path::{Path, PathBuf};

use process::ContainerSpec;

use crate::{ContainerConfig, Isolation};

/// The first argument that makes a program run as the init program.
pub const INIT_ARG: &str = "__k8s-mini-init";

/// The environment variable that carries the [`ContainerConfig`] as JSON.
pub const CONFIG_VAR: &str = "K8S_MINI_CONTAINER";

// ANCHOR: run_init_if_requested
/// Call this first thing in `main` of any program that serves as init
/// program (k8s-mini does): when started with [`INIT_ARG`], it becomes the
/// container's init and never returns. Otherwise it returns at once.
///
/// It must run before any thread exists (before the tokio runtime starts):
/// after `fork`, a multi-threaded process may only make async-signal-safe
/// calls, and setting up a container needs many that are not.
pub fn run_init_if_requested() {
    run_init_with(&crate::NoExtension);
}
// ANCHOR_END: run_init_if_requested

/// [`run_init_if_requested`] for an init program that does more than this
/// chapter: `extension` runs at its points of the setup.
pub fn run_init_with(extension: &dyn crate::Extension) {
    if std::env::args_os().nth(1).is_none_or(|arg| arg != INIT_ARG) {
        return;
    }
    let config = std::env::var(CONFIG_VAR)
        .map_err(|_| format!("{CONFIG_VAR} is not set"))
        .and_then(|json| {
            serde_json::from_str::<ContainerConfig>(&json).map_err(|error| error.to_string())
        });
    match config {
        Ok(config) => crate::stage::main(&config, extension),
        Err(message) => {
            eprintln!("k8s-mini init: cannot read the container configuration: {message}");
            std::process::exit(125)
        }
    }
}

/// Makes containers out of chapter 01's supervised processes.
#[derive(Debug, Clone)]
pub struct Runtime {
    init_program: PathBuf,
    instance: String,
}

impl Runtime {
    /// `init_program` is a program that calls [`run_init_if_requested`]
    /// first (k8s-mini itself, or a test's helper); `instance` names the
    /// cluster instance the containers belong to.
    pub fn new(init_program: impl Into<PathBuf>, instance: impl Into<String>) -> Runtime {
        Runtime {
            init_program: init_program.into(),
            instance: instance.into(),
        }
    }

    pub fn init_program(&self) -> &Path {
        &self.init_program
    }

    pub fn instance(&self) -> &str {
        &self.instance
    }

    // ANCHOR: wrap
    /// Turns the spec of a plain process into the spec of the same process
    /// in a container: the supervisor then runs the init program, which sets
    /// up `isolation` and execs the original command.
    ///
    /// Restart policy, back-off and log file stay as they are: chapter 01's
    /// supervisor does not know it supervises a container.
    pub fn wrap(&self, app: &ContainerSpec, isolation: &Isolation) -> ContainerSpec {
        self.wrap_with(app, isolation, Default::default())
    }

    /// [`Runtime::wrap`] with the configuration of later chapters'
    /// extensions.
    pub fn wrap_with(
        &self,
        app: &ContainerSpec,
        isolation: &Isolation,
        extensions: std::collections::BTreeMap<String, serde_json::Value>,
    ) -> ContainerSpec {
        let config = ContainerConfig {
            name: app.name.clone(),
            instance: self.instance.clone(),
            isolation: isolation.clone(),
            command: app.command.clone(),
            args: app.args.clone(),
            env: app.env.clone(),
            working_dir: app
                .working_dir
                .clone()
                .unwrap_or_else(|| PathBuf::from("/")),
            extensions,
            shim: None,
        };
        let json = serde_json::to_string(&config).expect("a container config is always valid JSON");
        let mut spec = app.clone();
        spec.command = self.init_program.display().to_string();
        spec.args = vec![INIT_ARG.to_string()];
        spec.env = vec![(CONFIG_VAR.to_string(), json)];
        spec.working_dir = Some(PathBuf::from("/"));
        spec
    }
    // ANCHOR_END: wrap
}

/// Makes the first process of the container that `spec` (a spec from
/// [`Runtime::wrap`]) starts its shim: the application's output goes to
/// `shim.log_path` and its status to `shim.exit_file` without the
/// supervisor, so the container survives it.
pub fn attach_shim(spec: &mut ContainerSpec, shim: crate::Shim) -> Result<(), String> {
    let (_, json) = spec
        .env
        .iter_mut()
        .find(|(key, _)| key == CONFIG_VAR)
        .ok_or_else(|| format!("{CONFIG_VAR} is not set: not a wrapped spec"))?;
    let mut config: ContainerConfig =
        serde_json::from_str(json).map_err(|error| error.to_string())?;
    config.shim = Some(shim);
    *json = serde_json::to_string(&config).expect("a container config is always valid JSON");
    Ok(())
}
