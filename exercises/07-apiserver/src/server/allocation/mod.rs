// Generated from solutions/07-apiserver/src/server/allocation/mod.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
//! ClusterIPs and NodePorts: the server hands each Service an address from
//! the service CIDR and, for NodePort and LoadBalancer Services, a port
//! from the NodePort range, never one that another Service holds.
//!
//! Kubernetes does this in the Service REST storage (`pkg/registry/core/
//! service/storage/alloc.go`) with bitmaps kept in etcd, and a repair
//! controller that rebuilds them from the Services. Here the pools live in
//! memory and are rebuilt from the stored Services whenever the server
//! starts, so the store stays the single source of truth and a `kill -9`
//! loses nothing. A write takes what it needs in a [`Claim`] *before* it
//! goes to the store (under the pools' lock, so two concurrent creates
//! cannot get the same address), and gives it back if the write fails;
//! what an update or a delete no longer needs is freed once the store has
//! the change.
//!
//! - [`range`]: the ranges and the pool that picks free members.
//! - [`service`]: what a Service needs, and how an update keeps it.

mod range;
mod service;

pub use range::{Ipv4Cidr, PortRange, RangeError};
pub use service::{drop_type_dependent_fields, patch_allocated_values};

use std::net::Ipv4Addr;
use std::sync::{Mutex, MutexGuard};

use objects::resource::{Object, SERVICE};
use objects::service::Service;
use objects::{ErrorList, FieldError, Path, Status};
use serde_json::json;

use super::errors::{ApiError, ApiResult};
use super::objects::from_entry;
use super::paths::prefix;
use crate::store::Store;
use range::{Pool, Refusal};
use service::{needs_node_ports, node_ports, requested_ip, wants_allocated_ip};

/// The pools of one server.
pub struct Allocator {
    cidr: Ipv4Cidr,
    ports: PortRange,
    pools: Mutex<Pools>,
}

struct Pools {
    ips: Pool,
    ports: Pool,
}

/// A member of one of the pools.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Item {
    Ip(u32),
    Port(u32),
}

impl Allocator {
    pub fn new(cidr: Ipv4Cidr, ports: PortRange) -> Allocator {
        Allocator {
            cidr,
            ports,
            pools: Mutex::new(Pools {
                ips: cidr.pool(),
                ports: ports.pool(),
            }),
        }
    }

    /// The pools hold plain numbers, and every change to them is whole
    /// before the guard drops: a panic elsewhere leaves them consistent.
    fn lock(&self) -> MutexGuard<'_, Pools> {
        self.pools
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Marks what the stored Services hold, as Kubernetes' repair
    /// controllers do; returns what looks wrong (an address outside the
    /// range, one held twice), for the operator to fix.
    pub fn recover(&self, store: &Store) -> Vec<String> {
        let mut problems = Vec::new();
        let mut pools = self.lock();
        for (key, entry) in store.list(&prefix(&SERVICE, None)).0 {
            let Object::Service(service) = from_entry(&SERVICE, &entry) else {
                continue;
            };
            let name = format!(
                "{}/{}",
                service.metadata.namespace(),
                service.metadata.name()
            );
            if let Some(ip) = requested_ip(&service.spec) {
                match ip.parse().ok().and_then(|ip| self.cidr.index_of(ip)) {
                    Some(index) => {
                        if let Err(Refusal::Taken) = pools.ips.take(index, &key) {
                            problems.push(format!(
                                "the ClusterIP {ip} of Service {name} is also held by {}",
                                pools.ips.owner(index).unwrap_or_default()
                            ));
                        }
                    }
                    None => problems.push(format!(
                        "the ClusterIP {ip} of Service {name} is not within the service CIDR {}; recreate the Service",
                        self.cidr
                    )),
                }
            }
            for port in node_ports(&service.spec) {
                match self.ports.index_of(port) {
                    Some(index) => {
                        if let Err(Refusal::Taken) = pools.ports.take(index, &key) {
                            problems.push(format!(
                                "the NodePort {port} of Service {name} is also held by {}",
                                pools.ports.owner(index).unwrap_or_default()
                            ));
                        }
                    }
                    None => problems.push(format!(
                        "the NodePort {port} of Service {name} is not within the NodePort range {}",
                        self.ports
                    )),
                }
            }
        }
        problems
    }

