//! Manifests in, wire-format JSON out: several YAML documents per file,
//! JSON, `List`s, and what the API server sends back for each object.
//! Hole exercised: `split_documents` (src/manifest.rs).

use chapter_06::objects::manifest::split_documents;
use chapter_06::objects::{Object, parse_manifests};
use chapter_06::{fixture, json};
use insta::{assert_snapshot, with_settings};
use std::fmt::Write;

/// Each object of a file: where its document starts, its kind and name,
/// then its JSON.
fn report(file: &str) -> String {
    let manifests = parse_manifests(file, &fixture(file)).unwrap_or_else(|e| panic!("{e}"));
    let mut out = String::new();
    for manifest in &manifests {
        let info = manifest.object.info();
        let meta = manifest.object.metadata();
        writeln!(
            out,
            "# line {}: {} {}",
            manifest.line,
            info.kind,
            meta.name()
        )
        .unwrap();
        assert!(
            manifest.unknown_fields.is_empty(),
            "{:?}",
            manifest.unknown_fields
        );
        writeln!(out, "{}", json(&manifest.object)).unwrap();
    }
    out
}

#[test]
fn documents_split_at_separator_lines() {
    let text = "# a comment before the first document\n---\nkind: A\n---   # the second\nkind: B\n---\n# nothing here\n---\n\nkind: C\nnote: |\n  --- not a separator: indented\n---\n";
    let mut out = String::new();
    for document in split_documents(text) {
        writeln!(
            out,
            "from line {}: {:?}",
            document.first_line, document.text
        )
        .unwrap();
    }
    with_settings!({ description => format!("split_documents({text:?})"), omit_expression => true }, {
        assert_snapshot!(out);
    });
}

#[test]
fn a_file_without_separators_is_one_document() {
    let documents = split_documents("kind: A\nmetadata: {}\n");
    assert_eq!(documents.len(), 1);
    assert_eq!(documents[0].first_line, 1);
    assert_eq!(documents[0].text, "kind: A\nmetadata: {}\n");
    assert!(split_documents("# nothing\n\n").is_empty());
}

#[test]
fn a_multi_document_yaml_file_becomes_wire_json() {
    with_settings!({ description => "parse_manifests(\"shop.yaml\"): camelCase fields, numbers stay numbers, `25%` stays a string, empty optional fields left out", omit_expression => true }, {
        assert_snapshot!(report("shop.yaml"));
    });
}

#[test]
fn a_running_pod_round_trips_with_utc_timestamps_and_required_fields() {
    with_settings!({ description => "parse_manifests(\"running-pod.json\"): timestamps in UTC with whole seconds; imageID, ready, restartCount and status always written", omit_expression => true }, {
        assert_snapshot!(report("running-pod.json"));
    });
}

#[test]
fn a_node_keeps_its_system_info_and_quantities() {
    with_settings!({ description => "parse_manifests(\"node.yaml\"): quantities are strings (cpu: 2 becomes \"2\"), daemonEndpoints' Port keeps its capital", omit_expression => true }, {
        assert_snapshot!(report("node.yaml"));
    });
}

#[test]
fn a_list_document_yields_each_item() {
    with_settings!({ description => "parse_manifests(\"list.yaml\"): a List's items become objects; a ReplicaSet's status.replicas is written even when 0; eventTime keeps microseconds", omit_expression => true }, {
        assert_snapshot!(report("list.yaml"));
    });
}

#[test]
fn serialising_again_gives_the_same_objects() {
    for file in ["shop.yaml", "running-pod.json", "node.yaml", "list.yaml"] {
        for manifest in parse_manifests(file, &fixture(file)).unwrap() {
            let text = manifest.object.to_value().to_string();
            let again = parse_manifests("again.json", &text).unwrap();
            assert_eq!(again.len(), 1);
            assert_eq!(again[0].object, manifest.object, "{file}: {text}");
        }
    }
}

#[test]
fn typed_objects_are_reachable_from_object() {
    let manifests = parse_manifests("shop.yaml", &fixture("shop.yaml")).unwrap();
    let Object::Deployment(deployment) = &manifests[1].object else {
        panic!(
            "the second object is the deployment: {:?}",
            manifests[1].object
        );
    };
    let container = &deployment.spec.template.spec.containers[0];
    assert_eq!(container.ports[0].container_port, 8080);
    let limits = &container.resources.as_ref().unwrap().limits;
    assert_eq!(limits["memory"].to_bytes(), Some(128 << 20));
    assert_eq!(limits["cpu"].to_millis(), Some(1000));
}

#[test]
fn kubectls_own_output_is_accepted_as_is() {
    let manifests =
        parse_manifests("kubectl-create.yaml", &fixture("kubectl-create.yaml")).unwrap();
    assert_eq!(manifests.len(), 1);
    assert!(
        manifests[0].unknown_fields.is_empty(),
        "{:?}",
        manifests[0].unknown_fields
    );
    let mut object = manifests[0].object.clone();
    object.metadata_mut().namespace = Some("default".into());
    object.set_defaults();
    let errors = object.validate();
    assert!(errors.is_empty(), "{errors}");
}
