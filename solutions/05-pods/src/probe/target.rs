use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

use super::exec::{self, Exec};
use super::outcome::Outcome;
use super::spec::{Action, Probe};
use super::{http, tcp};

/// What a container's probes talk to: the pod's IP (every container of a
/// pod shares it) and, for exec probes, a way into the container.
#[derive(Clone)]
pub struct Target {
    /// The pod's IP, from the pod network.
    pub ip: IpAddr,
    /// Runs commands inside the container; `None` where the caller has no
    /// way in (exec probes then cannot run).
    pub exec: Option<Arc<dyn Exec>>,
}

impl Target {
    /// A target for network probes only.
    pub fn new(ip: IpAddr) -> Target {
        Target { ip, exec: None }
    }

    /// The same target, able to run exec probes through `exec`.
    pub fn with_exec(mut self, exec: Arc<dyn Exec>) -> Target {
        self.exec = Some(exec);
        self
    }

    /// Runs `probe`'s action once, within its timeout.
    pub async fn probe(&self, probe: &Probe) -> Outcome {
        match &probe.action {
            Action::HttpGet(get) => http::probe(get, self.ip, probe.timeout).await,
            Action::TcpSocket(socket) => tcp::probe(socket, self.ip, probe.timeout).await,
            Action::Exec { command } => match &self.exec {
                Some(runner) => exec::probe(runner.as_ref(), command, probe.timeout).await,
                None => Outcome::Error("exec probes need a way into the container".to_string()),
            },
        }
    }
}

impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Target")
            .field("ip", &self.ip)
            .field("exec", &self.exec.is_some())
            .finish()
    }
}