    /// Takes what a new object (stored at `key`) needs, filling in its
    /// ClusterIP and node ports; only Services need anything.
    pub fn claim_create(&self, key: &str, object: &mut Object) -> ApiResult<Claim<'_>> {
        match object {
            Object::Service(service) => self.claim(key, service, None),
            _ => Ok(Claim::new(self, key)),
        }
    }

    /// Takes what an update needs beyond what the stored version holds;
    /// what it no longer needs is freed when the claim is committed.
    pub fn claim_update(&self, key: &str, new: &mut Object, old: &Object) -> ApiResult<Claim<'_>> {
        match (new, old) {
            (Object::Service(new), Object::Service(old)) => self.claim(key, new, Some(old)),
            _ => Ok(Claim::new(self, key)),
        }
    }

    /// Frees what a deleted object (it was at `key`) held.
    pub fn release(&self, key: &str, object: &Object) {
        if let Object::Service(service) = object {
            let mut claim = Claim::new(self, key);
            claim.freed = self.held(service);
            claim.commit();
        }
    }

    /// The members a stored Service holds.
    fn held(&self, service: &Service) -> Vec<Item> {
        let ip = requested_ip(&service.spec)
            .and_then(|ip| ip.parse().ok())
            .and_then(|ip| self.cidr.index_of(ip))
            .map(Item::Ip);
        let ports = node_ports(&service.spec)
            .into_iter()
            .filter_map(|port| self.ports.index_of(port))
            .map(Item::Port);
        ip.into_iter().chain(ports).collect()
    }

    fn claim(&self, key: &str, new: &mut Service, old: Option<&Service>) -> ApiResult<Claim<'_>> {
        let mut claim = Claim::new(self, key);
        let name = new.metadata.name().to_string();
        let invalid =
            |field: FieldError| ApiError::invalid(&SERVICE, &name, &ErrorList(vec![field]));
        // Declared after the claim, so dropped before it: a claim given up
        // on an error locks the pools to roll back.
        let mut pools = self.lock();
        let old_ip = old.and_then(|old| requested_ip(&old.spec));
        if wants_allocated_ip(&new.spec) {
            let index = pools
                .ips
                .take_any(key, random())
                .map_err(|_| internal("failed to allocate a serviceIP: range is full"))?;
            claim.taken.push(Item::Ip(index));
            let ip = self.cidr.at_index(index).to_string();
            new.spec.cluster_ip = Some(ip.clone());
            new.spec.cluster_ips = vec![ip];
        } else if let Some(ip) = requested_ip(&new.spec).filter(|ip| Some(*ip) != old_ip) {
            let refused = |reason: String| {
                let field = Path::new("spec").child("clusterIPs");
                invalid(FieldError::invalid(
                    &field,
                    &json!(new.spec.cluster_ips),
                    &format!("failed to allocate IP {ip}: {reason}"),
                ))
            };
            let index = ip
                .parse::<Ipv4Addr>()
                .ok()
                .and_then(|address| self.cidr.index_of(address))
                .ok_or_else(|| {
                    refused(format!(
                        "the provided IP ({ip}) is not in the valid range. The range of valid IPs is {}",
                        self.cidr
                    ))
                })?;
            pools
                .ips
                .take(index, key)
                .map_err(|_| refused("provided IP is already allocated".into()))?;
            claim.taken.push(Item::Ip(index));
        }
        if let Some(old_ip) = old_ip.filter(|ip| requested_ip(&new.spec) != Some(*ip))
            && let Some(index) = old_ip.parse().ok().and_then(|ip| self.cidr.index_of(ip))
        {
            claim.freed.push(Item::Ip(index));
        }
        let held = old.map(|old| node_ports(&old.spec)).unwrap_or_default();
        if needs_node_ports(&new.spec) {
            // Requested ports first, so that a dynamic pick cannot take one.
            for (i, port) in new.spec.ports.iter().enumerate() {
                let Some(node_port) = port.node_port.filter(|p| *p != 0) else {
                    continue;
                };
                let index = self.ports.index_of(node_port);
                if held.contains(&node_port)
                    || index.is_some_and(|index| claim.taken.contains(&Item::Port(index)))
                {
                    continue;
                }
                let field = Path::new("spec").child("ports").index(i).child("nodePort");
                let index = index.ok_or_else(|| {
                    let reason = format!(
                        "provided port is not in the valid range. The range of valid ports is {}",
                        self.ports
                    );
                    invalid(FieldError::invalid(&field, node_port, &reason))
                })?;
                pools.ports.take(index, key).map_err(|_| {
                    let reason = "provided port is already allocated";
                    invalid(FieldError::invalid(&field, node_port, reason))
                })?;
                claim.taken.push(Item::Port(index));
            }
            for i in 0..new.spec.ports.len() {
                if new.spec.ports[i].node_port.unwrap_or(0) != 0 {
                    continue;
                }
                // A port number served over two protocols (DNS: 53/UDP and
                // 53/TCP) gets one node port for both.
                let number = new.spec.ports[i].port;
                let shared = new
                    .spec
                    .ports
                    .iter()
                    .find_map(|p| p.node_port.filter(|n| p.port == number && *n != 0));
                let node_port = match shared {
                    Some(shared) => shared,
                    None => {
                        let index = pools.ports.take_any(key, random()).map_err(|_| {
                            internal("failed to allocate a nodePort: range is full")
                        })?;
                        claim.taken.push(Item::Port(index));
                        self.ports.at_index(index)
                    }
                };
                new.spec.ports[i].node_port = Some(node_port);
            }
        }
        let kept = node_ports(&new.spec);
        claim.freed.extend(
            held.difference(&kept)
                .filter_map(|port| self.ports.index_of(*port))
                .map(Item::Port),
        );
        Ok(claim)
    }
}

