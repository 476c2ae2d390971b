//! Patches as `kubectl` sends them: a strategic merge patch merges lists of
//! named things item by item, a JSON merge patch replaces lists whole. The
//! patched JSON decodes back into a typed object and validates like any.
//! No hole: this is the API server's PATCH for chapter 07.

use chapter_06::fixture;
use chapter_06::objects::manifest::decode_value;
use chapter_06::objects::patch::{merge_patch, strategic_merge_patch};
use chapter_06::objects::{Deployment, Resource, parse_manifests};
use insta::{assert_snapshot, with_settings};
use serde_json::{Value, json};
use std::fmt::Write;

fn shop_deployment() -> Value {
    let manifests = parse_manifests("shop.yaml", &fixture("shop.yaml")).unwrap();
    manifests[1].object.to_value()
}

/// The containers' names, images and env names, and the replicas: what the patches touch.
fn summary(value: &Value) -> String {
    let deployment: Deployment = decode_value(value).unwrap().object;
    let mut out = format!("replicas: {:?}\n", deployment.spec.replicas);
    for container in &deployment.spec.template.spec.containers {
        let env: Vec<&str> = container.env.iter().map(|e| e.name.as_str()).collect();
        let ports: Vec<i32> = container.ports.iter().map(|p| p.container_port).collect();
        writeln!(
            out,
            "container {}: image {:?}, env {env:?}, ports {ports:?}",
            container.name,
            container.image.as_deref().unwrap_or("")
        )
        .unwrap();
    }
    let errors = deployment.validate();
    let verdict = if errors.is_empty() {
        "valid".to_string()
    } else {
        errors.to_string()
    };
    writeln!(out, "validation: {}", verdict.trim_end()).unwrap();
    out
}

#[test]
fn strategic_merge_patches_merge_containers_by_name_merge_patches_replace_them() {
    let scale = json!({"spec": {"replicas": 5}});
    let set_image = json!({"spec": {"template": {"spec": {"containers": [
        {"name": "web", "image": "k8s-mini/echo:2.0", "env": [{"name": "COLOR", "value": "blue"}]}
    ]}}}});
    let add_sidecar = json!({"spec": {"template": {"spec": {
        "$setElementOrder/containers": [{"name": "web"}, {"name": "log"}],
        "containers": [{"name": "log", "image": "busybox"}]
    }}}});
    let drop_sidecar = json!({"spec": {"template": {"spec": {"containers": [{"name": "log", "$patch": "delete"}]}}}});

    let mut out = String::new();
    let mut strategic = shop_deployment();
    for (what, patch) in [
        ("scale", &scale),
        ("set image and env", &set_image),
        ("add a sidecar", &add_sidecar),
        ("drop the sidecar", &drop_sidecar),
    ] {
        strategic_merge_patch(&mut strategic, patch).unwrap();
        write!(
            out,
            "# strategic merge patch: {what}\n{}\n",
            summary(&strategic)
        )
        .unwrap();
    }
    let mut merged = shop_deployment();
    merge_patch(&mut merged, &set_image);
    write!(
        out,
        "# JSON merge patch: set image and env (the list is replaced)\n{}",
        summary(&merged)
    )
    .unwrap();
    with_settings!({ description => "patches applied one after the other to the web deployment of shop.yaml", omit_expression => true }, {
        assert_snapshot!(out);
    });
}
