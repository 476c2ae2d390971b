use std::collections::BTreeMap;
use std::fmt;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use crate::cgroup::DeviceProgramSink;
use crate::remove::remove_tree;
use crate::{
    CGROUP_ROOT, Cgroup, CgroupError, CgroupName, Controller, Limits, Mode, RecordedProgram,
    Version, files, parse_v1_mounts,
};

/// The controllers a v2 parent must hand down to its children
/// (`cgroup.subtree_control`), in the order they are written.
const V2_CONTROLLERS: [Controller; 3] = [Controller::Cpu, Controller::Memory, Controller::Pids];

/// The machine's cgroups: which API they speak and where each controller's
/// hierarchy is mounted. The one interface the rest of k8s-mini uses, on v1
/// and v2 alike.
///
/// In v2 every controller maps to the same directory (the single tree); in
/// v1 each maps to its own hierarchy, and two controllers mounted together
/// (`cpu,cpuacct`) map to the same one.
#[derive(Debug, Clone)]
pub struct Cgroups {
    version: Version,
    mounts: BTreeMap<Controller, PathBuf>,
    device_programs: DeviceProgramSink,
}

impl Cgroups {
    /// The cgroups of this machine: the layout from statfs, then the
    /// controllers from `/proc/self/mountinfo` (v1) or the root's
    /// `cgroup.controllers` (v2).
    pub fn detect() -> Result<Cgroups, CgroupError> {
        let root = Path::new(CGROUP_ROOT);
        match Mode::detect(root)?.version() {
            Version::V2 => Cgroups::v2(root),
            Version::V1 => {
                let path = Path::new("/proc/self/mountinfo");
                Ok(Cgroups::v1(parse_v1_mounts(&files::read(path)?)))
            }
        }
    }

    /// v1 hierarchies at the given mount points, for example a temporary
    /// directory tree in tests.
    pub fn v1(mounts: impl IntoIterator<Item = (Controller, PathBuf)>) -> Cgroups {
        Cgroups {
            version: Version::V1,
            mounts: mounts.into_iter().collect(),
            device_programs: DeviceProgramSink::Kernel,
        }
    }

    /// The v2 tree at `root`, with the controllers its `cgroup.controllers`
    /// lists. CPU accounting (`cpu.stat`) is in every v2 cgroup, and so are
    /// device programs.
    pub fn v2(root: impl Into<PathBuf>) -> Result<Cgroups, CgroupError> {
        let root = root.into();
        let listed = files::read(&root.join("cgroup.controllers"))?;
        let mut mounts = BTreeMap::new();
        for controller in Controller::ALL {
            let available = matches!(controller, Controller::Cpuacct | Controller::Devices)
                || listed
                    .split_whitespace()
                    .any(|name| name == controller.name());
            if available {
                mounts.insert(controller, root.clone());
            }
        }
        Ok(Cgroups {
            version: Version::V2,
            mounts,
            device_programs: DeviceProgramSink::Kernel,
        })
    }

    /// The same cgroups, but v2 device programs are kept in a list (read
    /// by [`Cgroups::recorded_device_programs`]) instead of being attached:
    /// for a tree of plain directories that only looks like cgroupfs, to
    /// which the kernel attaches nothing.
    pub fn record_device_programs(self) -> Cgroups {
        Cgroups {
            device_programs: DeviceProgramSink::Record(Default::default()),
            ..self
        }
    }

    /// The device programs kept so far, oldest first (empty unless
    /// [`Cgroups::record_device_programs`] made these cgroups).
    pub fn recorded_device_programs(&self) -> Vec<RecordedProgram> {
        match &self.device_programs {
            DeviceProgramSink::Kernel => Vec::new(),
            DeviceProgramSink::Record(list) => {
                list.lock().unwrap_or_else(|e| e.into_inner()).clone()
            }
        }
    }

    pub fn version(&self) -> Version {
        self.version
    }

    /// Where `controller`'s hierarchy is mounted, if it is available.
    pub fn mount(&self, controller: Controller) -> Option<&Path> {
        self.mounts.get(&controller).map(PathBuf::as_path)
    }

    /// The cgroup `name`, whether it exists or not: to read it, join it or
    /// remove it.
    pub fn open(&self, name: &CgroupName) -> Cgroup {
        let dirs = self
            .mounts
            .iter()
            .map(|(controller, mount)| (*controller, mount.join(name.as_path())))
            .collect();
        Cgroup::new(
            name.clone(),
            self.version,
            dirs,
            self.device_programs.clone(),
        )
    }

