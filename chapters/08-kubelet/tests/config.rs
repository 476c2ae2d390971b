//! ConfigMaps and Secrets in real pods: as environment variables
//! (`valueFrom` and `envFrom`), a missing one keeping the container from
//! starting (`CreateContainerConfigError`) until it exists, and as files in
//! read-only volumes that follow the object's changes, Secrets on a tmpfs
//! with their modes. Nothing of them stays once the pod is gone.

use std::time::Duration;

use std::sync::Arc;

use chapter_08::kubelet::config_env::{ConfigObjects, config_env};
use chapter_08::kubelet::config_volumes::volume_files;
use chapter_08::{LIMIT, Lab, guard, pod};
use objects::{ConfigMap, Event, Pod, Resource, Secret};
use serde_json::json;

const INIT: &str = env!("CARGO_BIN_EXE_kubelet-init");

async fn create<K: Resource>(lab: &Lab, value: serde_json::Value) -> K {
    let object: K = serde_json::from_value(value).expect("an object");
    lab.client
        .api::<K>(Some("default"))
        .create(&object)
        .await
        .expect("created")
}

/// Runs `command` in the pod's container `main`; its exit code and output.
async fn exec(lab: &Lab, pod: &str, command: &str) -> (i32, String) {
    let (_, handle) = lab
        .kubelet
        .as_ref()
        .expect("the agent")
        .pods()
        .handle("default", pod)
        .expect("the pod runs here");
    let line = ["sh", "-c", command].map(String::from);
    let output = handle
        .exec("main", &line, Duration::from_secs(30))
        .await
        .expect("an exec");
    (output.exit_code, output.output)
}

fn waiting(pod: Option<&Pod>) -> Option<(String, String)> {
    let state = pod?.status.container_statuses.first()?.state.as_ref()?;
    let waiting = state.waiting.as_ref()?;
    Some((
        waiting.reason.clone().unwrap_or_default(),
        waiting.message.clone().unwrap_or_default(),
    ))
}

fn running(pod: Option<&Pod>) -> bool {
    pod.and_then(|p| p.status.phase.as_deref()) == Some("Running")
}

#[test]
fn references_resolve_or_say_what_is_missing_as_the_kubelet_does() {
    let config_map: ConfigMap = serde_json::from_value(json!({
        "metadata": {"name": "web-config", "namespace": "shop"},
        "data": {"A": "1"}, "binaryData": {"logo": "iVBO"}}))
    .unwrap();
    let secret: Secret = serde_json::from_value(json!({
        "metadata": {"name": "db", "namespace": "shop"}, "data": {"password": "czNjcjN0"}}))
    .unwrap();
    let elsewhere: Secret = serde_json::from_value(json!({
        "metadata": {"name": "other", "namespace": "default"}, "data": {"x": "eA=="}}))
    .unwrap();
    let objects = ConfigObjects::of(
        "shop",
        &[Arc::new(config_map)],
        &[Arc::new(secret), Arc::new(elsewhere)],
    );
    let container = |env: serde_json::Value| -> objects::pod::Container {
        serde_json::from_value(json!({"name": "main", "image": "busybox", "env": env})).unwrap()
    };
    let outcome = |env: serde_json::Value| match config_env(&container(env), &objects) {
        Ok(env) => format!("{:?}", env.from_refs),
        Err(message) => message,
    };
    let cases = [
        (
            json!([{"name": "A", "valueFrom": {"configMapKeyRef": {"name": "web-config", "key": "A"}}}]),
            r#"{"A": Some("1")}"#,
        ),
        (
            json!([{"name": "P", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}}]),
            r#"{"P": Some("s3cr3t")}"#,
        ),
        (
            json!([{"name": "B", "valueFrom": {"configMapKeyRef": {"name": "web-config", "key": "logo"}}}]),
            "couldn't find key logo in ConfigMap shop/web-config",
        ),
        (
            json!([{"name": "X", "valueFrom": {"secretKeyRef": {"name": "other", "key": "x"}}}]),
            r#"secret "other" not found"#,
        ),
        (
            json!([{"name": "U", "valueFrom": {"secretKeyRef": {"name": "db", "key": "user"}}}]),
            "couldn't find key user in Secret shop/db",
        ),
        (
            json!([{"name": "O", "valueFrom": {"secretKeyRef": {"name": "none", "key": "k", "optional": true}}}]),
            r#"{"O": None}"#,
        ),
    ];
    for (env, expected) in cases {
        assert_eq!(outcome(env.clone()), expected, "{env}");
    }
    let from: objects::pod::Container = serde_json::from_value(json!({"name": "main", "image": "busybox",
        "envFrom": [{"configMapRef": {"name": "missing", "optional": true}}, {"secretRef": {"name": "missing"}}]}))
    .unwrap();
    assert_eq!(
        config_env(&from, &objects).unwrap_err(),
        r#"secret "missing" not found"#
    );

    let volume = |source: serde_json::Value| -> objects::pod::Volume {
        let mut value = source;
        value["name"] = json!("v");
        serde_json::from_value(value).unwrap()
    };
    let files = volume_files(
        &volume(json!({"configMap": {"name": "web-config"}})),
        &objects,
    )
    .unwrap();
    let summary: Vec<(String, usize, u32)> = files
        .iter()
        .map(|(path, (bytes, mode))| (path.clone(), bytes.len(), *mode))
        .collect();
    assert_eq!(
        summary,
        [("A".to_string(), 1, 0o644), ("logo".to_string(), 3, 0o644)]
    );
    let missing_key =
        volume(json!({"secret": {"secretName": "db", "items": [{"key": "nope", "path": "p"}]}}));
    assert_eq!(
        volume_files(&missing_key, &objects).unwrap_err(),
        "references non-existent secret key: nope"
    );
    let optional = volume(json!({"configMap": {"name": "gone", "optional": true}}));
    assert!(volume_files(&optional, &objects).unwrap().is_empty());
}

