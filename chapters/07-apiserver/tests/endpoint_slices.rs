//! EndpointSlices (`discovery.k8s.io/v1`), served like every kind: the
//! typed client and an informer read and write them, validation refuses a
//! change of address type, and stock kubectl finds and prints them.

use chapter_07::apiserver::client::{Api, Client, ClientError, Informer, ListParams};
use chapter_07::{Lab, guard, settings};
use insta::assert_snapshot;
use objects::EndpointSlice;
use serde_json::{Value, json};

fn slice(name: &str, service: &str, addresses: &[&str]) -> EndpointSlice {
    let endpoints: Vec<Value> = addresses
        .iter()
        .map(|address| json!({"addresses": [address], "conditions": {"ready": true}}))
        .collect();
    serde_json::from_value(json!({
        "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
        "metadata": {"name": name, "labels": {"kubernetes.io/service-name": service}},
        "addressType": "IPv4",
        "ports": [{"name": "http", "port": 8080}],
        "endpoints": endpoints,
    }))
    .expect("a slice")
}

#[tokio::test]
async fn endpoint_slices_are_served_to_the_typed_client_and_kubectl() {
    guard(endpoint_slices()).await
}

async fn endpoint_slices() {
    let lab = Lab::start().await;
    let client = Client::new(&lab.url).expect("a client");
    let slices: Api<EndpointSlice> = client.api(Some("default"));
    slices
        .create(&slice("web-a", "web", &["10.244.0.5", "10.244.0.6"]))
        .await
        .expect("web-a");
    slices
        .create(&slice("db-a", "db", &["10.244.1.9"]))
        .await
        .expect("db-a");
    let informer = Informer::new(
        slices.clone(),
        ListParams::default().labels("kubernetes.io/service-name=web"),
    );
    assert!(informer.wait_for_sync().await, "the informer lists");
    let cached: Vec<String> = informer
        .cache()
        .list()
        .iter()
        .map(|s| s.metadata.name().to_string())
        .collect();
    assert_eq!(cached, ["web-a"]);
    informer.stop().await;
    let stored = slices.get("web-a").await.expect("web-a");
    assert_eq!(
        stored.ports[0].protocol.as_deref(),
        Some("TCP"),
        "defaulted"
    );

    let mut changed = stored.clone();
    changed.address_type = "IPv6".into();
    let refused = match slices.replace(&changed).await {
        Err(ClientError::Api(status)) => status.message.unwrap_or_default(),
        other => panic!("an IPv6 update of an IPv4 slice: {other:?}"),
    };
    let mut transcript = format!("replace web-a with addressType IPv6: {refused}\n");
    for args in [
        &["api-resources", "--api-group=discovery.k8s.io"][..],
        &["get", "endpointslices", "-A"],
        &[
            "get",
            "endpointslices",
            "-l",
            "kubernetes.io/service-name=web",
            "-o",
            "jsonpath={.items[*].endpoints[*].addresses}",
        ],
    ] {
        transcript += &format!("$ kubectl {}\n", args.join(" "));
        transcript += &lab.kubectl(args).await;
        transcript.push('\n');
    }
    settings().bind(|| assert_snapshot!(transcript));
    lab.stop().await;
}