/// What one write took from the pools and what it frees. Dropped without
/// [`Claim::commit`] (the write failed, or was a dry run), it gives back
/// what it took and frees nothing.
#[must_use = "a claim that is not committed is rolled back when dropped"]
pub struct Claim<'a> {
    allocator: &'a Allocator,
    owner: String,
    taken: Vec<Item>,
    freed: Vec<Item>,
    settled: bool,
}

impl<'a> Claim<'a> {
    fn new(allocator: &'a Allocator, owner: &str) -> Claim<'a> {
        Claim {
            allocator,
            owner: owner.to_string(),
            taken: Vec::new(),
            freed: Vec::new(),
            settled: false,
        }
    }

    /// The write is stored: keep what was taken, free what is no longer held.
    pub fn commit(mut self) {
        let freed = std::mem::take(&mut self.freed);
        self.give_back(&freed);
        self.settled = true;
    }

    fn give_back(&self, items: &[Item]) {
        if items.is_empty() {
            return;
        }
        let mut pools = self.allocator.lock();
        for item in items {
            match *item {
                Item::Ip(index) => pools.ips.release(index, &self.owner),
                Item::Port(index) => pools.ports.release(index, &self.owner),
            }
        }
    }
}

impl Drop for Claim<'_> {
    fn drop(&mut self) {
        if !self.settled {
            let taken = std::mem::take(&mut self.taken);
            self.give_back(&taken);
        }
    }
}

/// 500, as Kubernetes answers a full range: nothing the client can fix.
fn internal(message: &str) -> ApiError {
    ApiError::of(Status::internal_error(message))
}

/// Where a dynamic pick starts scanning.
fn random() -> u32 {
    let bytes = uuid::Uuid::new_v4().into_bytes();
    u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])
}
