//! The API server under test as a program of its own, for the tests that
//! kill it: `apiserver DATA_DIR` listens on a free loopback port and prints
//! `listening on http://127.0.0.1:PORT` once it serves.

use chapter_07::apiserver::server::{ApiServer, Config};

#[tokio::main]
async fn main() {
    let Some(dir) = std::env::args().nth(1) else {
        eprintln!("usage: apiserver DATA_DIR");
        std::process::exit(2);
    };
    let config = Config {
        listen: "127.0.0.1:0".parse().expect("an address"),
        data_dir: Some(dir.into()),
        ..Config::default()
    };
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
