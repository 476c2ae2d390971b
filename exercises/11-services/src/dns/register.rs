// Generated from solutions/11-services/src/dns/register.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
//! The cluster DNS makes itself findable: the Service `kube-system/kube-dns`
//! at the well-known ClusterIP that every pod's resolv.conf names, and that
//! Service's EndpointSlice (and legacy Endpoints) pointing at the address
//! this server listens on. The Service has no selector, so the endpoints
//! controller leaves its endpoints to us — as the API server writes those
//! of the `kubernetes` Service. The proxy then carries `10.96.0.10:53` here.
//!
//! One DNS per cluster is the design here: a second one that starts takes
//! the Service's endpoints over (the last to start wins), as a restarted
//! DNS on a new port must.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use apiserver::client::{Api, Client, ClientError};
use objects::discovery::{
    Endpoint, EndpointConditions, EndpointSlicePort, MANAGED_BY_LABEL, SERVICE_NAME_LABEL,
};
use objects::service::{EndpointAddress, EndpointPort, EndpointSubset, ServicePort};
use objects::{
    EndpointSlice, Endpoints, IntOrString, Namespace, ObjectMeta, OwnerReference, Resource, Service,
};

/// The namespace and name of the cluster DNS Service.
pub const NAMESPACE: &str = "kube-system";
pub const SERVICE: &str = "kube-dns";
/// The managed-by label value on the slice this server writes.
pub const MANAGER: &str = "k8s-mini-dns";

/// How often a write that lost a race (409) is tried again.
const ATTEMPTS: usize = 5;

/// The Service `kube-dns` this server wants: at `cluster_ip`, ports 53
/// (UDP `dns`, TCP `dns-tcp`) leading to `target_port`, no selector.
pub fn desired_service(cluster_ip: Ipv4Addr, target_port: u16) -> Service {
    let mut service = Service::new(SERVICE, Some(NAMESPACE));
    service.metadata.labels = [
        ("k8s-app".to_string(), "kube-dns".to_string()),
        ("kubernetes.io/name".to_string(), "CoreDNS".to_string()),
    ]
    .into();
    service.spec.cluster_ip = Some(cluster_ip.to_string());
    service.spec.ports = dns_ports()
        .map(|(name, protocol)| ServicePort {
            name: Some(name.to_string()),
            protocol: Some(protocol.to_string()),
            port: 53,
            target_port: Some(IntOrString::Int(i32::from(target_port))),
            ..ServicePort::default()
        })
        .collect();
    service
}

/// The slice that points the Service at `address`, owned by `service`.
pub fn desired_slice(service: &Service, address: SocketAddr) -> EndpointSlice {
    let mut slice = EndpointSlice::new(SERVICE, Some(NAMESPACE));
    slice.metadata.labels = [
        (SERVICE_NAME_LABEL.to_string(), SERVICE.to_string()),
        (MANAGED_BY_LABEL.to_string(), MANAGER.to_string()),
    ]
    .into();
    slice.metadata.owner_references = owner(service).into_iter().collect();
    slice.address_type = match address.ip() {
        IpAddr::V4(_) => "IPv4",
        IpAddr::V6(_) => "IPv6",
    }
    .to_string();
    slice.endpoints = vec![Endpoint {
        addresses: vec![address.ip().to_string()],
        conditions: EndpointConditions {
            ready: Some(true),
            serving: Some(true),
            terminating: Some(false),
        },
        ..Endpoint::default()
    }];
    slice.ports = dns_ports()
        .map(|(name, protocol)| EndpointSlicePort {
            name: Some(name.to_string()),
            port: Some(i32::from(address.port())),
            protocol: Some(protocol.to_string()),
            app_protocol: None,
        })
        .collect();
    slice
}

/// The legacy Endpoints of the Service, for the clients that still read them.
pub fn desired_endpoints(address: SocketAddr) -> Endpoints {
    let mut endpoints = Endpoints::new(SERVICE, Some(NAMESPACE));
    endpoints.subsets = vec![EndpointSubset {
        addresses: vec![EndpointAddress {
            ip: address.ip().to_string(),
            ..EndpointAddress::default()
        }],
        ports: dns_ports()
            .map(|(name, protocol)| EndpointPort {
                name: Some(name.to_string()),
                port: i32::from(address.port()),
                protocol: Some(protocol.to_string()),
                app_protocol: None,
            })
            .collect(),
        ..EndpointSubset::default()
    }];
    endpoints
}

fn dns_ports() -> impl Iterator<Item = (&'static str, &'static str)> {
    [("dns", "UDP"), ("dns-tcp", "TCP")].into_iter()
}

