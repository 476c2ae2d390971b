//! The server-side tables `kubectl get` shows: columns per kind, cells
//! computed from the objects, ages from an injected "now".
//! No hole: this is the API server's view for chapter 07.

use chapter_06::objects::table::{IncludeObject, columns, to_table};
use chapter_06::objects::{Object, Time, parse_manifests};
use chapter_06::{fixture, json};
use insta::{assert_snapshot, with_settings};
use serde_json::Value;

fn now() -> Time {
    Time::parse("2024-05-01T12:30:00Z").unwrap()
}

/// Renders a table as kubectl prints it (`-o wide` when `wide`).
fn render(objects: &[Object], wide: bool) -> String {
    let info = objects[0].info();
    let table = to_table(info, objects, now(), IncludeObject::None);
    let shown: Vec<usize> = (0..table.column_definitions.len())
        .filter(|&i| wide || table.column_definitions[i].priority == 0)
        .collect();
    let mut rows = vec![
        shown
            .iter()
            .map(|&i| table.column_definitions[i].name.to_uppercase())
            .collect::<Vec<_>>(),
    ];
    for row in &table.rows {
        rows.push(
            shown
                .iter()
                .map(|&i| match &row.cells[i] {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect(),
        );
    }
    let widths: Vec<usize> = (0..shown.len())
        .map(|c| rows.iter().map(|r| r[c].len()).max().unwrap())
        .collect();
    let mut out = String::new();
    for row in rows {
        let line: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        out.push_str(line.join("   ").trim_end());
        out.push('\n');
    }
    out
}

fn objects(file: &str, text: &str) -> Vec<Object> {
    parse_manifests(file, text)
        .unwrap()
        .into_iter()
        .map(|m| m.object)
        .collect()
}

fn created(mut object: Object, at: &str) -> Object {
    object.metadata_mut().creation_timestamp = Some(Time::parse(at).unwrap());
    object
}

const PODS: &str = r#"
apiVersion: v1
kind: Pod
metadata: {name: crashing, creationTimestamp: "2024-05-01T10:00:00Z"}
spec:
  nodeName: node-1
  containers: [{name: app, image: busybox}, {name: sidecar, image: busybox}]
status:
  phase: Running
  podIP: 10.244.1.9
  containerStatuses:
  - name: app
    image: busybox
    imageID: ""
    ready: false
    restartCount: 4
    state: {waiting: {reason: CrashLoopBackOff}}
    lastState: {terminated: {exitCode: 1, finishedAt: "2024-05-01T12:28:30Z"}}
  - {name: sidecar, image: busybox, imageID: "", ready: true, restartCount: 0, state: {running: {}}}
---
apiVersion: v1
kind: Pod
metadata: {name: initializing, creationTimestamp: "2024-05-01T12:29:15Z"}
spec:
  initContainers: [{name: migrate, image: busybox}, {name: warm, image: busybox}]
  containers: [{name: app, image: busybox}]
status:
  phase: Pending
  initContainerStatuses:
  - {name: migrate, image: busybox, imageID: "", ready: true, restartCount: 0, state: {terminated: {exitCode: 0}}}
  - {name: warm, image: busybox, imageID: "", ready: false, restartCount: 0, state: {running: {}}}
---
apiVersion: v1
kind: Pod
metadata: {name: leaving, creationTimestamp: "2024-04-20T12:00:00Z", deletionTimestamp: "2024-05-01T12:29:50Z"}
spec:
  containers: [{name: app, image: busybox}]
status:
  phase: Running
  containerStatuses:
  - {name: app, image: busybox, imageID: "", ready: true, restartCount: 0, state: {running: {}}}
---
apiVersion: v1
kind: Pod
metadata: {name: oom, creationTimestamp: "2024-05-01T12:25:00Z"}
spec:
  restartPolicy: Never
  containers: [{name: hog, image: busybox}]
status:
  phase: Failed
  containerStatuses:
  - {name: hog, image: busybox, imageID: "", ready: false, restartCount: 0, state: {terminated: {exitCode: 137, reason: OOMKilled}}}
"#;

#[test]
fn pods_show_ready_status_restarts_and_age() {
    let mut pods = objects("pods.yaml", PODS);
    pods.extend(objects("running-pod.json", &fixture("running-pod.json")));
    with_settings!({ description => "kubectl get pods -o wide, at 2024-05-01T12:30:00Z", omit_expression => true }, {
        assert_snapshot!(render(&pods, true));
    });
}

#[test]
fn every_kind_has_kubectls_columns() {
    let shop: Vec<Object> = objects("shop.yaml", &fixture("shop.yaml"))
        .into_iter()
        .map(|mut object| {
            object.set_defaults();
            created(object, "2024-05-01T12:00:00Z")
        })
        .collect();
    let list = objects("list.yaml", &fixture("list.yaml"));
    let node = objects("node.yaml", &fixture("node.yaml"));
    let node = [created(node[0].clone(), "2024-04-29T08:00:00Z")];
    let mut out = String::new();
    for group in [
        &shop[0..1],
        &shop[1..2],
        &shop[2..3],
        &list[0..1],
        &list[1..2],
        &list[2..3],
        &node[..],
    ] {
        out.push_str(&format!(
            "$ kubectl get {} -o wide\n",
            group[0].info().plural
        ));
        out.push_str(&render(group, true));
        out.push('\n');
    }
    with_settings!({ description => "kubectl get <kind> -o wide for the fixtures, at 2024-05-01T12:30:00Z", omit_expression => true }, {
        assert_snapshot!(out);
    });
}

#[test]
fn endpoint_slices_show_their_type_ports_and_first_addresses() {
    let slices: Vec<Object> = objects("endpoint-slices.yaml", &fixture("endpoint-slices.yaml"))
        .into_iter()
        .map(|mut object| {
            object.set_defaults();
            created(object, "2024-05-01T12:29:15Z")
        })
        .collect();
    with_settings!({ description => "kubectl get endpointslices, at 2024-05-01T12:30:00Z: three addresses then `+ N more...`, a port without a number by its name", omit_expression => true }, {
        assert_snapshot!(render(&slices, false));
    });
}

#[test]
fn a_table_carries_partial_metadata_by_default() {
    let pods = objects("running-pod.json", &fixture("running-pod.json"));
    let table = to_table(pods[0].info(), &pods, now(), IncludeObject::parse(None));
    assert_eq!(table.column_definitions, columns(pods[0].info()));
    with_settings!({ description => "to_table(pods, includeObject unset): the JSON kubectl receives", omit_expression => true }, {
        assert_snapshot!(json(&table));
    });
}
