//! [`Api`]: the requests on one kind, with the paths Kubernetes serves it on.

use std::marker::PhantomData;

use objects::{List, Pod, Resource, Scale, Status};
use reqwest::{Method, RequestBuilder, Url};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::error::{shorten, status_from_answer};
use super::params::{DeleteParams, ListParams, LogParams, Patch};
use super::watch::{self, ResumingWatch, WatchStream};
use super::{Client, ClientError};

/// The requests on kind `K` in one namespace, or in all of them.
///
/// Namespaced kinds need a namespace for anything but list and watch: an
/// `Api` made with [`Api::all`] takes it from the object on create and
/// replace, and refuses `get("web")`.
pub struct Api<K> {
    client: Client,
    namespace: Option<String>,
    kind: PhantomData<fn() -> K>,
}

impl<K> Clone for Api<K> {
    fn clone(&self) -> Self {
        Api {
            client: self.client.clone(),
            namespace: self.namespace.clone(),
            kind: PhantomData,
        }
    }
}

impl<K> std::fmt::Debug for Api<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Api")
            .field("base", &self.client.base.as_str())
            .field("namespace", &self.namespace)
            .finish()
    }
}

/// What a delete answers. The answer alone cannot always tell whether the
/// object is gone: Kubernetes answers most kinds (pods among them) with
/// the object, both while finalizers or a grace period hold it (it then
/// has a `deletionTimestamp`) and as it was when it went. Watch it, or
/// get it, to know.
#[derive(Debug, Clone, PartialEq)]
pub enum Deletion<K> {
    /// The object, still being deleted or as it was deleted.
    Object(K),
    /// A Status: the object is gone.
    Status(Box<Status>),
}

impl<K> Deletion<K> {
    /// The object, if the server answered one.
    pub fn object(&self) -> Option<&K> {
        match self {
            Deletion::Object(object) => Some(object),
            Deletion::Status(_) => None,
        }
    }
}

impl<K: Resource> Api<K> {
    /// `K` in `namespace` (cluster-scoped kinds ignore the namespace).
    pub fn namespaced(client: &Client, namespace: &str) -> Api<K> {
        Api {
            client: client.clone(),
            namespace: Some(namespace.to_string()),
            kind: PhantomData,
        }
    }

    /// `K` in every namespace, or a cluster-scoped kind.
    pub fn all(client: &Client) -> Api<K> {
        Api {
            client: client.clone(),
            namespace: None,
            kind: PhantomData,
        }
    }

