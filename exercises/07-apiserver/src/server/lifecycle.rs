// Generated from solutions/07-apiserver/src/server/lifecycle.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
//! Birth and death of objects: what the server sets on create, namespaces
//! (the standard ones, creating in a namespace, deleting one with all it
//! holds), and deletion that waits (finalizers, grace periods).

use std::sync::Arc;
use std::time::Duration;

use objects::resource::{NAMESPACE, Object, RESOURCES, ResourceInfo};
use objects::{Status, Time};
use serde::Deserialize;
use serde_json::json;

use super::Server;
use super::errors::{ApiError, ApiResult};
use super::objects::{from_entry, to_stored};
use super::paths::{key, prefix};
use super::query::Query;
use crate::store::{Precondition, Store, StoreError};
use objects::resource::Resource;

/// The namespaces every cluster has.
pub const STANDARD_NAMESPACES: [&str; 3] = ["default", "kube-system", "kube-node-lease"];

pub async fn create_standard_namespaces(store: &Store) -> Result<(), StoreError> {
    for name in STANDARD_NAMESPACES {
        let key = key(&NAMESPACE, None, name);
        if store.get(&key).is_some() {
            continue;
        }
        let mut namespace = objects::Namespace::new(name, None);
        namespace.metadata.uid = Some(uuid::Uuid::new_v4().to_string());
        namespace.metadata.creation_timestamp = Some(Time::now());
        let mut object = Object::Namespace(namespace);
        object.set_defaults();
        match store
            .put(&key, to_stored(&object), Precondition::Absent)
            .await
        {
            Ok(_) | Err(StoreError::AlreadyExists) => {}
            Err(error) => return Err(error),
        }
    }
    Ok(())
}

/// Objects may be created only in a namespace that exists and is not
/// being deleted.
pub fn check_namespace_open(server: &Server, namespace: &str) -> ApiResult<()> {
    let entry = server
        .store
        .get(&key(&NAMESPACE, None, namespace))
        .ok_or_else(|| ApiError::not_found(&NAMESPACE, namespace))?;
    let object = from_entry(&NAMESPACE, &entry);
    if object.metadata().deletion_timestamp.is_some() {
        return Err(ApiError::forbidden(format!(
            "unable to create new content in namespace {namespace} because it is being terminated"
        )));
    }
    Ok(())
}

/// What the server sets on a new object of each kind: a new pod is
/// Pending, a new namespace Active; the status of other kinds is the
/// controllers' to write, so a client's is dropped; the generation starts
/// at 1 for kinds with a spec.
pub fn prepare_for_create(info: &ResourceInfo, object: Object) -> ApiResult<Object> {
    let mut value = object.to_value();
    match info.kind {
        "Pod" => value["status"] = json!({"phase": "Pending"}),
        "Namespace" => value["status"] = json!({"phase": "Active"}),
        "Deployment" | "ReplicaSet" | "Service" => {
            value.as_object_mut().map(|object| object.remove("status"));
        }
        _ => {}
    }
    if value.get("spec").is_some() {
        value["metadata"]["generation"] = json!(1);
    }
    super::objects::decode(info, &value)
        .map(|decoded| decoded.object)
        .map_err(|error| ApiError::bad_request(error.to_string()))
}

/// The body (or query) of a delete.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeleteOptions {
    #[serde(default)]
    pub grace_period_seconds: Option<i64>,
    #[serde(default)]
    pub propagation_policy: Option<String>,
    /// The deprecated form of `propagationPolicy: Orphan` (true) or
    /// `Background` (false), which older clients still send.
    #[serde(default)]
    pub orphan_dependents: Option<bool>,
    #[serde(default)]
    pub preconditions: Option<Preconditions>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Preconditions {
    pub uid: Option<String>,
    pub resource_version: Option<String>,
}

impl DeleteOptions {
    pub fn read(body: &[u8], query: &Query) -> ApiResult<DeleteOptions> {
        let mut options: DeleteOptions = if body.iter().all(u8::is_ascii_whitespace) {
            DeleteOptions::default()
        } else {
            serde_json::from_slice(body).map_err(|error| {
                ApiError::bad_request(format!("the body is not DeleteOptions: {error}"))
            })?
        };
        if let Some(grace) = query.number("gracePeriodSeconds")? {
            options.grace_period_seconds = Some(grace);
        }
        if let Some(policy) = query.get("propagationPolicy") {
            options.propagation_policy = Some(policy.to_string());
        }
        if let Some(policy) = &options.propagation_policy
            && !["Orphan", "Background", "Foreground"].contains(&policy.as_str())
        {
            return Err(ApiError::bad_request(format!(
                "propagationPolicy: unsupported value {policy:?}: supported values: \"Background\", \"Foreground\", \"Orphan\""
            )));
        }
        if options.orphan_dependents.is_some() && options.propagation_policy.is_some() {
            return Err(ApiError::bad_request(
                "orphanDependents and propagationPolicy cannot both be set",
            ));
        }
        if options.grace_period_seconds.is_some_and(|grace| grace < 0) {
            return Err(ApiError::bad_request(
                "gracePeriodSeconds must not be negative",
            ));
        }
        Ok(options)
    }
}

