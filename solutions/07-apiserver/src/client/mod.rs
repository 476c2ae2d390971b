//! The typed client of the API server, and the informer that controllers
//! are built on.
//!
//! - [`Client`]: the connection (base URL, bearer token, timeouts).
//! - [`Api`]: one kind in one namespace (or all of them): get, list,
//!   create, replace, patch, delete, the status and scale subresources,
//!   and watch. Paths come from the kind's [`objects::ResourceInfo`].
//! - [`watch`]: watch streams, and [`ResumingWatch`], which reconnects from
//!   the last version it saw.
//! - [`Informer`] and its [`Cache`]: list once, then watch, and keep a
//!   local copy of every object that the rest of the program reads for
//!   free, with a [`Change`] for every difference.
//!
//! ```text
//! let client = Client::new("http://127.0.0.1:6443")?.with_token("secret");
//! let pods = client.api::<Pod>(Some("default"));
//! let list = pods.list(&ListParams::default().labels("app=web")).await?;
//! let (informer, mut changes) = Informer::with_changes(pods, ListParams::default());
//! informer.wait_for_sync().await;
//! while let Some(change) = changes.recv().await { /* reconcile change.key() */ }
//! ```

mod api;
mod cache;
mod error;
mod informer;
mod params;
pub mod watch;

use std::time::Duration;

use reqwest::{Method, RequestBuilder, Url};

pub use api::{Api, Deletion};
pub use cache::{Cache, Change, ObjectKey};
pub use error::ClientError;
pub use informer::{Changes, Informer};
pub use params::{DeleteParams, ListParams, LogParams, Patch, Preconditions, PropagationPolicy};
pub use watch::{ResumingWatch, WatchStream};

/// A connection to one API server. Cheap to clone: clones share the
/// connection pool.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    base: Url,
    token: Option<String>,
    timeout: Duration,
}

/// How long a request (other than a watch) may take, as kubectl's default.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

impl Client {
    /// A client for the server at `base_url` (`http://127.0.0.1:6443`).
    ///
    /// Proxy variables from the environment are ignored: the API server
    /// of this project is on loopback, where a proxy would only get in
    /// the way.
    pub fn new(base_url: &str) -> Result<Client, ClientError> {
        let mut base = Url::parse(base_url)
            .map_err(|e| ClientError::Request(format!("bad server URL {base_url:?}: {e}")))?;
        if base.cannot_be_a_base() || !matches!(base.scheme(), "http" | "https") {
            return Err(ClientError::Request(format!(
                "bad server URL {base_url:?}: expected http://host:port"
            )));
        }
        base.set_query(None);
        let http = reqwest::Client::builder()
            .no_proxy()
            .connect_timeout(CONNECT_TIMEOUT)
            .tcp_keepalive(Duration::from_secs(30))
            .user_agent(concat!("k8s-mini-client/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Client {
            http,
            base,
            token: None,
            timeout: DEFAULT_TIMEOUT,
        })
    }

    /// Sends `Authorization: Bearer <token>` with every request.
    pub fn with_token(mut self, token: impl Into<String>) -> Client {
        self.token = Some(token.into());
        self
    }

    /// How long a request may take before it fails. Watches are exempt:
    /// they last as long as their `timeoutSeconds`.
    pub fn with_timeout(mut self, timeout: Duration) -> Client {
        self.timeout = timeout;
        self
    }

    pub fn base_url(&self) -> &Url {
        &self.base
    }

    /// The API of kind `K`: in `namespace`, or in every namespace with
    /// `None` (for lists and watches; cluster-scoped kinds ignore it).
    pub fn api<K: objects::Resource>(&self, namespace: Option<&str>) -> Api<K> {
        match namespace {
            Some(namespace) => Api::namespaced(self, namespace),
            None => Api::all(self),
        }
    }

    /// The server URL with `segments` appended to its path.
    pub(crate) fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.base.clone();
        {
            let mut path = url
                .path_segments_mut()
                .expect("checked in Client::new: the URL can be a base");
            path.pop_if_empty();
            path.extend(segments);
        }
        url
    }

    /// A request with the token, the JSON `Accept` header and the timeout.
    pub(crate) fn request(&self, method: Method, url: Url) -> RequestBuilder {
        self.stream_request(method, url).timeout(self.timeout)
    }

    /// A request without a total timeout, for watches.
    pub(crate) fn stream_request(&self, method: Method, url: Url) -> RequestBuilder {
        let request = self
            .http
            .request(method, url)
            .header(reqwest::header::ACCEPT, "application/json");
        match &self.token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    }
}
