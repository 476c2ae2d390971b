// Generated from solutions/04-cgroups/src/cgroup.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
use std::collections::BTreeMap;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::devices::restrict_v1;
use crate::remove::{kill_processes, remove_tree};
use crate::{
    BpfInsn, CgroupError, CgroupName, Controller, DEFAULT_DEVICE_RULES, JoinFiles, Limits, Version,
    attach_device_program, device_program, files,
};

/// One cgroup, in every hierarchy: a container's, a pod's or an instance's.
/// Made by [`crate::Cgroups::create`] or [`crate::Cgroups::open`].
#[derive(Debug, Clone)]
pub struct Cgroup {
    name: CgroupName,
    version: Version,
    dirs: BTreeMap<Controller, PathBuf>,
    device_programs: DeviceProgramSink,
}

/// Where v2 device programs go: into the kernel, or (for a fake tree of
/// plain directories, where nothing can be attached) into a list that the
/// test reads back. See [`crate::Cgroups::record_device_programs`].
#[derive(Debug, Clone, Default)]
pub(crate) enum DeviceProgramSink {
    #[default]
    Kernel,
    Record(Arc<Mutex<Vec<RecordedProgram>>>),
}

/// A device program that a [`crate::Cgroups::record_device_programs`]
/// tree kept instead of attaching it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedProgram {
    /// The cgroup directory it would be attached to.
    pub dir: PathBuf,
    pub program: Vec<BpfInsn>,
}

/// The memory page: v1 keeps the peak usage at page granularity.
const PAGE: u64 = 4096;

impl Cgroup {
    pub(crate) fn new(
        name: CgroupName,
        version: Version,
        dirs: BTreeMap<Controller, PathBuf>,
        device_programs: DeviceProgramSink,
    ) -> Cgroup {
        Cgroup {
            name,
            version,
            dirs,
            device_programs,
        }
    }

    pub fn name(&self) -> &CgroupName {
        &self.name
    }

    pub fn version(&self) -> Version {
        self.version
    }

    /// The cgroup's directory in `controller`'s hierarchy, if that
    /// controller is available.
    pub fn dir(&self, controller: Controller) -> Option<&Path> {
        self.dirs.get(&controller).map(PathBuf::as_path)
    }

    /// Its directories, each once: one in v2, one per hierarchy in v1.
    pub fn dirs(&self) -> Vec<&Path> {
        let mut dirs: Vec<&Path> = Vec::new();
        for dir in self.dirs.values() {
            if !dirs.contains(&dir.as_path()) {
                dirs.push(dir);
            }
        }
        dirs
    }

    /// The `cgroup.procs` files, one per directory. Writing a pid into all
    /// of them moves that process into the cgroup; writing `0` moves the
    /// process that writes. A container's init stage does that itself just
    /// before it executes the application, so that not one instruction of
    /// the application runs outside its limits.
    pub fn procs_files(&self) -> Vec<PathBuf> {
        self.dirs()
            .into_iter()
            .map(|dir| dir.join("cgroup.procs"))
            .collect()
    }

    /// The `cgroup.procs` files made ready for a process that must join
    /// without allocating (a `pre_exec` hook after fork).
    pub fn join_files(&self) -> JoinFiles {
        JoinFiles::new(&self.procs_files())
    }

    /// Moves the process `pid` (all its threads) into the cgroup. Its
    /// children from now on are born inside; children it already has stay
    /// where they are.
    pub fn add_process(&self, pid: u32) -> Result<(), CgroupError> {
        for file in self.procs_files() {
            files::write(&file, &pid.to_string())?;
        }
        Ok(())
    }

    /// The processes in the cgroup, in any of its directories.
    pub fn pids(&self) -> Result<Vec<u32>, CgroupError> {
        let mut pids = Vec::new();
        for file in self.procs_files() {
            pids.extend(files::procs(&file)?);
        }
        pids.sort_unstable();
        pids.dedup();
        Ok(pids)
    }

    // ANCHOR: apply
    /// Writes `limits` (which are checked first).
    pub fn apply(&self, limits: &Limits) -> Result<(), CgroupError> {
        limits.validate()?;
        let mut refused = Vec::new();
        for write in limits.writes(self.version) {
            let path = self.file(write.controller, write.file)?;
            if write.if_present && !path.exists() {
                continue;
            }
            match files::write(&path, &write.value) {
                // The kernel keeps memory <= memory+swap at every moment, so
                // raising both must start with memsw and lowering both with
                // the memory limit. Rather than compare with the current
                // values, retry a refused write once the others are done.
                Err(CgroupError::Io { source, .. })
                    if source.raw_os_error() == Some(libc::EINVAL) =>
                {
                    refused.push(write)
                }
                other => other?,
            }
        }
        for write in refused {
            files::write(&self.file(write.controller, write.file)?, &write.value)?;
        }
        Ok(())
    }
    // ANCHOR_END: apply

