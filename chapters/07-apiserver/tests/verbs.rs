//! Every verb and its errors, as the HTTP answers a client gets: the
//! status code and the body, with what changes from run to run hidden.

use chapter_07::{Lab, guard, settings};
use insta::assert_snapshot;
use serde_json::json;

const PODS: &str = "/api/v1/namespaces/default/pods";

fn pod(name: &str) -> serde_json::Value {
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": {"app": "web"}},
        "spec": {"containers": [{"name": "c", "image": "k8s-mini/echo"}]},
    })
}

#[tokio::test]
async fn create_get_list_update_delete() {
    guard(crud()).await
}

async fn crud() {
    let lab = Lab::start().await;
    let mut text = Vec::new();
    let created = lab.post(PODS, &pod("web")).await;
    text.push(format!("POST {PODS}\n{}", created.show()));
    text.push(format!(
        "POST {PODS} (again)\n{}",
        lab.post(PODS, &pod("web")).await.show()
    ));
    let got = lab.get(&format!("{PODS}/web")).await;
    assert_eq!(got.json(), created.json(), "GET returns what POST stored");
    let list = lab.get(PODS).await;
    text.push(format!("GET {PODS}\n{}", list.show()));
    // An update with the version just read succeeds; with the old one, it
    // is a conflict.
    let mut object = got.json();
    object["metadata"]["labels"]["version"] = json!("2");
    let body = object.to_string();
    let updated = lab
        .request(
            "PUT",
            &format!("{PODS}/web"),
            "application/json",
            body.clone(),
        )
        .await;
    text.push(format!(
        "PUT {PODS}/web (resourceVersion as read)\n{}",
        updated.status
    ));
    let stale = lab
        .request("PUT", &format!("{PODS}/web"), "application/json", body)
        .await;
    text.push(format!(
        "PUT {PODS}/web (the same, now stale)\n{}",
        stale.show()
    ));
    let old: u64 = created.json()["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let new: u64 = updated.json()["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(new > old, "an update moves the resourceVersion on");
    let deleted = lab
        .request("DELETE", &format!("{PODS}/web"), "", Vec::new())
        .await;
    text.push(format!("DELETE {PODS}/web\n{}", deleted.status));
    text.push(format!(
        "GET {PODS}/web\n{}",
        lab.get(&format!("{PODS}/web")).await.show()
    ));
    settings().bind(|| assert_snapshot!(text.join("\n\n")));
    lab.stop().await;
}

#[tokio::test]
async fn the_server_sets_its_fields_and_bumps_generation_on_spec_changes_only() {
    guard(server_fields()).await
}

async fn server_fields() {
    let lab = Lab::start().await;
    let path = "/apis/apps/v1/namespaces/default/deployments";
    let deployment = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "uid": "chosen-by-client", "generation": 42},
        "spec": {
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}},
                         "spec": {"containers": [{"name": "c", "image": "k8s-mini/echo"}]}}
        },
        "status": {"replicas": 9},
    });
    let created = lab.post(path, &deployment).await.json();
    let generation = |value: &serde_json::Value| value["metadata"]["generation"].clone();
    let merge = "application/merge-patch+json";
    let labels = lab
        .request(
            "PATCH",
            &format!("{path}/web"),
            merge,
            r#"{"metadata":{"labels":{"a":"b"}}}"#,
        )
        .await
        .json();
    let spec = lab
        .request(
            "PATCH",
            &format!("{path}/web"),
            merge,
            r#"{"spec":{"replicas":3}}"#,
        )
        .await
        .json();
    let status = lab
        .request(
            "PATCH",
            &format!("{path}/web/status"),
            merge,
            r#"{"status":{"replicas":3},"spec":{"replicas":7}}"#,
        )
        .await
        .json();
    let text = format!(
        "created: uid set by the server: {}, generation {}, status {}\n\
         after a label change: generation {}\n\
         after a spec change: generation {}\n\
         after a status patch that also tries the spec: generation {}, spec.replicas {}, status.replicas {}",
        created["metadata"]["uid"] != "chosen-by-client",
        generation(&created),
        created["status"],
        generation(&labels),
        generation(&spec),
        generation(&status),
        status["spec"]["replicas"],
        status["status"]["replicas"],
    );
    assert_snapshot!(text);
    lab.stop().await;
}

#[tokio::test]
async fn errors_are_kubernetes_statuses() {
    guard(errors()).await
}

async fn errors() {
    let lab = Lab::start().await;
    let mut text = Vec::new();
    let mut show = |title: &str, answer: chapter_07::Answer| {
        text.push(format!("{title}\n{}", answer.show()));
    };
    show(
        "truncated JSON",
        lab.request(
            "POST",
            PODS,
            "application/json",
            r#"{"apiVersion":"v1","kind":"Po"#,
        )
        .await,
    );
    show(
        "a Deployment posted to pods",
        lab.post(
            PODS,
            &json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "x"}}),
        )
        .await,
    );
    let mut bad = pod("Bad_Name");
    bad["spec"]["containers"][0]["image"] = json!("");
    show(
        "an invalid name and an empty image",
        lab.post(PODS, &bad).await,
    );
    let mut unknown = pod("u");
    unknown["spec"]["colour"] = json!("blue");
    show(
        "an unknown field, fieldValidation=Strict",
        lab.request(
            "POST",
            &format!("{PODS}?fieldValidation=Strict"),
            "application/json",
            unknown.to_string(),
        )
        .await,
    );
    let warned = lab.post(PODS, &unknown).await;
    let warning = warned
        .headers
        .iter()
        .find(|(name, _)| name == "warning")
        .map(|(_, value)| value.clone());
    show(
        &format!(
            "an unknown field, by default (the header Warning: {})",
            warning.unwrap_or_default()
        ),
        warned,
    );
    show(
        "not UTF-8",
        lab.request("POST", PODS, "application/json", vec![0xff, 0xfe, 0x00])
            .await,
    );
    show(
        "a body over 3 MiB",
        lab.request(
            "POST",
            PODS,
            "application/json",
            vec![b' '; 4 * 1024 * 1024],
        )
        .await,
    );
    show(
        "an unsupported content type",
        lab.request("POST", PODS, "text/plain", "hello").await,
    );
    show(
        "an unsupported patch type",
        lab.request("PATCH", &format!("{PODS}/u"), "application/json", "{}")
            .await,
    );
    show(
        "a namespace that does not exist",
        lab.post("/api/v1/namespaces/nowhere/pods", &pod("x")).await,
    );
    show(
        "a resource that does not exist",
        lab.get("/api/v1/namespaces/default/widgets").await,
    );
    show(
        "a method the collection does not take",
        lab.request("PUT", PODS, "application/json", "{}").await,
    );
    show(
        "a bad label selector",
        lab.get(&format!("{PODS}?labelSelector=a%20in%20(")).await,
    );
    show(
        "a boolean that is not one",
        lab.get(&format!("{PODS}?watch=maybe")).await,
    );
    // After all that, the server still serves.
    assert_eq!(lab.get(PODS).await.status, 200);
    settings().bind(|| assert_snapshot!(text.join("\n\n")));
    lab.stop().await;
}
