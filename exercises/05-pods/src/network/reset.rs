// Generated from solutions/05-pods/src/network/reset.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
//! Finding and removing what an instance's pod network left behind, for
//! `k8s-mini reset` after a crash: the interfaces whose alias names the
//! instance (its bridge and pod veths) and its IPAM directory.

use std::collections::BTreeSet;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use super::error::NetworkError;
use super::names;
use super::netlink::{Link, Socket};
use super::netns::Namespace;
use super::node::{self, ipam_dir};

/// What an instance's pod network has on this machine.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Leftovers {
    /// Interface names, the pods' veths before the bridge.
    pub interfaces: Vec<String>,
    pub ipam_dir: Option<PathBuf>,
}

impl Leftovers {
    pub fn is_empty(&self) -> bool {
        self.interfaces.is_empty() && self.ipam_dir.is_none()
    }
}

/// What `instance` left in the network namespace `netns` (`None`: the
/// caller's) and under `data_dir`.
pub fn leftovers(
    instance: &str,
    data_dir: &Path,
    netns: Option<&Path>,
) -> Result<Leftovers, NetworkError> {
    let mut socket = open(netns)?;
    let links = links_of(&mut socket, instance)?;
    let dir = ipam_dir(data_dir, instance);
    Ok(Leftovers {
        interfaces: links.into_iter().map(|link| link.name).collect(),
        ipam_dir: dir.exists().then_some(dir),
    })
}

/// Removes what [`leftovers`] finds; returns what it removed.
pub fn remove_leftovers(
    instance: &str,
    data_dir: &Path,
    netns: Option<&Path>,
) -> Result<Leftovers, NetworkError> {
    remove_with(&mut open(netns)?, instance, data_dir)
}

/// Every instance that has interfaces in `netns` or an IPAM directory
/// under `data_dir`.
pub fn instances(data_dir: &Path, netns: Option<&Path>) -> Result<BTreeSet<String>, NetworkError> {
    let mut socket = open(netns)?;
    let mut found: BTreeSet<String> = socket
        .links()
        .map_err(NetworkError::netlink("list interfaces"))?
        .iter()
        .filter_map(|link| link.alias.as_deref().and_then(names::alias_instance))
        .map(String::from)
        .collect();
    let networks = data_dir.join("networks");
    match fs::read_dir(&networks) {
        Ok(entries) => {
            for entry in entries {
                let entry = entry.map_err(NetworkError::ipam(&networks))?;
                found.insert(entry.file_name().to_string_lossy().into_owned());
            }
        }
        Err(error) if error.kind() == io::ErrorKind::NotFound => {}
        Err(error) => return Err(NetworkError::ipam(&networks)(error)),
    }
    Ok(found)
}

pub(crate) fn remove_with(
    socket: &mut Socket,
    instance: &str,
    data_dir: &Path,
) -> Result<Leftovers, NetworkError> {
    let mut removed = Leftovers::default();
    // Veths first: deleting the bridge only unplugs them.
    for link in links_of(socket, instance)? {
        node::delete(socket, &link)?;
        removed.interfaces.push(link.name);
    }
    let dir = ipam_dir(data_dir, instance);
    match fs::remove_dir_all(&dir) {
        Ok(()) => removed.ipam_dir = Some(dir),
        Err(error) if error.kind() == io::ErrorKind::NotFound => {}
        Err(error) => return Err(NetworkError::ipam(dir)(error)),
    }
    Ok(removed)
}

/// The instance's interfaces, pods' veths before the bridge.
fn links_of(socket: &mut Socket, instance: &str) -> Result<Vec<Link>, NetworkError> {
    let bridge = names::bridge_name(instance);
    let mut links: Vec<Link> = socket
        .links()
        .map_err(NetworkError::netlink("list interfaces"))?
        .into_iter()
        .filter(|link| {
            link.alias
                .as_deref()
                .and_then(names::alias_instance)
                .is_some_and(|named| named == instance)
        })
        .collect();
    links.sort_by_key(|link| (link.name == bridge, link.name.clone()));
    Ok(links)
}

fn open(netns: Option<&Path>) -> Result<Socket, NetworkError> {
    match netns {
        None => Socket::open()
            .map_err(|error| NetworkError::netlink("open a netlink socket")(error.into())),
        Some(path) => Namespace::open(path)?.socket(),
    }
}
