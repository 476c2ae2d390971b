//! How a pod finds Services (chapter 11's part of the node agent): the
//! resolv.conf each dnsPolicy gives, the Service environment variables,
//! and both seen from inside a real pod.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::Duration;

use chapter_08::kubelet::dns::{ClusterDns, resolv_conf};
use chapter_08::kubelet::service_env::{linked_services, service_env};
use chapter_08::{Lab, Options, guard, pod};
use objects::{Pod, Service};
use serde_json::json;

const INIT: &str = env!("CARGO_BIN_EXE_kubelet-init");

const HOST: &str = "# the node's own\nnameserver 192.0.2.53\nsearch corp.example\noptions edns0\n";

fn cluster() -> ClusterDns {
    ClusterDns {
        server: Some(IpAddr::V4(Ipv4Addr::new(10, 96, 0, 10))),
        domain: "cluster.local".to_string(),
    }
}

fn pod_with(spec: serde_json::Value) -> Pod {
    let mut value = json!({"metadata": {"name": "web", "namespace": "shop"},
        "spec": {"containers": [{"name": "main", "image": "busybox"}]}});
    for (key, field) in spec.as_object().unwrap() {
        value["spec"][key] = field.clone();
    }
    serde_json::from_value(value).unwrap()
}

#[test]
fn each_dns_policy_gives_its_resolv_conf() {
    let dns_config = json!({"nameservers": ["192.0.2.99"], "searches": ["extra.example"],
        "options": [{"name": "ndots", "value": "2"}, {"name": "single-request"}]});
    let cases = [
        ("ClusterFirst (the default)", json!({}), cluster()),
        (
            "ClusterFirst with dnsConfig",
            json!({"dnsConfig": dns_config}),
            cluster(),
        ),
        ("Default", json!({"dnsPolicy": "Default"}), cluster()),
        (
            "Default with dnsConfig",
            json!({"dnsPolicy": "Default", "dnsConfig": dns_config}),
            cluster(),
        ),
        (
            "None with dnsConfig",
            json!({"dnsPolicy": "None", "dnsConfig": dns_config}),
            cluster(),
        ),
        (
            "ClusterFirst on the host's network",
            json!({"hostNetwork": true}),
            cluster(),
        ),
        (
            "ClusterFirstWithHostNet",
            json!({"hostNetwork": true, "dnsPolicy": "ClusterFirstWithHostNet"}),
            cluster(),
        ),
        (
            "ClusterFirst on a node without --cluster-dns",
            json!({}),
            ClusterDns {
                server: None,
                domain: "cluster.local".into(),
            },
        ),
    ];
    let mut text = String::new();
    for (title, spec, dns) in cases {
        let conf = resolv_conf(&pod_with(spec), &dns, HOST);
        text.push_str(&format!(
            "== {title}\n{}",
            conf.unwrap_or_else(|| "(the node's own)\n".to_string())
        ));
    }
    insta::assert_snapshot!(text);
}

fn service(namespace: &str, name: &str, spec: serde_json::Value) -> Arc<Service> {
    Arc::new(
        serde_json::from_value(
            json!({"metadata": {"name": name, "namespace": namespace}, "spec": spec}),
        )
        .unwrap(),
    )
}

fn services() -> Vec<Arc<Service>> {
    vec![
        service(
            "default",
            "kubernetes",
            json!({"clusterIP": "10.96.0.1", "ports": [{"name": "https", "port": 443, "protocol": "TCP"}]}),
        ),
        service(
            "shop",
            "my-web",
            json!({"clusterIP": "10.96.0.20", "ports": [
                {"name": "http", "port": 80, "protocol": "TCP"},
                {"name": "dns-udp", "port": 53, "protocol": "UDP"}]}),
        ),
        service(
            "shop",
            "cache",
            json!({"clusterIP": "10.96.0.30", "ports": [{"port": 6379}]}),
        ),
        service(
            "shop",
            "db",
            json!({"clusterIP": "None", "ports": [{"name": "pg", "port": 5432}]}),
        ),
        service(
            "other",
            "elsewhere",
            json!({"clusterIP": "10.96.0.40", "ports": [{"port": 1}]}),
        ),
    ]
}

#[test]
fn services_of_the_namespace_become_environment_variables() {
    let render = |env: Vec<(String, String)>| -> String {
        env.iter().map(|(k, v)| format!("{k}={v}\n")).collect()
    };
    let linked = linked_services("shop", true, &services());
    let unlinked = linked_services("shop", false, &services());
    insta::assert_snapshot!(format!(
        "== enableServiceLinks: true (the default)\n{}== enableServiceLinks: false\n{}",
        render(service_env(&linked)),
        render(service_env(&unlinked))
    ));
}

#[tokio::test]
async fn a_pod_sees_the_cluster_dns_and_the_services_that_existed_when_it_started() {
    guard(inside_a_pod()).await
}

async fn inside_a_pod() {
    let options = Options {
        cluster_dns: Some(IpAddr::V4(Ipv4Addr::new(10, 96, 0, 10))),
        ..Options::default()
    };
    let lab = Lab::start_with(INIT, options).await;
    let web: Service = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "my-web", "namespace": "default"},
        "spec": {"clusterIP": "10.96.0.20", "ports": [{"name": "http", "port": 80, "protocol": "TCP"}]}}))
    .unwrap();
    lab.client
        .api::<Service>(Some("default"))
        .create(&web)
        .await
        .expect("the Service");
    // The agent's Service watch delivers this long before kubectl has
    // created the pod (a process to start, a request to make).
    let spec = "  terminationGracePeriodSeconds: 1\n  containers:\n  - name: main\n    image: busybox\n    env:\n    - {name: MY_WEB_SERVICE_PORT, value: mine}\n    command: [sh, -c, \"cat /etc/resolv.conf; env | grep ^MY_WEB_ | sort; echo done; sleep 1000\"]\n";
    lab.kubectl_with_input(&["apply", "-f", "-"], Some(&pod("looker", &lab.node, spec)))
        .await;
    lab.wait_for("looker", |p| {
        p.and_then(|p| p.status.phase.as_deref()) == Some("Running")
    })
    .await;
    let (_, handle) = lab
        .kubelet
        .as_ref()
        .unwrap()
        .pods()
        .handle("default", "looker")
        .expect("the pod runs here");
    let log = chapter_08::log_containing(&handle, "main", "stdout F done").await;
    // `kubectl exec` sees the same environment as the container.
    let line = ["sh", "-c", "echo $MY_WEB_SERVICE_HOST $MY_WEB_SERVICE_PORT"].map(String::from);
    let exec = handle
        .exec("main", &line, Duration::from_secs(30))
        .await
        .expect("an exec");
    assert_eq!(exec.output, "10.96.0.20 mine\n");
    drop(handle);
    // CRI log lines: TIME STREAM F TEXT.
    let text: String = log
        .lines()
        .filter_map(|line| line.splitn(4, ' ').nth(3))
        .map(|line| format!("{line}\n"))
        .collect();
    insta::assert_snapshot!(text);
    lab.finish().await;
}