const ENV_POD: &str = "  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: busybox
    command: [sleep, \"1000\"]
    envFrom:
    - configMapRef: {name: web-config}
    - secretRef: {name: db}
      prefix: DB_
    env:
    - name: LEVEL
      valueFrom: {configMapKeyRef: {name: web-config, key: LOG_LEVEL}}
    - name: PASSWORD
      valueFrom: {secretKeyRef: {name: db, key: password}}
    - name: ABSENT
      valueFrom: {configMapKeyRef: {name: web-config, key: nothing, optional: true}}
    - name: COLOR
      value: own
";

#[tokio::test]
async fn a_pod_waits_for_its_config_map_then_gets_its_variables() {
    guard(environment()).await
}

async fn environment() {
    let lab = Lab::start(INIT).await;
    create::<Secret>(
        &lab,
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db"},
            "stringData": {"password": "s3cr3t", "user": "admin"}}),
    )
    .await;
    lab.kubectl_with_input(&["apply", "-f", "-"], Some(&pod("web", &lab.node, ENV_POD)))
        .await;
    let pod = lab
        .wait_for("web", |p| {
            waiting(p).is_some_and(|(reason, _)| reason == "CreateContainerConfigError")
        })
        .await;
    assert_eq!(
        waiting(pod.as_ref()),
        Some((
            "CreateContainerConfigError".to_string(),
            "configmap \"web-config\" not found".to_string()
        ))
    );
    // The ConfigMap, without the key `LOG_LEVEL` the pod asks for: still
    // waiting, for the key now.
    let mut config: ConfigMap = create(
        &lab,
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "web-config"},
            "data": {"COLOR": "blue", "1st": "skipped", "MODE": "fast"}}),
    )
    .await;
    lab.wait_for("web", |p| {
        waiting(p).is_some_and(|(_, message)| {
            message == "couldn't find key LOG_LEVEL in ConfigMap default/web-config"
        })
    })
    .await;
    config.data.insert("LOG_LEVEL".into(), "debug".into());
    lab.client
        .api::<ConfigMap>(Some("default"))
        .replace(&config)
        .await
        .expect("the ConfigMap with the key");
    lab.wait_for("web", running).await;
    let (code, env) = exec(
        &lab,
        "web",
        "env | grep -E '^(LEVEL|PASSWORD|ABSENT|COLOR|MODE|DB_|1st)' | sort",
    )
    .await;
    assert_eq!(code, 0, "{env}");
    assert_eq!(
        env,
        "COLOR=own\nDB_password=s3cr3t\nDB_user=admin\nLEVEL=debug\nMODE=fast\nPASSWORD=s3cr3t\n"
    );
    let events = lab
        .client
        .api::<Event>(Some("default"))
        .list(&Default::default())
        .await
        .expect("the events")
        .items;
    let said = |reason: &str| -> Vec<String> {
        events
            .iter()
            .filter(|e| e.reason.as_deref() == Some(reason))
            .filter_map(|e| e.message.clone())
            .collect()
    };
    assert_eq!(
        said("InvalidEnvironmentVariableNames"),
        [
            "Keys [1st] from the EnvFrom configMap default/web-config were skipped since they are considered invalid environment variable names."
        ]
    );
    assert!(
        said("Failed").contains(&"Error: configmap \"web-config\" not found".to_string()),
        "{:?}",
        said("Failed")
    );
    lab.finish().await;
}

