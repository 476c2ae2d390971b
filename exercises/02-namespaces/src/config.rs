// Generated from solutions/02-namespaces/src/config.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
use std::collections::BTreeMap;
use std::path::PathBuf;

use nix::sched::CloneFlags;
use serde::{Deserialize, Serialize};

/// One kind of namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Namespace {
    /// Process ids: the container's first process is PID 1 and sees only
    /// its descendants.
    Pid,
    /// Hostname and domain name.
    Uts,
    /// System V IPC objects and POSIX message queues.
    Ipc,
    /// The mount table: mounts made inside stay inside.
    Mount,
    /// Network devices, addresses, routes, ports: starts with a lone,
    /// down loopback device.
    Network,
    /// User and group ids: root inside can be an ordinary user outside.
    User,
    /// The cgroup tree: the container's own cgroup looks like the root, so
    /// `/proc/self/cgroup` shows `/` and no host path. Created after the
    /// container has joined its cgroups, which then become its root.
    Cgroup,
}

impl Namespace {
    /// Every namespace a container gets, user aside (that one depends on who
    /// runs it).
    pub const CONTAINER: [Namespace; 6] = [
        Namespace::Pid,
        Namespace::Uts,
        Namespace::Ipc,
        Namespace::Mount,
        Namespace::Network,
        Namespace::Cgroup,
    ];
}

// ANCHOR: clone_flags
/// The `CLONE_NEW*` flags that `unshare(2)` takes for these namespaces.
pub fn clone_flags(namespaces: &[Namespace]) -> CloneFlags {
    todo!("exercise 1: the `CloneFlags` that ask unshare(2) for exactly these namespaces")
}
// ANCHOR_END: clone_flags

/// One range of ids mapped into a user namespace: ids `inside ..
/// inside + count` in the namespace are `outside .. outside + count` on the
/// host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdMapping {
    pub inside: u32,
    pub outside: u32,
    pub count: u32,
}

/// How a container is isolated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Isolation {
    /// The namespaces to create, the user namespace excepted.
    pub namespaces: Vec<Namespace>,
    /// Namespaces to enter instead of creating them: another process's,
    /// as `/proc/<pid>/ns/<kind>` files. This is how the containers of a
    /// pod share the network of its sandbox, and how `exec` gets into a
    /// running container.
    #[serde(default)]
    pub join: Vec<(Namespace, PathBuf)>,
    /// With a mapping, a user namespace is created first and these ids are
    /// mapped (rootless use: the caller becomes root inside).
    pub user: Option<(IdMapping, IdMapping)>,
    /// The hostname inside (needs the UTS namespace); the container's name
    /// when `None`.
    pub hostname: Option<String>,
    /// `cgroup.procs` files that the init program writes itself into before
    /// anything else, so that everything it starts is accounted there.
    pub cgroup_procs: Vec<PathBuf>,
}

impl Isolation {
    /// Every container namespace; a user namespace only when `rootless`.
    pub fn container(rootless: bool) -> Isolation {
        let user = rootless.then(|| {
            let uid = nix::unistd::geteuid().as_raw();
            let gid = nix::unistd::getegid().as_raw();
            (
                IdMapping {
                    inside: 0,
                    outside: uid,
                    count: 1,
                },
                IdMapping {
                    inside: 0,
                    outside: gid,
                    count: 1,
                },
            )
        });
        Isolation {
            namespaces: Namespace::CONTAINER.to_vec(),
            join: Vec::new(),
            user,
            hostname: None,
            cgroup_procs: Vec::new(),
        }
    }

    /// Whether the namespace is created (not joined).
    pub fn has(&self, namespace: Namespace) -> bool {
        self.namespaces.contains(&namespace)
    }

    /// Enters `namespace` from `path` instead of creating it.
    pub fn join(mut self, namespace: Namespace, path: impl Into<PathBuf>) -> Isolation {
        self.namespaces.retain(|created| *created != namespace);
        self.join.push((namespace, path.into()));
        self
    }
}

/// Everything the init program needs, passed to it as JSON in an
/// environment variable (it is small, and the environment survives exec).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerConfig {
    /// The container's name.
    pub name: String,
    /// The cluster instance it belongs to; it names what the container
    /// creates on the host, so parallel clusters and tests never collide.
    pub instance: String,
    pub isolation: Isolation,
    /// The application: program, arguments, environment, working directory.
    pub command: String,
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
    pub working_dir: PathBuf,
    /// What later chapters add (a root filesystem, say), by chapter; read
    /// by their [`Extension`](crate::Extension).
    #[serde(default)]
    pub extensions: BTreeMap<String, serde_json::Value>,
    /// When set, the first process is the container's shim: it holds the
    /// application's output and exit status itself, so that the container
    /// outlives the agent that started it (see [`Shim`](crate::Shim)).
    #[serde(default)]
    pub shim: Option<crate::Shim>,
}
