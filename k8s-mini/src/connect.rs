//! What every component that talks to the API server does first: logs at
//! the level asked for, and a client for `--server` with the bearer token
//! of `--token-file`.

use std::path::Path;

use anyhow::Context;

use crate::chapters::apiserver::client::Client;

/// Logs (`tracing`) to stderr at `level`, in colour on a terminal.
pub fn init_logging(level: tracing::Level) {
    tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
}

/// A client for `server`, with the token in `token_file` if one is given.
pub fn client(server: &str, token_file: Option<&Path>) -> anyhow::Result<Client> {
    let mut client = Client::new(server).with_context(|| format!("bad --server {server}"))?;
    if let Some(path) = token_file {
        let token = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the token file {}", path.display()))?;
        client = client.with_token(token.trim());
    }
    Ok(client)
}
