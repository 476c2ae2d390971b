// Generated from solutions/09-scheduler/src/affinity.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
//! Which nodes a pod accepts: `spec.nodeSelector` and required node
//! affinity (kube-scheduler's NodeAffinity plugin).
//!
//! Chapter 06 keeps a pod's `affinity` as opaque JSON; the scheduler reads
//! the part it acts on, `nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution`,
//! into the types below. Terms are ORed, the expressions of one term
//! ANDed; a term with nothing in it matches no node.

use objects::Pod;
use objects::meta::StringMap;
use serde::Deserialize;

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Affinity {
    #[serde(default)]
    pub node_affinity: Option<NodeAffinity>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeAffinity {
    #[serde(default)]
    pub required_during_scheduling_ignored_during_execution: Option<NodeSelector>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeSelector {
    #[serde(default)]
    pub node_selector_terms: Vec<NodeSelectorTerm>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeSelectorTerm {
    #[serde(default)]
    pub match_expressions: Vec<NodeSelectorRequirement>,
    /// Against the node's fields; Kubernetes allows `metadata.name` only.
    #[serde(default)]
    pub match_fields: Vec<NodeSelectorRequirement>,
}

/// `key`, an operator (`In`, `NotIn`, `Exists`, `DoesNotExist`, `Gt`,
/// `Lt`) and values.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct NodeSelectorRequirement {
    pub key: String,
    pub operator: String,
    #[serde(default)]
    pub values: Vec<String>,
}

// ANCHOR: matches_requirement
/// Whether a node with `labels` satisfies one requirement.
pub fn matches_requirement(requirement: &NodeSelectorRequirement, labels: &StringMap) -> bool {
    todo!(
        "exercise 3: say whether the labels satisfy the requirement, for each of the six operators"
    )
}
// ANCHOR_END: matches_requirement

/// One term: every expression against the labels, every field
/// requirement against the node's name.
pub fn matches_term(term: &NodeSelectorTerm, labels: &StringMap, node_name: &str) -> bool {
    if term.match_expressions.is_empty() && term.match_fields.is_empty() {
        return false;
    }
    let fields = StringMap::from([("metadata.name".to_string(), node_name.to_string())]);
    term.match_expressions
        .iter()
        .all(|r| matches_requirement(r, labels))
        && term.match_fields.iter().all(|r| {
            r.key == "metadata.name"
                && matches!(r.operator.as_str(), "In" | "NotIn")
                && matches_requirement(r, &fields)
        })
}

/// The pod's required node affinity, if it has one. `Err` when the JSON
/// does not read as an affinity (the pod then matches no node).
pub fn required_affinity(pod: &Pod) -> Result<Option<NodeSelector>, String> {
    let Some(value) = &pod.spec.affinity else {
        return Ok(None);
    };
    let affinity: Affinity = serde_json::from_value(value.clone()).map_err(|e| e.to_string())?;
    Ok(affinity
        .node_affinity
        .and_then(|n| n.required_during_scheduling_ignored_during_execution))
}

/// Whether the node matches the pod's nodeSelector (every label equal)
/// and its required node affinity (one of the terms).
pub fn matches_node(
    node_selector: &StringMap,
    required: Option<&NodeSelector>,
    labels: &StringMap,
    node_name: &str,
) -> bool {
    if !node_selector
        .iter()
        .all(|(key, value)| labels.get(key) == Some(value))
    {
        return false;
    }
    match required {
        None => true,
        Some(selector) => selector
            .node_selector_terms
            .iter()
            .any(|term| matches_term(term, labels, node_name)),
    }
}
