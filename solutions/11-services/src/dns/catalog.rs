//! Where the DNS's answers come from: the Services and EndpointSlices of
//! the cluster, read through one small trait so that the answers can be
//! built (and tested) from the informers' caches and from a fixed set alike.

use std::sync::Arc;

use objects::discovery::SERVICE_NAME_LABEL;
use objects::{EndpointSlice, Service};

/// The objects the answers come from: the informers' caches in the
/// server, a fixed set in tests.
pub trait Catalog {
    /// The Service `name` in `namespace`.
    fn service(&self, namespace: &str, name: &str) -> Option<Arc<Service>>;
    /// The EndpointSlices of the Service `service` in `namespace`.
    fn slices(&self, namespace: &str, service: &str) -> Vec<Arc<EndpointSlice>>;
    /// Whether `namespace` holds any Service (then `<ns>.svc.<domain>` exists).
    fn has_services(&self, namespace: &str) -> bool;
}

/// A fixed set of objects: for tests, and for a look at what the server
/// would answer.
#[derive(Debug, Clone, Default)]
pub struct StaticCatalog {
    pub services: Vec<Arc<Service>>,
    pub slices: Vec<Arc<EndpointSlice>>,
}

impl Catalog for StaticCatalog {
    fn service(&self, namespace: &str, name: &str) -> Option<Arc<Service>> {
        self.services
            .iter()
            .find(|s| namespace_of(&s.metadata) == namespace && s.metadata.name() == name)
            .cloned()
    }

    fn slices(&self, namespace: &str, service: &str) -> Vec<Arc<EndpointSlice>> {
        self.slices
            .iter()
            .filter(|s| namespace_of(&s.metadata) == namespace && slice_of(s, service))
            .cloned()
            .collect()
    }

    fn has_services(&self, namespace: &str) -> bool {
        self.services
            .iter()
            .any(|s| namespace_of(&s.metadata) == namespace)
    }
}

fn namespace_of(meta: &objects::ObjectMeta) -> &str {
    meta.namespace()
}

/// Whether `slice` belongs to the Service `service` (by its label).
pub fn slice_of(slice: &EndpointSlice, service: &str) -> bool {
    slice
        .metadata
        .labels
        .get(SERVICE_NAME_LABEL)
        .map(String::as_str)
        == Some(service)
}
