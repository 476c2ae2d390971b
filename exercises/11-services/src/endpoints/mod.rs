// Generated from solutions/11-services/src/endpoints/mod.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
//! The endpoints controller: for every Service with a selector, the
//! addresses of the pods it selects, as EndpointSlices (what the proxy
//! and the DNS read) and as the legacy Endpoints object. Kubernetes:
//! the EndpointSlice controller (`pkg/controller/endpointslice`) and the
//! endpoints controller (`pkg/controller/endpoint`), in one.
//!
//! One reconcile of a Service, from the informer caches:
//! 1. the pods its selector matches, each an endpoint ([`endpoint`]) with
//!    its conditions (ready, serving, terminating) and the ports it
//!    serves (a named targetPort resolves per pod); a named targetPort no
//!    pod declares gets a Warning event on the Service, once;
//! 2. its slices ([`slices`]): endpoints grouped by port set, at most 100
//!    a slice, written only where they differ;
//! 3. its Endpoints ([`legacy`]), written only when they differ.
//!
//! A Service without a selector is left to whoever made it (the DNS
//! writes its own slice); one whose selector went loses our slices. The
//! slices and Endpoints of a deleted Service are deleted here.
//!
//! The caches lag this controller's own writes: a slice just created is
//! not in the cache yet, and a reconcile then would create a second one.
//! So a plan that creates re-reads the Service's slices from the API
//! server and plans again on that (a list, only when creating), and a
//! write that meets a Conflict or a NotFound (the cache was behind) does
//! the same once. [`triggers`] says which Services a change concerns.

pub mod endpoint;
pub mod legacy;
pub mod slices;
pub mod triggers;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use apiserver::client::{
    Api, Cache, Client, ClientError, DeleteParams, Informer, ListParams, ObjectKey, Preconditions,
};
use controllers::controller::{Action, Controller, Reconciler};
use controllers::events::Recorder;
use controllers::manager::{Context, Registration};
use objects::discovery::{MANAGED_BY_LABEL, SERVICE_NAME_LABEL};
use objects::{EndpointSlice, Endpoints, Pod, Selector, Service};

use endpoint::UnresolvedPort;
use slices::{EndpointGroup, MANAGED_BY, SlicePlan};

/// The component name on its Events, as in Kubernetes.
pub const COMPONENT: &str = "endpointslice-controller";
/// The Warning on a Service whose named targetPort no selected pod
/// declares (Kubernetes only logs "Failed to find port for service").
pub const FAILED_TO_FIND_PORT: &str = "FailedToFindPort";
/// The Warning on a Service whose slices cannot be written (Kubernetes').
pub const FAILED_TO_UPDATE_SLICES: &str = "FailedToUpdateEndpointSlices";
/// The Warning on a Service whose Endpoints cannot be written (Kubernetes').
pub const FAILED_TO_UPDATE_ENDPOINTS: &str = "FailedToUpdateEndpoint";

/// Tunables; the defaults are Kubernetes'.
#[derive(Debug, Clone)]
pub struct Config {
    /// kube-controller-manager's `--max-endpoints-per-slice`.
    pub max_endpoints_per_slice: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            max_endpoints_per_slice: slices::DEFAULT_MAX_PER_SLICE,
        }
    }
}

/// The endpoints controller (a [`Reconciler`] of Service keys).
pub struct EndpointsController {
    client: Client,
    services: Cache<Service>,
    pods: Cache<Pod>,
    slices: Cache<EndpointSlice>,
    endpoints: Cache<Endpoints>,
    recorder: Recorder,
    /// The unresolved ports last warned about, per Service: a warning is
    /// recorded when one appears, not on every reconcile.
    warned: Mutex<HashMap<ObjectKey, Vec<UnresolvedPort>>>,
    config: Config,
}

impl EndpointsController {
    /// A controller reading the caches of these informers (over every
    /// namespace), writing through `client`.
    pub fn new(
        client: &Client,
        services: &Informer<Service>,
        pods: &Informer<Pod>,
        slices: &Informer<EndpointSlice>,
        endpoints: &Informer<Endpoints>,
        config: Config,
    ) -> EndpointsController {
        EndpointsController {
            client: client.clone(),
            services: services.cache(),
            pods: pods.cache(),
            slices: slices.cache(),
            endpoints: endpoints.cache(),
            recorder: Recorder::new(client, COMPONENT),
            warned: Mutex::default(),
            config,
        }
    }

