// Generated from solutions/11-services/src/proxy/table.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
//! The service table: what the proxy should serve, worked out from the
//! Services and EndpointSlices the informers hold. Pure: the runtime
//! rebuilds it after every change and reconciles its listeners, addresses
//! and balancers against it.
//!
//! Kubernetes: kube-proxy's `ServicePortMap` and `EndpointsMap`
//! (`pkg/proxy/serviceport.go`, `endpointslicecache.go`), keyed as there
//! by `ServicePortName` (namespace, name, port name, protocol).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Duration;

use objects::discovery::SERVICE_NAME_LABEL;
use objects::{EndpointSlice, Service};

/// How long a client sticks to its endpoint under `sessionAffinity:
/// ClientIP` when the Service does not say (Kubernetes: 3 hours).
pub const DEFAULT_AFFINITY_TIMEOUT: Duration = Duration::from_secs(10_800);

/// The protocols the proxy carries (SCTP ports are skipped).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Protocol {
    Tcp,
    Udp,
}

impl Protocol {
    /// A Service or slice port's protocol; TCP when absent, as the API
    /// defaults it.
    pub fn parse(text: Option<&str>) -> Option<Protocol> {
        match text.unwrap_or("TCP") {
            "TCP" => Some(Protocol::Tcp),
            "UDP" => Some(Protocol::Udp),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Tcp => "TCP",
            Protocol::Udp => "UDP",
        }
    }
}

/// One port of one Service: the unit the proxy balances.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ServicePortName {
    pub namespace: String,
    pub name: String,
    /// The Service port's name, `""` for an unnamed only port.
    pub port: String,
    pub protocol: Protocol,
}

impl fmt::Display for ServicePortName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)?;
        if !self.port.is_empty() {
            write!(f, ":{}", self.port)?;
        }
        write!(f, "/{}", self.protocol.as_str())
    }
}

/// One endpoint of a Service port, with its conditions resolved (an
/// unknown `ready` is ready, an unknown `serving` is `ready`'s value, an
/// unknown `terminating` is false: the API's rules).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EndpointInfo {
    pub address: SocketAddrV4,
    pub ready: bool,
    pub serving: bool,
    pub terminating: bool,
}

/// What the proxy serves for one Service port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServicePortInfo {
    /// `None` for a headless Service (nothing to proxy at a ClusterIP).
    pub cluster_ip: Option<Ipv4Addr>,
    pub port: u16,
    pub node_port: Option<u16>,
    /// `Some(timeout)` under `sessionAffinity: ClientIP`.
    pub affinity: Option<Duration>,
    /// Sorted by address, each once.
    pub endpoints: Vec<EndpointInfo>,
}

impl ServicePortInfo {
    /// The endpoints that may take new connections.
    pub fn ready(&self) -> impl Iterator<Item = &EndpointInfo> {
        self.endpoints.iter().filter(|endpoint| endpoint.ready)
    }
}

/// Every Service port the proxy serves.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServiceTable {
    pub ports: BTreeMap<ServicePortName, ServicePortInfo>,
}

impl ServiceTable {
    /// The ClusterIPs of the table, for the proxy's interface.
    pub fn cluster_ips(&self) -> BTreeSet<Ipv4Addr> {
        self.ports
            .values()
            .filter_map(|info| info.cluster_ip)
            .collect()
    }

    pub fn get(&self, name: &ServicePortName) -> Option<&ServicePortInfo> {
        self.ports.get(name)
    }
}

/// One Service port per line, then its endpoints indented: readable in a
/// log and in a snapshot.
impl fmt::Display for ServiceTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (name, info) in &self.ports {
            write!(f, "{name}")?;
            match info.cluster_ip {
                Some(ip) => write!(f, " {ip}:{}", info.port)?,
                None => write!(f, " headless")?,
            }
            if let Some(node_port) = info.node_port {
                write!(f, " nodePort={node_port}")?;
            }
            if let Some(timeout) = info.affinity {
                write!(f, " affinity=ClientIP/{}s", timeout.as_secs())?;
            }
            writeln!(f)?;
            for endpoint in &info.endpoints {
                let flag = |on: bool, word: &'static str| if on { word } else { "" };
                let words = [
                    flag(endpoint.ready, "ready"),
                    flag(endpoint.serving, "serving"),
                    flag(endpoint.terminating, "terminating"),
                ];
                let words: Vec<&str> = words.into_iter().filter(|w| !w.is_empty()).collect();
                let words = if words.is_empty() {
                    "not-ready".to_string()
                } else {
                    words.join(",")
                };
                writeln!(f, "  {} {words}", endpoint.address)?;
            }
        }
        Ok(())
    }
}

