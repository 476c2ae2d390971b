//! ConfigMaps and Secrets, served like every kind: made with `kubectl
//! create configmap|secret`, listed with `kubectl get cm,secrets`, a
//! Secret's write-only `stringData` merged into `data` and never stored
//! nor returned, and `immutable` objects refusing changes with 422.

use chapter_07::apiserver::client::{Api, Client, ClientError};
use chapter_07::{Lab, guard, settings};
use insta::assert_snapshot;
use objects::{ConfigMap, Resource, Secret};
use serde_json::{Value, json};

#[tokio::test]
async fn kubectl_creates_and_lists_config_maps_and_secrets() {
    guard(kubectl_config()).await
}

async fn kubectl_config() {
    let lab = Lab::start().await;
    let mut transcript = String::new();
    for args in [
        &[
            "create",
            "configmap",
            "web",
            "--from-literal=a=1",
            "--from-literal=b=2",
        ][..],
        &["create", "secret", "generic", "s", "--from-literal=p=x"],
        &[
            "create",
            "secret",
            "generic",
            "creds",
            "--type=example.com/creds",
            "--from-literal=user=admin",
            "--from-literal=password=s3cr3t",
        ],
        &["get", "cm,secrets"],
        &["get", "configmap", "web", "-o", "jsonpath={.data}"],
        &["get", "secret", "s", "-o", "jsonpath={.data.p}"],
        &["get", "secrets", "--field-selector", "type=Opaque"],
        &["get", "configmaps", "--field-selector", "type=Opaque"],
        &["api-resources", "--namespaced=true", "--api-group="],
        &["delete", "cm", "web"],
    ] {
        transcript += &format!("$ kubectl {}\n", args.join(" "));
        transcript += &lab.kubectl(args).await;
        transcript.push('\n');
    }
    // What real manifests do: apply, change, apply again (a patch).
    let manifest = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  mode: fast\n---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: app\nstringData:\n  token: abc\n";
    for text in [
        manifest.to_string(),
        manifest.replace("fast", "slow").replace("abc", "xyz"),
    ] {
        transcript += "$ kubectl apply -f app.yaml\n";
        transcript += &lab
            .kubectl_with_input(&["apply", "-f", "-"], Some(&text))
            .await;
        transcript.push('\n');
    }
    let args = ["get", "cm,secret", "app", "-o", "jsonpath={.items[*].data}"];
    transcript += &format!("$ kubectl {}\n", args.join(" "));
    transcript += &lab.kubectl(&args).await;
    settings().bind(|| assert_snapshot!(transcript));
    lab.stop().await;
}

#[tokio::test]
async fn string_data_is_merged_into_data_and_never_returned() {
    guard(string_data()).await
}

