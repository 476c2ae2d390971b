//! The typed client against a fake server: paths, queries, headers,
//! bodies, and how error answers become `ClientError`s.

mod client_fake;

use client_fake::{FakeServer, Reply, pod, pod_list, status};
use objects::{Deployment, Node, Pod, Resource, Scale};
use serde_json::{Value, json};
use solution_07_apiserver::client::{
    Api, Client, ClientError, DeleteParams, Deletion, ListParams, LogParams, Patch, Preconditions,
    PropagationPolicy,
};

/// Answers like an API server would, from the request alone.
fn answer(request: &client_fake::Request) -> Reply {
    let path = request.path();
    let name = path.rsplit('/').next().unwrap_or("");
    if path.ends_with("/scale") {
        let scale = json!({"apiVersion": "autoscaling/v1", "kind": "Scale",
            "metadata": {"name": "web", "namespace": "default"},
            "spec": {"replicas": 3}, "status": {"replicas": 2, "selector": "app=web"}});
        return Reply::Json(200, scale);
    }
    match request.method.as_str() {
        "GET" if path.ends_with("/log") => Reply::Text(200, "listening on :8080\nGET /\n".into()),
        "GET" if path.ends_with("/pods") => Reply::Json(200, pod_list("42", vec![pod("a", "40")])),
        "GET" if path.ends_with("/nodes") => Reply::Json(
            200,
            json!({"kind": "NodeList", "apiVersion": "v1", "metadata": {"resourceVersion": "42"}, "items": []}),
        ),
        "GET" if path.contains("/deployments/") => Reply::Json(
            200,
            json!({"kind": "Deployment", "apiVersion": "apps/v1", "metadata": {"name": name, "namespace": "default"}}),
        ),
        "GET" => Reply::Json(200, pod(name, "7")),
        "POST" | "PUT" => {
            let mut object = request.json();
            object["metadata"]["resourceVersion"] = json!("8");
            Reply::Json(if request.method == "POST" { 201 } else { 200 }, object)
        }
        "PATCH" => Reply::Json(200, pod(name, "9")),
        "DELETE" if name == "gone" => Reply::Json(
            200,
            json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                   "details": {"name": "gone", "kind": "pods"}, "code": 200}),
        ),
        "DELETE" => {
            let mut object = pod(name, "10");
            object["metadata"]["deletionTimestamp"] = json!("2024-05-01T12:00:00Z");
            Reply::Json(200, object)
        }
        _ => Reply::Json(405, status(405, "MethodNotAllowed", "no")),
    }
}

#[tokio::test]
async fn requests_use_kubernetes_paths_and_queries() {
    let server = FakeServer::start(answer).await;
    let client = Client::new(&server.url()).unwrap().with_token("s3cret");

    let pods = client.api::<Pod>(Some("default"));
    let web = pods.get("web").await.unwrap();
    assert_eq!(web.metadata.resource_version.as_deref(), Some("7"));

    let params = ListParams::default()
        .labels("app in (web,db),tier!=cache")
        .fields("spec.nodeName=node-1")
        .limit(50);
    let list = client.api::<Pod>(None).list(&params).await.unwrap();
    assert_eq!(list.metadata.resource_version.as_deref(), Some("42"));
    assert_eq!(list.items[0].metadata.name(), "a");
    // The next page, read at the first page's version; empty values are left out.
    let next_page = ListParams {
        resource_version: Some("42".into()),
        continue_token: Some("eyJ2IjoxfQ".into()),
        field_selector: Some(String::new()),
        ..params.clone()
    };
    client.api::<Pod>(None).list(&next_page).await.unwrap();

    // Cluster-scoped kinds ignore the namespace.
    client
        .api::<Node>(Some("default"))
        .list(&ListParams::default())
        .await
        .unwrap();
    let deployments: Api<Deployment> = Api::namespaced(&client, "default");
    deployments.get("web").await.unwrap();
    let scale = deployments.get_scale("web").await.unwrap();
    assert_eq!((scale.spec.replicas, scale.status.replicas), (Some(3), 2));
    let wanted = Scale {
        spec: objects::meta::ScaleSpec { replicas: Some(5) },
        ..scale
    };
    deployments.replace_scale("web", &wanted).await.unwrap();

    assert_eq!(
        server.lines(),
        [
            "GET /api/v1/namespaces/default/pods/web",
            "GET /api/v1/pods?labelSelector=app in (web,db),tier!=cache&fieldSelector=spec.nodeName=node-1&limit=50",
            "GET /api/v1/pods?labelSelector=app in (web,db),tier!=cache&resourceVersion=42&limit=50&continue=eyJ2IjoxfQ",
            "GET /api/v1/nodes",
            "GET /apis/apps/v1/namespaces/default/deployments/web",
            "GET /apis/apps/v1/namespaces/default/deployments/web/scale",
            "PUT /apis/apps/v1/namespaces/default/deployments/web/scale",
        ]
    );
    for request in server.requests() {
        assert_eq!(request.header("authorization"), Some("Bearer s3cret"));
        assert_eq!(request.header("accept"), Some("application/json"));
    }
    assert_eq!(server.requests()[6].json()["spec"]["replicas"], 5);
}

