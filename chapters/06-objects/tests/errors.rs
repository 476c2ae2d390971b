//! Mistakes in manifests: every error names the file, the line and column,
//! and the field path; fields the types do not know are reported, not
//! dropped. Holes exercised: `split_documents` (src/manifest.rs) for line
//! numbers in later documents.

use chapter_06::fixture;
use chapter_06::objects::manifest::decode_object_json;
use chapter_06::objects::parse_manifests;
use insta::{assert_snapshot, with_settings};
use std::fmt::Write;

fn error_of(file: &str, text: &str) -> String {
    match parse_manifests(file, text) {
        Ok(objects) => panic!("{file} should not parse, got {} objects", objects.len()),
        Err(error) => error.to_string(),
    }
}

#[test]
fn a_bad_value_is_reported_at_its_line_column_and_path() {
    let error = parse_manifests("broken-port.yaml", &fixture("broken-port.yaml")).unwrap_err();
    assert_eq!(
        error.line, 22,
        "the line in the whole file, not in the second document"
    );
    assert_eq!(
        error.path,
        "spec.template.spec.containers[0].ports[0].containerPort"
    );
    with_settings!({ description => "parse_manifests(\"broken-port.yaml\"): `containerPort: eighty` in the second document", omit_expression => true }, {
        assert_snapshot!(error.to_string());
    });
}

#[test]
fn each_kind_of_mistake_has_a_clear_message() {
    let cases = [
        ("no-kind.yaml", "apiVersion: v1\nmetadata:\n  name: web\n"),
        (
            "unknown-kind.yaml",
            "apiVersion: v1\nkind: Deployment\nmetadata:\n  name: web\n",
        ),
        (
            "bad-indent.yaml",
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n   namespace: shop\n",
        ),
        (
            "not-a-list.yaml",
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n    name: web\n",
        ),
        (
            "bad-time.yaml",
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  creationTimestamp: yesterday\n",
        ),
        (
            "big-port.yaml",
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  ports:\n  - port: 99999999999\n",
        ),
        (
            "second.yaml",
            "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: 7\n  labels: [app]\n",
        ),
        (
            "pod.json",
            "{\"apiVersion\": \"v1\", \"kind\": \"Pod\",\n \"metadata\": {\"name\": \"web\"},\n \"spec\": {\"containers\": [{\"name\": \"web\", \"ports\": [{\"containerPort\": \"80\"}]}]}}",
        ),
        (
            "truncated.json",
            "{\"apiVersion\": \"v1\", \"kind\": \"Pod\",\n \"metadata\": {\"name\": \"web\"",
        ),
        (
            "list-item.yaml",
            "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  spec: {restartPolicy: 3}\n",
        ),
    ];
    let mut out = String::new();
    for (file, text) in cases {
        writeln!(out, "{}", error_of(file, text)).unwrap();
    }
    with_settings!({ description => "parse_manifests(file, text) for broken manifests", omit_expression => true }, {
        assert_snapshot!(out);
    });
}

#[test]
fn unknown_fields_are_reported_with_their_paths() {
    let manifests = parse_manifests("typos.yaml", &fixture("typos.yaml")).unwrap();
    assert_eq!(manifests.len(), 1);
    let warnings: Vec<String> = manifests[0]
        .unknown_fields
        .iter()
        .map(|f| format!("unknown field {f:?}"))
        .collect();
    with_settings!({ description => "parse_manifests(\"typos.yaml\"): misspelt fields (label, replica, imagePolicy, protocl)", omit_expression => true }, {
        assert_snapshot!(warnings.join("\n"));
    });
}

#[test]
fn request_bodies_report_unknown_fields_too() {
    let body = r#"{"apiVersion":"v1","kind":"Service","metadata":{"name":"web"},"spec":{"ports":[{"port":80}],"selectr":{"app":"web"}}}"#;
    let decoded = decode_object_json(body).unwrap();
    assert_eq!(
        decoded.warnings(),
        vec![r#"unknown field "spec.selectr""#.to_string()]
    );
}
