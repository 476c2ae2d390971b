// Generated from solutions/09-scheduler/src/message.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
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
    todo!(
        "exercise 7: write kube-scheduler's \"0/N nodes are available: ...\" message from every node's reasons"
    )
}
// ANCHOR_END: fit_error_message