#[tokio::test]
async fn writes_send_the_object_and_the_right_content_type() {
    let server = FakeServer::start(answer).await;
    let client = Client::new(&server.url()).unwrap();
    let pods: Api<Pod> = Api::namespaced(&client, "default");

    let mut web = Pod::new("web", Some("default"));
    let created = pods.create(&web).await.unwrap();
    assert_eq!(created.metadata.resource_version.as_deref(), Some("8"));
    web.metadata.resource_version = Some("8".into());
    pods.replace(&web).await.unwrap();
    pods.replace_status(&web).await.unwrap();
    pods.patch(
        "web",
        &Patch::Merge(json!({"metadata": {"labels": {"app": "web"}}})),
    )
    .await
    .unwrap();
    pods.patch(
        "web",
        &Patch::Json(json!([{"op": "add", "path": "/metadata/labels/tier", "value": "front"}])),
    )
    .await
    .unwrap();
    pods.patch(
        "web",
        &Patch::Strategic(json!({"spec": {"containers": [{"name": "main", "image": "v2"}]}})),
    )
    .await
    .unwrap();
    let apply = Patch::Apply {
        manager: "kubelet".into(),
        force: true,
        body: json!({"status": {"phase": "Running"}}),
    };
    pods.patch_status("web", &apply).await.unwrap();

    let lines = server.lines();
    assert_eq!(
        lines,
        [
            "POST /api/v1/namespaces/default/pods",
            "PUT /api/v1/namespaces/default/pods/web",
            "PUT /api/v1/namespaces/default/pods/web/status",
            "PATCH /api/v1/namespaces/default/pods/web",
            "PATCH /api/v1/namespaces/default/pods/web",
            "PATCH /api/v1/namespaces/default/pods/web",
            "PATCH /api/v1/namespaces/default/pods/web/status?fieldManager=kubelet&force=true",
        ]
    );
    let requests = server.requests();
    let content_types: Vec<&str> = requests
        .iter()
        .map(|r| r.header("content-type").unwrap())
        .collect();
    assert_eq!(
        content_types,
        [
            "application/json",
            "application/json",
            "application/json",
            "application/merge-patch+json",
            "application/json-patch+json",
            "application/strategic-merge-patch+json",
            "application/apply-patch+yaml",
        ]
    );
    // PUT carries the version it was based on: that is what makes a stale write a Conflict.
    assert_eq!(requests[1].json()["metadata"]["resourceVersion"], "8");
    assert_eq!(requests[0].json()["kind"], "Pod");
    assert_eq!(requests[4].json()[0]["op"], "add");
    assert_eq!(requests[6].json(), json!({"status": {"phase": "Running"}}));
}

#[tokio::test]
async fn deletes_send_options_and_tell_pending_from_done() {
    let server = FakeServer::start(answer).await;
    let client = Client::new(&server.url()).unwrap();
    let pods: Api<Pod> = Api::namespaced(&client, "default");

    let params = DeleteParams {
        grace_period_seconds: Some(5),
        propagation_policy: Some(PropagationPolicy::Foreground),
        preconditions: Some(Preconditions {
            uid: Some("1234".into()),
            resource_version: None,
        }),
    };
    match pods.delete("web", &params).await.unwrap() {
        Deletion::Object(pod) => assert!(pod.metadata.deletion_timestamp.is_some()),
        other => panic!("expected the pod, still terminating: {other:?}"),
    }
    match pods.delete("gone", &DeleteParams::now()).await.unwrap() {
        Deletion::Status(status) => assert_eq!(status.status.as_deref(), Some("Success")),
        other => panic!("expected a Status: {other:?}"),
    }
    let bodies: Vec<Value> = server.requests().iter().map(|r| r.json()).collect();
    assert_eq!(
        bodies,
        [
            json!({"apiVersion": "v1", "kind": "DeleteOptions", "gracePeriodSeconds": 5,
                   "propagationPolicy": "Foreground", "preconditions": {"uid": "1234"}}),
            json!({"apiVersion": "v1", "kind": "DeleteOptions", "gracePeriodSeconds": 0}),
        ]
    );
}

