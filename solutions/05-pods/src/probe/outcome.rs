use std::fmt;

/// What one probe run found, with the text the kubelet would put in an
/// event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The container answered as it should.
    Success,
    /// It counts as a success, but something deserves a look (an HTTP
    /// redirect, which the probe does not follow).
    Warning(String),
    /// The container answered wrongly, too late, or not at all.
    Failure(String),
    /// The probe could not run at all (the exec machinery failed, say).
    /// Such a run says nothing about the container and is not counted.
    Error(String),
}

impl Outcome {
    /// Whether the run counts as passed; `None` for a run not counted.
    pub fn passed(&self) -> Option<bool> {
        match self {
            Outcome::Success | Outcome::Warning(_) => Some(true),
            Outcome::Failure(_) => Some(false),
            Outcome::Error(_) => None,
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Success => f.write_str("success"),
            Outcome::Warning(message) => write!(f, "warning: {message}"),
            Outcome::Failure(message) => write!(f, "failure: {message}"),
            Outcome::Error(message) => write!(f, "error: {message}"),
        }
    }
}

/// An I/O error in the words Go's net package uses, which is what people
/// search for when they read a kubelet event
/// (`dial tcp 10.244.0.5:8080: connect: connection refused`).
pub(crate) fn net_error(error: &std::io::Error) -> String {
    use std::io::ErrorKind;
    match error.kind() {
        ErrorKind::ConnectionRefused => "connect: connection refused".into(),
        ErrorKind::ConnectionReset => "read: connection reset by peer".into(),
        ErrorKind::HostUnreachable => "connect: no route to host".into(),
        ErrorKind::NetworkUnreachable => "connect: network is unreachable".into(),
        ErrorKind::UnexpectedEof => "EOF".into(),
        _ => {
            // Drop Rust's " (os error N)" suffix and start in lower case.
            let text = error.to_string();
            let text = text.split(" (os error").next().unwrap_or(&text);
            let mut chars = text.chars();
            match chars.next() {
                Some(first) => first.to_lowercase().chain(chars).collect(),
                None => String::new(),
            }
        }
    }
}
