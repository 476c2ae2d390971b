use std::fmt;
use std::time::Duration;

/// Which question a probe answers; the kubelet treats each kind differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProbeKind {
    /// "Is the program still working?" A failure restarts the container.
    Liveness,
    /// "May traffic be sent to it?" A failure takes the pod out of its
    /// Services' endpoints; nothing is restarted.
    Readiness,
    /// "Has it finished starting?" Holds the other two back until it
    /// succeeds, so that a slow start is not mistaken for a hang.
    Startup,
}

impl ProbeKind {
    /// The field's name in a container spec (`livenessProbe`), for error
    /// messages that point at the field.
    pub fn field(self) -> &'static str {
        match self {
            ProbeKind::Liveness => "livenessProbe",
            ProbeKind::Readiness => "readinessProbe",
            ProbeKind::Startup => "startupProbe",
        }
    }
}

impl fmt::Display for ProbeKind {
    /// As the kubelet writes it at the start of an event message.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ProbeKind::Liveness => "Liveness",
            ProbeKind::Readiness => "Readiness",
            ProbeKind::Startup => "Startup",
        })
    }
}

/// One probe of a container, with the Kubernetes fields and defaults.
///
/// Times are [`Duration`]s rather than whole seconds: the API layer converts
/// `periodSeconds` and friends, and tests can use milliseconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe {
    /// What to do to ask the container.
    pub action: Action,
    /// How long after the container started before the first probe.
    pub initial_delay: Duration,
    /// Time from one probe to the next.
    pub period: Duration,
    /// A probe that takes longer has failed.
    pub timeout: Duration,
    /// Successes in a row that turn a failed probe into a successful one.
    pub success_threshold: u32,
    /// Failures in a row that turn a successful probe into a failed one.
    pub failure_threshold: u32,
}

impl Probe {
    /// `periodSeconds` when the manifest leaves it out.
    pub const DEFAULT_PERIOD: Duration = Duration::from_secs(10);
    /// `timeoutSeconds` when the manifest leaves it out.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(1);
    /// `successThreshold` when the manifest leaves it out.
    pub const DEFAULT_SUCCESS_THRESHOLD: u32 = 1;
    /// `failureThreshold` when the manifest leaves it out.
    pub const DEFAULT_FAILURE_THRESHOLD: u32 = 3;

    /// A probe with the Kubernetes defaults: no initial delay, every 10 s,
    /// 1 s timeout, one success or three failures in a row.
    pub fn new(action: Action) -> Probe {
        Probe {
            action,
            initial_delay: Duration::ZERO,
            period: Probe::DEFAULT_PERIOD,
            timeout: Probe::DEFAULT_TIMEOUT,
            success_threshold: Probe::DEFAULT_SUCCESS_THRESHOLD,
            failure_threshold: Probe::DEFAULT_FAILURE_THRESHOLD,
        }
    }

    /// Checks the rules the API server enforces, so that a bad probe is
    /// refused before it runs rather than misbehaving later.
    pub fn validate(&self, kind: ProbeKind) -> Result<(), InvalidProbe> {
        let invalid = |field: &'static str, value: String, reason: &'static str| {
            Err(InvalidProbe {
                kind,
                field,
                value,
                reason,
            })
        };
        if self.period.is_zero() {
            return invalid("periodSeconds", "0".into(), "must be greater than 0");
        }
        if self.timeout.is_zero() {
            return invalid("timeoutSeconds", "0".into(), "must be greater than 0");
        }
        if self.failure_threshold == 0 {
            return invalid("failureThreshold", "0".into(), "must be greater than 0");
        }
        if self.success_threshold == 0 {
            return invalid("successThreshold", "0".into(), "must be greater than 0");
        }
        // A liveness or startup probe that needed two successes would leave
        // the container neither alive nor dead after one: Kubernetes forbids it.
        if kind != ProbeKind::Readiness && self.success_threshold != 1 {
            return invalid(
                "successThreshold",
                self.success_threshold.to_string(),
                "must be 1",
            );
        }
        match &self.action {
            Action::Exec { command } if command.is_empty() => {
                invalid("exec.command", "[]".into(), "must not be empty")
            }
            Action::HttpGet(get) if get.port == 0 => {
                invalid("httpGet.port", "0".into(), "must be between 1 and 65535")
            }
            Action::TcpSocket(tcp) if tcp.port == 0 => {
                invalid("tcpSocket.port", "0".into(), "must be between 1 and 65535")
            }
            _ => Ok(()),
        }
    }
}

/// What a probe does. Kubernetes also has gRPC probes; k8s-mini has not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Run a command inside the container; exit code 0 is success.
    Exec {
        /// The program and its arguments, not interpreted by a shell.
        command: Vec<String>,
    },
    /// An HTTP GET; a status from 200 to 399 is success.
    HttpGet(HttpGet),
    /// Open a TCP connection; connecting is success.
    TcpSocket(TcpSocket),
}

impl Action {
    /// An exec action from anything that gives strings.
    pub fn exec<I, S>(command: I) -> Action
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Action::Exec {
            command: command.into_iter().map(Into::into).collect(),
        }
    }

    /// An HTTP GET of `path` on the pod's IP.
    pub fn http_get(path: &str, port: u16) -> Action {
        Action::HttpGet(HttpGet {
            path: path.to_string(),
            port,
            host: None,
            headers: Vec::new(),
        })
    }

    /// A TCP connect to `port` on the pod's IP.
    pub fn tcp_socket(port: u16) -> Action {
        Action::TcpSocket(TcpSocket { port, host: None })
    }
}

/// `httpGet`: plain HTTP only (the kubelet's HTTPS probes skip certificate
/// checks; k8s-mini leaves TLS out).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpGet {
    /// Path (and query) to ask for; empty means `/`.
    pub path: String,
    /// Port on the target.
    pub port: u16,
    /// Address to connect to instead of the pod's IP.
    pub host: Option<String>,
    /// `httpHeaders`: extra request headers. `Host`, `User-Agent` and
    /// `Accept` here replace the ones the kubelet would send.
    pub headers: Vec<HttpHeader>,
}

/// One of `httpGet.httpHeaders`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpHeader {
    /// Header name, matched without regard to case.
    pub name: String,
    /// Header value.
    pub value: String,
}

impl HttpHeader {
    /// A header from its name and value.
    pub fn new(name: &str, value: &str) -> HttpHeader {
        HttpHeader {
            name: name.to_string(),
            value: value.to_string(),
        }
    }
}

/// `tcpSocket`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcpSocket {
    /// Port on the target.
    pub port: u16,
    /// Address to connect to instead of the pod's IP.
    pub host: Option<String>,
}

/// A probe the API server would refuse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}.{field}: Invalid value: {value}: {reason}", kind.field())]
pub struct InvalidProbe {
    /// Which probe of the container.
    pub kind: ProbeKind,
    /// The field inside the probe, as the manifest spells it.
    pub field: &'static str,
    /// The refused value.
    pub value: String,
    /// Why.
    pub reason: &'static str,
}
