//! ConfigMaps and Secrets: bytes as base64 on the wire, a Secret's
//! `stringData` merged into `data` by defaulting (never stored nor
//! returned), keys that can be file names, at most 1 MiB, `immutable`
//! enforced on update, kubectl's columns and the `type` field selector.
//! No hole: these kinds reuse the machinery of the others.

use chapter_06::fixture;
use chapter_06::objects::fields::FieldSelector;
use chapter_06::objects::manifest::decode_yaml;
use chapter_06::objects::resource::{CONFIG_MAP, SECRET};
use chapter_06::objects::table::{IncludeObject, to_table};
use chapter_06::objects::{ByteString, ConfigMap, Object, Resource, Secret, Time, parse_manifests};
use insta::{assert_snapshot, with_settings};
use serde_json::{Value, json};
use std::fmt::Write;

fn fixtures() -> Vec<Object> {
    parse_manifests("config.yaml", &fixture("config.yaml"))
        .unwrap_or_else(|e| panic!("{e}"))
        .into_iter()
        .map(|m| m.object)
        .collect()
}

fn secret(name: &str) -> Secret {
    let object = fixtures()
        .into_iter()
        .find(|o| o.metadata().name.as_deref() == Some(name))
        .unwrap();
    serde_json::from_value(object.to_value()).unwrap()
}

fn config_map(name: &str) -> ConfigMap {
    let object = fixtures()
        .into_iter()
        .find(|o| o.metadata().name.as_deref() == Some(name))
        .unwrap();
    serde_json::from_value(object.to_value()).unwrap()
}

#[test]
fn values_are_bytes_on_the_wire_in_base64() {
    let web = config_map("web-config");
    assert_eq!(web.binary_data["logo.png"].0, b"\x89PNG\r\n\x1a\n");
    assert_eq!(web.data["LOG_LEVEL"], "debug");
    let db = secret("db");
    assert_eq!(db.data["password"], ByteString::from("s3cr3t"));
    // Serialised again: base64 again, the same text.
    let value = serde_json::to_value(&db).unwrap();
    assert_eq!(value["data"]["password"], json!("czNjcjN0"));
    for object in fixtures() {
        let text = object.to_value().to_string();
        let again = parse_manifests("again.json", &text).unwrap();
        assert_eq!(again[0].object, object, "{text}");
    }
    let error = decode_yaml::<Secret>("metadata: {name: s}\ndata: {password: \"not base64!\"}\n")
        .unwrap_err()
        .to_string();
    assert!(error.contains("data.password"), "{error}");
    assert!(error.contains("illegal base64 data"), "{error}");
}

#[test]
fn string_data_is_merged_into_data_and_never_kept() {
    let mut db = secret("db");
    assert_eq!(db.secret_type, None);
    db.set_defaults();
    assert_eq!(db.secret_type.as_deref(), Some("Opaque"));
    assert!(db.string_data.is_empty());
    let value = serde_json::to_value(&db).unwrap();
    assert_eq!(value.get("stringData"), None, "{value}");
    // stringData wins over a data key of the same name.
    assert_eq!(
        value["data"],
        json!({
            "password": "czNjcjN0",
            "url": "cG9zdGdyZXM6Ly9kYjo1NDMy",
            "username": "cm9vdA==",
        })
    );
    assert!(db.validate().is_empty(), "{}", db.validate());
    let mut tls = secret("web-tls");
    tls.set_defaults();
    assert_eq!(tls.type_name(), "kubernetes.io/tls");
}

#[test]
fn keys_sizes_and_immutability_are_checked_as_kubernetes_does() {
    for mut object in fixtures() {
        object.set_defaults();
        assert!(object.validate().is_empty(), "{:?}", object.validate());
    }
    let mut out = String::new();
    let bad: ConfigMap = decode_yaml(
        r#"
metadata: {name: Web_Config, namespace: shop}
data:
  "a/b": x
  "..data": x
  ".": x
  twice: x
binaryData:
  twice: eA==
  "bad key": eA==
"#,
    )
    .unwrap()
    .object;
    writeln!(out, "# ConfigMap keys\n{}", bad.validate()).unwrap();

    let mut big = config_map("web-config");
    big.data.insert("big".into(), "x".repeat(1024 * 1024 - 10));
    writeln!(out, "# ConfigMap over 1 MiB\n{}", big.validate()).unwrap();

    let mut secret_big = secret("db");
    secret_big.set_defaults();
    secret_big
        .data
        .insert("big".into(), ByteString(vec![0; 1024 * 1024]));
    secret_big.string_data.insert("bad/key".into(), "x".into());
    secret_big.set_defaults();
    writeln!(
        out,
        "# Secret over 1 MiB, a stringData key\n{}",
        secret_big.validate()
    )
    .unwrap();

    let frozen = config_map("frozen");
    let mut changed = frozen.clone();
    changed.data.insert("mode".into(), "debug".into());
    changed
        .binary_data
        .insert("extra".into(), ByteString::from("x"));
    changed.immutable = Some(false);
    writeln!(
        out,
        "# immutable ConfigMap changed\n{}",
        changed.validate_update(&frozen)
    )
    .unwrap();
    let mut relabelled = frozen.clone();
    relabelled
        .metadata
        .labels
        .insert("tier".into(), "web".into());
    assert!(relabelled.validate_update(&frozen).is_empty());
    let mut thawing = config_map("web-config");
    thawing.immutable = Some(true);
    assert!(
        thawing
            .validate_update(&config_map("web-config"))
            .is_empty()
    );

    let mut old = secret("db");
    old.set_defaults();
    old.immutable = Some(true);
    let mut new = old.clone();
    new.secret_type = Some("kubernetes.io/tls".into());
    new.string_data.insert("password".into(), "other".into());
    new.set_defaults();
    writeln!(
        out,
        "# immutable Secret, type and data changed\n{}",
        new.validate_update(&old)
    )
    .unwrap();
    with_settings!({ description => "validate() and validate_update() of ConfigMaps and Secrets", omit_expression => true }, {
        assert_snapshot!(out);
    });
}

