//! The FailedScheduling message, word for word as kube-scheduler writes it
//! (its `FitError.Error()`), so that what users search for finds answers:
//!
//! ```text
//! 0/3 nodes are available: 1 Insufficient memory, 2 node(s) had untolerated taint {dedicated: db}.
//! ```
//!
//! Every node's reasons are counted; each distinct reason becomes
//! `"<count> <reason>"`, and those strings are sorted as text (the count
//! included, as Go's `sort.Strings` does). kube-scheduler adds a
//! `preemption: ...` sentence when it tried preemption; k8s-mini does not
//! preempt, so it never does.

use std::collections::BTreeMap;

use crate::filter::Unfit;

/// What kube-scheduler says when the cluster has no node at all.
pub const NO_NODES: &str = "no nodes available to schedule pods";

// ANCHOR: fit_error_message
/// The message for a pod no node can run: `total` nodes, and for each
/// the reasons it was refused.
pub fn fit_error_message(total: usize, reasons: &[Vec<Unfit>]) -> String {
    // exercise 7: write kube-scheduler's "0/N nodes are available: ..." message from every node's reasons
    // hint: Count how many nodes gave each reason (a node may give several). Each reason becomes "<count> <reason text>"; sort those strings as text, join them with ", ", and put them after "0/<total> nodes are available:" with a space before and a period after.
    // hint: A BTreeMap<String, usize> from reason.to_string() to its count; then a Vec of format!("{count} {reason}"), .sort(), .join(", "). With no reason at all the message ends at the colon.
    // hint: let mut counts = BTreeMap::new(); for node in reasons { for reason in node { *counts.entry(reason.to_string()).or_insert(0) += 1 } }; let mut parts: Vec<String> = counts.iter().map(|(r, n)| format!("{n} {r}")).collect(); parts.sort(); let mut message = format!("0/{total} nodes are available:"); if !parts.is_empty() { message += &format!(" {}.", parts.join(", ")) }; message.
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for node in reasons {
        for reason in node {
            *counts.entry(reason.to_string()).or_insert(0) += 1;
        }
    }
    let mut parts: Vec<String> = counts
        .iter()
        .map(|(reason, count)| format!("{count} {reason}"))
        .collect();
    parts.sort();
    let mut message = format!("0/{total} nodes are available:");
    if !parts.is_empty() {
        message.push_str(&format!(" {}.", parts.join(", ")));
    }
    message
}
// ANCHOR_END: fit_error_message
