//! Chapter 07: the API server and its client.
//!
//! - [`store`]: the cluster's state, durable, with a cluster-wide revision
//!   (the resourceVersion) and watches.

pub mod client;
pub mod server;
pub mod store;
