//! Host-local IP address management: which pod has which address of the
//! node's pod CIDR, kept on disk.
//!
//! Like CNI's host-local plugin, the allocator keeps one file per allocated
//! address in a directory, named after the address and holding the owner's
//! id. A file is created with O_EXCL (`create_new`): the kernel creates it
//! only if no file of that name exists, atomically, so two allocators (two
//! threads, two agents, an agent and its restarted self) can never both
//! get an address. Nothing else needs locking: the state is the directory.
//!
//! The files are not fsynced. They must outlive a restart of the agent,
//! which the page cache guarantees; a reboot of the machine ends every pod
//! and every network namespace, and `k8s-mini reset` clears what is left.

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Write};
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use super::error::NetworkError;
use super::subnet::Subnet;

/// Where the last handed out address is noted, so that the next one
/// starts after it (see [`Subnet::candidates`]). Only a hint: losing it
/// costs nothing but the round robin.
const LAST_RESERVED: &str = "last_reserved_ip";

/// The allocations of one pod CIDR, in one directory.
#[derive(Debug, Clone)]
pub struct Ipam {
    dir: PathBuf,
    subnet: Subnet,
}

impl Ipam {
    /// Opens (creating if need be) the allocations in `dir`.
    pub fn open(dir: &Path, subnet: Subnet) -> Result<Ipam, NetworkError> {
        fs::create_dir_all(dir).map_err(NetworkError::ipam(dir))?;
        Ok(Ipam {
            dir: dir.to_path_buf(),
            subnet,
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn subnet(&self) -> Subnet {
        self.subnet
    }

    /// Gives `owner` a free address: the first of
    /// [`Subnet::candidates`] that [`claim`] wins.
    pub fn allocate(&self, owner: &str) -> Result<Ipv4Addr, NetworkError> {
        let last = fs::read_to_string(self.dir.join(LAST_RESERVED))
            .ok()
            .and_then(|text| text.trim().parse().ok());
        for ip in self.subnet.candidates(last) {
            if claim(&self.dir, ip, owner)
                .map_err(NetworkError::ipam(self.dir.join(ip.to_string())))?
            {
                // A hint only: a failed write costs nothing but the order.
                let _ = fs::write(self.dir.join(LAST_RESERVED), format!("{ip}\n"));
                return Ok(ip);
            }
        }
        Err(NetworkError::Exhausted {
            subnet: self.subnet,
            capacity: self.subnet.pod_capacity(),
        })
    }

    /// Every allocation: address and owner.
    pub fn allocations(&self) -> Result<BTreeMap<Ipv4Addr, String>, NetworkError> {
        let mut found = BTreeMap::new();
        let entries = match fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(found),
            Err(error) => return Err(NetworkError::ipam(&self.dir)(error)),
        };
        for entry in entries {
            let entry = entry.map_err(NetworkError::ipam(&self.dir))?;
            let Some(ip) = entry
                .file_name()
                .to_str()
                .and_then(|name| name.parse().ok())
            else {
                continue; // the hint, or a stranger
            };
            match fs::read_to_string(entry.path()) {
                Ok(text) => {
                    found.insert(ip, text.lines().next().unwrap_or("").to_string());
                }
                // Released meanwhile.
                Err(error) if error.kind() == io::ErrorKind::NotFound => {}
                Err(error) => return Err(NetworkError::ipam(entry.path())(error)),
            }
        }
        Ok(found)
    }

    /// The address `owner` holds, if any.
    pub fn address_of(&self, owner: &str) -> Result<Option<Ipv4Addr>, NetworkError> {
        Ok(self
            .allocations()?
            .into_iter()
            .find_map(|(ip, holder)| (holder == owner).then_some(ip)))
    }

    /// Frees every address `owner` holds; returns them. Releasing what is
    /// not held is no error (teardown must be repeatable).
    pub fn release(&self, owner: &str) -> Result<Vec<Ipv4Addr>, NetworkError> {
        let mut released = Vec::new();
        for (ip, holder) in self.allocations()? {
            if holder == owner {
                let path = self.dir.join(ip.to_string());
                match fs::remove_file(&path) {
                    Ok(()) => released.push(ip),
                    Err(error) if error.kind() == io::ErrorKind::NotFound => {}
                    Err(error) => return Err(NetworkError::ipam(path)(error)),
                }
            }
        }
        Ok(released)
    }
}

// ANCHOR: claim
/// Tries to take `ip` for `owner`: creates the file `dir/<ip>` holding the
/// owner's id and a newline, only if it does not exist yet (O_EXCL).
/// `Ok(false)` when the address is already someone's.
pub fn claim(dir: &Path, ip: Ipv4Addr, owner: &str) -> io::Result<bool> {
    // exercise 7: take `ip` for `owner` unless someone already has it: Ok(true) if taken now, Ok(false) if it was someone's
    // hint: Two pods may ask for the same address at the same moment, from two processes. The file system can decide atomically who was first: creating a file that must not exist yet either works or fails, never both.
    // hint: OpenOptions with write(true) and create_new(true) is open(2) with O_CREAT|O_EXCL: it fails with ErrorKind::AlreadyExists when the file is there. The file `dir/<ip>` holds the owner and a newline; if writing it fails, remove it, or the address is held for nobody forever.
    // hint: path = dir.join(ip.to_string()); match OpenOptions::new().write(true).create_new(true).open(&path): AlreadyExists → Ok(false), other errors → Err; then file.write_all(format!("{owner}\n").as_bytes()), on error fs::remove_file(&path) and return the error; Ok(true).
    let path = dir.join(ip.to_string());
    let mut file = match fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
    {
        Ok(file) => file,
        Err(error) if error.kind() == io::ErrorKind::AlreadyExists => return Ok(false),
        Err(error) => return Err(error),
    };
    if let Err(error) = file.write_all(format!("{owner}\n").as_bytes()) {
        // An empty file would hold the address for nobody, forever.
        let _ = fs::remove_file(&path);
        return Err(error);
    }
    Ok(true)
}
// ANCHOR_END: claim