    // ANCHOR: restrict_devices
    /// Gives the cgroup runc's device allow-list, [`DEFAULT_DEVICE_RULES`]:
    /// its processes may make any device node but open only the harmless
    /// ones (`/dev/null`, `/dev/zero`, terminals...), never the host's disks.
    /// v1 writes the rules into `devices.deny` and `devices.allow`; v2
    /// attaches the eBPF program made from them. [`crate::Cgroups::create`]
    /// calls it for every cgroup it makes, before any process can join.
    pub fn restrict_devices(&self) -> Result<(), CgroupError> {
        let dir = self
            .dir(Controller::Devices)
            .ok_or(CgroupError::MissingController {
                controller: Controller::Devices,
                version: self.version,
            })?
            .to_path_buf();
        match self.version {
            Version::V1 => restrict_v1(&dir, &DEFAULT_DEVICE_RULES),
            Version::V2 => {
                let program = device_program(&DEFAULT_DEVICE_RULES);
                match &self.device_programs {
                    DeviceProgramSink::Kernel => attach_device_program(&dir, &program),
                    DeviceProgramSink::Record(list) => {
                        let recorded = RecordedProgram { dir, program };
                        list.lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .push(recorded);
                        Ok(())
                    }
                }
            }
        }
    }
    // ANCHOR_END: restrict_devices

    /// How many processes of this cgroup the kernel's OOM killer has killed
    /// so far; `None` on v1 kernels that do not count (before 4.13). The
    /// count only grows: a container that restarts in the same cgroup
    /// compares it with the count at its start, where
    /// [`Cgroup::oom_killed`] would say yes for every run after the first
    /// kill.
    pub fn oom_kills(&self) -> Result<Option<u64>, CgroupError> {
        let (file, fallback) = match self.version {
            Version::V2 => ("memory.events", Some(0)),
            Version::V1 => ("memory.oom_control", None),
        };
        let text = self.read(Controller::Memory, file)?;
        Ok(files::keyed(&text, "oom_kill").or(fallback))
    }

    // ANCHOR: oom_killed
    /// True when the kernel's OOM killer killed a process of this cgroup
    /// because the cgroup hit its memory limit.
    pub fn oom_killed(&self) -> Result<bool, CgroupError> {
        todo!("exercise 5: whether the kernel's OOM killer killed a process of this cgroup")
    }
    // ANCHOR_END: oom_killed

    /// Kills every process in the cgroup and waits until they have left it.
    /// The directories stay.
    pub fn kill_all(&self) -> Result<(), CgroupError> {
        for dir in self.dirs() {
            kill_processes(dir, self.version)?;
        }
        Ok(())
    }

    /// Kills what is left and removes the cgroup (and any below it) from
    /// every hierarchy. Removing a cgroup that is already gone is fine.
    pub fn remove(&self) -> Result<(), CgroupError> {
        for dir in self.dirs() {
            remove_tree(dir, self.version)?;
        }
        Ok(())
    }

    /// True when any of its directories exists.
    pub fn exists(&self) -> bool {
        self.dirs().iter().any(|dir| dir.is_dir())
    }

    /// The path of a control file in `controller`'s directory.
    pub(crate) fn file(&self, controller: Controller, file: &str) -> Result<PathBuf, CgroupError> {
        match self.dirs.get(&controller) {
            Some(dir) => Ok(dir.join(file)),
            None => Err(CgroupError::MissingController {
                controller,
                version: self.version,
            }),
        }
    }

    /// The content of a control file.
    pub(crate) fn read(&self, controller: Controller, file: &str) -> Result<String, CgroupError> {
        files::read(&self.file(controller, file)?)
    }

    /// A control file that holds one number.
    pub(crate) fn read_u64(&self, controller: Controller, file: &str) -> Result<u64, CgroupError> {
        files::read_u64(&self.file(controller, file)?)
    }

    /// Like `read_u64`, `None` when the file does not exist (newer files
    /// such as `memory.peak`).
    pub(crate) fn read_optional_u64(
        &self,
        controller: Controller,
        file: &str,
    ) -> Result<Option<u64>, CgroupError> {
        match self.read_u64(controller, file) {
            Err(CgroupError::Io { source, .. }) if source.kind() == ErrorKind::NotFound => Ok(None),
            other => other.map(Some),
        }
    }
}