#[test]
fn kubectl_shows_data_counts_and_secret_types() {
    let now = Time::parse("2024-05-01T12:30:00Z").unwrap();
    let mut out = String::new();
    let all: Vec<Object> = fixtures()
        .into_iter()
        .map(|mut object| {
            object.set_defaults();
            object.metadata_mut().creation_timestamp =
                Some(Time::parse("2024-05-01T12:00:00Z").unwrap());
            object
        })
        .collect();
    for info in [CONFIG_MAP, SECRET] {
        let objects: Vec<Object> = all
            .iter()
            .filter(|o| o.info().kind == info.kind)
            .cloned()
            .collect();
        let table = to_table(&info, &objects, now, IncludeObject::None);
        let names: Vec<String> = table
            .column_definitions
            .iter()
            .map(|c| c.name.to_uppercase())
            .collect();
        writeln!(out, "{}", names.join("\t")).unwrap();
        for row in &table.rows {
            let cells: Vec<String> = row
                .cells
                .iter()
                .map(|cell| match cell {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect();
            writeln!(out, "{}", cells.join("\t")).unwrap();
        }
        writeln!(out).unwrap();
    }
    with_settings!({ description => "kubectl get configmaps; kubectl get secrets (config.yaml, defaulted, 30 minutes old)", omit_expression => true }, {
        assert_snapshot!(out);
    });
}

#[test]
fn secrets_are_selected_by_type() {
    let secrets: Vec<Secret> = ["db", "web-tls"]
        .iter()
        .map(|name| {
            let mut secret = secret(name);
            secret.set_defaults();
            secret
        })
        .collect();
    let selected = |text: &str| -> Vec<String> {
        let selector = FieldSelector::parse(text).unwrap();
        selector.check(&SECRET).unwrap();
        secrets
            .iter()
            .filter(|s| selector.matches(|field| s.field_value(field)))
            .map(|s| s.metadata.name().to_string())
            .collect()
    };
    assert_eq!(selected("type=Opaque"), ["db"]);
    assert_eq!(selected("type!=Opaque"), ["web-tls"]);
    assert_eq!(
        selected("type=kubernetes.io/tls,metadata.name=web-tls"),
        ["web-tls"]
    );
    assert!(
        FieldSelector::parse("type=Opaque")
            .unwrap()
            .check(&CONFIG_MAP)
            .is_err()
    );
}

#[test]
fn pods_reference_config_maps_and_secrets_by_valid_names_keys_and_paths() {
    use chapter_06::objects::Pod;
    let mut pod: Pod = decode_yaml(
        r#"
metadata: {name: web, namespace: shop}
spec:
  containers:
    - name: main
      image: busybox
      env:
        - name: LEVEL
          valueFrom: {configMapKeyRef: {name: web-config, key: "a/b"}}
        - name: PASSWORD
          valueFrom: {secretKeyRef: {key: password}}
      envFrom:
        - prefix: "1_"
          configMapRef: {name: web-config}
        - configMapRef: {name: a}
          secretRef: {name: b}
      volumeMounts:
        - {name: config, mountPath: /etc/app}
        - {name: tls, mountPath: /etc/tls}
  volumes:
    - name: config
      configMap:
        name: Web_Config
        defaultMode: 01000
        items:
          - {key: a, path: /etc/passwd}
          - {key: b, path: ../up}
    - name: tls
      secret: {items: [{key: k, path: key, mode: -1}]}
"#,
    )
    .unwrap()
    .object;
    pod.set_defaults();
    let errors = pod.validate().to_string();
    with_settings!({ description => "Pod::validate() of references to ConfigMaps and Secrets", omit_expression => true }, {
        assert_snapshot!(errors);
    });
    let good: Pod = decode_yaml(
        r#"
metadata: {name: web, namespace: shop}
spec:
  containers:
    - name: main
      image: busybox
      envFrom: [{prefix: APP_, configMapRef: {name: web-config}}]
      volumeMounts: [{name: config, mountPath: /etc/app}]
  volumes:
    - name: config
      configMap: {name: web-config, items: [{key: a, path: conf/a, mode: 0400}]}
"#,
    )
    .unwrap()
    .object;
    let mut defaulted = good.clone();
    defaulted.set_defaults();
    assert!(defaulted.validate().is_empty(), "{}", defaulted.validate());
    let volume = defaulted.spec.volumes[0].config_map.as_ref().unwrap();
    assert_eq!(volume.default_mode, Some(0o644), "Kubernetes' default mode");
    assert_eq!(volume.items[0].mode, Some(0o400));
}