const VOLUME_POD: &str = "  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: busybox
    command: [sleep, \"1000\"]
    volumeMounts:
    - {name: config, mountPath: /etc/app}
    - {name: tls, mountPath: /etc/tls}
  volumes:
  - name: config
    configMap: {name: app}
  - name: tls
    secret:
      secretName: tls
      defaultMode: 0400
      items:
      - {key: tls.key, path: private/key}
      - {key: tls.crt, path: cert, mode: 0444}
";

#[tokio::test]
async fn config_map_and_secret_volumes_follow_their_objects() {
    guard(volumes()).await
}

async fn volumes() {
    let lab = Lab::start(INIT).await;
    let mut app: ConfigMap = create(
        &lab,
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "app"},
            "data": {"app.properties": "color=blue\n", "mode": "fast"}}),
    )
    .await;
    create::<Secret>(
        &lab,
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "tls"},
            "stringData": {"tls.key": "KEY", "tls.crt": "CERT", "unused": "x"}}),
    )
    .await;
    lab.kubectl_with_input(
        &["apply", "-f", "-"],
        Some(&pod("files", &lab.node, VOLUME_POD)),
    )
    .await;
    let pod = lab.wait_for("files", running).await.expect("the pod");
    let uid = pod.metadata.uid.clone().expect("a uid");
    let (_, listing) = exec(
        &lab,
        "files",
        "ls /etc/app /etc/tls; cat /etc/app/app.properties /etc/tls/private/key /etc/tls/cert",
    )
    .await;
    assert_eq!(
        listing,
        "/etc/app:\napp.properties\nmode\n\n/etc/tls:\ncert\nprivate\ncolor=blue\nKEYCERT"
    );
    let (_, modes) = exec(
        &lab,
        "files",
        "stat -L -c '%a %n' /etc/app/mode /etc/tls/private/key /etc/tls/cert; grep -c ' /etc/tls tmpfs ro' /proc/mounts",
    )
    .await;
    assert_eq!(
        modes,
        "644 /etc/app/mode\n400 /etc/tls/private/key\n444 /etc/tls/cert\n1\n"
    );
    let (code, _) = exec(&lab, "files", "echo x > /etc/app/new").await;
    assert_ne!(code, 0, "the volume is read-only");

    // A change of the ConfigMap reaches the files, all at once.
    app.data
        .insert("app.properties".into(), "color=red\n".into());
    app.data.remove("mode");
    app.data.insert("size".into(), "3".into());
    lab.client
        .api::<ConfigMap>(Some("default"))
        .replace(&app)
        .await
        .expect("the change");
    let deadline = tokio::time::Instant::now() + LIMIT;
    let seen = loop {
        let (_, seen) = exec(&lab, "files", "ls /etc/app; cat /etc/app/app.properties").await;
        if seen.contains("red") || tokio::time::Instant::now() > deadline {
            break seen;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(seen, "app.properties\nsize\ncolor=red\n");

    let volumes = lab.tmp.path().join("config-volumes").join(&uid);
    assert!(volumes.join("config").join("..data").exists());
    lab.kubectl(&["delete", "pod", "files", "--wait=false"])
        .await;
    lab.wait_for("files", |p| p.is_none()).await;
    let deadline = tokio::time::Instant::now() + LIMIT;
    while volumes.exists() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(!volumes.exists(), "the pod's volumes are removed with it");
    lab.finish().await;
}
