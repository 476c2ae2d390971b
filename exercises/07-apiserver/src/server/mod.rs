// Generated from solutions/07-apiserver/src/server/mod.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
//! The API server: Kubernetes' REST API over the store, with axum.
//!
//! - [`paths`]: which resource a path names.
//! - [`handlers`]: the verbs (get, list, create, update, patch, delete,
//!   deletecollection) and the subresources.
//! - [`watch`]: change streams.
//! - [`discovery`]: what kubectl asks first (`/api`, `/apis`, ...).
//! - [`lifecycle`]: namespaces, graceful deletion, finalizers.
//! - [`admission`]: what the server adds to new objects (pod tolerations).
//! - [`allocation`]: ClusterIPs and NodePorts for Services.

mod admission;
mod allocation;
mod discovery;
mod errors;
mod handlers;
mod lifecycle;
mod node_proxy;
mod objects;
mod openapi;
mod patch;
mod paths;
mod protobuf;
mod query;
mod request;
mod subresources;
mod watch;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::response::{IntoResponse, Response};
use tokio::sync::watch as signal;

pub use allocation::{Ipv4Cidr, PortRange, RangeError};
pub use errors::{ApiError, ApiResult};
pub use paths::{Route, Target, route};

use crate::store::{Options, Store, StoreError};

/// The largest request body accepted, as Kubernetes' 3 MiB.
pub const MAX_BODY: usize = 3 * 1024 * 1024;

/// How the server is set up.
#[derive(Debug, Clone)]
pub struct Config {
    /// Loopback by default: this server trusts its callers.
    pub listen: SocketAddr,
    /// Where the store lives; `None` keeps everything in memory.
    pub data_dir: Option<PathBuf>,
    /// When set, every request must carry `Authorization: Bearer <token>`.
    pub token: Option<String>,
    pub store: Options,
    /// How often a quiet watch that asked for bookmarks gets one.
    pub bookmark_every: Duration,
    /// Where Services' ClusterIPs come from (kube-apiserver's
    /// `--service-cluster-ip-range`); 10.96.0.0/16 by default.
    pub service_cluster_ip_range: Ipv4Cidr,
    /// Where NodePorts come from (`--service-node-port-range`);
    /// 30000-32767 by default.
    pub service_node_port_range: PortRange,
}

/// The service CIDR when none is given: the start of kubeadm's
/// 10.96.0.0/12 (65,534 Services are plenty here); its tenth address,
/// 10.96.0.10, is the cluster DNS's.
pub const DEFAULT_SERVICE_CIDR: &str = "10.96.0.0/16";
/// The NodePort range when none is given, Kubernetes' own.
pub const DEFAULT_NODE_PORT_RANGE: &str = "30000-32767";

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 6443)),
            data_dir: None,
            token: None,
            store: Options::default(),
            bookmark_every: Duration::from_secs(5),
            service_cluster_ip_range: DEFAULT_SERVICE_CIDR.parse().expect("a valid CIDR"),
            service_node_port_range: DEFAULT_NODE_PORT_RANGE.parse().expect("a valid range"),
        }
    }
}

/// What every handler shares.
pub(crate) struct Server {
    pub store: Store,
    pub token: Option<String>,
    pub address: SocketAddr,
    pub bookmark_every: Duration,
    /// Objects marked for deletion, for the reaper.
    pub pending: lifecycle::Pending,
    /// Tells long requests (watches) that the server is stopping.
    pub stopping: signal::Receiver<bool>,
    /// The ClusterIPs and NodePorts that Services hold.
    pub allocator: allocation::Allocator,
}

/// A running API server.
pub struct ApiServer {
    address: SocketAddr,
    stop: signal::Sender<bool>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
    store: Store,
}

impl ApiServer {
    /// Opens the store, makes the standard namespaces, binds and serves.
    pub async fn start(config: Config) -> Result<ApiServer, StartError> {
        let store = match &config.data_dir {
            Some(dir) => Store::open(&dir.join("store"), config.store.clone())?,
            None => Store::in_memory(config.store.clone()),
        };
        lifecycle::create_standard_namespaces(&store).await?;
        let allocator = allocation::Allocator::new(
            config.service_cluster_ip_range,
            config.service_node_port_range,
        );
        for problem in allocator.recover(&store) {
            eprintln!("k8s-mini apiserver: warning: {problem}");
        }
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|error| StartError::Bind {
                address: config.listen,
                error,
            })?;
        let address = listener.local_addr()?;
        let (stop, stopping) = signal::channel(false);
        let server = Arc::new(Server {
            store: store.clone(),
            token: config.token.clone(),
            address,
            bookmark_every: config.bookmark_every,
            pending: lifecycle::Pending::default(),
            stopping: stopping.clone(),
            allocator,
        });
        server.pending.recover(&server.store);
        tokio::spawn(lifecycle::reap_expired(server.clone()));
        let app = Router::new()
            .fallback(serve)
            .layer(DefaultBodyLimit::max(MAX_BODY))
            .with_state(server);
        let mut shutdown = stopping.clone();
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = shutdown.wait_for(|stop| *stop).await;
                })
                .await
        });
        Ok(ApiServer {
            address,
            stop,
            task,
            store,
        })
    }

    /// Where it listens (the port is the one the system chose for port 0).
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Stops accepting, ends the watches, waits for the requests in flight
    /// (at most `limit`).
    pub async fn stop(self, limit: Duration) {
        let _ = self.stop.send(true);
        let _ = tokio::time::timeout(limit, self.task).await;
    }

    /// Serves until the process is told to stop.
    pub async fn wait(self) -> std::io::Result<()> {
        self.task.await.map_err(std::io::Error::other)?
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot open the store: {0}")]
    Store(StoreError),
    #[error("cannot listen on {address}: {error}")]
    Bind {
        address: SocketAddr,
        error: std::io::Error,
    },
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

impl From<StoreError> for StartError {
    fn from(error: StoreError) -> StartError {
        StartError::Store(error)
    }
}

/// Every request comes here: authentication, routing, and an answer that
/// is always a Kubernetes object or Status, whatever went wrong. A handler
/// that panics (a bug, or an exercise's `todo!()`) is a 500 with the panic's
/// message, not a dropped connection, as Kubernetes' panic recovery does.
async fn serve(State(server): State<Arc<Server>>, request: Request) -> Response {
    use futures::FutureExt;
    let handled = std::panic::AssertUnwindSafe(request::handle(&server, request))
        .catch_unwind()
        .await;
    match handled {
        Ok(Ok(response)) => response,
        Ok(Err(error)) => error.into_response(),
        Err(panic) => {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|text| text.to_string()))
                .unwrap_or_else(|| "a handler panicked".to_string());
            ApiError::of(::objects::Status::internal_error(format!(
                "the server panicked: {message}"
            )))
            .into_response()
        }
    }
}