#[tokio::test]
async fn namespaces_come_from_the_api_or_the_object() {
    let server = FakeServer::start(answer).await;
    let client = Client::new(&format!("{}/prefix/", server.url())).unwrap();
    let everywhere: Api<Pod> = Api::all(&client);

    // A namespaced name needs a namespace: refused before any request.
    let error = everywhere.get("web").await.unwrap_err();
    assert!(matches!(error, ClientError::Request(_)), "{error}");
    // The object says where it goes.
    everywhere
        .create(&Pod::new("web", Some("team-a")))
        .await
        .unwrap();
    // An object from another namespace than the Api's is refused.
    let in_b: Api<Pod> = Api::namespaced(&client, "team-b");
    let error = in_b
        .replace(&Pod::new("web", Some("team-a")))
        .await
        .unwrap_err();
    assert!(matches!(error, ClientError::Request(_)), "{error}");
    // Pods have no scale subresource.
    assert!(in_b.get_scale("web").await.is_err());

    assert_eq!(
        server.lines(),
        ["POST /prefix/api/v1/namespaces/team-a/pods"]
    );
}

#[tokio::test]
async fn error_answers_become_statuses() {
    let server = FakeServer::start(|request| {
        let name = request.path().rsplit('/').next().unwrap_or("").to_string();
        match name.as_str() {
            "missing" => Reply::Json(404, status(404, "NotFound", "pods \"missing\" not found")),
            "taken" | "pods" => Reply::Json(409, status(409, "AlreadyExists", "pods \"taken\" already exists")),
            "stale" => Reply::Json(
                409,
                status(409, "Conflict", "Operation cannot be fulfilled on pods \"stale\": the object has been modified; please apply your changes to the latest version and try again"),
            ),
            "bad" => {
                let mut invalid = status(422, "Invalid", "Pod \"bad\" is invalid: spec.containers[0].image: Required value");
                invalid["details"] = json!({"name": "bad", "kind": "Pod", "causes": [
                    {"reason": "FieldValueRequired", "message": "Required value", "field": "spec.containers[0].image"}]});
                Reply::Json(422, invalid)
            }
            _ => Reply::Text(503, "upstream connect error".into()),
        }
    })
    .await;
    let client = Client::new(&server.url()).unwrap();
    let pods: Api<Pod> = Api::namespaced(&client, "default");

    let missing = pods.get("missing").await.unwrap_err();
    assert!(missing.is_not_found());
    assert_eq!(missing.to_string(), "pods \"missing\" not found (NotFound)");
    assert_eq!(pods.get_opt("missing").await.unwrap(), None);

    let taken = pods.create(&Pod::new("taken", None)).await.unwrap_err();
    assert!(taken.is_already_exists() && !taken.is_conflict(), "{taken}");

    let mut stale = Pod::new("stale", Some("default"));
    stale.metadata_mut().resource_version = Some("3".into());
    let conflict = pods.replace(&stale).await.unwrap_err();
    assert!(conflict.is_conflict(), "{conflict}");
    assert_eq!(conflict.code(), Some(409));

    let invalid = pods.get("bad").await.unwrap_err();
    assert!(invalid.is_invalid());
    assert_eq!(
        invalid.causes(),
        [(
            "spec.containers[0].image".to_string(),
            "Required value".to_string()
        )]
    );

    let proxy = pods.get("other").await.unwrap_err();
    let status = proxy.status().expect("a Status made from the code");
    assert_eq!(
        (status.code, status.reason.as_deref()),
        (503, Some("ServiceUnavailable"))
    );
    assert_eq!(
        proxy.to_string(),
        "the server answered 503: upstream connect error (ServiceUnavailable)"
    );
}

#[tokio::test]
async fn a_server_that_is_not_there_is_an_http_error() {
    // Bind, then close, a port: nothing listens there any more.
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let client = Client::new(&format!("http://{addr}")).unwrap();
    let error = client
        .api::<Pod>(Some("default"))
        .get("web")
        .await
        .unwrap_err();
    assert!(matches!(error, ClientError::Http(_)), "{error}");
    assert!(!error.is_not_found());
    assert!(Client::new("not a url").is_err());
}

#[tokio::test]
async fn logs_are_text() {
    let server = FakeServer::start(answer).await;
    let pods: Api<Pod> = Api::namespaced(&Client::new(&server.url()).unwrap(), "default");
    let params = LogParams {
        container: Some("main".into()),
        tail_lines: Some(10),
        previous: true,
        timestamps: false,
    };
    assert_eq!(
        pods.logs("web", &params).await.unwrap(),
        "listening on :8080\nGET /\n"
    );
    assert_eq!(
        server.lines(),
        ["GET /api/v1/namespaces/default/pods/web/log?container=main&tailLines=10&previous=true"]
    );
}