    /// Records a Warning for each unresolved port of `service` that was
    /// not unresolved at the last look.
    async fn warn_unresolved(&self, key: &ObjectKey, service: &Service, pods: &[&Pod]) {
        let live: Vec<&Pod> = pods
            .iter()
            .copied()
            .filter(|pod| !endpoint::is_terminal(pod))
            .collect();
        let unresolved = endpoint::unresolved_ports(service, &live);
        let new: Vec<UnresolvedPort> = {
            let mut warned = lock(&self.warned);
            let before = warned.get(key).cloned().unwrap_or_default();
            let new = unresolved
                .iter()
                .filter(|port| !before.contains(port))
                .cloned()
                .collect();
            if unresolved.is_empty() {
                warned.remove(key);
            } else {
                warned.insert(key.clone(), unresolved);
            }
            new
        };
        for port in new {
            tracing::warn!(service = %key, "{port}");
            self.recorder
                .warning(service, FAILED_TO_FIND_PORT, &port.to_string())
                .await;
        }
    }

    /// Our slices of `service` in the cache.
    fn cached_slices(&self, service: &Service) -> Vec<Arc<EndpointSlice>> {
        self.slices
            .list_namespace(service.metadata.namespace())
            .into_iter()
            .filter(|slice| slices::is_managed_slice_of(slice, service.metadata.name()))
            .collect()
    }

    /// Our slices of `service` as the API server has them now.
    async fn listed_slices(&self, service: &Service) -> Result<Vec<EndpointSlice>, ClientError> {
        let selector = format!(
            "{SERVICE_NAME_LABEL}={},{MANAGED_BY_LABEL}={MANAGED_BY}",
            service.metadata.name()
        );
        let api: Api<EndpointSlice> = Api::namespaced(&self.client, service.metadata.namespace());
        Ok(api
            .list(&ListParams::default().labels(&selector))
            .await?
            .items)
    }

    /// Brings the slices of `service` to hold `groups` (`None`: no slice
    /// at all, the Service lost its selector).
    async fn sync_slices(
        &self,
        service: &Service,
        groups: Option<&[EndpointGroup]>,
    ) -> Result<(), ClientError> {
        let max = self.config.max_endpoints_per_slice;
        let plan_on = |existing: &[&EndpointSlice]| match groups {
            Some(groups) => slices::plan_slices(service, groups, existing, max),
            None => slices::plan_removal(existing),
        };
        let cached = self.cached_slices(service);
        let mut plan = plan_on(&cached.iter().map(AsRef::as_ref).collect::<Vec<_>>());
        if plan.is_empty() {
            return Ok(());
        }
        let mut reread = false;
        if !plan.create.is_empty() {
            // A slice created a moment ago may not be cached yet.
            let listed = self.listed_slices(service).await?;
            plan = plan_on(&listed.iter().collect::<Vec<_>>());
            reread = true;
        }
        let namespace = service.metadata.namespace();
        let result = match self.apply(namespace, &plan).await {
            Err(error) if !reread && (error.is_conflict() || error.is_not_found()) => {
                let listed = self.listed_slices(service).await?;
                self.apply(namespace, &plan_on(&listed.iter().collect::<Vec<_>>()))
                    .await
            }
            result => result,
        };
        if let Err(error) = &result
            && !error.is_conflict()
            && !error.is_not_found()
        {
            let message = format!(
                "Error updating Endpoint Slices for Service {namespace}/{}: {error}",
                service.metadata.name()
            );
            self.recorder
                .warning(service, FAILED_TO_UPDATE_SLICES, &message)
                .await;
        }
        result
    }

    /// Writes a plan: creations first and deletions last, so that no
    /// endpoint is missing in between.
    async fn apply(&self, namespace: &str, plan: &SlicePlan) -> Result<(), ClientError> {
        let api: Api<EndpointSlice> = Api::namespaced(&self.client, namespace);
        for slice in &plan.create {
            api.create(slice).await?;
        }
        for slice in &plan.update {
            api.replace(slice).await?;
        }
        for slice in &plan.delete {
            let params = DeleteParams {
                preconditions: Some(Preconditions {
                    uid: slice.metadata.uid.clone(),
                    resource_version: None,
                }),
                ..DeleteParams::default()
            };
            match api.delete(slice.metadata.name(), &params).await {
                // Gone already, or another object by that name now.
                Err(error) if error.is_not_found() || error.is_conflict() => {}
                Err(error) => return Err(error),
                Ok(_) => {}
            }
        }
        Ok(())
    }

    /// The Service `key` is gone: so are its slices. Kubernetes leaves
    /// them to its garbage collector (their ownerReference); chapter 10's
    /// follows pods, ReplicaSets and Deployments only.
    async fn remove_slices(&self, key: &ObjectKey) -> Result<(), ClientError> {
        let cached: Vec<Arc<EndpointSlice>> = self
            .slices
            .list_namespace(&key.namespace)
            .into_iter()
            .filter(|slice| slices::is_managed_slice_of(slice, &key.name))
            .collect();
        let plan = slices::plan_removal(&cached.iter().map(AsRef::as_ref).collect::<Vec<_>>());
        self.apply(&key.namespace, &plan).await
    }

