// Generated from solutions/10-controllers/src/deployment/hash.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
//! The pod-template hash: the suffix of a ReplicaSet's name and the value
//! of its `pod-template-hash` label.
//!
//! A Deployment owns one ReplicaSet per pod template it has had. Naming
//! each after a hash of its template makes the name deterministic: a
//! controller that crashed after creating the ReplicaSet, or reads a cache
//! that has not seen it yet, tries to create the same name again and gets
//! AlreadyExists instead of a duplicate. The label on the ReplicaSet's
//! selector and template keeps the pods of two templates apart, even
//! though both match the Deployment's own selector.
//!
//! Kubernetes: `controller.ComputeHash` (pkg/controller/controller_utils.go),
//! FNV-32a over the template, the collision count as 8 little-endian bytes,
//! the decimal of the sum encoded with `rand.SafeEncodeString`
//! (k8s.io/apimachinery/pkg/util/rand). Kubernetes feeds the hash with Go's
//! `spew` dump of the template struct; we feed it the template's JSON
//! ([`canonical`]). The
//! steps are the same, the bytes differ, so our hashes differ from the
//! ones a real cluster computes for the same template: that is fine, only
//! stability matters (the same template always gives the same name).

use objects::{Deployment, PodTemplateSpec, ReplicaSet};
use serde_json::Value;

use super::POD_TEMPLATE_HASH;
use super::counts::sort_oldest_first;

/// The characters Kubernetes uses for generated names: no vowels, so no
/// words (and no offensive ones) by chance.
const ALPHANUMS: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// FNV-1a, 32 bits, over `bytes`, continuing from `state` (start with
/// [`FNV_OFFSET`]).
pub fn fnv32a(state: u32, bytes: &[u8]) -> u32 {
    const FNV_PRIME: u32 = 16_777_619;
    bytes.iter().fold(state, |hash, byte| {
        (hash ^ u32::from(*byte)).wrapping_mul(FNV_PRIME)
    })
}

/// The FNV-32 offset basis: the state of an empty hash.
pub const FNV_OFFSET: u32 = 2_166_136_261;

/// `rand.SafeEncodeString`: each character of `text` replaced by one of
/// [`ALPHANUMS`], chosen by its code modulo their count.
pub fn safe_encode(text: &str) -> String {
    text.chars()
        .map(|c| char::from(ALPHANUMS[(c as usize) % ALPHANUMS.len()]))
        .collect()
}

/// The template as the hash and the comparisons see it: its JSON without
/// the `pod-template-hash` label, and without nulls, empty objects and
/// empty lists. Go makes no difference between an empty struct or list
/// and an absent one, and Kubernetes compares templates semantically
/// (`apiequality.Semantic`): kubectl sends `resources: {}` where our
/// types would leave the field out, and both must be the same template.
pub fn canonical(template: &PodTemplateSpec) -> Value {
    let mut value = serde_json::to_value(template).expect("templates serialize");
    if let Some(labels) = value
        .pointer_mut("/metadata/labels")
        .and_then(Value::as_object_mut)
    {
        labels.remove(POD_TEMPLATE_HASH);
    }
    prune(&mut value);
    value
}

/// Removes nulls, empty objects and empty lists below `value`; says
/// whether `value` itself is empty.
fn prune(value: &mut Value) -> bool {
    match value {
        Value::Null => true,
        Value::Object(map) => {
            map.retain(|_, child| !prune(child));
            map.is_empty()
        }
        Value::Array(items) => {
            for item in items.iter_mut() {
                prune(item);
            }
            items.is_empty()
        }
        _ => false,
    }
}

/// The hash of `template` ([`canonical`]: the `pod-template-hash` label
/// left out, so a ReplicaSet's template hashes as its Deployment's does)
/// and of the deployment's `collisionCount`, which a deployment bumps when
/// the name its template hashes to is taken by a ReplicaSet with another
/// template.
pub fn pod_template_hash(template: &PodTemplateSpec, collision_count: Option<i32>) -> String {
    let bytes = serde_json::to_vec(&canonical(template)).expect("JSON values serialize");
    let mut hash = fnv32a(FNV_OFFSET, &bytes);
    if let Some(count) = collision_count {
        // Kubernetes writes 8 bytes, of which the uint32 fills the first 4.
        let mut count_bytes = [0u8; 8];
        count_bytes[..4].copy_from_slice(&(count as u32).to_le_bytes());
        hash = fnv32a(hash, &count_bytes);
    }
    safe_encode(&hash.to_string())
}

/// Whether two templates are the same but for the `pod-template-hash`
/// label (and empty fields): how a Deployment recognizes the ReplicaSet
/// of its current template (`EqualIgnoreHash`).
pub fn equal_ignore_hash(a: &PodTemplateSpec, b: &PodTemplateSpec) -> bool {
    a == b || canonical(a) == canonical(b)
}

/// The deployment's new ReplicaSet: the oldest whose template is the
/// deployment's (`FindNewReplicaSet`; two can match only after a hash
/// collision, and the oldest is the one in use).
pub fn find_new_replica_set<'a>(
    deployment: &Deployment,
    replica_sets: &'a [ReplicaSet],
) -> Option<&'a ReplicaSet> {
    let mut sorted: Vec<&ReplicaSet> = replica_sets.iter().collect();
    sort_oldest_first(&mut sorted);
    sorted
        .into_iter()
        .find(|rs| equal_ignore_hash(&rs.spec.template, &deployment.spec.template))
}