/// How a delete ended: the object is gone, or it is marked and waits
/// (for its finalizers, its grace period, or the emptying of a namespace).
pub enum Deleted {
    Gone(Object),
    Pending(Object),
}

// ANCHOR: delete
/// Deletes an object, or marks it for deletion: an object with finalizers
/// waits for them; a pod on a node gets its grace period to stop (its node
/// agent finishes the deletion, or the server does when the period is
/// over); a namespace first loses everything in it.
pub async fn delete(
    server: &Server,
    info: &ResourceInfo,
    namespace: Option<&str>,
    name: &str,
    options: &DeleteOptions,
) -> ApiResult<Deleted> {
    let key = key(info, namespace, name);
    let entry = server
        .store
        .get(&key)
        .ok_or_else(|| ApiError::not_found(info, name))?;
    let mut object = from_entry(info, &entry);
    if let Some(preconditions) = &options.preconditions {
        let meta = object.metadata();
        let uid_differs = preconditions.uid.is_some() && preconditions.uid != meta.uid;
        let version_differs = preconditions.resource_version.is_some()
            && preconditions.resource_version != meta.resource_version;
        if uid_differs || version_differs {
            return Err(ApiError::of(Status::conflict(info, name)));
        }
    }
    let finalizers = gc_finalizers(&object.metadata().finalizers, options);
    object.metadata_mut().finalizers = finalizers;
    let grace = grace_period(&object, options);
    let waits = !object.metadata().finalizers.is_empty() || grace > 0 || info.kind == "Namespace";
    if !waits {
        let gone = server
            .store
            .delete(&key, Precondition::Revision(entry.mod_revision))
            .await
            .map_err(|error| ApiError::from_store(error, info, name))?;
        server.allocator.release(&key, &object);
        object.metadata_mut().resource_version = Some(gone.mod_revision.to_string());
        return Ok(Deleted::Gone(object));
    }
    let meta = object.metadata_mut();
    let deadline = Time(chrono::Utc::now() + chrono::Duration::seconds(grace));
    // A second delete may shorten the grace period, never lengthen it.
    let earlier = match &meta.deletion_timestamp {
        Some(existing) => existing.0 > deadline.0,
        None => true,
    };
    if earlier {
        meta.deletion_timestamp = Some(deadline);
        meta.deletion_grace_period_seconds = Some(grace);
    }
    if let Object::Namespace(namespace) = &mut object {
        namespace.status.phase = Some("Terminating".into());
    }
    object.metadata_mut().resource_version = None;
    let written = server
        .store
        .put(
            &key,
            to_stored(&object),
            Precondition::Revision(entry.mod_revision),
        )
        .await
        .map_err(|error| ApiError::from_store(error, info, name))?;
    object.metadata_mut().resource_version = Some(written.mod_revision.to_string());
    server.pending.insert(key, find_info(info));
    Ok(Deleted::Pending(object))
}
// ANCHOR_END: delete

/// The finalizer that makes the garbage collector delete an object's
/// dependents before the object itself (`propagationPolicy: Foreground`).
pub const FOREGROUND_DELETION: &str = "foregroundDeletion";
/// The finalizer that makes the garbage collector strip the object's
/// dependents of their reference to it (`propagationPolicy: Orphan`).
pub const ORPHAN: &str = "orphan";

/// The finalizers of an object deleted with `options`, as Kubernetes'
/// store sets them (`deletionFinalizersForGarbageCollection`): the two
/// garbage collector finalizers come from the request's policy, else from
/// those the object already has (a second delete keeps the first one's
/// choice), else from the kind's default, which is Background (no
/// finalizer) for every kind served here. Other finalizers are kept.
pub fn gc_finalizers(finalizers: &[String], options: &DeleteOptions) -> Vec<String> {
    let policy = match (
        options.orphan_dependents,
        options.propagation_policy.as_deref(),
    ) {
        (Some(true), _) => Some(ORPHAN),
        (Some(false), _) => Some(""),
        (None, Some("Orphan")) => Some(ORPHAN),
        (None, Some("Foreground")) => Some(FOREGROUND_DELETION),
        (None, Some(_)) => Some(""),
        // No policy given: keep the one the object already has.
        (None, None) => return finalizers.to_vec(),
    };
    let mut kept: Vec<String> = finalizers
        .iter()
        .filter(|f| *f != ORPHAN && *f != FOREGROUND_DELETION)
        .cloned()
        .collect();
    kept.extend(policy.filter(|p| !p.is_empty()).map(str::to_string));
    kept
}

