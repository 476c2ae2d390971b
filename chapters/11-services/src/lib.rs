//! Chapter 11's test suite and the helpers its tests share.
//!
//! The tests import the crate under test as `chapter_11::services`: your
//! exercise (`exercises/11-services`) by default, the reference solution
//! (`solutions/11-services`) with `--features solution`.

#[cfg(not(feature = "solution"))]
pub use exercise as services;
#[cfg(feature = "solution")]
pub use solution as services;

/// An API server for one test: in this process, in memory, on a free
/// loopback port.
pub async fn start_server() -> apiserver::server::ApiServer {
    apiserver::server::ApiServer::start(apiserver::server::Config {
        listen: "127.0.0.1:0".parse().expect("an address"),
        data_dir: None,
        ..apiserver::server::Config::default()
    })
    .await
    .expect("the API server starts")
}
