// Generated from solutions/02-namespaces/src/setup.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
use std::ffi::CString;
use std::path::Path;

use nix::mount::{MsFlags, mount};

use crate::{ContainerConfig, Extension, InitError, Namespace, loopback_up};

fn setup_error(what: &str) -> impl FnOnce(nix::Error) -> InitError + '_ {
    move |source| InitError::Setup {
        what: what.to_string(),
        source,
    }
}

// ANCHOR: prepare
/// What PID 1 does to its new namespaces before starting the application.
pub(crate) fn prepare(
    config: &ContainerConfig,
    extension: &dyn Extension,
) -> Result<(), InitError> {
    let isolation = &config.isolation;
    if isolation.has(Namespace::Mount) {
        // A new mount namespace starts as a copy that still shares mount
        // events with the host: make every mount private first, or the
        // mounts below would appear on the host too.
        mount(
            None::<&str>,
            "/",
            None::<&str>,
            MsFlags::MS_REC | MsFlags::MS_PRIVATE,
            None::<&str>,
        )
        .map_err(setup_error("make the mounts private"))?;
        // A later chapter's extension may build a whole root filesystem,
        // with a /proc of its own.
        let proc_mounted = extension.prepare(config)?;
        if isolation.has(Namespace::Pid) && !proc_mounted {
            // /proc shows the PID namespace of whoever mounted it: a fresh
            // one makes `ps` see only the container.
            let flags = MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC;
            mount(Some("proc"), "/proc", Some("proc"), flags, None::<&str>)
                .map_err(setup_error("mount /proc"))?;
        }
    }
    if isolation.has(Namespace::Uts) {
        let hostname = isolation.hostname.as_deref().unwrap_or(&config.name);
        nix::unistd::sethostname(hostname).map_err(setup_error("set the hostname"))?;
    }
    if isolation.has(Namespace::Network) {
        loopback_up().map_err(setup_error("bring up the loopback device"))?;
    }
    Ok(())
}
// ANCHOR_END: prepare

/// The program, arguments and environment of the application, ready for
/// `execve`, resolved now that the container's filesystem is in place.
pub(crate) struct Exec {
    pub program: CString,
    pub argv: Vec<CString>,
    pub envp: Vec<CString>,
}

pub(crate) fn resolve(config: &ContainerConfig) -> Result<Exec, InitError> {
    let mut env = config.env.clone();
    if !env.iter().any(|(key, _)| key == "PATH") {
        env.push(("PATH".into(), process::DEFAULT_PATH.into()));
    }
    let path = env
        .iter()
        .rev()
        .find(|(key, _)| key == "PATH")
        .map_or(process::DEFAULT_PATH, |(_, value)| value.as_str());
    let program = process::resolve_command(&config.command, path, Path::new(&config.working_dir))
        .map_err(|error| InitError::Exec {
        command: config.command.clone(),
        code: match error {
            process::SpawnError::NotExecutable { .. }
            | process::SpawnError::CommandIsDirectory { .. } => 126,
            _ => 127,
        },
        message: error.to_string(),
    })?;
    let c_string = |text: &str| {
        CString::new(text).map_err(|_| InitError::Config(format!("{text:?} contains a NUL byte")))
    };
    let argv = std::iter::once(config.command.as_str())
        .chain(config.args.iter().map(String::as_str))
        .map(c_string)
        .collect::<Result<_, _>>()?;
    let envp = env
        .iter()
        .map(|(key, value)| c_string(&format!("{key}={value}")))
        .collect::<Result<_, _>>()?;
    let program = c_string(&program.to_string_lossy())?;
    Ok(Exec {
        program,
        argv,
        envp,
    })
}
