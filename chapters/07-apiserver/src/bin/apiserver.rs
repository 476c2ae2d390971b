//! The API server under test as a program of its own, for the tests that
//! kill it: `apiserver DATA_DIR [SERVICE_CIDR [NODE_PORT_RANGE]]` listens on
//! a free loopback port and prints `listening on http://127.0.0.1:PORT` once
//! it serves.

use chapter_07::apiserver::server::{ApiServer, Config};

#[tokio::main]
async fn main() {
    let Some(dir) = std::env::args().nth(1) else {
        eprintln!("usage: apiserver DATA_DIR");
        std::process::exit(2);
    };
    let mut config = Config {
        listen: "127.0.0.1:0".parse().expect("an address"),
        data_dir: Some(dir.into()),
        ..Config::default()
    };
    if let Some(cidr) = std::env::args().nth(2) {
        config.service_cluster_ip_range = cidr.parse().expect("a service CIDR");
    }
    if let Some(ports) = std::env::args().nth(3) {
        config.service_node_port_range = ports.parse().expect("a NodePort range");
    }
    let server = match ApiServer::start(config).await {
        Ok(server) => server,
        Err(error) => {
            eprintln!("apiserver: {error}");
            std::process::exit(1);
        }
    };
    println!("listening on {}", server.url());
    if let Err(error) = server.wait().await {
        eprintln!("apiserver: {error}");
        std::process::exit(1);
    }
}