/// The table for `services` and the `slices` that point at them (label
/// `kubernetes.io/service-name`, same namespace). A slice port serves the
/// Service port of the same name and protocol; an endpoint counts once
/// however many slices list it. ExternalName Services, SCTP ports and
/// addresses that are not IPv4 are left out: there is nothing the proxy
/// can do with them.
pub fn build<'a>(
    services: impl IntoIterator<Item = &'a Service>,
    slices: impl IntoIterator<Item = &'a EndpointSlice>,
) -> ServiceTable {
    // (namespace, service) → its slices.
    let mut by_service: BTreeMap<(&str, &str), Vec<&EndpointSlice>> = BTreeMap::new();
    for slice in slices {
        if !matches!(slice.address_type.as_str(), "IPv4" | "") {
            continue;
        }
        if let Some(service) = slice.metadata.labels.get(SERVICE_NAME_LABEL) {
            by_service
                .entry((slice.metadata.namespace(), service.as_str()))
                .or_default()
                .push(slice);
        }
    }
    let mut table = ServiceTable::default();
    for service in services {
        let spec = &service.spec;
        if spec.service_type.as_deref() == Some("ExternalName") {
            continue;
        }
        let namespace = service.metadata.namespace();
        let name = service.metadata.name();
        let cluster_ip = spec
            .cluster_ip
            .as_deref()
            .and_then(|ip| ip.parse::<Ipv4Addr>().ok())
            .filter(|ip| !ip.is_unspecified());
        let affinity = (spec.session_affinity.as_deref() == Some("ClientIP"))
            .then(|| affinity_timeout(spec.session_affinity_config.as_ref()));
        let node_ports = matches!(
            spec.service_type.as_deref(),
            Some("NodePort" | "LoadBalancer")
        );
        let slices = by_service.get(&(namespace, name));
        for port in &spec.ports {
            let Some(protocol) = Protocol::parse(port.protocol.as_deref()) else {
                continue;
            };
            let Ok(number) = u16::try_from(port.port) else {
                continue;
            };
            let port_name = port.name.clone().unwrap_or_default();
            let mut endpoints = BTreeSet::new();
            for slice in slices.into_iter().flatten() {
                let Some(target) = slice.ports.iter().find(|candidate| {
                    candidate.name.as_deref().unwrap_or("") == port_name
                        && Protocol::parse(candidate.protocol.as_deref()) == Some(protocol)
                }) else {
                    continue;
                };
                let Some(target) = target.port.and_then(|p| u16::try_from(p).ok()) else {
                    continue;
                };
                for endpoint in &slice.endpoints {
                    // Kubernetes reads an endpoint's first address only.
                    let Some(ip) = endpoint
                        .addresses
                        .first()
                        .and_then(|ip| ip.parse::<Ipv4Addr>().ok())
                    else {
                        continue;
                    };
                    let conditions = &endpoint.conditions;
                    let ready = conditions.ready.unwrap_or(true);
                    endpoints.insert(EndpointInfo {
                        address: SocketAddrV4::new(ip, target),
                        ready,
                        serving: conditions.serving.unwrap_or(ready),
                        terminating: conditions.terminating.unwrap_or(false),
                    });
                }
            }
            let mut endpoints: Vec<EndpointInfo> = endpoints.into_iter().collect();
            // The same address in two slices (a slice being replaced):
            // once, the first (readiest) of its entries.
            endpoints.sort_by_key(|e| (e.address, !e.ready, !e.serving, e.terminating));
            endpoints.dedup_by_key(|e| e.address);
            table.ports.insert(
                ServicePortName {
                    namespace: namespace.to_string(),
                    name: name.to_string(),
                    port: port_name,
                    protocol,
                },
                ServicePortInfo {
                    cluster_ip,
                    port: number,
                    node_port: port
                        .node_port
                        .filter(|_| node_ports)
                        .and_then(|p| u16::try_from(p).ok())
                        .filter(|p| *p != 0),
                    affinity,
                    endpoints,
                },
            );
        }
    }
    table
}

/// `sessionAffinityConfig.clientIP.timeoutSeconds`, or the default.
pub fn affinity_timeout(config: Option<&serde_json::Value>) -> Duration {
    config
        .and_then(|config| config.pointer("/clientIP/timeoutSeconds"))
        .and_then(serde_json::Value::as_u64)
        .filter(|seconds| *seconds > 0)
        .map(Duration::from_secs)
        .unwrap_or(DEFAULT_AFFINITY_TIMEOUT)
}
