//! The kinds the garbage collector watches, behind one object-safe trait:
//! the collector reasons about metadata only, whatever the kind, as
//! Kubernetes' collector does through its metadata informers.

use std::sync::Arc;

use apiserver::client::{
    Api, Client, ClientError, DeleteParams, Informer, ListParams, Patch, Preconditions,
    PropagationPolicy,
};
use futures::future::BoxFuture;
use objects::Resource;
use serde_json::Value;
use tokio::sync::Notify;

use super::graph::Node;

/// One watched kind: its cache as [`Node`]s, and the three writes the
/// collector makes.
pub trait Watched: Send + Sync {
    fn kind(&self) -> &'static str;
    fn api_version(&self) -> String;
    fn namespaced(&self) -> bool;
    /// Whether the informer has listed once.
    fn has_synced(&self) -> bool;
    fn wait_for_sync(&self) -> BoxFuture<'_, bool>;
    /// Every cached object.
    fn nodes(&self) -> Vec<Node>;
    /// The uid of the object as the API has it now (`None`: no such object).
    fn live_uid<'a>(
        &'a self,
        namespace: &'a str,
        name: &'a str,
    ) -> BoxFuture<'a, Result<Option<String>, ClientError>>;
    /// Deletes the object if it still has this uid.
    fn delete<'a>(
        &'a self,
        node: &'a Node,
        policy: PropagationPolicy,
    ) -> BoxFuture<'a, Result<(), ClientError>>;
    /// Patches the object (a merge patch).
    fn patch<'a>(&'a self, node: &'a Node, patch: Value) -> BoxFuture<'a, Result<(), ClientError>>;
}

/// A [`Watched`] kind `K`: an informer over all namespaces.
pub struct Kind<K> {
    client: Client,
    informer: Arc<Informer<K>>,
}

impl<K: Resource> Kind<K> {
    /// Starts an informer of its own; every change wakes `notify`.
    pub fn start(client: &Client, notify: Arc<Notify>) -> Kind<K> {
        let informer = Arc::new(Informer::new(Api::all(client), ListParams::default()));
        Kind::shared(client, informer, notify)
    }

    /// Uses `informer` (over all namespaces, shared with other
    /// controllers); every change wakes `notify`.
    pub fn shared(client: &Client, informer: Arc<Informer<K>>, notify: Arc<Notify>) -> Kind<K> {
        let mut changes = informer.subscribe();
        tokio::spawn(async move {
            while changes.recv().await.is_some() {
                notify.notify_one();
            }
        });
        Kind {
            client: client.clone(),
            informer,
        }
    }

    fn api(&self, namespace: &str) -> Api<K> {
        if K::INFO.namespaced {
            Api::namespaced(&self.client, namespace)
        } else {
            Api::all(&self.client)
        }
    }
}

/// The collector's view of one object.
pub fn node_of<K: Resource>(object: &K) -> Node {
    let meta = object.metadata();
    Node {
        kind: K::INFO.kind.to_string(),
        api_version: K::INFO.api_version(),
        namespace: meta.namespace().to_string(),
        name: meta.name().to_string(),
        uid: meta.uid.clone().unwrap_or_default(),
        resource_version: meta.resource_version.clone().unwrap_or_default(),
        owners: meta.owner_references.clone(),
        deleting: meta.deletion_timestamp.is_some(),
        finalizers: meta.finalizers.clone(),
    }
}

impl<K: Resource> Watched for Kind<K> {
    fn kind(&self) -> &'static str {
        K::INFO.kind
    }

    fn api_version(&self) -> String {
        K::INFO.api_version()
    }

    fn namespaced(&self) -> bool {
        K::INFO.namespaced
    }

    fn has_synced(&self) -> bool {
        self.informer.has_synced()
    }

    fn wait_for_sync(&self) -> BoxFuture<'_, bool> {
        Box::pin(self.informer.wait_for_sync())
    }

    fn nodes(&self) -> Vec<Node> {
        self.informer
            .cache()
            .list()
            .iter()
            .map(|object| node_of(object.as_ref()))
            .collect()
    }

    fn live_uid<'a>(
        &'a self,
        namespace: &'a str,
        name: &'a str,
    ) -> BoxFuture<'a, Result<Option<String>, ClientError>> {
        Box::pin(async move {
            let object = self.api(namespace).get_opt(name).await?;
            Ok(object.map(|object| object.metadata().uid.clone().unwrap_or_default()))
        })
    }

    fn delete<'a>(
        &'a self,
        node: &'a Node,
        policy: PropagationPolicy,
    ) -> BoxFuture<'a, Result<(), ClientError>> {
        Box::pin(async move {
            let params = DeleteParams {
                propagation_policy: Some(policy),
                preconditions: Some(Preconditions {
                    uid: Some(node.uid.clone()),
                    resource_version: None,
                }),
                ..DeleteParams::default()
            };
            self.api(&node.namespace)
                .delete(&node.name, &params)
                .await
                .map(|_| ())
        })
    }

    fn patch<'a>(&'a self, node: &'a Node, patch: Value) -> BoxFuture<'a, Result<(), ClientError>> {
        Box::pin(async move {
            self.api(&node.namespace)
                .patch(&node.name, &Patch::Merge(patch))
                .await
                .map(|_| ())
        })
    }
}
