//! Defaulting: what the API server fills in before storing an object, and
//! how a rollout turns `25%` into a number of pods.
//! Holes exercised: `default_container` (src/defaults.rs) and
//! `IntOrString::scaled_value` (src/intstr.rs).

use chapter_06::json;
use chapter_06::objects::manifest::decode_yaml;
use chapter_06::objects::{IntOrString, Object, Resource, parse_manifests};
use insta::{assert_snapshot, with_settings};
use std::fmt::Write;

/// The minimal manifests people write.
const MINIMAL: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx
        ports:
        - containerPort: 80
        livenessProbe:
          httpGet: {port: 80}
---
apiVersion: v1
kind: Pod
metadata: {name: job, namespace: shop}
spec:
  restartPolicy: OnFailure
  initContainers:
  - name: migrate
    image: registry.local:5000/migrate:v3
  containers:
  - name: job
    image: busybox:latest
    env:
    - name: NODE
      valueFrom:
        fieldRef: {fieldPath: spec.nodeName}
    readinessProbe:
      exec: {command: [cat, /tmp/ready]}
      periodSeconds: 2
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  selector: {app: web}
  ports:
  - port: 80
  - name: admin
    port: 9090
    targetPort: admin
---
apiVersion: v1
kind: Service
metadata: {name: edge, namespace: shop}
spec:
  type: NodePort
  selector: {app: web}
  ports:
  - port: 80
---
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: web-1, namespace: shop}
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx@sha256:0123abcd
---
apiVersion: v1
kind: Namespace
metadata: {name: shop}
"#;

fn defaulted(object: &mut Object) -> String {
    object.set_defaults();
    let info = object.info();
    format!(
        "# {} {}\n{}\n",
        info.kind,
        object.metadata().name(),
        json(object)
    )
}

#[test]
fn minimal_objects_get_kubernetes_defaults() {
    let mut out = String::new();
    for manifest in parse_manifests("minimal.yaml", MINIMAL).unwrap() {
        let mut object = manifest.object;
        out.push_str(&defaulted(&mut object));
    }
    with_settings!({ description => "set_defaults() on minimal manifests: compare with the manifests in the test", omit_expression => true }, {
        assert_snapshot!(out);
    });
}

#[test]
fn defaults_keep_what_the_user_wrote() {
    let mut deployment: chapter_06::objects::Deployment = decode_yaml(
        "metadata: {name: web}\nspec:\n  replicas: 0\n  template:\n    spec:\n      containers:\n      - {name: web, image: 'nginx:1.27', imagePullPolicy: Never, terminationMessagePolicy: FallbackToLogsOnError}\n",
    )
    .unwrap()
    .object;
    deployment.set_defaults();
    assert_eq!(deployment.spec.replicas, Some(0));
    let container = &deployment.spec.template.spec.containers[0];
    assert_eq!(container.image_pull_policy.as_deref(), Some("Never"));
    assert_eq!(
        container.termination_message_policy.as_deref(),
        Some("FallbackToLogsOnError")
    );
    assert_eq!(
        container.termination_message_path.as_deref(),
        Some("/dev/termination-log")
    );
}

#[test]
fn percentages_resolve_against_the_replica_count() {
    let values = [
        IntOrString::from("25%"),
        IntOrString::from("50%"),
        IntOrString::from("100%"),
        IntOrString::Int(1),
    ];
    let mut out = String::from("replicas   value   maxSurge (up)   maxUnavailable (down)\n");
    for replicas in [0, 1, 2, 3, 4, 5, 10] {
        for value in &values {
            let up = value.scaled_value(replicas, true).unwrap();
            let down = value.scaled_value(replicas, false).unwrap();
            writeln!(
                out,
                "{replicas:>8}   {:<5}   {up:>13}   {down:>21}",
                value.to_string()
            )
            .unwrap();
        }
    }
    for bad in ["lots", "25", "%", "2.5%"] {
        let error = IntOrString::from(bad).scaled_value(4, true).unwrap_err();
        writeln!(out, "{bad:?}: {error}").unwrap();
    }
    with_settings!({ description => "IntOrString::scaled_value(replicas, round_up): surge rounds up, unavailable rounds down", omit_expression => true }, {
        assert_snapshot!(out);
    });
}
