// Generated from solutions/11-services/src/dns/answer.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
//! The records the cluster DNS answers with, built from the Services and
//! EndpointSlices it caches: CoreDNS's `kubernetes` plugin in small.
//!
//! Every answer is authoritative (the cluster domain is ours) and lives
//! 5 seconds, the plugin's default TTL: long enough to spare the server a
//! burst of lookups, short enough that a pod that went away stops being
//! handed out soon. A name that does not exist gets NXDOMAIN, a name that
//! exists without records of the asked type gets an empty NOERROR
//! ("NODATA"); both carry the zone's SOA in the authority section, whose
//! minimum tells resolvers how long to remember the negative answer
//! (RFC 2308).

use std::collections::BTreeSet;
use std::net::Ipv4Addr;
use std::sync::Arc;

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::rdata::{A, CNAME, NS, SOA, SRV};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use objects::{EndpointSlice, Service};

use super::catalog::Catalog;
use super::name::{ClusterName, endpoint_label};

/// Seconds a record may be cached: the `kubernetes` plugin's default.
pub const TTL: u32 = 5;

/// The zone the server is authoritative for.
#[derive(Debug, Clone)]
pub struct Zone {
    /// `cluster.local.`
    pub domain: Name,
    /// The SOA's serial: changes when the zone's data does.
    pub serial: u32,
}

impl Zone {
    /// The zone's SOA record, CoreDNS's values: the server `ns.dns.<zone>`,
    /// the mailbox `hostmaster.<zone>`, and the TTL as negative TTL.
    pub fn soa(&self) -> Record {
        let under = |label: &str| {
            Name::from_ascii(label)
                .and_then(|name| name.append_domain(&self.domain))
                .expect("a short label under a valid domain is a valid name")
        };
        let soa = SOA::new(
            under("ns.dns"),
            under("hostmaster"),
            self.serial,
            7200,
            1800,
            86400,
            TTL,
        );
        Record::from_rdata(self.domain.clone(), TTL, RData::SOA(soa))
    }

    fn ns(&self) -> Record {
        let server = Name::from_ascii("ns.dns")
            .and_then(|name| name.append_domain(&self.domain))
            .expect("a valid name");
        Record::from_rdata(self.domain.clone(), TTL, RData::NS(NS(server)))
    }

    /// `<labels>.<zone>`, from labels that came out of a valid query name.
    fn name(&self, labels: &[&str]) -> Name {
        Name::from_labels(labels.iter().map(|l| l.as_bytes()))
            .and_then(|name| name.append_domain(&self.domain))
            .expect("labels of a parsed query name make a valid name")
    }
}

/// The sections of a reply to one in-zone question.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub code: ResponseCode,
    pub answers: Vec<Record>,
    pub authority: Vec<Record>,
    pub additionals: Vec<Record>,
}

impl Reply {
    fn records(answers: Vec<Record>, additionals: Vec<Record>, zone: &Zone) -> Reply {
        if answers.is_empty() {
            return Reply::no_data(zone);
        }
        Reply {
            code: ResponseCode::NoError,
            answers,
            authority: Vec::new(),
            additionals,
        }
    }

    fn no_data(zone: &Zone) -> Reply {
        Reply {
            code: ResponseCode::NoError,
            answers: Vec::new(),
            authority: vec![zone.soa()],
            additionals: Vec::new(),
        }
    }

    fn nx_domain(zone: &Zone) -> Reply {
        Reply {
            code: ResponseCode::NXDomain,
            ..Reply::no_data(zone)
        }
    }
}