    /// Brings the Endpoints of `service` to list `pods`.
    async fn sync_endpoints(&self, service: &Service, pods: &[&Pod]) -> Result<(), ClientError> {
        let desired = legacy::desired_endpoints(service, pods);
        let api: Api<Endpoints> = Api::namespaced(&self.client, service.metadata.namespace());
        let name = service.metadata.name();
        let written = match self.endpoints.get(service.metadata.namespace(), name) {
            Some(current) => match legacy::endpoints_update(&current, &desired) {
                Some(updated) => api.replace(&updated).await.map(drop),
                None => return Ok(()),
            },
            None => api.create(&desired).await.map(drop),
        };
        let result = match written {
            // The cache was behind: once more from the API's own copy.
            Err(error)
                if error.is_conflict() || error.is_not_found() || error.is_already_exists() =>
            {
                match api.get_opt(name).await? {
                    Some(current) => match legacy::endpoints_update(&current, &desired) {
                        Some(updated) => api.replace(&updated).await.map(drop),
                        None => Ok(()),
                    },
                    None => api.create(&desired).await.map(drop),
                }
            }
            result => result,
        };
        if let Err(error) = &result
            && !error.is_conflict()
        {
            let message = format!(
                "Failed to update endpoint {}/{name}: {error}",
                service.metadata.namespace()
            );
            self.recorder
                .warning(service, FAILED_TO_UPDATE_ENDPOINTS, &message)
                .await;
        }
        result
    }

    /// The Service `key` is gone: so are its Endpoints, if we wrote them
    /// (Kubernetes deletes them whoever wrote them; the skip-mirror mark
    /// spares an Endpoints written by hand for a selector-less Service).
    async fn remove_endpoints(&self, key: &ObjectKey) -> Result<(), ClientError> {
        let Some(current) = self.endpoints.get(&key.namespace, &key.name) else {
            return Ok(());
        };
        if !legacy::is_managed(&current) {
            return Ok(());
        }
        let api: Api<Endpoints> = Api::namespaced(&self.client, &key.namespace);
        let params = DeleteParams {
            preconditions: Some(Preconditions {
                uid: current.metadata.uid.clone(),
                resource_version: None,
            }),
            ..DeleteParams::default()
        };
        match api.delete(&key.name, &params).await {
            Err(error) if error.is_not_found() || error.is_conflict() => Ok(()),
            result => result.map(drop),
        }
    }
}

// ANCHOR: reconcile
impl Reconciler for EndpointsController {
    type Error = ClientError;

    async fn reconcile(&self, key: &ObjectKey) -> Result<Action, ClientError> {
        let Some(service) = self.services.get(&key.namespace, &key.name) else {
            lock(&self.warned).remove(key);
            self.remove_slices(key).await?;
            self.remove_endpoints(key).await?;
            return Ok(Action::await_change());
        };
        if !triggers::has_selector(&service) {
            lock(&self.warned).remove(key);
            self.sync_slices(&service, None).await?;
            return Ok(Action::await_change());
        }
        let selector = Selector::from_map(&service.spec.selector);
        let selected = self.pods.list_matching(Some(&key.namespace), &selector);
        let pods: Vec<&Pod> = selected.iter().map(AsRef::as_ref).collect();
        self.warn_unresolved(key, &service, &pods).await;
        let groups = slices::group_endpoints(&service, &pods);
        self.sync_slices(&service, Some(&groups)).await?;
        self.sync_endpoints(&service, &pods).await?;
        Ok(Action::await_change())
    }
}
// ANCHOR_END: reconcile

/// The endpoints controller as the controller-manager runs it: on the
/// shared informers of Services, pods, EndpointSlices and Endpoints; a
/// pod change queues the Services that select it before or after, a
/// slice change its Service, an Endpoints change the Service of its name.
pub fn registration(config: Config) -> Registration {
    Registration::new("endpointslice", move |context: Context, shutdown| {
        let config = config.clone();
        async move {
            let services = context.informers.get::<Service>();
            let pods = context.informers.get::<Pod>();
            let endpoint_slices = context.informers.get::<EndpointSlice>();
            let endpoints = context.informers.get::<Endpoints>();
            let reconciler = EndpointsController::new(
                &context.client,
                &services,
                &pods,
                &endpoint_slices,
                &endpoints,
                config,
            );
            let cache = services.cache();
            Controller::new("endpointslice", reconciler, &services)
                .watches(&pods, move |change| triggers::pod_keys(change, &cache))
                .watches(&endpoint_slices, triggers::slice_keys)
                .watches(&endpoints, triggers::endpoints_keys)
                .settings(context.settings)
                .run(shutdown)
                .await
        }
    })
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}
