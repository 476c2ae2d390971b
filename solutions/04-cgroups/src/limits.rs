use crate::{CFS_PERIOD_US, CgroupError, Controller, Version, cpu_quota, cpu_shares, cpu_weight};

/// The least memory limit accepted: one page. Below it no process can even
/// start, so a smaller figure is a mistake (often a unit mix-up: `64` meant
/// as MiB), not a limit.
pub const MIN_MEMORY_BYTES: u64 = 4096;
/// More than 1 EiB is no machine's memory: a typo, refused rather than
/// passed on to the kernel.
pub const MAX_MEMORY_BYTES: u64 = 1 << 60;
/// 1000 CPUs.
pub const MAX_MILLICPU: i64 = 1_000_000;
/// The kernel's own ceiling on process ids (`PID_MAX_LIMIT`).
pub const MAX_PIDS: i64 = 4_194_304;

/// What a container may use, in the units of a pod spec. `None` is "no
/// limit".
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Limits {
    /// `resources.limits.memory`: above it, the kernel reclaims and then
    /// OOM-kills.
    pub memory_bytes: Option<u64>,
    /// `resources.limits.cpu` in millicores: a hard cap (CFS quota).
    pub cpu_limit_millis: Option<i64>,
    /// `resources.requests.cpu` in millicores: a relative weight under
    /// contention. Without one, the limit stands in, as the API server
    /// defaults a missing request to the limit; without either, the least
    /// weight, as Kubernetes gives BestEffort containers.
    pub cpu_request_millis: Option<i64>,
    /// The most processes and threads at once (`pids.max`).
    pub pids_max: Option<i64>,
}

/// One file to write when applying [`Limits`], relative to the cgroup's
/// directory in the hierarchy of `controller`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitWrite {
    pub controller: Controller,
    pub file: &'static str,
    pub value: String,
    /// Write only if the file exists: `memory.memsw.limit_in_bytes` needs
    /// swap accounting, `memory.swap.max` needs swap support.
    pub if_present: bool,
}

impl LimitWrite {
    pub fn new(controller: Controller, file: &'static str, value: impl ToString) -> LimitWrite {
        LimitWrite {
            controller,
            file,
            value: value.to_string(),
            if_present: false,
        }
    }

    /// The same write, skipped when the file does not exist.
    pub fn if_present(self) -> LimitWrite {
        LimitWrite {
            if_present: true,
            ..self
        }
    }
}

impl Limits {
    /// Refuses figures that cannot be meant, naming the field, before
    /// anything is created.
    pub fn validate(&self) -> Result<(), CgroupError> {
        let invalid = |field, problem: String| Err(CgroupError::InvalidLimit { field, problem });
        if let Some(bytes) = self.memory_bytes {
            if bytes < MIN_MEMORY_BYTES {
                return invalid(
                    "memory_bytes",
                    format!(
                        "{bytes} bytes is less than one page ({MIN_MEMORY_BYTES} bytes); \
                         no process can run in that"
                    ),
                );
            }
            if bytes > MAX_MEMORY_BYTES {
                return invalid(
                    "memory_bytes",
                    format!("{bytes} bytes is more than 1 EiB, which is no machine's memory"),
                );
            }
        }
        if let Some(millis) = self.cpu_limit_millis {
            if millis <= 0 {
                return invalid(
                    "cpu_limit_millis",
                    format!(
                        "{millis} millicores would never let the container run; \
                         leave the limit out for no limit"
                    ),
                );
            }
            if millis > MAX_MILLICPU {
                return invalid(
                    "cpu_limit_millis",
                    format!(
                        "{millis} millicores is more than {} CPUs",
                        MAX_MILLICPU / 1000
                    ),
                );
            }
        }
        if let Some(millis) = self.cpu_request_millis {
            if millis < 0 {
                return invalid(
                    "cpu_request_millis",
                    format!("{millis} millicores is negative"),
                );
            }
            if millis > MAX_MILLICPU {
                return invalid(
                    "cpu_request_millis",
                    format!(
                        "{millis} millicores is more than {} CPUs",
                        MAX_MILLICPU / 1000
                    ),
                );
            }
        }
        if let Some(pids) = self.pids_max {
            if pids <= 0 {
                return invalid(
                    "pids_max",
                    format!("{pids} would not even let the container's first process start"),
                );
            }
            if pids > MAX_PIDS {
                return invalid(
                    "pids_max",
                    format!("{pids} is more than the kernel's limit of {MAX_PIDS} processes"),
                );
            }
        }
        Ok(())
    }

