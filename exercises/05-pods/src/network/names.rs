// Generated from solutions/05-pods/src/network/names.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
//! The names and aliases of the interfaces the pod network creates.
//!
//! Linux limits an interface name to 15 bytes (IFNAMSIZ 16, with the NUL),
//! too short for an instance name and a pod id. So a name carries short
//! tags, hashes of the instance and of the pod, and the interface's alias
//! (`/sys/class/net/<name>/ifalias`, up to 255 bytes) carries the full
//! names: `k8s-mini/<instance>` on the bridge,
//! `k8s-mini/<instance>/<pod id>` on a pod's veth. The alias is what the
//! leak checker and `k8s-mini reset` look for, and what tells an interface
//! of ours from a stranger's that happens to have the same name.

/// The longest interface name Linux accepts.
pub const MAX_INTERFACE_NAME: usize = 15;
/// The longest alias Linux accepts (IFALIASZ 256, with the NUL).
pub const MAX_ALIAS: usize = 255;
/// What every alias of ours starts with.
pub const ALIAS_PREFIX: &str = "k8s-mini/";

/// A 64-bit hash of `text` that is the same on every machine and every
/// Rust version (std's hasher promises neither), which matters because the
/// names made from it must be found again after a restart: FNV-1a, whose
/// bits are then stirred by MurmurHash3's finalizer (FNV alone leaves
/// `pod-a` and `pod-b` differing in a few bits only).
fn hash(text: &str) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in text.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash ^= hash >> 33;
    hash = hash.wrapping_mul(0xff51_afd7_ed55_8ccd);
    hash ^= hash >> 33;
    hash = hash.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    hash ^ (hash >> 33)
}

/// Six hex digits standing for `text`.
fn tag(text: &str) -> String {
    format!("{:06x}", hash(text) >> 40)
}

/// The node's bridge: `kmbr-` and the instance's tag (11 bytes).
pub fn bridge_name(instance: &str) -> String {
    format!("kmbr-{}", tag(instance))
}

/// The Service proxy's dummy interface, which holds the ClusterIPs:
/// `kmsvc-` and the instance's tag (12 bytes). Its alias is
/// [`bridge_alias`]'s, `k8s-mini/<instance>`, so that `k8s-mini reset`
/// finds it as it finds a bridge.
pub fn dummy_name(instance: &str) -> String {
    format!("kmsvc-{}", tag(instance))
}

/// A pod's end of its veth pair on the node: `kmv`, the instance's tag
/// and the pod's tag (15 bytes). Derived from the pod id, so that the
/// interface is found again to remove it, even after a restart of the
/// agent and even when the pod's namespace is already gone.
pub fn host_veth_name(instance: &str, pod_id: &str) -> String {
    format!("kmv{}{}", tag(instance), tag(pod_id))
}

pub fn bridge_alias(instance: &str) -> String {
    format!("{ALIAS_PREFIX}{instance}")
}

pub fn veth_alias(instance: &str, pod_id: &str) -> String {
    format!("{ALIAS_PREFIX}{instance}/{pod_id}")
}

/// The instance an alias of ours names, if it is one.
pub fn alias_instance(alias: &str) -> Option<&str> {
    let rest = alias.strip_prefix(ALIAS_PREFIX)?;
    let instance = rest.split('/').next()?;
    (!instance.is_empty()).then_some(instance)
}
