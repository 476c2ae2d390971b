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

/// What was made for a container: its directory and root filesystem, its
/// cgroup and the instance's. It is removed when the value goes, on every
/// path out: the end of the run, but also a start that fails after the
/// cgroup and directory were made, an error, a panic. Nothing is left on
/// the host.
#[derive(Default)]
pub struct Made {
    root: Option<ContainerRoot>,
    cgroup: Option<Cgroup>,
    /// The instance's own cgroup (the container's parent) and where it is.
    instance_cgroup: Option<(Cgroups, CgroupName)>,
    instance_dir: Option<PathBuf>,
    /// The cgroup's OOM kill count when the current run started. The count
    /// only grows, and a restarted process runs in the same cgroup.
    oom_kills_at_start: Option<u64>,
}

impl Made {
    /// How Kubernetes would report the end of the run that just ended
    /// (OOMKilled, Completed or Error), as `Reason (exit code N)`. The
    /// next run starts from here: a kill in this run is not the next one's.
    pub fn termination(&mut self, status: ExitStatus) -> String {
        let oom = self.cgroup.as_ref().is_some_and(|cgroup| {
            match (self.oom_kills_at_start, cgroup.oom_kills()) {
                (Some(start), Ok(Some(now))) => {
                    self.oom_kills_at_start = Some(now);
                    now > start
                }
                // A v1 kernel that does not count kills (before 4.13): the
                // flag, which covers the cgroup's whole life.
                _ => cgroup.oom_killed().unwrap_or(false),
            }
        });
        let end = termination(status, oom);
        format!("{:?} (exit code {})", end.reason, end.exit_code)
    }

    /// Removes the container's directory and cgroup, and the instance's,
    /// now, and says what failed.
    pub fn clean_up(mut self) -> anyhow::Result<()> {
        self.remove()
    }

    /// Removes whatever is still there, all of it even when a part fails;
    /// the first failure is returned. What is removed is forgotten, so a
    /// second call (from `Drop`) does nothing.
    fn remove(&mut self) -> anyhow::Result<()> {
        let mut first_error: Option<anyhow::Error> = None;
        let mut keep = |result: anyhow::Result<()>| {
            if let Err(error) = result {
                first_error.get_or_insert(error);
            }
        };
        // Processes first: the root filesystem is busy while they run.
        if let Some(cgroup) = &self.cgroup {
            keep(cgroup.kill_all().map_err(Into::into));
        }
        if let Some(root) = self.root.take() {
            keep(root.remove().map_err(Into::into));
        }
        if let Some(cgroup) = self.cgroup.take() {
            keep(cgroup.remove().map_err(Into::into));
        }
        if let Some((cgroups, name)) = self.instance_cgroup.take() {
            // This run's instance holds one container: now none.
            keep(cgroups.remove(&name).map_err(Into::into));
        }
        if let Some(dir) = self.instance_dir.take() {
            // Empty by now, unless something else is in it: then it stays.
            let _ = std::fs::remove_dir(dir);
        }
        first_error.map_or(Ok(()), Err)
    }
}

impl Drop for Made {
    fn drop(&mut self) {
        if let Err(error) = self.remove() {
            eprintln!("k8s-mini: cannot clean up after the container: {error:#}");
        }
    }
}

/// Turns the spec of a plain process into the spec of a container, as
/// `settings` ask; the supervisor runs it unchanged. On an error, what was
/// made so far is removed again.
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
    // Root's containers always get a cgroup, limits or not: it carries the
    // device allow-list (chapter 04) without which the container's root,
    // which keeps CAP_MKNOD, could make a node for the host's disk and open
    // it. Without root no cgroup can be made (and a user namespace cannot
    // use device nodes anyway), so only limits ask for one, and fail
    // clearly.
    if privileges == Privileges::Root || settings.limited() {
        let cgroups = Cgroups::detect()?;
        let cgroup_name = CgroupName::new(&instance, &[&name])?;
        // Known before it exists: a failed create may leave the parent.
        made.instance_cgroup = Some((cgroups.clone(), CgroupName::instance(&instance)?));
        let cgroup = cgroups.create(&cgroup_name, &settings.limits)?;
        isolation.cgroup_procs = cgroup.procs_files();
        made.oom_kills_at_start = cgroup.oom_kills().unwrap_or(None);
        made.cgroup = Some(cgroup);
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
    let (mut container, root) = containers.create(&request, &isolation)?;
    made.root = Some(root);
    // The supervisor's settings stay the caller's.
    container.log_path = spec.log_path.clone();
    container.restart_policy = spec.restart_policy;
    container.backoff = spec.backoff;
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
