//! Validation: every problem of an object at once, each with its field
//! path, in Kubernetes' words; and the fields an update may not change.
//! Holes exercised: `FieldError::body` (src/field.rs) and
//! `dns1123_subdomain` (src/names.rs).

use chapter_06::objects::discovery::Endpoint;
use chapter_06::objects::manifest::decode_yaml;
use chapter_06::objects::names::{dns1123_label, dns1123_subdomain};
use chapter_06::objects::resource::DEPLOYMENT;
use chapter_06::objects::{
    Deployment, EndpointSlice, Namespace, Pod, Resource, Service, Status, parse_manifests,
};
use chapter_06::{fixture, json};
use insta::{assert_snapshot, with_settings};
use serde::de::DeserializeOwned;
use std::fmt::Write;

fn object<T: DeserializeOwned>(yaml: &str) -> T {
    decode_yaml(yaml).unwrap_or_else(|e| panic!("{e}")).object
}

/// Every error, one per line.
fn errors_of<T: Resource>(object: &T) -> String {
    let errors = object.validate();
    assert!(!errors.is_empty(), "expected errors for {object:?}");
    errors.to_string()
}

const BAD_DEPLOYMENT: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata:
  name: Web_1
  namespace: shop
  labels:
    "bad key": web
spec:
  replicas: -1
  progressDeadlineSeconds: 0
  selector:
    matchLabels: {app: web}
  strategy:
    type: RollingUpdate
    rollingUpdate: {maxSurge: lots, maxUnavailable: 150%}
  template:
    metadata:
      labels: {app: api}
    spec:
      restartPolicy: Never
      containers:
        - name: Web
          ports:
            - containerPort: 0
            - containerPort: 70000
              protocol: tcp
        - name: sidecar
          image: busybox
          env:
            - name: 1ABC
              value: x
          volumeMounts:
            - name: data
              mountPath: /data
        - name: sidecar
          image: busybox
"#;

#[test]
fn a_bad_deployment_reports_every_problem_with_its_path() {
    let deployment: Deployment = object(BAD_DEPLOYMENT);
    with_settings!({ description => "Deployment::validate() of a deployment with a dozen mistakes", omit_expression => true }, {
        assert_snapshot!(errors_of(&deployment));
    });
}

#[test]
fn the_api_server_answers_422_with_one_cause_per_error() {
    let deployment: Deployment = object(BAD_DEPLOYMENT);
    let status = Status::invalid(
        &DEPLOYMENT,
        deployment.metadata.name(),
        &deployment.validate(),
    );
    with_settings!({ description => "Status::invalid(deployments, \"Web_1\", errors): what `kubectl apply` prints the message of", omit_expression => true }, {
        assert_snapshot!(json(&status));
    });
}

#[test]
fn bad_pods_services_and_namespaces() {
    let pod: Pod = object(
        r#"
apiVersion: v1
kind: Pod
metadata:
  labels: {app: "-web"}
spec:
  restartPolicy: Sometimes
  dnsPolicy: Cluster
  volumes:
    - name: data
  initContainers:
    - name: init
      image: busybox
      livenessProbe: {exec: {command: [true]}}
  containers:
    - name: web
      image: " "
      imagePullPolicy: Sometimes
      livenessProbe:
        periodSeconds: -5
        successThreshold: 2
      readinessProbe:
        tcpSocket: {port: 8080}
        httpGet: {port: 8080}
      ports:
        - name: HTTP
          containerPort: 8080
        - name: http-port-for-the-web-server
          containerPort: 8081
"#,
    );
    let service: Service = object(
        r#"
apiVersion: v1
kind: Service
metadata: {name: 1web, namespace: shop}
spec:
  type: Internal
  sessionAffinity: Sticky
  clusterIP: 10.96.0.300
  selector: {app: web}
  ports:
    - port: 0
      targetPort: HTTP_PORT
      nodePort: 30080
    - port: 443
      protocol: HTTPS
"#,
    );
    let namespace: Namespace =
        object("apiVersion: v1\nkind: Namespace\nmetadata: {name: Shop.v1, namespace: default}\n");
    let mut out = String::new();
    writeln!(out, "# Pod\n{}", errors_of(&pod)).unwrap();
    writeln!(out, "# Service\n{}", errors_of(&service)).unwrap();
    writeln!(out, "# Namespace\n{}", errors_of(&namespace)).unwrap();
    with_settings!({ description => "validate() of a bad pod, service and namespace", omit_expression => true }, {
        assert_snapshot!(out);
    });
}

#[test]
fn names_follow_the_dns_formats() {
    let names = [
        "web",
        "web-1",
        "web.v2",
        "1web",
        "Web",
        "web_1",
        "-web",
        "web-",
        "web..v2",
        ".web",
        "a-very-long-name-that-goes-on-and-on-and-on-past-sixty-three-chars",
        "",
    ];
    let mut out = String::new();
    for name in names {
        let verdict = |problems: Vec<String>| match problems.len() {
            0 => "ok".to_string(),
            n => format!(
                "{n} problem(s): {}",
                problems
                    .iter()
                    .map(|p| &p[..p.len().min(40)])
                    .collect::<Vec<_>>()
                    .join(" | ")
            ),
        };
        writeln!(out, "{name:?}").unwrap();
        writeln!(out, "  subdomain: {}", verdict(dns1123_subdomain(name))).unwrap();
        writeln!(out, "  label:     {}", verdict(dns1123_label(name))).unwrap();
    }
    let long_subdomain = ["abc"; 64].join(".");
    assert_eq!(
        dns1123_subdomain(&long_subdomain),
        vec!["must be no more than 253 characters".to_string()]
    );
    with_settings!({ description => "dns1123_subdomain(name) and dns1123_label(name); messages cut at 40 characters", omit_expression => true }, {
        assert_snapshot!(out);
    });
}

