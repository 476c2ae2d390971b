// Generated from solutions/05-pods/src/network/mod.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
//! The pod network: a bridge per node, a veth pair per pod, host-local IPAM.
//!
//! This is what CNI's `bridge` and `host-local` plugins do for a real
//! kubelet, in one module:
//!
//! ```text
//!   node network namespace                      pod network namespaces
//!  ┌───────────────────────────────────┐       ┌──────────────────────┐
//!  │ bridge kmbr-<tag>  10.244.0.1/24  │       │ eth0  10.244.0.2/24  │
//!  │   ├── kmv<tag><pod a> ════════════════════╡ routes: 10.244.0.0/16│
//!  │   └── kmv<tag><pod b> ═════════╗  │       │ and 10.96.0.0/16     │
//!  └───────────────────────────────────┘║      │ via 10.244.0.1       │
//!                                       ║       └──────────────────────┘
//!                                       ╚═════ eth0 10.244.0.3/24 (pod b)
//! ```
//!
//! [`NodeNetwork::ensure`] makes the bridge, [`NodeNetwork::attach`] plugs
//! a pod in, [`NodeNetwork::detach`] unplugs it, [`NodeNetwork::remove`]
//! takes the node's network down. The addresses are handed out by
//! [`Ipam`], which keeps them on disk so that an agent that restarts never
//! gives out an address twice. Everything is configured over netlink
//! ([`netlink`]), the kernel's own interface for it.
//!
//! Nothing here forwards, masquerades or routes toward the host's real
//! interfaces: pods reach each other and the node, and nothing else.

mod error;
mod ipam;
mod names;
pub mod netlink;
mod netns;
mod node;
mod reset;
mod subnet;

pub use error::NetworkError;
pub use ipam::{Ipam, claim};
pub use names::{
    ALIAS_PREFIX, MAX_ALIAS, MAX_INTERFACE_NAME, alias_instance, bridge_alias, bridge_name,
    dummy_name, host_veth_name, veth_alias,
};
pub use netns::Namespace;
pub use node::{NodeConfig, NodeNetwork, POD_INTERFACE, PodAddress, Route, ipam_dir, pod_routes};
pub use reset::{Leftovers, instances, leftovers, remove_leftovers};
pub use subnet::{CidrError, Subnet, mask};
