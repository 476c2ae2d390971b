//! `k8s-mini reset`: clean up after runs that crashed.
//!
//! Everything k8s-mini makes on the host carries an instance name: the
//! containers' directories (`<data-dir>/containers/<instance>/`), the pods'
//! (`<data-dir>/pods/<instance>/`), the cgroups (`k8s-mini-<instance>/`),
//! the pod network's bridge and veths and the Service proxy's interface
//! (named after it in their alias) and its address allocations
//! (`<data-dir>/networks/<instance>/`). Mounts live in the containers' own
//! mount namespaces and vanish with them. An instance whose processes are
//! all gone (none carries its name, none is in its cgroups, no `k8s-mini
//! proxy` holds its lock) left the rest behind; this removes it. An instance that is being created at this very
//! moment may look dead: run it when no cluster is starting, or name the
//! instance.

use std::collections::BTreeSet;
use std::path::Path;

use crate::chapters::cgroups::{CgroupName, Cgroups, Controller};
use crate::chapters::filesystem::remove_tree;
use crate::chapters::pods::network;

#[derive(Debug, clap::Args)]
pub struct ResetArgs {
    /// Only this instance [default: every instance with no live process]
    #[arg(long)]
    instance: Option<String>,
    /// Say what would be removed, remove nothing
    #[arg(long)]
    dry_run: bool,
}

/// Removes what a dead run of `instance` left (the node agent does it
/// when it starts again with no pod left to adopt: chapter 08).
pub fn reset_instance(instance: &str, data_dir: &Path) -> anyhow::Result<i32> {
    let args = ResetArgs {
        instance: Some(instance.to_string()),
        dry_run: false,
    };
    run(args, data_dir)
}

pub fn run(args: ResetArgs, data_dir: &Path) -> anyhow::Result<i32> {
    let containers = data_dir.join("containers");
    let cgroups = Cgroups::detect().ok();
    let pods = data_dir.join("pods");
    let mut instances: BTreeSet<String> = names_in(&containers).into_iter().collect();
    instances.extend(names_in(&pods));
    match network::instances(data_dir, None) {
        Ok(found) => instances.extend(found),
        Err(error) => eprintln!("k8s-mini: cannot look for pod networks: {error}"),
    }
    if let Some(root) = cgroups.as_ref().and_then(cgroup_root) {
        instances.extend(
            names_in(&root)
                .into_iter()
                .filter_map(|name| name.strip_prefix("k8s-mini-").map(String::from)),
        );
    }
    if let Some(only) = &args.instance {
        instances.retain(|name| name == only);
    }
    let mut removed = 0;
    for instance in instances {
        let cgroup_dir = cgroups
            .as_ref()
            .and_then(cgroup_root)
            .map(|root| root.join(format!("k8s-mini-{instance}")));
        if is_alive(&instance)
            || crate::proxy::running(&instance, data_dir)
            || cgroup_dir.as_deref().is_some_and(holds_processes)
        {
            println!("{instance}: still running, kept");
            continue;
        }
        for dir in [containers.join(&instance), pods.join(&instance)] {
            if dir.exists() {
                println!("{instance}: remove {}", dir.display());
                if !args.dry_run {
                    remove_tree(&dir)?;
                }
                removed += 1;
            }
        }
        if let Ok(left) = network::leftovers(&instance, data_dir, None)
            && !left.is_empty()
        {
            for interface in &left.interfaces {
                println!("{instance}: remove network interface {interface}");
            }
            if let Some(dir) = &left.ipam_dir {
                println!("{instance}: remove address allocations {}", dir.display());
            }
            if !args.dry_run {
                network::remove_leftovers(&instance, data_dir, None)?;
            }
            removed += left.interfaces.len() + usize::from(left.ipam_dir.is_some());
        }
        if let (Some(cgroups), Ok(name)) = (&cgroups, CgroupName::instance(&instance))
            && cgroups.exists(&name)
        {
            println!("{instance}: remove cgroup {}", name.as_path().display());
            if !args.dry_run {
                cgroups.remove(&name)?;
            }
            removed += 1;
        }
    }
    println!(
        "{removed} thing(s) {}",
        if args.dry_run {
            "would be removed"
        } else {
            "removed"
        }
    );
    Ok(0)
}

/// Where instance cgroups are: the memory hierarchy's root (v1) or the
/// unified root (v2).
fn cgroup_root(cgroups: &Cgroups) -> Option<std::path::PathBuf> {
    cgroups.mount(Controller::Memory).map(Path::to_path_buf)
}

/// Whether a cgroup or any cgroup below it has a process in it: someone
/// is still using the instance, even without k8s-mini's init programs.
fn holds_processes(dir: &Path) -> bool {
    let own = std::fs::read_to_string(dir.join("cgroup.procs"))
        .is_ok_and(|procs| !procs.trim().is_empty());
    own || names_in(dir)
        .iter()
        .any(|child| holds_processes(&dir.join(child)))
}

fn names_in(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .filter(|entry| entry.file_type().is_ok_and(|kind| kind.is_dir()))
                .map(|entry| entry.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// An instance lives while one of its processes does: the init programs
/// carry `"instance":"<name>"` in their environment, and `k8s-mini run`'s
/// instances are named after its own pid.
fn is_alive(instance: &str) -> bool {
    if let Some(pid) = instance
        .strip_prefix("run-")
        .and_then(|pid| pid.parse::<i32>().ok())
        && nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None).is_ok()
    {
        return true;
    }
    let marker = format!("\"instance\":\"{instance}\"");
    std::fs::read_dir("/proc")
        .map(|entries| {
            entries.flatten().any(|entry| {
                std::fs::read(entry.path().join("environ")).is_ok_and(|environ| {
                    environ
                        .windows(marker.len())
                        .any(|window| window == marker.as_bytes())
                })
            })
        })
        .unwrap_or(false)
}
