//! One scheduling decision, pure: a pod and a snapshot in, a node or the
//! reasons there is none out (kube-scheduler's `schedulePod`: find the
//! feasible nodes, score them, select the host).

use crate::filter::{Candidate, Unfit, filter};
use crate::message::{NO_NODES, fit_error_message};
use crate::node_info::Snapshot;
use crate::rng::Rng;
use crate::score::ScorePlugin;
use objects::Pod;

/// The chosen node and its weighted score.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub node: String,
    pub score: i64,
    /// How many nodes passed the filters.
    pub feasible: usize,
}

/// No node can run the pod.
#[derive(Debug, Clone, PartialEq)]
pub struct FitError {
    /// Kubernetes' message, for the condition and the event.
    pub message: String,
    /// Each refused node and its reasons, by node name.
    pub reasons: Vec<(String, Vec<Unfit>)>,
}

impl std::fmt::Display for FitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

// ANCHOR: schedule
/// Filters every node, scores the feasible ones with `plugins`, and picks
/// the highest total; among equal totals, one at random (reservoir
/// sampling, as kube-scheduler's `selectHost`), from `rng`.
pub fn schedule(
    pod: &Pod,
    snapshot: &Snapshot,
    plugins: &[Box<dyn ScorePlugin>],
    rng: &mut Rng,
) -> Result<Decision, FitError> {
    if snapshot.node_count() == 0 {
        return Err(FitError {
            message: NO_NODES.to_string(),
            reasons: Vec::new(),
        });
    }
    let candidate = Candidate::new(pod);
    let mut feasible = Vec::new();
    let mut refused = Vec::new();
    for node in snapshot.nodes() {
        match filter(&candidate, node) {
            Ok(()) => feasible.push(node),
            Err(reasons) => refused.push((node.name().to_string(), reasons)),
        }
    }
    if feasible.is_empty() {
        let reasons: Vec<Vec<Unfit>> = refused.iter().map(|(_, r)| r.clone()).collect();
        return Err(FitError {
            message: fit_error_message(snapshot.node_count(), &reasons),
            reasons: refused,
        });
    }
    let mut totals = vec![0i64; feasible.len()];
    let mut scores = vec![0i64; feasible.len()];
    for plugin in plugins {
        for (score, node) in scores.iter_mut().zip(&feasible) {
            *score = plugin.score(&candidate, node);
        }
        plugin.normalize(&mut scores);
        for (total, score) in totals.iter_mut().zip(&scores) {
            *total += score * plugin.weight();
        }
    }
    let mut best = 0;
    let mut ties = 0u64;
    for (at, total) in totals.iter().enumerate() {
        if *total > totals[best] {
            best = at;
            ties = 1;
        } else if *total == totals[best] {
            ties += 1;
            if rng.below(ties) == 0 {
                best = at;
            }
        }
    }
    Ok(Decision {
        node: feasible[best].name().to_string(),
        score: totals[best],
        feasible: feasible.len(),
    })
}
// ANCHOR_END: schedule