/// The reply to the question (`qname`, as asked, of type `qtype`) whose
/// name means `parsed`, from the objects in `catalog`.
pub fn answer(
    qname: &Name,
    qtype: RecordType,
    parsed: &ClusterName,
    catalog: &dyn Catalog,
    zone: &Zone,
) -> Reply {
    let a = |name: &Name, ip: Ipv4Addr| Record::from_rdata(name.clone(), TTL, RData::A(A(ip)));
    match parsed {
        // Not ours: the server forwards these before it gets here.
        ClusterName::Outside | ClusterName::Unknown => Reply::nx_domain(zone),
        ClusterName::Apex => match qtype {
            RecordType::SOA => Reply::records(vec![zone.soa()], Vec::new(), zone),
            RecordType::NS => Reply::records(vec![zone.ns()], Vec::new(), zone),
            _ => Reply::no_data(zone),
        },
        ClusterName::Interior => Reply::no_data(zone),
        ClusterName::Namespace { namespace } => {
            if catalog.has_services(namespace) {
                Reply::no_data(zone)
            } else {
                Reply::nx_domain(zone)
            }
        }
        ClusterName::Pod { ip, .. } => match qtype {
            RecordType::A => Reply::records(vec![a(qname, *ip)], Vec::new(), zone),
            _ => Reply::no_data(zone),
        },
        ClusterName::Service { namespace, service } => {
            let Some(svc) = catalog.service(namespace, service) else {
                return Reply::nx_domain(zone);
            };
            if let Some(target) = external_name(&svc) {
                // An ExternalName Service is an alias, whatever the type asked.
                let cname = Record::from_rdata(qname.clone(), TTL, RData::CNAME(CNAME(target)));
                return Reply::records(vec![cname], Vec::new(), zone);
            }
            let endpoints = ready_endpoints(&catalog.slices(namespace, service));
            match (cluster_ip(&svc), qtype) {
                (Some(ip), RecordType::A) => Reply::records(vec![a(qname, ip)], Vec::new(), zone),
                // A headless Service without a ready endpoint has no
                // records at all: CoreDNS says NXDOMAIN.
                (None, _) if endpoints.is_empty() => Reply::nx_domain(zone),
                (None, RecordType::A) => {
                    let answers = endpoints.iter().map(|e| a(qname, e.ip)).collect();
                    Reply::records(answers, Vec::new(), zone)
                }
                (_, RecordType::SRV) => {
                    let ports = port_records(&svc, &endpoints, catalog, namespace, service, None);
                    srv_reply(qname, ports, zone)
                }
                _ => Reply::no_data(zone),
            }
        }
        ClusterName::Port {
            namespace,
            service,
            port,
            protocol,
        } => {
            let Some(svc) = catalog.service(namespace, service) else {
                return Reply::nx_domain(zone);
            };
            let endpoints = ready_endpoints(&catalog.slices(namespace, service));
            let wanted = Some((port.as_str(), protocol.as_str()));
            let ports = port_records(&svc, &endpoints, catalog, namespace, service, wanted);
            if ports.is_empty() {
                return Reply::nx_domain(zone);
            }
            match qtype {
                RecordType::SRV => srv_reply(qname, ports, zone),
                _ => Reply::no_data(zone),
            }
        }
        ClusterName::Endpoint {
            namespace,
            service,
            endpoint,
        } => {
            let Some(svc) = catalog.service(namespace, service) else {
                return Reply::nx_domain(zone);
            };
            // Only a headless Service names its endpoints.
            if cluster_ip(&svc).is_some() {
                return Reply::nx_domain(zone);
            }
            let endpoints = ready_endpoints(&catalog.slices(namespace, service));
            let found: Vec<_> = endpoints.iter().filter(|e| e.label == *endpoint).collect();
            match (found.is_empty(), qtype) {
                (true, _) => Reply::nx_domain(zone),
                (false, RecordType::A) => {
                    let answers = found.iter().map(|e| a(qname, e.ip)).collect();
                    Reply::records(answers, Vec::new(), zone)
                }
                (false, _) => Reply::no_data(zone),
            }
        }
    }
}

/// One SRV target: the port, the target's labels under the zone, its address.
struct PortRecord {
    port: u16,
    target: Vec<String>,
    ip: Ipv4Addr,
}

