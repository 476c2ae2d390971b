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
    // exercise 7: what the query `name` asks for under the cluster `domain`, ignoring case and a final dot: Outside, the Apex, a namespace, a Service, a Service's named port (`_port._proto`), an endpoint, a pod by its dashed address, or Unknown
    // hint: Lower-case both, strip the root's final dot, and take the domain off the end: it must be the whole name (the Apex) or follow a dot (`xcluster.local` is Outside).
    // hint: Read the labels left of the domain from the right (`rsplit('.')`): `svc`, then the namespace, then the service, then an endpoint name or `_proto` and `_port`; `pod`, namespace, `a-b-c-d` (the given `dashed_ipv4`). Empty labels and other shapes are Unknown; `svc` or `pod` alone are Interior.
    // hint: match labels.as_slice() { ["svc"] | ["pod"] | ["pod", _] => Interior, ["svc", ns] => Namespace, ["svc", ns, svc] => Service, ["svc", ns, svc, ep] if !ep.starts_with('_') => Endpoint, ["svc", ns, svc, proto, port] => Port when both start with `_` and are not empty after it, ["pod", ns, address] => Pod via dashed_ipv4, _ => Unknown }
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    let domain = domain.trim_end_matches('.').to_ascii_lowercase();
    let rest = if name == domain {
        ""
    } else {
        match name.strip_suffix(&domain) {
            // `xcluster.local` is not under `cluster.local`: a dot must
            // separate the domain from the labels before it.
            Some(rest) if rest.ends_with('.') => &rest[..rest.len() - 1],
            _ => return ClusterName::Outside,
        }
    };
    if rest.is_empty() {
        return ClusterName::Apex;
    }
    // The labels from the domain outwards: `svc`, then the namespace...
    let labels: Vec<&str> = rest.rsplit('.').collect();
    if labels.iter().any(|label| label.is_empty()) {
        return ClusterName::Unknown;
    }
    match labels.as_slice() {
        ["svc"] | ["pod"] | ["pod", _] => ClusterName::Interior,
        ["svc", namespace] => ClusterName::Namespace {
            namespace: namespace.to_string(),
        },
        ["svc", namespace, service] => ClusterName::Service {
            namespace: namespace.to_string(),
            service: service.to_string(),
        },
        ["svc", namespace, service, endpoint] if !endpoint.starts_with('_') => {
            ClusterName::Endpoint {
                namespace: namespace.to_string(),
                service: service.to_string(),
                endpoint: endpoint.to_string(),
            }
        }
        ["svc", namespace, service, protocol, port] => {
            match (port.strip_prefix('_'), protocol.strip_prefix('_')) {
                (Some(port), Some(protocol)) if !port.is_empty() && !protocol.is_empty() => {
                    ClusterName::Port {
                        namespace: namespace.to_string(),
                        service: service.to_string(),
                        port: port.to_string(),
                        protocol: protocol.to_string(),
                    }
                }
                _ => ClusterName::Unknown,
            }
        }
        ["pod", namespace, address] => match dashed_ipv4(address) {
            Some(ip) => ClusterName::Pod {
                namespace: namespace.to_string(),
                ip,
            },
            None => ClusterName::Unknown,
        },
        _ => ClusterName::Unknown,
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_outside_the_domain_are_not_ours() {
        assert_eq!(parse("example.com.", "cluster.local"), ClusterName::Outside);
        assert_eq!(
            parse("xcluster.local.", "cluster.local"),
            ClusterName::Outside
        );
        assert_eq!(parse("local.", "cluster.local"), ClusterName::Outside);
    }

    #[test]
    fn an_empty_label_is_no_name() {
        assert_eq!(
            parse("a..svc.cluster.local", "cluster.local"),
            ClusterName::Unknown
        );
    }

    #[test]
    fn a_dashed_address_needs_four_parts() {
        assert_eq!(dashed_ipv4("10-0-0-1"), Some(Ipv4Addr::new(10, 0, 0, 1)));
        assert_eq!(dashed_ipv4("10-0-1"), None);
        assert_eq!(dashed_ipv4("10-0-0-1-2"), None);
        assert_eq!(dashed_ipv4("10-0-0-300"), None);
    }
}