#[test]
fn the_shop_validates_once_defaulted() {
    for manifest in parse_manifests("shop.yaml", &fixture("shop.yaml")).unwrap() {
        let mut object = manifest.object;
        object.set_defaults();
        let errors = object.validate();
        assert!(errors.is_empty(), "{}: {errors}", object.info().kind);
    }
}

#[test]
fn endpoint_slices_hold_addresses_of_their_type_and_valid_ports() {
    for manifest in
        parse_manifests("endpoint-slices.yaml", &fixture("endpoint-slices.yaml")).unwrap()
    {
        let mut object = manifest.object;
        object.set_defaults();
        assert!(object.validate().is_empty(), "{:?}", object.validate());
    }
    let bad: EndpointSlice = object(
        r#"
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: Web_slice, namespace: shop}
addressType: IPv5
ports:
  - {name: http, port: 0, protocol: HTTP}
  - {name: http, port: 8080, protocol: TCP}
  - {name: Metrics, port: 70000, protocol: UDP}
  - {port: 9090}
endpoints:
  - addresses: []
  - addresses: [10.244.0.5]
    nodeName: Node_A
    hostname: web.1
"#,
    );
    let mut ipv4: EndpointSlice = object(
        r#"
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: web-abc, namespace: shop}
addressType: IPv4
ports: [{port: 80, protocol: TCP}]
endpoints:
  - addresses: [10.244.0.5]
  - addresses: ["fd00::5"]
  - addresses: [web.shop.svc]
"#,
    );
    let mut out = String::new();
    writeln!(
        out,
        "# a slice with every kind of mistake\n{}",
        errors_of(&bad)
    )
    .unwrap();
    writeln!(
        out,
        "# IPv4 slice with an IPv6 address and a name\n{}",
        errors_of(&ipv4)
    )
    .unwrap();
    let mut fqdn = ipv4.clone();
    fqdn.address_type = "FQDN".into();
    writeln!(out, "# the same, FQDN\n{}", errors_of(&fqdn)).unwrap();
    ipv4.endpoints.truncate(1);
    assert!(ipv4.validate().is_empty(), "{:?}", ipv4.validate());
    let mut changed = ipv4.clone();
    changed.address_type = "IPv6".into();
    changed.endpoints[0].addresses = vec!["fd00::5".into()];
    writeln!(
        out,
        "# update: IPv4 to IPv6\n{}",
        changed.validate_update(&ipv4)
    )
    .unwrap();
    let mut crowded = ipv4.clone();
    crowded.endpoints = vec![
        Endpoint {
            addresses: vec!["10.244.0.5".into()],
            ..Endpoint::default()
        };
        1001
    ];
    crowded.ports = vec![crowded.ports[0].clone(); 101];
    writeln!(out, "# 1001 endpoints, 101 ports\n{}", errors_of(&crowded)).unwrap();
    with_settings!({ description => "validate() and validate_update() of EndpointSlices", omit_expression => true }, {
        assert_snapshot!(out);
    });
}

#[test]
fn updates_may_not_change_identity_selectors_or_most_of_a_pod() {
    let shop = parse_manifests("shop.yaml", &fixture("shop.yaml")).unwrap();
    let deployment: Deployment = serde_json::from_value(shop[1].object.to_value()).unwrap();
    let service: Service = serde_json::from_value(shop[2].object.to_value()).unwrap();
    let pod: Pod = object(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: shop}\nspec:\n  containers:\n  - {name: web, image: 'k8s-mini/echo:1.0'}\n",
    );

    let mut out = String::new();
    let mut check = |what: &str, errors: chapter_06::objects::ErrorList| {
        let verdict = if errors.is_empty() {
            "allowed\n".to_string()
        } else {
            errors.to_string()
        };
        write!(out, "# {what}\n{verdict}").unwrap();
    };

    let mut new = deployment.clone();
    new.spec.template.spec.containers[0].image = Some("k8s-mini/echo:2.0".into());
    new.spec.replicas = Some(5);
    check(
        "deployment: new image, more replicas",
        new.validate_update(&deployment),
    );

    let mut new = deployment.clone();
    new.spec
        .selector
        .match_labels
        .insert("app".into(), "shop".into());
    new.spec
        .template
        .metadata
        .labels
        .insert("app".into(), "shop".into());
    check(
        "deployment: new selector (and matching labels)",
        new.validate_update(&deployment),
    );

    let mut new = deployment.clone();
    new.metadata.name = Some("web2".into());
    check("deployment: renamed", new.validate_update(&deployment));

    let mut new = pod.clone();
    new.spec.containers[0].image = Some("k8s-mini/echo:2.0".into());
    check("pod: new image", new.validate_update(&pod));

    let mut new = pod.clone();
    new.spec.containers[0].args = vec!["--verbose".into()];
    check("pod: new args", new.validate_update(&pod));

    let mut old = service.clone();
    old.spec.cluster_ip = Some("10.96.0.10".into());
    let mut new = old.clone();
    new.spec.cluster_ip = None;
    check("service: clusterIP left out", new.validate_update(&old));
    new.spec.cluster_ip = Some("10.96.0.11".into());
    check("service: clusterIP changed", new.validate_update(&old));

    with_settings!({ description => "validate_update(new, old) for a few updates", omit_expression => true }, {
        assert_snapshot!(out);
    });
}
