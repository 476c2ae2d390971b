use super::{Identity, Request};

/// Whether the echo server's probe endpoints pass. Both do at start; a
/// request switches them, so that a test or a demo can make a pod fail
/// its liveness probe (and be restarted) or its readiness probe (and be
/// taken out of its Service).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Health {
    /// `/healthz`, for a liveness probe.
    pub live: bool,
    /// `/ready`, for a readiness probe.
    pub ready: bool,
}

impl Default for Health {
    fn default() -> Self {
        Health {
            live: true,
            ready: true,
        }
    }
}

/// The server's answer to one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub status: u16,
    pub body: String,
    /// Exit the process with this code once the reply is sent.
    pub exit_code: Option<i32>,
}

impl Reply {
    pub fn ok(body: impl Into<String>) -> Reply {
        Reply {
            status: 200,
            body: body.into(),
            exit_code: None,
        }
    }

    /// A probe endpoint's answer: 200 `ok`, or 500 `failing`.
    pub fn probe(passing: bool) -> Reply {
        if passing {
            Reply::ok("ok\n")
        } else {
            Reply {
                status: 500,
                body: "failing\n".to_string(),
                exit_code: None,
            }
        }
    }

    /// The answer to a switch: `healthz: failing from now on`.
    pub fn switched(endpoint: &str, passing: bool) -> Reply {
        let state = if passing { "ok" } else { "failing" };
        Reply::ok(format!("{endpoint}: {state} from now on\n"))
    }

    /// The last answer before the process exits with `code`.
    pub fn crash(code: i32) -> Reply {
        Reply {
            status: 200,
            body: format!("crashing with exit code {code}\n"),
            exit_code: Some(code),
        }
    }

    pub fn bad_request(reason: &str) -> Reply {
        Reply {
            status: 400,
            body: format!("bad request: {reason}\n"),
            exit_code: None,
        }
    }
}

// ANCHOR: route
/// The echo server's routes, for any method:
///
/// | path | answer |
/// |---|---|
/// | `/healthz`, `/ready` | [`Reply::probe`] of `live`, `ready` |
/// | `/healthz/fail`, `/healthz/ok`, `/ready/fail`, `/ready/ok` | switch, then [`Reply::switched`] |
/// | `/crash?code=N` | [`Reply::crash`] with N (default 1; 0 to 255, else a bad request) |
/// | anything else | 200 with [`Identity::page`] |
pub fn route(request: &Request, identity: &Identity, health: &mut Health) -> Reply {
    let (path, query) = request
        .target
        .split_once('?')
        .unwrap_or((&request.target, ""));
    match path {
        "/healthz" => Reply::probe(health.live),
        "/ready" => Reply::probe(health.ready),
        "/healthz/fail" | "/healthz/ok" => {
            health.live = path.ends_with("/ok");
            Reply::switched("healthz", health.live)
        }
        "/ready/fail" | "/ready/ok" => {
            health.ready = path.ends_with("/ok");
            Reply::switched("ready", health.ready)
        }
        "/crash" => {
            let code = query
                .split('&')
                .find_map(|pair| pair.strip_prefix("code="))
                .map_or(Some(1), |code| code.parse::<u8>().ok());
            match code {
                Some(code) => Reply::crash(i32::from(code)),
                None => Reply::bad_request("code must be a number from 0 to 255"),
            }
        }
        _ => Reply::ok(identity.page(request)),
    }
}
// ANCHOR_END: route