/// The grace period of a delete: the client's, else the pod's own
/// (`terminationGracePeriodSeconds`) for a pod that runs on a node; zero
/// for everything else, and for pods no node has taken.
fn grace_period(object: &Object, options: &DeleteOptions) -> i64 {
    match object {
        Object::Pod(pod) if pod.spec.node_name.is_some() => options
            .grace_period_seconds
            .or(pod.spec.termination_grace_period_seconds)
            .unwrap_or(30),
        _ => 0,
    }
}

/// The objects marked for deletion, by store key: the reaper looks at
/// these only, not at every object of the cluster once a second.
#[derive(Default)]
pub struct Pending(std::sync::Mutex<std::collections::BTreeMap<String, &'static ResourceInfo>>);

impl Pending {
    pub fn insert(&self, key: String, info: &'static ResourceInfo) {
        self.0.lock().unwrap().insert(key, info);
    }

    fn snapshot(&self) -> Vec<(String, &'static ResourceInfo)> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .map(|(key, info)| (key.clone(), *info))
            .collect()
    }

    fn remove(&self, key: &str) {
        self.0.lock().unwrap().remove(key);
    }

    /// After a restart: every stored object with a deletionTimestamp.
    pub fn recover(&self, store: &crate::store::Store) {
        let marker = memchr::memmem::Finder::new(b"\"deletionTimestamp\"");
        for info in RESOURCES {
            for (key, entry) in store.list(&prefix(info, None)).0 {
                // Look before decoding: most objects are not being deleted.
                if marker.find(&entry.value).is_some()
                    && from_entry(info, &entry)
                        .metadata()
                        .deletion_timestamp
                        .is_some()
                {
                    self.insert(key, info);
                }
            }
        }
    }
}

/// Finishes what deletions left waiting, once a second: objects whose
/// grace period is over and who have no finalizers left, and namespaces
/// being deleted (their contents first).
pub async fn reap_expired(server: Arc<Server>) {
    let mut stopping = server.stopping.clone();
    loop {
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            _ = super::watch::stopped(&mut stopping) => return,
        }
        let now = chrono::Utc::now();
        for (key, info) in server.pending.snapshot() {
            let Some(entry) = server.store.get(&key) else {
                server.pending.remove(&key);
                continue;
            };
            let object = from_entry(info, &entry);
            let meta = object.metadata();
            let Some(deadline) = &meta.deletion_timestamp else {
                server.pending.remove(&key);
                continue;
            };
            if info.kind == "Namespace" {
                empty_namespace(&server, meta.name.as_deref().unwrap_or_default()).await;
            }
            if deadline.0 <= now && meta.finalizers.is_empty() && namespace_empty(&server, &object)
            {
                let deleted = server
                    .store
                    .delete(&key, Precondition::Revision(entry.mod_revision))
                    .await;
                if deleted.is_ok() {
                    server.allocator.release(&key, &object);
                    server.pending.remove(&key);
                }
            }
        }
    }
}

/// The `'static` description of a kind, from any reference to it.
fn find_info(info: &ResourceInfo) -> &'static ResourceInfo {
    RESOURCES
        .iter()
        .find(|known| known.kind == info.kind && known.group == info.group)
        .expect("every kind served is in RESOURCES")
}

/// Deletes everything in a namespace that is being deleted, at once.
async fn empty_namespace(server: &Server, namespace: &str) {
    let options = DeleteOptions {
        grace_period_seconds: Some(0),
        ..DeleteOptions::default()
    };
    for info in RESOURCES.iter().filter(|info| info.namespaced) {
        let (entries, _) = server.store.list(&prefix(info, Some(namespace)));
        for (_, entry) in entries {
            let object = from_entry(info, &entry);
            let name = object.metadata().name.clone().unwrap_or_default();
            let _ = delete(server, info, Some(namespace), &name, &options).await;
        }
    }
}

fn namespace_empty(server: &Server, object: &Object) -> bool {
    let Object::Namespace(namespace) = object else {
        return true;
    };
    let name = namespace.metadata.name.as_deref().unwrap_or_default();
    RESOURCES
        .iter()
        .filter(|info| info.namespaced)
        .all(|info| server.store.list(&prefix(info, Some(name))).0.is_empty())
}