fn owner(service: &Service) -> Option<OwnerReference> {
    Some(OwnerReference {
        api_version: "v1".to_string(),
        kind: "Service".to_string(),
        name: SERVICE.to_string(),
        uid: service.metadata.uid.clone()?,
        controller: Some(true),
        block_owner_deletion: Some(true),
    })
}

/// Writes the namespace, the Service, its slice and its Endpoints so that
/// they point at `address`. Returns the Service as stored.
pub async fn register(
    client: &Client,
    cluster_ip: Ipv4Addr,
    address: SocketAddr,
) -> Result<Service, ClientError> {
    let namespaces = client.api::<Namespace>(None);
    match namespaces.create(&Namespace::new(NAMESPACE, None)).await {
        Ok(_) => {}
        Err(err) if err.is_already_exists() => {}
        Err(err) => return Err(err),
    }
    let desired = desired_service(cluster_ip, address.port());
    let service = upsert(
        &client.api::<Service>(Some(NAMESPACE)),
        desired,
        |current, desired| {
            // A ClusterIP cannot change; one another DNS asked for stays.
            if current.spec.cluster_ip != desired.spec.cluster_ip {
                tracing::warn!(
                    "the Service {NAMESPACE}/{SERVICE} already has the ClusterIP {:?}; keeping it",
                    current.spec.cluster_ip
                );
            }
            let mut next = current.clone();
            next.metadata.labels.extend(desired.metadata.labels);
            next.spec.ports = desired.spec.ports;
            // With a selector the endpoints controller would own the
            // slices and point them at pods; this Service's endpoint is us.
            next.spec.selector.clear();
            next
        },
    )
    .await?;
    upsert(
        &client.api::<EndpointSlice>(Some(NAMESPACE)),
        desired_slice(&service, address),
        replace_body,
    )
    .await?;
    upsert(
        &client.api::<Endpoints>(Some(NAMESPACE)),
        desired_endpoints(address),
        replace_body,
    )
    .await?;
    Ok(service)
}

/// The current object with the desired content (labels, spec, endpoints),
/// keeping what the server owns (uid, resourceVersion...).
fn replace_body<K: Resource>(current: &K, desired: K) -> K {
    let mut next = desired;
    let meta = current.metadata().clone();
    let labels = std::mem::take(&mut next.metadata_mut().labels);
    let owners = std::mem::take(&mut next.metadata_mut().owner_references);
    *next.metadata_mut() = ObjectMeta {
        labels: meta.labels.clone().into_iter().chain(labels).collect(),
        owner_references: owners,
        ..meta
    };
    next
}

/// Creates `desired`, or replaces what is there with `merge(current,
/// desired)`; a lost race (another writer in between) is tried again.
async fn upsert<K: Resource + Clone>(
    api: &Api<K>,
    desired: K,
    merge: impl Fn(&K, K) -> K,
) -> Result<K, ClientError> {
    let name = desired.metadata().name().to_string();
    let mut last = None;
    for _ in 0..ATTEMPTS {
        let result = match api.get_opt(&name).await? {
            None => api.create(&desired).await,
            Some(current) => {
                let next = merge(&current, desired.clone());
                if next == current {
                    return Ok(current);
                }
                api.replace(&next).await
            }
        };
        match result {
            Ok(stored) => return Ok(stored),
            Err(err) if err.is_already_exists() || err.is_conflict() => last = Some(err),
            Err(err) => return Err(err),
        }
    }
    Err(last.expect("the loop ran at least once"))
}

/// Writes the registration again whenever the Service or its slice is
/// deleted (someone's `kubectl delete`), as Kubernetes' addon manager
/// restores kube-dns. A slice another DNS rewrote is left to it: the last
/// to start wins, and two servers must not take turns forever.
pub async fn keep(
    client: Client,
    cluster_ip: Ipv4Addr,
    address: SocketAddr,
    mut services: apiserver::client::Changes<Service>,
    mut slices: apiserver::client::Changes<EndpointSlice>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let ours =
        |key: apiserver::client::ObjectKey| key.namespace == NAMESPACE && key.name == SERVICE;
    loop {
        let deleted = tokio::select! {
            _ = stop.changed() => return,
            change = services.recv() => match change {
                Some(change) => matches!(change, apiserver::client::Change::Deleted(_)) && ours(change.key()),
                None => return,
            },
            change = slices.recv() => match change {
                Some(change) => matches!(change, apiserver::client::Change::Deleted(_)) && ours(change.key()),
                None => return,
            },
        };
        if !deleted {
            continue;
        }
        tracing::info!("{NAMESPACE}/{SERVICE} was deleted; registering again");
        if let Err(err) = register(&client, cluster_ip, address).await {
            tracing::warn!("cannot register {NAMESPACE}/{SERVICE} again: {err}");
        }
    }
}