    /// The namespace, `None` for all namespaces and cluster-scoped kinds.
    pub fn namespace(&self) -> Option<&str> {
        self.namespace.as_deref().filter(|_| K::INFO.namespaced)
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    // ANCHOR: url
    /// `/api/v1/namespaces/{ns}/pods/{name}/{sub}` and the like: the
    /// group prefix, the namespace for namespaced kinds, the plural, then
    /// the optional name and subresource.
    pub fn url(&self, namespace: Option<&str>, name: Option<&str>, sub: Option<&str>) -> Url {
        let info = &K::INFO;
        let mut segments = if info.group.is_empty() {
            vec!["api", info.version]
        } else {
            vec!["apis", info.group, info.version]
        };
        if let Some(namespace) = namespace.filter(|_| info.namespaced) {
            segments.extend(["namespaces", namespace]);
        }
        segments.push(info.plural);
        segments.extend(name);
        segments.extend(sub);
        self.client.url(&segments)
    }
    // ANCHOR_END: url

    /// The namespace a request on one named object goes to.
    fn object_namespace<'a>(
        &'a self,
        object: Option<&'a K>,
    ) -> Result<Option<&'a str>, ClientError> {
        if !K::INFO.namespaced {
            return Ok(None);
        }
        let from_object = object.and_then(|o| o.metadata().namespace.as_deref());
        match (self.namespace.as_deref(), from_object) {
            (Some(ours), Some(theirs)) if !theirs.is_empty() && ours != theirs => {
                Err(ClientError::Request(format!(
                    "the object is in namespace {theirs:?}, this Api in {ours:?}"
                )))
            }
            (Some(ours), _) => Ok(Some(ours)),
            (None, Some(theirs)) if !theirs.is_empty() => Ok(Some(theirs)),
            _ => Err(ClientError::Request(format!(
                "{} are namespaced: use an Api with a namespace",
                K::INFO.plural
            ))),
        }
    }

    fn named_url(&self, name: &str, sub: Option<&str>) -> Result<Url, ClientError> {
        if name.is_empty() {
            return Err(ClientError::Request("an empty name".into()));
        }
        Ok(self.url(self.object_namespace(None)?, Some(name), sub))
    }

    fn object_url(&self, object: &K, sub: Option<&str>) -> Result<Url, ClientError> {
        let name = object.metadata().name();
        if name.is_empty() {
            return Err(ClientError::Request(format!(
                "the {} has no name",
                K::INFO.singular
            )));
        }
        Ok(self.url(self.object_namespace(Some(object))?, Some(name), sub))
    }

    fn has_subresource(&self, sub: &str) -> Result<(), ClientError> {
        if K::INFO.subresources.contains(&sub) {
            Ok(())
        } else {
            Err(ClientError::Request(format!(
                "{} have no {sub} subresource",
                K::INFO.plural
            )))
        }
    }

    pub async fn get(&self, name: &str) -> Result<K, ClientError> {
        let url = self.named_url(name, None)?;
        send(self.client.request(Method::GET, url)).await
    }

    /// [`Api::get`], with `None` for an object that does not exist.
    pub async fn get_opt(&self, name: &str) -> Result<Option<K>, ClientError> {
        match self.get(name).await {
            Ok(object) => Ok(Some(object)),
            Err(error) if error.is_not_found() => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// The objects that match `params`, and the version the list was read
    /// at (`metadata.resourceVersion`), from which a watch continues.
    pub async fn list(&self, params: &ListParams) -> Result<List<K>, ClientError> {
        let mut url = self.url(self.namespace(), None, None);
        params.add_list_query(&mut url);
        send(self.client.request(Method::GET, url)).await
    }

    /// Creates `object`; the server answers it with its uid,
    /// resourceVersion and defaults filled in.
    pub async fn create(&self, object: &K) -> Result<K, ClientError> {
        let url = self.url(self.object_namespace(Some(object))?, None, None);
        send(self.client.request(Method::POST, url).json(object)).await
    }

    /// Replaces the object with `object` (PUT). With a resourceVersion in
    /// `object`, the server refuses with Conflict if the object changed
    /// since it was read: optimistic concurrency.
    pub async fn replace(&self, object: &K) -> Result<K, ClientError> {
        let url = self.object_url(object, None)?;
        send(self.client.request(Method::PUT, url).json(object)).await
    }

    /// Replaces the status only (the `status` subresource): the server
    /// ignores the spec, so a controller reporting status never overwrites
    /// a user's change of the spec.
    pub async fn replace_status(&self, object: &K) -> Result<K, ClientError> {
        self.has_subresource("status")?;
        let url = self.object_url(object, Some("status"))?;
        send(self.client.request(Method::PUT, url).json(object)).await
    }

    /// Patches the object `name`.
    pub async fn patch(&self, name: &str, patch: &Patch) -> Result<K, ClientError> {
        let url = self.named_url(name, None)?;
        self.send_patch(url, patch).await
    }

    /// Patches the status of the object `name`.
    pub async fn patch_status(&self, name: &str, patch: &Patch) -> Result<K, ClientError> {
        self.has_subresource("status")?;
        let url = self.named_url(name, Some("status"))?;
        self.send_patch(url, patch).await
    }

    async fn send_patch<T: DeserializeOwned>(
        &self,
        mut url: Url,
        patch: &Patch,
    ) -> Result<T, ClientError> {
        patch.add_query(&mut url);
        let body = serde_json::to_vec(patch.body()).expect("JSON values serialize");
        let request = self
            .client
            .request(Method::PATCH, url)
            .header(reqwest::header::CONTENT_TYPE, patch.content_type())
            .body(body);
        send(request).await
    }

    /// Deletes the object `name` (see [`Deletion`] for the answer).
    pub async fn delete(
        &self,
        name: &str,
        params: &DeleteParams,
    ) -> Result<Deletion<K>, ClientError> {
        let url = self.named_url(name, None)?;
        let answer: Value = send(
            self.client
                .request(Method::DELETE, url)
                .json(&params.body()),
        )
        .await?;
        if answer.get("kind").and_then(Value::as_str) == Some("Status") {
            return Ok(Deletion::Status(Box::new(decode_value(answer)?)));
        }
        Ok(Deletion::Object(decode_value(answer)?))
    }

    /// The `scale` subresource (deployments and replica sets).
    pub async fn get_scale(&self, name: &str) -> Result<Scale, ClientError> {
        self.has_subresource("scale")?;
        let url = self.named_url(name, Some("scale"))?;
        send(self.client.request(Method::GET, url)).await
    }

    /// Sets the desired replicas through the `scale` subresource.
    pub async fn replace_scale(&self, name: &str, scale: &Scale) -> Result<Scale, ClientError> {
        self.has_subresource("scale")?;
        let url = self.named_url(name, Some("scale"))?;
        send(self.client.request(Method::PUT, url).json(scale)).await
    }

    /// POSTs `body` to a subresource of `name` (a pod's `binding`, which
    /// the scheduler uses) and returns the answer as JSON.
    pub async fn create_subresource<B: Serialize>(
        &self,
        name: &str,
        sub: &str,
        body: &B,
    ) -> Result<Value, ClientError> {
        self.has_subresource(sub)?;
        let url = self.named_url(name, Some(sub))?;
        send(self.client.request(Method::POST, url).json(body)).await
    }

    /// Watches the objects that match `params`, from just after
    /// `resource_version` (`""`: the current objects as ADDED, then
    /// what changes). The stream ends when the server ends the watch
    /// (`timeoutSeconds`) or the connection breaks; an ERROR event
    /// arrives as an `Err` (410 Expired: list again).
    pub async fn watch(
        &self,
        params: &ListParams,
        resource_version: &str,
    ) -> Result<WatchStream<K>, ClientError> {
        let mut url = self.url(self.namespace(), None, None);
        params.add_watch_query(&mut url, resource_version);
        let mut request = self.client.stream_request(Method::GET, url);
        if let Some(seconds) = params.timeout_seconds {
            // The server ends the watch itself; this only catches a
            // connection that went silent without closing.
            request = request.timeout(std::time::Duration::from_secs(u64::from(seconds) + 30));
        }
        let response = check(request.send().await?).await?;
        Ok(watch::decode_stream(response))
    }

    /// A watch that survives its connection: see [`ResumingWatch`].
    pub fn watch_resuming(&self, params: &ListParams, resource_version: &str) -> ResumingWatch<K> {
        ResumingWatch::new(self.clone(), params.clone(), resource_version)
    }
}

impl Api<Pod> {
    /// The log of a container of the pod `name`, as text.
    pub async fn logs(&self, name: &str, params: &LogParams) -> Result<String, ClientError> {
        let mut url = self.named_url(name, Some("log"))?;
        params.add_query(&mut url);
        let response = self.client.request(Method::GET, url).send().await?;
        Ok(check(response).await?.text().await?)
    }
}

/// Sends `request` and decodes a successful answer as `T`.
async fn send<T: DeserializeOwned>(request: RequestBuilder) -> Result<T, ClientError> {
    let response = check(request.send().await?).await?;
    let body = response.bytes().await?;
    serde_json::from_slice(&body).map_err(|error| ClientError::Decode {
        error,
        body: shorten(&String::from_utf8_lossy(&body)),
    })
}

/// Turns an error answer into [`ClientError::Api`].
pub(crate) async fn check(response: reqwest::Response) -> Result<reqwest::Response, ClientError> {
    let code = response.status();
    if code.is_success() {
        return Ok(response);
    }
    let body = response.bytes().await.unwrap_or_default();
    Err(status_from_answer(code.as_u16(), &body).into())
}

fn decode_value<T: DeserializeOwned>(value: Value) -> Result<T, ClientError> {
    serde_json::from_value(value.clone()).map_err(|error| ClientError::Decode {
        error,
        body: shorten(&value.to_string()),
    })
}
