// Generated from solutions/11-services/src/dns/name.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
//! What a query name asks for: the cluster DNS reads the name's labels
//! under the cluster domain (`cluster.local`) the way CoreDNS's
//! `kubernetes` plugin does, following the Kubernetes DNS specification:
//!
//! ```text
//! web.default.svc.cluster.local              a Service
//! _http._tcp.web.default.svc.cluster.local   one of its ports (SRV)
//! web-0.web.default.svc.cluster.local        an endpoint of a headless Service
//! 10-244-0-5.default.pod.cluster.local       a pod, by its address
//! ```
//!
//! Everything else under the domain does not exist; names outside it are
//! not ours to answer and go to the upstream resolver.

use std::net::Ipv4Addr;

/// The meaning of a query name, lower-cased (DNS names compare without case).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClusterName {
    /// Not under the cluster domain: forwarded upstream.
    Outside,
    /// The cluster domain itself, which holds the zone's SOA and NS.
    Apex,
    /// `svc.<domain>` or `pod.<domain>`, or `<ns>.pod.<domain>`: names that
    /// exist only because names below them do (empty non-terminals).
    Interior,
    /// `<ns>.svc.<domain>`: exists when the namespace has Services.
    Namespace { namespace: String },
    /// `<svc>.<ns>.svc.<domain>`.
    Service { namespace: String, service: String },
    /// `<endpoint>.<svc>.<ns>.svc.<domain>`: one address of a headless
    /// Service, by the endpoint's hostname or its dashed address.
    Endpoint {
        namespace: String,
        service: String,
        endpoint: String,
    },
    /// `_<port>._<protocol>.<svc>.<ns>.svc.<domain>`, without the underscores.
    Port {
        namespace: String,
        service: String,
        port: String,
        protocol: String,
    },
    /// `<a-b-c-d>.<ns>.pod.<domain>`: the address spelled in the name.
    Pod { namespace: String, ip: Ipv4Addr },
    /// Under the domain, but of no shape the specification gives: NXDOMAIN.
    Unknown,
}

// ANCHOR: parse
/// Reads `name` (a query name, with or without the root's final dot) under
/// the cluster `domain` (`cluster.local`), ignoring case.
pub fn parse(name: &str, domain: &str) -> ClusterName {
    todo!(
        "exercise 7: what the query `name` asks for under the cluster `domain`, ignoring case and a final dot: Outside, the Apex, a namespace, a Service, a Service's named port (`_port._proto`), an endpoint, a pod by its dashed address, or Unknown"
    )
}
// ANCHOR_END: parse

/// `10-244-0-5` as 10.244.0.5: four decimal parts, no more, no less.
fn dashed_ipv4(label: &str) -> Option<Ipv4Addr> {
    let parts: Vec<&str> = label.split('-').collect();
    if parts.len() != 4 {
        return None;
    }
    label.replace('-', ".").parse().ok()
}

/// The label that names an endpoint of a headless Service: its hostname
/// when the pod set one, else its address with `-` for `.` and `:`
/// (CoreDNS's `endpointHostname`).
pub fn endpoint_label(hostname: Option<&str>, address: &str) -> String {
    match hostname {
        Some(hostname) if !hostname.is_empty() => hostname.to_ascii_lowercase(),
        _ => address.replace(['.', ':'], "-"),
    }
}
