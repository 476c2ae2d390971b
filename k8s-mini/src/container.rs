//! What `k8s-mini run` puts around a process: namespaces (chapter 02), a
//! root filesystem from an image (chapter 03) and a cgroup (chapter 04).

use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::chapters::cgroups::{Cgroup, CgroupName, Cgroups, Limits, termination};
use crate::chapters::filesystem::rootfs::Volume;
use crate::chapters::filesystem::{ContainerRequest, ContainerRoot, Containers, EtcFiles};
use crate::chapters::namespaces::{Isolation, Privileges, Runtime};
use crate::chapters::process::{ContainerSpec, ExitStatus};

/// How to isolate and limit the process.
#[derive(Debug, Default)]
pub struct Settings {
    pub isolate: bool,
    pub hostname: Option<String>,
    pub image: Option<String>,
    pub read_only: bool,
    pub volumes: Vec<Volume>,
    pub limits: Limits,
}

impl Settings {
    fn limited(&self) -> bool {
        self.limits != Limits::default()
    }
}

/// What was made for a container, to undo when it is done.
#[derive(Default)]
pub struct Made {
    root: Option<ContainerRoot>,
    cgroup: Option<Cgroup>,
    /// The instance's own cgroup (the container's parent) and where it is.
    instance_cgroup: Option<(Cgroups, CgroupName)>,
    instance_dir: Option<PathBuf>,
}

impl Made {
    /// How Kubernetes would report the end: OOMKilled, Completed or Error.
    pub fn termination(&self, status: ExitStatus) -> String {
        let oom = self
            .cgroup
            .as_ref()
            .is_some_and(|cgroup| cgroup.oom_killed().unwrap_or(false));
        let end = termination(status, oom);
        format!("{:?} (exit code {})", end.reason, end.exit_code)
    }

    /// Removes the container's directory and cgroup.
    pub fn clean_up(self) -> anyhow::Result<()> {
        if let Some(root) = self.root {
            root.remove()?;
        }
        if let Some(cgroup) = self.cgroup {
            cgroup.remove()?;
        }
        if let Some((cgroups, name)) = self.instance_cgroup {
            // This run's instance holds one container: now none.
            cgroups.remove(&name)?;
        }
        if let Some(dir) = self.instance_dir {
            // This run's instance holds one container: now none.
            let _ = std::fs::remove_dir(dir);
        }
        Ok(())
    }
}

/// Turns the spec of a plain process into the spec of a container, as
/// `settings` ask; the supervisor runs it unchanged.
pub fn contain(
    spec: ContainerSpec,
    settings: &Settings,
    data_dir: &Path,
) -> anyhow::Result<(ContainerSpec, Made)> {
    if !settings.isolate && settings.image.is_none() && !settings.limited() {
        return Ok((spec, Made::default()));
    }
    let name = spec.name.clone();
    let privileges = Privileges::detect()
        .map_err(|reason| anyhow::anyhow!("cannot isolate {name}: {reason}"))?;
    let program = std::env::current_exe().context("cannot find this program's own path")?;
    let instance = format!("run-{}", std::process::id());
    let runtime = Runtime::new(&program, &instance);
    let mut isolation = Isolation::container(privileges.is_rootless());
    isolation.hostname = settings.hostname.clone();
    let mut made = Made::default();
    if settings.limited() {
        let cgroups = Cgroups::detect()?;
        let cgroup_name = CgroupName::new(&instance, &[&name])?;
        let cgroup = cgroups.create(&cgroup_name, &settings.limits)?;
        isolation.cgroup_procs = cgroup.procs_files();
        made.cgroup = Some(cgroup);
        made.instance_cgroup = Some((cgroups, CgroupName::instance(&instance)?));
    }
    let Some(image) = &settings.image else {
        return Ok((runtime.wrap(&spec, &isolation), made));
    };
    let store = crate::image::open_store(data_dir)?;
    let containers = Containers::new(runtime, store, data_dir.join("containers"))?;
    made.instance_dir = Some(containers.instance_dir());
    let request = ContainerRequest {
        name: name.clone(),
        image: image.clone(),
        command: std::iter::once(spec.command.clone())
            .filter(|command| !command.is_empty())
            .collect(),
        args: spec.args.clone(),
        env: spec.env.clone(),
        working_dir: spec
            .working_dir
            .as_ref()
            .map(|dir| dir.display().to_string()),
        volumes: settings.volumes.clone(),
        read_only_root: settings.read_only,
        etc: EtcFiles {
            hostname: settings.hostname.clone().unwrap_or_else(|| name.clone()),
            ..EtcFiles::default()
        },
    };
    let created = containers.create(&request, &isolation);
    let (mut container, root) = match created {
        Ok(created) => created,
        Err(error) => {
            let _ = made.clean_up();
            return Err(error.into());
        }
    };
    // The supervisor's settings stay the caller's.
    container.log_path = spec.log_path.clone();
    container.restart_policy = spec.restart_policy;
    container.backoff = spec.backoff;
    made.root = Some(root);
    Ok((container, made))
}

/// `SRC:DST` or `SRC:DST:ro`.
pub fn parse_volume(text: &str) -> Result<Volume, String> {
    let mut parts = text.splitn(3, ':');
    let (Some(source), Some(target)) = (parts.next(), parts.next()) else {
        return Err(format!("{text:?} is not SOURCE:TARGET[:ro]"));
    };
    let read_only = match parts.next() {
        None | Some("rw") => false,
        Some("ro") => true,
        Some(other) => return Err(format!("{other:?} in {text:?}: the mode is ro or rw")),
    };
    let source = std::fs::canonicalize(source)
        .map_err(|error| format!("volume source {source}: {error}"))?;
    Ok(Volume {
        source,
        target: PathBuf::from(target),
        read_only,
    })
}