    /// The request that sets the CPU weight (see `cpu_request_millis`).
    pub fn effective_cpu_request(&self) -> i64 {
        self.cpu_request_millis
            .or(self.cpu_limit_millis)
            .unwrap_or(0)
    }

    // ANCHOR: writes
    /// The files to write, in order, to give a cgroup these limits (which
    /// must be valid). Every limit is written, "no limit" too, so that a
    /// cgroup that is reused ends up with exactly these limits.
    pub fn writes(&self, version: Version) -> Vec<LimitWrite> {
        // exercise 4: the files to write, in order, to give a cgroup these limits on this cgroup `version`
        // hint: Every limit is written, "no limit" too, so a reused cgroup ends up with exactly these limits. The two versions name the same limits differently: see the table in the chapter and LimitWrite's helpers (`new`, `if_present`).
        // hint: v1: memory.limit_in_bytes (and memory.memsw.limit_in_bytes when present) take bytes or -1; cpu.cfs_period_us and cpu.cfs_quota_us (-1 for none); cpu.shares; pids.max (a number or `max`). v2: memory.max (`max` for none), memory.swap.max 0 when present, cpu.max as `<quota or max> <period>`, cpu.weight, pids.max. The CPU figures come from cpu_quota, cpu_shares(self.effective_cpu_request()) and cpu_weight.
        // hint: shares = cpu_shares(self.effective_cpu_request()); pids = n or "max". V1: vec![new(Memory, "memory.limit_in_bytes", memory), new(Memory, "memory.memsw.limit_in_bytes", memory).if_present(), new(Cpu, "cpu.cfs_period_us", CFS_PERIOD_US), new(Cpu, "cpu.cfs_quota_us", quota), new(Cpu, "cpu.shares", shares), new(Pids, "pids.max", pids)]. V2: memory.max, memory.swap.max = 0 (if_present), cpu.max = "{quota} {period}" or "max {CFS_PERIOD_US}", cpu.weight = cpu_weight(shares), pids.max.
        use Controller::{Cpu, Memory, Pids};
        let shares = cpu_shares(self.effective_cpu_request());
        let pids = self.pids_max.map_or("max".to_string(), |n| n.to_string());
        match version {
            Version::V1 => {
                let memory = self
                    .memory_bytes
                    .map_or("-1".to_string(), |b| b.to_string());
                let quota = self
                    .cpu_limit_millis
                    .map_or("-1".to_string(), |m| cpu_quota(m).quota_us.to_string());
                vec![
                    LimitWrite::new(Memory, "memory.limit_in_bytes", &memory),
                    // With swap accounting, memory+swap gets the same limit,
                    // or the container could page out and carry on.
                    LimitWrite::new(Memory, "memory.memsw.limit_in_bytes", &memory).if_present(),
                    LimitWrite::new(Cpu, "cpu.cfs_period_us", CFS_PERIOD_US),
                    LimitWrite::new(Cpu, "cpu.cfs_quota_us", quota),
                    LimitWrite::new(Cpu, "cpu.shares", shares),
                    LimitWrite::new(Pids, "pids.max", pids),
                ]
            }
            Version::V2 => {
                let memory = self
                    .memory_bytes
                    .map_or("max".to_string(), |b| b.to_string());
                let cpu_max = match self.cpu_limit_millis {
                    Some(millis) => {
                        let quota = cpu_quota(millis);
                        format!("{} {}", quota.quota_us, quota.period_us)
                    }
                    None => format!("max {CFS_PERIOD_US}"),
                };
                vec![
                    LimitWrite::new(Memory, "memory.max", memory),
                    // No swap at all, as the kubelet sets it when swap is off.
                    LimitWrite::new(Memory, "memory.swap.max", 0).if_present(),
                    LimitWrite::new(Cpu, "cpu.max", cpu_max),
                    LimitWrite::new(Cpu, "cpu.weight", cpu_weight(shares)),
                    LimitWrite::new(Pids, "pids.max", pids),
                ]
            }
        }
    }
    // ANCHOR_END: writes
}