async fn string_data() {
    let lab = Lab::start().await;
    let path = "/api/v1/namespaces/default/secrets";
    let created = lab
        .post(
            path,
            &json!({
                "apiVersion": "v1", "kind": "Secret",
                "metadata": {"name": "db"},
                "data": {"user": "YWRtaW4=", "password": "b2xk"},
                "stringData": {"password": "new", "url": "postgres://db"},
            }),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let expected = json!({"password": "bmV3", "url": "cG9zdGdyZXM6Ly9kYg==", "user": "YWRtaW4="});
    let created = created.json();
    assert_eq!(created["data"], expected);
    assert_eq!(created["type"], "Opaque");
    assert_eq!(created.get("stringData"), None, "{created}");
    let read = lab.get(&format!("{path}/db")).await.json();
    assert_eq!(read["data"], expected);
    assert_eq!(read.get("stringData"), None, "{read}");

    // An update's stringData too, through the typed client.
    let client = Client::new(&lab.url).expect("a client");
    let secrets: Api<Secret> = client.api(Some("default"));
    let mut secret = secrets.get("db").await.expect("db");
    secret.string_data.insert("user".into(), "root".into());
    let replaced = secrets.replace(&secret).await.expect("the update");
    assert_eq!(replaced.data["user"].0, b"root");
    assert!(replaced.string_data.is_empty());
    // A patch with stringData, as `kubectl patch` sends it.
    let patched = lab
        .request(
            "PATCH",
            &format!("{path}/db"),
            "application/merge-patch+json",
            json!({"stringData": {"token": "t"}}).to_string(),
        )
        .await;
    assert_eq!(patched.status, 200, "{}", patched.body);
    let patched = patched.json();
    assert_eq!(patched["data"]["token"], "dA==");
    assert_eq!(patched.get("stringData"), None, "{patched}");
    // The store never saw it: a list reads what is stored.
    let listed = lab.get(path).await.json();
    assert_eq!(listed["items"][0].get("stringData"), None, "{listed}");
    assert_eq!(listed["items"][0]["data"]["token"], "dA==");

    let bad = lab
        .post(
            path,
            &json!({"metadata": {"name": "bad"}, "data": {"k": "not base64!"}}),
        )
        .await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    lab.stop().await;
}

/// The object as JSON, so that one closure reads refusals of any kind.
fn as_value<T: Resource>(result: Result<T, ClientError>) -> Result<Value, ClientError> {
    result.map(|object| serde_json::to_value(object).expect("API objects serialize"))
}

#[tokio::test]
async fn immutable_objects_and_secret_types_refuse_changes() {
    guard(immutable()).await
}

async fn immutable() {
    let lab = Lab::start().await;
    let client = Client::new(&lab.url).expect("a client");
    let config_maps: Api<ConfigMap> = client.api(Some("default"));
    let secrets: Api<Secret> = client.api(Some("default"));
    let frozen: ConfigMap = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "frozen"}, "immutable": true, "data": {"mode": "prod"},
    }))
    .expect("a ConfigMap");
    let frozen = config_maps.create(&frozen).await.expect("frozen");
    let mut transcript = String::new();
    let refusal = |result: Result<Value, ClientError>| match result {
        Err(ClientError::Api(status)) => format!(
            "{} {}: {}\n",
            status.code,
            status.reason.unwrap_or_default(),
            status.message.unwrap_or_default()
        ),
        other => panic!("expected a refusal: {other:?}"),
    };

    let mut changed = frozen.clone();
    changed.data.insert("mode".into(), "debug".into());
    transcript += "replace frozen with other data: ";
    transcript += &refusal(as_value(config_maps.replace(&changed).await));
    let mut thawed = frozen.clone();
    thawed.immutable = Some(false);
    transcript += "replace frozen with immutable: false: ";
    transcript += &refusal(as_value(config_maps.replace(&thawed).await));
    let mut labelled = frozen.clone();
    labelled.metadata.labels.insert("tier".into(), "web".into());
    config_maps
        .replace(&labelled)
        .await
        .expect("metadata may still change");

    let secret: Secret = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "token"}, "immutable": true, "stringData": {"token": "t"},
    }))
    .expect("a Secret");
    let secret = secrets.create(&secret).await.expect("token");
    let mut retyped = secret.clone();
    retyped.secret_type = Some("kubernetes.io/basic-auth".into());
    retyped.string_data.insert("token".into(), "u".into());
    transcript += "replace token with another type and value: ";
    transcript += &refusal(as_value(secrets.replace(&retyped).await));
    let unchanged = secrets.get("token").await.expect("token");
    assert_eq!(unchanged.data["token"].0, b"t");
    assert_eq!(unchanged.type_name(), "Opaque");

    let invalid = lab
        .post(
            "/api/v1/namespaces/default/configmaps",
            &json!({"metadata": {"name": "keys"}, "data": {"a/b": "x", "..data": "y"}}),
        )
        .await;
    transcript += &format!("create keys with bad keys: {}\n", invalid.show());
    settings().bind(|| assert_snapshot!(transcript));
    lab.stop().await;
}