/// The SRV targets for the Service's ports (the one named `wanted` with
/// its protocol, or every named port): the Service's own name and port
/// for a ClusterIP, each ready endpoint's name and the pod's port for a
/// headless Service.
fn port_records(
    svc: &Service,
    endpoints: &[ReadyEndpoint],
    catalog: &dyn Catalog,
    namespace: &str,
    service: &str,
    wanted: Option<(&str, &str)>,
) -> Vec<PortRecord> {
    let matches = |name: Option<&str>, protocol: Option<&str>| {
        let name = name.unwrap_or("").to_ascii_lowercase();
        let protocol = protocol.unwrap_or("TCP").to_ascii_lowercase();
        match wanted {
            Some((port, proto)) => name == port && protocol == proto,
            None => !name.is_empty(),
        }
    };
    let service_labels = || {
        vec![
            service.to_string(),
            namespace.to_string(),
            "svc".to_string(),
        ]
    };
    match cluster_ip(svc) {
        Some(ip) => svc
            .spec
            .ports
            .iter()
            .filter(|p| matches(p.name.as_deref(), p.protocol.as_deref()))
            .filter_map(|p| u16::try_from(p.port).ok())
            .map(|port| PortRecord {
                port,
                target: service_labels(),
                ip,
            })
            .collect(),
        None => {
            let mut records = Vec::new();
            for slice in catalog.slices(namespace, service) {
                for port in &slice.ports {
                    if !matches(port.name.as_deref(), port.protocol.as_deref()) {
                        continue;
                    }
                    let Some(number) = port.port.and_then(|p| u16::try_from(p).ok()) else {
                        continue;
                    };
                    for endpoint in endpoints
                        .iter()
                        .filter(|e| e.slice == slice.metadata.name())
                    {
                        let mut target = vec![endpoint.label.clone()];
                        target.extend(service_labels());
                        records.push(PortRecord {
                            port: number,
                            target,
                            ip: endpoint.ip,
                        });
                    }
                }
            }
            records
        }
    }
}

/// SRV answers with equal weights summing to about 100 (CoreDNS's
/// spread), and each target's A record as glue in the additional section.
fn srv_reply(qname: &Name, ports: Vec<PortRecord>, zone: &Zone) -> Reply {
    let weight = u16::try_from(100 / ports.len().max(1)).unwrap_or(100);
    let mut answers = Vec::new();
    let mut additionals: Vec<Record> = Vec::new();
    for record in ports {
        let labels: Vec<&str> = record.target.iter().map(String::as_str).collect();
        let target = zone.name(&labels);
        let srv = SRV::new(0, weight, record.port, target.clone());
        answers.push(Record::from_rdata(qname.clone(), TTL, RData::SRV(srv)));
        let glue = Record::from_rdata(target, TTL, RData::A(A(record.ip)));
        if !additionals.contains(&glue) {
            additionals.push(glue);
        }
    }
    Reply::records(answers, additionals, zone)
}

/// The ClusterIP, or `None` for a headless Service (`clusterIP: None`).
fn cluster_ip(svc: &Service) -> Option<Ipv4Addr> {
    svc.spec
        .cluster_ip
        .as_deref()
        .and_then(|ip| ip.parse().ok())
}

/// The alias target of an ExternalName Service.
fn external_name(svc: &Service) -> Option<Name> {
    if svc.spec.service_type.as_deref() != Some("ExternalName") {
        return None;
    }
    let mut name = Name::from_ascii(svc.spec.external_name.as_deref()?).ok()?;
    name.set_fqdn(true);
    Some(name)
}

/// A ready IPv4 endpoint address, with the label that names it and the
/// slice it came from (whose ports it serves).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct ReadyEndpoint {
    ip: Ipv4Addr,
    label: String,
    slice: String,
}

/// The ready addresses of `slices`, sorted and without duplicates. An
/// unknown readiness counts as ready (the API's rule).
fn ready_endpoints(slices: &[Arc<EndpointSlice>]) -> Vec<ReadyEndpoint> {
    let mut ready = BTreeSet::new();
    for slice in slices {
        if !matches!(slice.address_type.as_str(), "IPv4" | "") {
            continue;
        }
        for endpoint in &slice.endpoints {
            if endpoint.conditions.ready == Some(false) {
                continue;
            }
            for address in &endpoint.addresses {
                if let Ok(ip) = address.parse::<Ipv4Addr>() {
                    ready.insert(ReadyEndpoint {
                        ip,
                        label: endpoint_label(endpoint.hostname.as_deref(), address),
                        slice: slice.metadata.name().to_string(),
                    });
                }
            }
        }
    }
    ready.into_iter().collect()
}
