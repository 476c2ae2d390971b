//! The cluster DNS: how query names are read, which records answer them
//! (pure, from a fixed set of objects), and the server itself over UDP and
//! TCP against an API server in this process, with a fake upstream
//! resolver on loopback for the names outside the cluster.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

#[path = "dns_support/wire.rs"]
mod wire;

use chapter_11::services::dns::proto::op::{Message, ResponseCode};
use chapter_11::services::dns::proto::rr::{Name, Record, RecordType};
use chapter_11::services::dns::{self, Config, DnsServer, StaticCatalog, Zone, answer, name};
use objects::{EndpointSlice, Endpoints, Resource, Service};
use serde_json::json;
use wire::{ask_tcp, ask_udp, fake_upstream};

// ---------------------------------------------------------------------------
// The objects of a small cluster.

fn service(value: serde_json::Value) -> Service {
    let mut service: Service = serde_json::from_value(value).expect("a Service");
    service.set_type_meta();
    service
}

fn slice(value: serde_json::Value) -> EndpointSlice {
    let mut slice: EndpointSlice = serde_json::from_value(value).expect("an EndpointSlice");
    slice.set_type_meta();
    slice
}

/// `web`: a ClusterIP Service with two named ports; `db`: headless, three
/// pods of which two are ready (one with a hostname); `mail`: an
/// ExternalName.
fn cluster() -> (Vec<Service>, Vec<EndpointSlice>) {
    let services = vec![
        service(json!({"metadata": {"name": "web", "namespace": "shop"},
            "spec": {"clusterIP": "10.96.3.7", "selector": {"app": "web"}, "ports": [
                {"name": "http", "port": 80, "protocol": "TCP", "targetPort": 8080},
                {"name": "metrics", "port": 9090, "protocol": "TCP"}]}})),
        service(json!({"metadata": {"name": "db", "namespace": "shop"},
            "spec": {"clusterIP": "None", "selector": {"app": "db"}, "ports": [
                {"name": "pg", "port": 5432, "protocol": "TCP"}]}})),
        service(json!({"metadata": {"name": "mail", "namespace": "shop"},
            "spec": {"type": "ExternalName", "externalName": "smtp.example.org"}})),
    ];
    let slices = vec![
        slice(
            json!({"metadata": {"name": "web-abcde", "namespace": "shop",
                "labels": {"kubernetes.io/service-name": "web"}},
            "addressType": "IPv4",
            "endpoints": [{"addresses": ["10.244.0.5"], "conditions": {"ready": true}}],
            "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}]}),
        ),
        slice(json!({"metadata": {"name": "db-fghij", "namespace": "shop",
                "labels": {"kubernetes.io/service-name": "db"}},
            "addressType": "IPv4",
            "endpoints": [
                {"addresses": ["10.244.1.9"], "hostname": "db-0", "conditions": {"ready": true}},
                {"addresses": ["10.244.0.12"], "conditions": {"ready": true}},
                {"addresses": ["10.244.2.4"], "conditions": {"ready": false, "serving": true}}],
            "ports": [{"name": "pg", "port": 15432, "protocol": "TCP"}]})),
    ];
    (services, slices)
}

fn zone() -> Zone {
    Zone {
        domain: Name::from_ascii("cluster.local.").unwrap(),
        serial: 1,
    }
}

// ---------------------------------------------------------------------------
// Pure: names and answers.

#[test]
fn query_names_are_read_under_the_cluster_domain_ignoring_case() {
    let names = [
        "web.shop.svc.cluster.local.",
        "WEB.Shop.SVC.Cluster.Local",
        "_http._tcp.web.shop.svc.cluster.local.",
        "db-0.db.shop.svc.cluster.local.",
        "10-244-0-5.shop.pod.cluster.local.",
        "shop.svc.cluster.local.",
        "svc.cluster.local.",
        "cluster.local.",
        "_http.web.shop.svc.cluster.local.",
        "a.b.c.d.shop.svc.cluster.local.",
        "10-244-0.shop.pod.cluster.local.",
        "example.com.",
        "evilcluster.local.",
    ];
    let text: String = names
        .iter()
        .map(|n| format!("{n:40} {:?}\n", name::parse(n, "cluster.local")))
        .collect();
    insta::assert_snapshot!(text);
}

/// The reply as `dig` shows it, minus the header: code, then the sections.
fn render(code: ResponseCode, sections: [(&str, &[Record]); 3]) -> String {
    let mut text = format!("{code}\n");
    for (title, records) in sections {
        for record in records {
            text.push_str(&format!("  {title:5} {record}\n"));
        }
    }
    text
}

fn ask_catalog(catalog: &StaticCatalog, qname: &str, qtype: RecordType) -> String {
    let name = Name::from_ascii(qname).unwrap();
    let parsed = name::parse(qname, "cluster.local");
    let reply = answer::answer(&name, qtype, &parsed, catalog, &zone());
    render(
        reply.code,
        [
            ("ans", &reply.answers),
            ("auth", &reply.authority),
            ("add", &reply.additionals),
        ],
    )
}

#[test]
fn answers_come_from_services_and_their_ready_endpoints() {
    let (services, slices) = cluster();
    let catalog = StaticCatalog {
        services: services.into_iter().map(Arc::new).collect(),
        slices: slices.into_iter().map(Arc::new).collect(),
    };
    let questions = [
        ("web.shop.svc.cluster.local.", RecordType::A),
        ("Web.Shop.Svc.Cluster.Local.", RecordType::A),
        ("web.shop.svc.cluster.local.", RecordType::AAAA),
        ("web.shop.svc.cluster.local.", RecordType::SRV),
        ("_http._tcp.web.shop.svc.cluster.local.", RecordType::SRV),
        ("_http._udp.web.shop.svc.cluster.local.", RecordType::SRV),
        ("db.shop.svc.cluster.local.", RecordType::A),
        ("_pg._tcp.db.shop.svc.cluster.local.", RecordType::SRV),
        ("db-0.db.shop.svc.cluster.local.", RecordType::A),
        ("10-244-0-12.db.shop.svc.cluster.local.", RecordType::A),
        ("10-244-2-4.db.shop.svc.cluster.local.", RecordType::A),
        ("mail.shop.svc.cluster.local.", RecordType::A),
        ("nope.shop.svc.cluster.local.", RecordType::A),
        ("shop.svc.cluster.local.", RecordType::A),
        ("empty.svc.cluster.local.", RecordType::A),
        ("10-1-2-3.shop.pod.cluster.local.", RecordType::A),
        ("cluster.local.", RecordType::SOA),
    ];
    let text: String = questions
        .iter()
        .map(|(qname, qtype)| format!("{qname} {qtype}: {}", ask_catalog(&catalog, qname, *qtype)))
        .collect();
    insta::assert_snapshot!(text);
}

// ---------------------------------------------------------------------------
// The server, over the wire.

fn show(reply: &Message) -> String {
    render(
        reply.response_code(),
        [
            ("ans", reply.answers()),
            ("auth", reply.name_servers()),
            ("add", reply.additionals()),
        ],
    )
    // The SOA's serial is the start time.
    .split(' ')
    .map(|word| {
        if word.len() == 10 && word.parse::<u32>().is_ok() {
            "<serial>"
        } else {
            word
        }
    })
    .collect::<Vec<_>>()
    .join(" ")
}

fn config(upstream: SocketAddr) -> Config {
    Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        upstream: Some(upstream),
        forward_timeout: Duration::from_millis(300),
        ..Config::default()
    }
}

#[tokio::test]
async fn the_server_answers_cluster_names_over_udp_and_tcp() {
    let api = chapter_11::start_server().await;
    let client = apiserver::client::Client::new(&api.url()).unwrap();
    let (services, slices) = cluster();
    for namespace in ["shop"] {
        let ns = objects::Namespace::new(namespace, None);
        client
            .api::<objects::Namespace>(None)
            .create(&ns)
            .await
            .unwrap();
    }
    for s in &services {
        client.api::<Service>(Some("shop")).create(s).await.unwrap();
    }
    for s in &slices {
        client
            .api::<EndpointSlice>(Some("shop"))
            .create(s)
            .await
            .unwrap();
    }
    let (upstream, fake) = fake_upstream().await;
    // Started after the objects exist: start returns with synced caches.
    let dns = DnsServer::start(client, config(upstream)).await.unwrap();
    let at = dns.local_addr();

    let questions = [
        ("web.shop.svc.cluster.local.", RecordType::A),
        ("db.shop.svc.cluster.local.", RecordType::A),
        ("_http._tcp.web.shop.svc.cluster.local.", RecordType::SRV),
        ("_pg._tcp.db.shop.svc.cluster.local.", RecordType::SRV),
        ("web.shop.svc.cluster.local.", RecordType::AAAA),
        ("nope.shop.svc.cluster.local.", RecordType::A),
        ("kube-dns.kube-system.svc.cluster.local.", RecordType::A),
        ("www.example.com.", RecordType::A),
    ];
    let mut text = String::new();
    for (qname, qtype) in questions {
        let over_udp = ask_udp(at, qname, qtype).await;
        let over_tcp = ask_tcp(at, qname, qtype).await;
        assert_eq!(
            show(&over_udp),
            show(&over_tcp),
            "{qname}: UDP and TCP agree"
        );
        text.push_str(&format!("{qname} {qtype}: {}", show(&over_udp)));
    }
    insta::assert_snapshot!(text);

    dns.stop().await;
    fake.abort();
    api.stop(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn a_dead_upstream_gets_servfail_not_a_hang() {
    let api = chapter_11::start_server().await;
    let client = apiserver::client::Client::new(&api.url()).unwrap();
    // Sockets that take queries and never answer them.
    let (silent_udp, silent_tcp) = dns::server::bind("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let dead = silent_tcp.local_addr().unwrap();
    let dns = DnsServer::start(client, config(dead)).await.unwrap();

    let over_udp = ask_udp(dns.local_addr(), "www.example.com.", RecordType::A).await;
    let over_tcp = ask_tcp(dns.local_addr(), "www.example.com.", RecordType::A).await;
    assert_eq!(over_udp.response_code(), ResponseCode::ServFail);
    assert_eq!(over_tcp.response_code(), ResponseCode::ServFail);
    // Names of the cluster do not wait on the upstream.
    let inside = ask_udp(
        dns.local_addr(),
        "kube-dns.kube-system.svc.cluster.local.",
        RecordType::A,
    )
    .await;
    assert_eq!(
        show(&inside),
        "No Error\n  ans   kube-dns.kube-system.svc.cluster.local. 5 IN A 10.96.0.10\n"
    );

    dns.stop().await;
    drop((silent_udp, silent_tcp));
    api.stop(Duration::from_secs(5)).await;
}

/// The Service, its slice and its Endpoints, with the DNS's port replaced.
async fn registration(client: &apiserver::client::Client, port: u16) -> String {
    let service = client
        .api::<Service>(Some("kube-system"))
        .get("kube-dns")
        .await
        .unwrap();
    let slice = client
        .api::<EndpointSlice>(Some("kube-system"))
        .get("kube-dns")
        .await
        .unwrap();
    let endpoints = client
        .api::<Endpoints>(Some("kube-system"))
        .get("kube-dns")
        .await
        .unwrap();
    let strip = |mut value: serde_json::Value| {
        let meta = &mut value["metadata"];
        for field in [
            "uid",
            "resourceVersion",
            "creationTimestamp",
            "managedFields",
            "generation",
        ] {
            meta.as_object_mut().unwrap().remove(field);
        }
        if let Some(owners) = meta.get_mut("ownerReferences") {
            owners[0]["uid"] = json!("<uid>");
        }
        value
    };
    let text = pretty_json(&[
        strip(serde_json::to_value(&service).unwrap()),
        strip(serde_json::to_value(&slice).unwrap()),
        strip(serde_json::to_value(&endpoints).unwrap()),
    ]);
    text.replace(&port.to_string(), "<port>")
}

fn pretty_json(values: &[serde_json::Value]) -> String {
    values
        .iter()
        .map(|v| serde_json::to_string_pretty(v).unwrap())
        .collect::<Vec<_>>()
        .join("\n---\n")
}

#[tokio::test]
async fn it_registers_the_kube_dns_service_and_its_endpoints_and_a_second_dns_takes_them_over() {
    let api = chapter_11::start_server().await;
    let client = apiserver::client::Client::new(&api.url()).unwrap();
    let (upstream, fake) = fake_upstream().await;

    let first = DnsServer::start(client.clone(), config(upstream))
        .await
        .unwrap();
    insta::assert_snapshot!(registration(&client, first.local_addr().port()).await);

    // A second DNS (a restart on another port): the endpoints follow it.
    let second = DnsServer::start(client.clone(), config(upstream))
        .await
        .unwrap();
    let slice = client
        .api::<EndpointSlice>(Some("kube-system"))
        .get("kube-dns")
        .await
        .unwrap();
    let port = i32::from(second.local_addr().port());
    assert_eq!(
        slice.ports.iter().map(|p| p.port).collect::<Vec<_>>(),
        [Some(port), Some(port)]
    );
    let service = client
        .api::<Service>(Some("kube-system"))
        .get("kube-dns")
        .await
        .unwrap();
    assert!(
        service
            .spec
            .ports
            .iter()
            .all(|p| p.target_port == Some(objects::IntOrString::Int(port)))
    );

    // Deleted by hand, it comes back (the first DNS is gone by then: only
    // the second restores it).
    first.stop().await;
    let services = client.api::<Service>(Some("kube-system"));
    services
        .delete("kube-dns", &Default::default())
        .await
        .unwrap();
    let mut restored = None;
    for _ in 0..400 {
        restored = services.get_opt("kube-dns").await.unwrap();
        if restored.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let restored = restored.expect("the kube-dns Service is registered again");
    assert_ne!(restored.metadata.uid, service.metadata.uid);
    let mut owner = None;
    for _ in 0..400 {
        let slice = client
            .api::<EndpointSlice>(Some("kube-system"))
            .get("kube-dns")
            .await
            .unwrap();
        owner = slice
            .metadata
            .owner_references
            .first()
            .map(|o| o.uid.clone());
        if owner == restored.metadata.uid {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(
        owner, restored.metadata.uid,
        "the slice follows the new Service"
    );

    second.stop().await;
    fake.abort();
    api.stop(Duration::from_secs(5)).await;
}
