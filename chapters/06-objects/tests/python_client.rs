//! Wire compatibility with the official Python client, which validates
//! every model it receives and raises when a required field is missing or
//! has the wrong type (`restartCount: null`, a list without `items`).
//!
//! Needs `python3` with the `kubernetes` package (`pip install
//! kubernetes`; the repository's `.ci/run` installs it), and says so when
//! it is missing.

use chapter_06::fixture;
use chapter_06::objects::resource::{DEPLOYMENT, POD};
use chapter_06::objects::{
    ErrorList, FieldError, List, ListMeta, ObjectMeta, Path, Scale, Status, parse_manifests,
};
use serde_json::Value;
use std::io::Write;
use std::process::{Command, Stdio};

/// Deserializes each `[model, object]` pair of stdin with the client's own
/// deserializer; prints one line per object and fails on the first error.
const SCRIPT: &str = r#"
import json, sys
from kubernetes.client import ApiClient
api = ApiClient()
for model, obj in json.load(sys.stdin):
    api.deserialize(json.dumps(obj), model, "application/json")
    print(model, "ok")
"#;

fn model(kind: &str) -> &'static str {
    match kind {
        "Pod" => "V1Pod",
        "Node" => "V1Node",
        "Namespace" => "V1Namespace",
        "Service" => "V1Service",
        "Endpoints" => "V1Endpoints",
        "Event" => "CoreV1Event",
        "Deployment" => "V1Deployment",
        "ReplicaSet" => "V1ReplicaSet",
        "EndpointSlice" => "V1EndpointSlice",
        "ConfigMap" => "V1ConfigMap",
        "Secret" => "V1Secret",
        other => panic!("no model for {other}"),
    }
}

fn everything() -> Vec<(String, Value)> {
    let mut pairs = Vec::new();
    for file in [
        "shop.yaml",
        "running-pod.json",
        "node.yaml",
        "list.yaml",
        "endpoint-slices.yaml",
        "config.yaml",
    ] {
        for manifest in parse_manifests(file, &fixture(file)).unwrap() {
            let mut object = manifest.object;
            let kind = model(object.info().kind).to_string();
            pairs.push((kind.clone(), object.to_value()));
            object.set_defaults();
            pairs.push((kind, object.to_value()));
        }
    }
    let empty: List<Value> = List {
        api_version: "v1".into(),
        kind: "PodList".into(),
        metadata: ListMeta::default(),
        items: Vec::new(),
    };
    pairs.push(("V1PodList".into(), serde_json::to_value(empty).unwrap()));
    let scale = Scale::new(ObjectMeta::named("web"), 3, 0, "app=web".into());
    pairs.push(("V1Scale".into(), serde_json::to_value(scale).unwrap()));
    let errors = ErrorList(vec![FieldError::required(
        &Path::new("spec").child("replicas"),
        "",
    )]);
    let statuses = [
        Status::not_found(&POD, "web"),
        Status::conflict(&DEPLOYMENT, "web"),
        Status::invalid(&DEPLOYMENT, "web", &errors),
    ];
    for status in statuses {
        pairs.push(("V1Status".into(), serde_json::to_value(status).unwrap()));
    }
    pairs
}

#[test]
fn the_python_client_accepts_every_object() {
    let has_client = Command::new("python3")
        .args(["-c", "import kubernetes"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    assert!(
        has_client,
        "\n\n*** this test needs python3 with the official Kubernetes client: python3 -m pip install kubernetes ***\n\n"
    );
    let pairs = everything();
    let mut child = Command::new("python3")
        .args(["-c", SCRIPT])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 must be installed for this test");
    let input = serde_json::to_vec(&pairs).unwrap();
    child.stdin.take().unwrap().write_all(&input).unwrap();
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the Python client refused an object:\n{stdout}\n{stderr}"
    );
    assert_eq!(stdout.lines().count(), pairs.len(), "{stdout}");
}
