// Generated from solutions/04-cgroups/src/usage.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
use std::fmt;
use std::time::Duration;

use crate::{Cgroup, CgroupError, Controller, Version, files};

/// What a cgroup has used, as the kernel counts it. The figures behind
/// `kubectl top`, and the evidence of throttling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    /// Memory charged now (page cache included).
    pub memory_bytes: u64,
    /// The most ever charged, where the kernel keeps it (v1; v2 since 5.19).
    pub memory_peak_bytes: Option<u64>,
    /// CPU time used, all CPUs together.
    pub cpu_time: Duration,
    /// CFS periods in which the cgroup had work and a quota applied.
    pub cpu_periods: u64,
    /// Of those, the periods in which it ran out of quota.
    pub cpu_throttled_periods: u64,
    /// How long its threads waited for the next period, in total.
    pub cpu_throttled_time: Duration,
    /// Processes and threads now.
    pub pids: u64,
    /// The most at once, where the kernel keeps it (Linux 6.9+ on v1).
    pub pids_peak: Option<u64>,
}

impl Cgroup {
    /// Reads the cgroup's usage figures.
    pub fn usage(&self) -> Result<Usage, CgroupError> {
        use Controller::{Cpu, Cpuacct, Memory, Pids};
        let stat = self.read(Cpu, "cpu.stat")?;
        let stat_u64 = |key| files::keyed(&stat, key).unwrap_or(0);
        let (memory_bytes, memory_peak_bytes, cpu_time, throttled_time) = match self.version() {
            Version::V1 => (
                self.read_u64(Memory, "memory.usage_in_bytes")?,
                self.read_optional_u64(Memory, "memory.max_usage_in_bytes")?,
                Duration::from_nanos(self.read_u64(Cpuacct, "cpuacct.usage")?),
                Duration::from_nanos(stat_u64("throttled_time")),
            ),
            Version::V2 => (
                self.read_u64(Memory, "memory.current")?,
                self.read_optional_u64(Memory, "memory.peak")?,
                Duration::from_micros(stat_u64("usage_usec")),
                Duration::from_micros(stat_u64("throttled_usec")),
            ),
        };
        Ok(Usage {
            memory_bytes,
            memory_peak_bytes,
            cpu_time,
            cpu_periods: stat_u64("nr_periods"),
            cpu_throttled_periods: stat_u64("nr_throttled"),
            cpu_throttled_time: throttled_time,
            pids: self.read_u64(Pids, "pids.current")?,
            pids_peak: self.read_optional_u64(Pids, "pids.peak")?,
        })
    }
}

impl fmt::Display for Usage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let optional = |value: Option<u64>| value.map_or("-".to_string(), |v| v.to_string());
        write!(
            f,
            "memory {} bytes (peak {}), cpu {:?}, throttled in {} of {} periods ({:?}), \
             pids {} (peak {})",
            self.memory_bytes,
            optional(self.memory_peak_bytes),
            self.cpu_time,
            self.cpu_throttled_periods,
            self.cpu_periods,
            self.cpu_throttled_time,
            self.pids,
            optional(self.pids_peak),
        )
    }
}
