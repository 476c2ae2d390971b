// Generated from solutions/10-controllers/src/replicaset/claim.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
//! Which pods are a ReplicaSet's: the ones whose controller
//! ownerReference names it (by uid) and that its selector still matches.
//! An orphan that matches is adopted, a pod of ours that no longer matches
//! is released, a pod another controller owns is never touched.
//! Kubernetes: `ClaimObject` in `pkg/controller/controller_ref_manager.go`
//! and `GetPodFromTemplate` in `controller_utils.go`.

use objects::{ObjectMeta, OwnerReference, Pod, ReplicaSet, Resource, Selector};
use serde_json::{Value, json};

pub use crate::controller::claim::Claim;
pub use crate::controller::trigger::controller_ref as controller_of;

/// What `rs` (whose selector is `selector`) does with `pod`: the shared
/// claim rules of [`crate::controller::claim::claim`].
pub fn claim(rs: &ReplicaSet, selector: &Selector, pod: &Pod) -> Claim {
    crate::controller::claim::claim(&rs.metadata, selector, &pod.metadata)
}

/// The controller ownerReference a ReplicaSet puts on its pods.
pub fn controller_reference(rs: &ReplicaSet) -> OwnerReference {
    crate::controller::claim::controller_reference(rs)
}

/// A new pod of `rs`: the template's labels, annotations, finalizers and
/// spec, a name generated from `<rs-name>-`, the controller reference.
pub fn pod_from_template(rs: &ReplicaSet) -> Pod {
    let template = &rs.spec.template;
    let mut pod = Pod::default();
    pod.set_type_meta();
    pod.metadata = ObjectMeta {
        generate_name: Some(generate_name_prefix(rs.metadata.name())),
        namespace: rs.metadata.namespace.clone(),
        labels: template.metadata.labels.clone(),
        annotations: template.metadata.annotations.clone(),
        finalizers: template.metadata.finalizers.clone(),
        owner_references: vec![controller_reference(rs)],
        ..ObjectMeta::default()
    };
    pod.spec = template.spec.clone();
    pod
}

/// `<name>-`, as Kubernetes' `getPodsPrefix`; the name alone when the dash
/// would make an invalid prefix (too long).
fn generate_name_prefix(name: &str) -> String {
    // A pod name may have 253 characters.
    let prefix = format!("{name}-");
    if prefix.len() > 253 {
        name.to_string()
    } else {
        prefix
    }
}

/// The merge patch that adopts `pod` for `rs`: its references plus ours,
/// on the version read (a pod changed meanwhile fails with Conflict and
/// is looked at again).
pub fn adopt_patch(rs: &ReplicaSet, pod: &Pod) -> Value {
    let mut references = pod.metadata.owner_references.clone();
    references.push(controller_reference(rs));
    owner_references_patch(pod, &references)
}

/// The merge patch that releases `pod` from `rs`: its references but ours.
pub fn release_patch(rs: &ReplicaSet, pod: &Pod) -> Value {
    let uid = rs.metadata.uid.as_deref().unwrap_or_default();
    let references: Vec<OwnerReference> = pod
        .metadata
        .owner_references
        .iter()
        .filter(|reference| reference.uid != uid)
        .cloned()
        .collect();
    owner_references_patch(pod, &references)
}

fn owner_references_patch(pod: &Pod, references: &[OwnerReference]) -> Value {
    json!({"metadata": {
        "resourceVersion": pod.metadata.resource_version,
        "ownerReferences": references,
    }})
}