    /// True when any hierarchy has a directory for `name`.
    pub fn exists(&self, name: &CgroupName) -> bool {
        self.open(name).dirs().iter().any(|dir| dir.is_dir())
    }

    // ANCHOR: create
    /// Creates the cgroup `name` (and its parents) in every hierarchy and
    /// gives it `limits` and runc's device allow-list
    /// ([`Cgroup::restrict_devices`]). Invalid limits are refused before
    /// anything is created. An existing cgroup of that name is reused, with
    /// its limits overwritten, as runc does.
    pub fn create(&self, name: &CgroupName, limits: &Limits) -> Result<Cgroup, CgroupError> {
        limits.validate()?;
        for controller in Controller::ALL {
            if !self.mounts.contains_key(&controller) {
                return Err(CgroupError::MissingController {
                    controller,
                    version: self.version,
                });
            }
        }
        let cgroup = self.open(name);
        let existed = self.exists(name);
        for mount in self.distinct_mounts() {
            match self.version {
                Version::V1 => create_dirs(&mount.join(name.as_path()))?,
                Version::V2 => create_v2(mount, name)?,
            }
        }
        if let Err(error) = cgroup
            .apply(limits)
            .and_then(|()| cgroup.restrict_devices())
        {
            // Do not leave a cgroup without its limits behind (but never
            // touch one that was there before, with its processes).
            if !existed {
                let _ = self.remove(name);
            }
            return Err(error);
        }
        Ok(cgroup)
    }
    // ANCHOR_END: create

    /// Removes `name` and every cgroup below it, in every hierarchy: kills
    /// the processes still inside, then deletes the directories, children
    /// before parents. Removing a cgroup that does not exist is fine.
    pub fn remove(&self, name: &CgroupName) -> Result<(), CgroupError> {
        for mount in self.distinct_mounts() {
            remove_tree(&mount.join(name.as_path()), self.version)?;
        }
        Ok(())
    }

    /// Each mount point once (`cpu` and `cpuacct` may share one; in v2 all
    /// controllers do).
    fn distinct_mounts(&self) -> Vec<&Path> {
        let mut mounts: Vec<&Path> = Vec::new();
        for mount in self.mounts.values() {
            if !mounts.contains(&mount.as_path()) {
                mounts.push(mount);
            }
        }
        mounts
    }
}

impl fmt::Display for Cgroups {
    /// `cgroup v1: memory at /sys/fs/cgroup/memory, cpu at ...`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:", self.version)?;
        let mut first = true;
        for (controller, mount) in &self.mounts {
            let separator = if first { " " } else { ", " };
            write!(f, "{separator}{controller} at {}", mount.display())?;
            first = false;
        }
        if first {
            write!(f, " no controllers")?;
        }
        Ok(())
    }
}

/// `mkdir -p`: the instance and pod cgroups are shared, so they may exist.
fn create_dirs(dir: &Path) -> Result<(), CgroupError> {
    std::fs::create_dir_all(dir).map_err(|e| CgroupError::io("create cgroup", dir, e))
}

// ANCHOR: create_v2
/// In v2 a cgroup only gets a controller if its parent lists it in
/// `cgroup.subtree_control`, so each level enables memory, cpu and pids for
/// the next before the next is made. The leaf enables nothing: in v2 a
/// cgroup with processes in it may not hand controllers down.
fn create_v2(root: &Path, name: &CgroupName) -> Result<(), CgroupError> {
    let mut dir = root.to_path_buf();
    for part in name.as_path().iter() {
        enable_controllers(&dir)?;
        dir.push(part);
        match std::fs::create_dir(&dir) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::AlreadyExists => {}
            Err(e) => return Err(CgroupError::io("create cgroup", &dir, e)),
        }
    }
    Ok(())
}

/// Writes `+cpu +memory +pids` (those not yet enabled) into
/// `cgroup.subtree_control`.
fn enable_controllers(dir: &Path) -> Result<(), CgroupError> {
    let file = dir.join("cgroup.subtree_control");
    let enabled = files::read(&file)?;
    let enabled: Vec<&str> = enabled
        .split_whitespace()
        .map(|name| name.trim_start_matches('+'))
        .collect();
    let missing: Vec<String> = V2_CONTROLLERS
        .iter()
        .filter(|c| !enabled.contains(&c.name()))
        .map(|c| format!("+{c}"))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    files::write(&file, &missing.join(" "))
}
// ANCHOR_END: create_v2
