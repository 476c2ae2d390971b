// Generated from solutions/04-cgroups/src/cpu.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
//! CPU as Kubernetes expresses it (millicores: 1000m is one CPU) and as the
//! kernel's CFS scheduler takes it.

/// The CFS period Kubernetes uses: quotas are granted per 100 ms.
pub const CFS_PERIOD_US: u64 = 100_000;
/// The kernel refuses quotas below 1 ms; Kubernetes rounds up to it.
pub const MIN_QUOTA_US: u64 = 1_000;
/// The smallest and largest `cpu.shares` the kernel accepts.
pub const MIN_SHARES: u64 = 2;
pub const MAX_SHARES: u64 = 262_144;

/// A CPU limit as the CFS bandwidth controller takes it: in every period of
/// `period_us` microseconds, the cgroup's threads may run `quota_us`
/// microseconds in total, across all CPUs; then they wait for the next
/// period (they are *throttled*).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CpuQuota {
    pub quota_us: u64,
    pub period_us: u64,
}

// ANCHOR: cpu_quota
/// The quota for a CPU limit of `millis` millicores (more than zero): the
/// share of one CPU, times the period.
pub fn cpu_quota(millis: i64) -> CpuQuota {
    todo!("exercise 2: the CFS quota and period for a CPU limit of `millis` millicores")
}
// ANCHOR_END: cpu_quota

// ANCHOR: cpu_shares
/// The v1 `cpu.shares` for a CPU request of `millis` millicores: 1024 shares
/// per CPU, as Kubernetes computes it, kept within what the kernel accepts.
/// Shares only matter when CPUs are busy: they split contended time in
/// proportion, and cap nothing.
pub fn cpu_shares(millis: i64) -> u64 {
    let shares = (millis.max(0) as u64).saturating_mul(1024) / 1000;
    shares.clamp(MIN_SHARES, MAX_SHARES)
}
// ANCHOR_END: cpu_shares

// ANCHOR: cpu_weight
/// The v2 `cpu.weight` (1 to 10000) for v1 `shares` (2 to 262144): the
/// linear map between the two ranges that runc and the kubelet use, so a
/// request means the same on either layout.
pub fn cpu_weight(shares: u64) -> u64 {
    let shares = shares.clamp(MIN_SHARES, MAX_SHARES);
    1 + ((shares - MIN_SHARES) * 9999) / (MAX_SHARES - MIN_SHARES)
}
// ANCHOR_END: cpu_weight
