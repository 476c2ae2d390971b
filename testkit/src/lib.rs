//! Helpers that every chapter suite from 02 on shares.
//!
//! Everything the runtime creates on the host carries the cluster's
//! instance name. Giving every test its own instance name keeps parallel
//! tests apart, and lets [`LeakCheck`] find exactly what one test left
//! behind.

mod devices;
mod events;
mod kubectl;
mod leaks;
mod network;
mod text;

pub use devices::{HostBlockDevice, openable_block_device};
pub use events::{LOG_WAIT, all_events, report, timeline, wait_for_log};
pub use kubectl::run_kubectl;
pub use leaks::{LeakCheck, Leaks};
pub use network::free_subnet;
pub use text::{TEST_LIMIT, guard, is_rfc3339_nanos, merge_json, readable_log, redact};

use std::sync::atomic::{AtomicU32, Ordering};

/// A fresh instance name, unique on this machine for as long as this
/// process lives: `<prefix>-<pid>-<n>`.
pub fn unique_instance(prefix: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("{prefix}-{}-{n}", std::process::id())
}

/// A kubeconfig that points kubectl (or any Kubernetes client) at `server`,
/// with no credentials, in the `default` namespace.
pub fn kubeconfig(server: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n    server: {server}\n  name: lab\ncontexts:\n- context:\n    cluster: lab\n    user: lab\n    namespace: default\n  name: lab\ncurrent-context: lab\nusers:\n- name: lab\n  user: {{}}\n"
    )
}

/// How a skipping test's line starts; `cargo workshop` looks for it.
pub const SKIP_PREFIX: &str = "k8s-mini-skip: ";

/// Marks the calling test as skipped, for want of something this machine
/// lacks: prints `k8s-mini-skip: <reason>`, which `cargo workshop check`
/// shows as "skipped: reason" (not as a pass), and which makes `verify` fail
/// when it runs as root, where every test must run. The test returns right
/// after: `if !testkit::is_root() { return testkit::skip("needs root"); }`.
pub fn skip(reason: &str) {
    // eprintln! goes through libtest's capture, which `--show-output` shows.
    eprintln!("{SKIP_PREFIX}{reason}");
}

/// True when running as root (uid 0).
pub fn is_root() -> bool {
    // /proc/self/status has "Uid: real effective saved fs".
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|line| line.starts_with("Uid:"))
                .and_then(|line| line.split_whitespace().nth(2).map(|uid| uid == "0"))
        })
        .unwrap_or(false)
}
