//! Which Services to look at again when something changes: the trigger
//! functions the controller runtime maps informer changes through. Pure.
//! Kubernetes: the `addPod`/`updatePod`/`deletePod` handlers
//! (`GetPodServiceMemberships`) and `onEndpointSliceUpdate` of
//! `pkg/controller/endpointslice/endpointslice_controller.go`.

use apiserver::client::{Cache, Change, ObjectKey};
use objects::discovery::{MANAGED_BY_LABEL, SERVICE_NAME_LABEL};
use objects::{EndpointSlice, Endpoints, Pod, Selector, Service};

use super::slices::MANAGED_BY;

/// Whether the controller keeps endpoints for `service`: it has a
/// selector (without one, whoever made it writes them) and is not an
/// `ExternalName` alias (which has no endpoints).
pub fn has_selector(service: &Service) -> bool {
    !service.spec.selector.is_empty()
        && service.spec.service_type.as_deref() != Some("ExternalName")
}

/// Whether `service` selects a pod with these labels.
pub fn selects(service: &Service, labels: &objects::meta::StringMap) -> bool {
    has_selector(service) && Selector::from_map(&service.spec.selector).matches(labels)
}

// ANCHOR: services_selecting
/// The Services of `pods`' namespace that select any of `pods` (a pod
/// before and after a change): those it joins, those it leaves, those
/// whose endpoint it is. Sorted, each once.
pub fn services_selecting(pods: &[&Pod], services: &[&Service]) -> Vec<ObjectKey> {
    // exercise 3: the keys of the Services that select any of `pods` (a pod before and after a change), in the same namespace, sorted, each once
    // hint: A relabelled pod leaves one Service and joins another: both must be reconciled, which is why the pod comes before and after its change.
    // hint: Keep a Service when some pod is in its namespace and the given `selects(service, labels)` holds; then `ObjectKey::of(service)`, sort and dedup.
    // hint: let mut keys: Vec<ObjectKey> = services.iter().filter(|s| pods.iter().any(|p| p.metadata.namespace() == s.metadata.namespace() && selects(s, &p.metadata.labels))).map(|s| ObjectKey::of(*s)).collect(); keys.sort(); keys.dedup(); keys
    let mut keys: Vec<ObjectKey> = services
        .iter()
        .filter(|service| {
            pods.iter().any(|pod| {
                pod.metadata.namespace() == service.metadata.namespace()
                    && selects(service, &pod.metadata.labels)
            })
        })
        .map(|service| ObjectKey::of(*service))
        .collect();
    keys.sort();
    keys.dedup();
    keys
}
// ANCHOR_END: services_selecting

/// A pod changed: every Service of its namespace whose selector matches
/// its labels before or after (a relabelled pod leaves one Service and
/// joins another; readiness, address or deletion change the endpoint).
pub fn pod_keys(change: &Change<Pod>, services: &Cache<Service>) -> Vec<ObjectKey> {
    let pods: Vec<&Pod> = match change {
        Change::Added(pod) | Change::Deleted(pod) => vec![pod.as_ref()],
        Change::Updated { old, new } => vec![old.as_ref(), new.as_ref()],
    };
    let namespace = change.object().metadata.namespace();
    let candidates = services.list_namespace(namespace);
    let candidates: Vec<&Service> = candidates.iter().map(AsRef::as_ref).collect();
    services_selecting(&pods, &candidates)
}

/// The Service an EndpointSlice of ours belongs to (by its label), if it
/// is ours: so that a slice changed or deleted by hand is put back.
fn slice_service(slice: &EndpointSlice) -> Option<ObjectKey> {
    let labels = &slice.metadata.labels;
    if labels.get(MANAGED_BY_LABEL).map(String::as_str) != Some(MANAGED_BY) {
        return None;
    }
    Some(ObjectKey {
        namespace: slice.metadata.namespace().to_string(),
        name: labels.get(SERVICE_NAME_LABEL)?.clone(),
    })
}

/// A slice changed: the Service it belongs to, before and after.
pub fn slice_keys(change: &Change<EndpointSlice>) -> Vec<ObjectKey> {
    let mut keys: Vec<ObjectKey> = match change {
        Change::Updated { old, new } => [slice_service(old), slice_service(new)]
            .into_iter()
            .flatten()
            .collect(),
        Change::Added(slice) | Change::Deleted(slice) => slice_service(slice).into_iter().collect(),
    };
    keys.dedup();
    keys
}

/// An Endpoints object changed: the Service of the same name (one
/// deleted or edited by hand is put back).
pub fn endpoints_keys(change: &Change<Endpoints>) -> Vec<ObjectKey> {
    vec![change.key()]
}
