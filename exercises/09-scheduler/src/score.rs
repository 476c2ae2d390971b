// Generated from solutions/09-scheduler/src/score.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
//! Scores: among the nodes that can run the pod, which should.
//!
//! Each plugin gives every feasible node a score from 0 to
//! [`MAX_SCORE`], may then normalize the scores across nodes (the
//! framework's `NormalizeScore`), and is weighted; the node with the
//! highest weighted sum wins. The set of plugins is a value
//! ([`default_plugins`]), so a different scoring policy is a different
//! `Vec<Box<dyn ScorePlugin>>` handed to [`crate::Config`].
//!
//! Weights are those of kube-scheduler's default profile: TaintToleration
//! 3, spreading 2 (as PodTopologySpread), NodeResourcesFit (least
//! allocated) 1, NodeResourcesBalancedAllocation 1.

use crate::filter::Candidate;
use crate::node_info::NodeInfo;
use crate::resources::Resources;
use crate::taints;

/// The best score a plugin can give (kube-scheduler's `MaxNodeScore`).
pub const MAX_SCORE: i64 = 100;

// ANCHOR: plugin
/// A scoring plugin, as kube-scheduler's `ScorePlugin` with its
/// `ScoreExtensions`.
pub trait ScorePlugin: Send + Sync {
    fn name(&self) -> &'static str;
    /// How much this plugin counts against the others.
    fn weight(&self) -> i64;
    /// The node's score for the pod, 0..=MAX_SCORE unless normalized after.
    fn score(&self, candidate: &Candidate, node: &NodeInfo) -> i64;
    /// Rescales the scores of all feasible nodes (same order as given).
    fn normalize(&self, _scores: &mut [i64]) {}
}
// ANCHOR_END: plugin

/// kube-scheduler's default scoring, as far as k8s-mini implements it.
pub fn default_plugins() -> Vec<Box<dyn ScorePlugin>> {
    vec![
        Box::new(TaintToleration),
        Box::new(Spread),
        Box::new(LeastAllocated),
        Box::new(BalancedAllocation),
    ]
}

// ANCHOR: least_allocated
/// How much room a node keeps: for cpu and memory each, the share of the
/// allocatable left once `requested` (the pods there plus this one) is
/// taken, 0 to 100; the score is their average. A resource the node does
/// not have, or has less of than requested, scores 0.
pub fn least_allocated(requested: Resources, allocatable: Resources) -> i64 {
    todo!(
        "exercise 5: score 0..=100 how much cpu and memory stay free once requested is taken, averaged over the two"
    )
}
// ANCHOR_END: least_allocated

// ANCHOR: balanced_allocation
/// How evenly a node would be used: the fractions of cpu and memory
/// requested (each capped at 1) should be close; the score is
/// `(1 - standard deviation of the fractions) * 100`, truncated. A
/// resource the node does not have is left out; with fewer than two
/// fractions there is nothing to balance (100).
pub fn balanced_allocation(requested: Resources, allocatable: Resources) -> i64 {
    todo!(
        "exercise 6: score 0..=100 how close the requested fractions of cpu and memory are, as 1 minus their standard deviation"
    )
}
// ANCHOR_END: balanced_allocation

/// NodeResourcesFit's LeastAllocated strategy, on the requests with
/// defaults for pods that ask for nothing.
pub struct LeastAllocated;

impl ScorePlugin for LeastAllocated {
    fn name(&self) -> &'static str {
        "NodeResourcesLeastAllocated"
    }
    fn weight(&self) -> i64 {
        1
    }
    fn score(&self, candidate: &Candidate, node: &NodeInfo) -> i64 {
        let mut requested = node.non_zero_requested;
        requested.add(candidate.info.non_zero_requests);
        least_allocated(requested, node.allocatable())
    }
}

/// NodeResourcesBalancedAllocation, on the actual requests.
pub struct BalancedAllocation;

impl ScorePlugin for BalancedAllocation {
    fn name(&self) -> &'static str {
        "NodeResourcesBalancedAllocation"
    }
    fn weight(&self) -> i64 {
        1
    }
    fn score(&self, candidate: &Candidate, node: &NodeInfo) -> i64 {
        let mut requested = node.requested;
        requested.add(candidate.info.requests);
        balanced_allocation(requested, node.allocatable())
    }
}

/// TaintToleration's score: fewer untolerated PreferNoSchedule taints is
/// better; counts are turned around into 0..=100 across nodes.
pub struct TaintToleration;

impl ScorePlugin for TaintToleration {
    fn name(&self) -> &'static str {
        "TaintToleration"
    }
    fn weight(&self) -> i64 {
        3
    }
    fn score(&self, candidate: &Candidate, node: &NodeInfo) -> i64 {
        taints::untolerated_preferences(&node.node.spec.taints, &candidate.pod.spec.tolerations)
            as i64
    }
    fn normalize(&self, scores: &mut [i64]) {
        reverse_normalize(scores);
    }
}

/// Spreads the pods of one owner (SelectorSpread's rule): the fewer
/// siblings a node already has, the better; 100 for the emptiest.
pub struct Spread;

impl ScorePlugin for Spread {
    fn name(&self) -> &'static str {
        "SelectorSpread"
    }
    fn weight(&self) -> i64 {
        2
    }
    fn score(&self, candidate: &Candidate, node: &NodeInfo) -> i64 {
        candidate
            .info
            .group
            .as_ref()
            .and_then(|group| node.groups.get(group))
            .map_or(0, |count| i64::from(*count))
    }
    fn normalize(&self, scores: &mut [i64]) {
        reverse_normalize(scores);
    }
}

/// Turns counts (more is worse) into scores: `100 * (max - count) / max`,
/// all 100 when every count is 0 (the framework's `DefaultNormalizeScore`
/// with `reverse`).
fn reverse_normalize(scores: &mut [i64]) {
    let max = scores.iter().copied().max().unwrap_or(0);
    for score in scores.iter_mut() {
        *score = if max == 0 {
            MAX_SCORE
        } else {
            MAX_SCORE * (max - *score) / max
        };
    }
}
