//! When a pod must leave a node with NoExecute taints, pure. Kubernetes:
//! `pkg/controller/tainteviction/taint_eviction.go` and
//! `getMinTolerationTime`: a pod that does not tolerate every NoExecute
//! taint goes at once; one that tolerates them for a while goes when the
//! shortest of those whiles is over; one that tolerates them for ever
//! stays.

use chrono::{DateTime, Utc};
use objects::node::Taint;
use objects::pod::Toleration;
use scheduler::taints::tolerates;

use super::health::NO_EXECUTE;

/// What to do with one pod on a tainted node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Eviction {
    /// Delete it now.
    Now,
    /// Delete it at this time, unless the taints go first.
    At(DateTime<Utc>),
    /// It may stay.
    Never,
}

// ANCHOR: eviction
/// When a pod with `tolerations` must leave a node with `taints`. Each
/// NoExecute taint counts from its `timeAdded` (or `now` when it has
/// none); a `tolerationSeconds` below zero counts as zero.
pub fn eviction(tolerations: &[Toleration], taints: &[Taint], now: DateTime<Utc>) -> Eviction {
    // exercise 7: when a pod with these tolerations must leave a node with these taints: now, at a time, or never
    // hint: Only NoExecute taints evict. One that no toleration tolerates evicts now; one tolerated without tolerationSeconds never evicts; otherwise the shortest tolerationSeconds among those that tolerate it counts from the taint's timeAdded.
    // hint: For each NoExecute taint collect the tolerations that tolerate it (`tolerates` from chapter 09). None → Eviction::Now. Any without seconds → skip this taint. Else deadline = time_added (or now) + min(seconds, clamped at 0). Keep the earliest deadline.
    // hint: After the loop: no deadline → Never; a deadline <= now → Now; else At(deadline).
    let mut earliest: Option<DateTime<Utc>> = None;
    for taint in taints.iter().filter(|taint| taint.effect == NO_EXECUTE) {
        let matching: Vec<&Toleration> = tolerations
            .iter()
            .filter(|toleration| tolerates(toleration, taint))
            .collect();
        if matching.is_empty() {
            return Eviction::Now;
        }
        // Tolerated for ever by one of them: this taint never evicts.
        if matching.iter().any(|t| t.toleration_seconds.is_none()) {
            continue;
        }
        let seconds = matching
            .iter()
            .filter_map(|t| t.toleration_seconds)
            .map(|seconds| seconds.max(0))
            .min()
            .unwrap_or(0);
        let added = taint.time_added.as_ref().map_or(now, |time| time.0);
        let deadline = added + chrono::Duration::seconds(seconds);
        earliest = Some(earliest.map_or(deadline, |e| e.min(deadline)));
    }
    match earliest {
        Some(deadline) if deadline <= now => Eviction::Now,
        Some(deadline) => Eviction::At(deadline),
        None => Eviction::Never,
    }
}
// ANCHOR_END: eviction
