//! Stock kubectl against the server: what a user of a real cluster types,
//! and what they see.

use chapter_07::apiserver::server::Config;
use chapter_07::{Lab, guard, settings};
use insta::assert_snapshot;

const WEB: &str = include_str!("fixtures/web.yaml");
const PODS: &str = include_str!("fixtures/pods.yaml");

/// Runs each command and puts `$ kubectl ...` before its output.
async fn session(lab: &Lab, commands: &[&[&str]]) -> String {
    let mut text = String::new();
    for args in commands {
        text.push_str(&format!("$ kubectl {}\n", args.join(" ")));
        text.push_str(&lab.kubectl(args).await);
    }
    text
}

#[tokio::test]
async fn apply_creates_then_changes() {
    guard(apply()).await
}

async fn apply() {
    let lab = Lab::start().await;
    let mut text = String::from("$ kubectl apply -f web.yaml\n");
    text += &lab
        .kubectl_with_input(&["apply", "-f", "-"], Some(WEB))
        .await;
    text += "$ kubectl apply -f web.yaml   (unchanged)\n";
    text += &lab
        .kubectl_with_input(&["apply", "-f", "-"], Some(WEB))
        .await;
    let changed = WEB
        .replace("replicas: 2", "replicas: 3")
        .replace("image: k8s-mini/echo", "image: busybox");
    text += "$ kubectl apply -f web.yaml   (3 replicas, image busybox)\n";
    text += &lab
        .kubectl_with_input(&["apply", "-f", "-"], Some(&changed))
        .await;
    text += &session(
        &lab,
        &[
            &[
                "get",
                "deployment",
                "web",
                "-o",
                "jsonpath={.spec.replicas} {.spec.template.spec.containers[0].image} generation={.metadata.generation}{\"\\n\"}",
            ],
            &["get", "deployments,services"],
        ],
    )
    .await;
    settings().bind(|| assert_snapshot!(text));
    lab.stop().await;
}

#[tokio::test]
async fn get_shows_tables_yaml_json_and_selections() {
    guard(get()).await
}

async fn get() {
    let lab = Lab::start().await;
    lab.kubectl_with_input(&["apply", "-f", "-"], Some(PODS))
        .await;
    let text = session(
        &lab,
        &[
            &["get", "pods"],
            &["get", "pods", "-o", "wide"],
            &["get", "pods", "-l", "tier=front"],
            &["get", "pods", "-l", "tier notin (front)"],
            &["get", "pods", "-l", "app=web,tier"],
            &["get", "pods", "--field-selector", "metadata.name=back"],
            &["get", "pods", "--field-selector", "spec.bogus=1"],
            &["get", "pod", "front", "-o", "yaml"],
            &["get", "pod", "back", "-o", "json"],
            &["get", "namespaces"],
            &["get", "pod", "missing"],
            &["get", "deployments"],
        ],
    )
    .await;
    settings().bind(|| assert_snapshot!(text));
    lab.stop().await;
}

#[tokio::test]
async fn describe_scale_patch_delete_and_namespaces() {
    guard(change()).await
}

async fn change() {
    let lab = Lab::start().await;
    lab.kubectl_with_input(&["apply", "-f", "-"], Some(WEB))
        .await;
    let show = "jsonpath={.spec.replicas} {.spec.template.spec.containers[0].image} {.metadata.labels}{\"\\n\"}";
    let text = session(
        &lab,
        &[
            &["describe", "deployment", "web"],
            &["scale", "deployment", "web", "--replicas=5"],
            &["get", "deployment", "web", "-o", show],
            &["patch", "deployment", "web", "--type=merge", "-p", r#"{"metadata":{"labels":{"team":"a"}}}"#],
            &["patch", "deployment", "web", "--type=json", "-p", r#"[{"op":"replace","path":"/spec/replicas","value":1}]"#],
            &["patch", "deployment", "web", "-p", r#"{"spec":{"template":{"spec":{"containers":[{"name":"web","image":"busybox"}]}}}}"#],
            &["get", "deployment", "web", "-o", show],
            &["patch", "deployment", "web", "--type=json", "-p", r#"[{"op":"test","path":"/spec/replicas","value":7}]"#],
            &["create", "namespace", "team-a"],
            &["create", "deployment", "api", "--image=k8s-mini/echo", "-n", "team-a"],
            &["get", "deployments", "-A"],
            &["delete", "deployment", "web"],
            &["delete", "deployment", "web"],
            &["delete", "namespace", "team-a"],
            &["get", "namespaces"],
        ],
    )
    .await;
    settings().bind(|| assert_snapshot!(text));
    lab.stop().await;
}

#[tokio::test]
async fn get_watch_receives_events() {
    guard(watch()).await
}

async fn watch() {
    use tokio::io::{AsyncBufReadExt, BufReader};
    let lab = Lab::start().await;
    lab.kubectl(&["run", "sentinel", "--image=k8s-mini/pause"])
        .await;
    let mut watcher = tokio::process::Command::new(chapter_07::kubectl())
        .arg("--kubeconfig")
        .arg(lab.kubeconfig())
        .arg("--cache-dir")
        .arg(lab.tmp.path().join("watch-cache"))
        .args(["get", "pods", "--watch", "--output-watch-events"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("kubectl starts");
    let mut lines = BufReader::new(watcher.stdout.take().expect("stdout")).lines();
    let mut seen = Vec::new();
    let mut next_line = async || {
        tokio::time::timeout(std::time::Duration::from_secs(30), lines.next_line())
            .await
            .expect("kubectl prints the next event within 30 s")
            .expect("kubectl's output is readable")
            .expect("kubectl keeps watching")
    };
    // The header, then the sentinel that was there before: the watch is
    // in place once kubectl has printed it.
    seen.push(next_line().await);
    seen.push(next_line().await);
    lab.kubectl_with_input(&["apply", "-f", "-"], Some(PODS))
        .await;
    lab.kubectl(&["label", "pod", "front", "color=red"]).await;
    lab.kubectl(&["delete", "pod", "back"]).await;
    let mut events = Vec::new();
    for _ in 0..4 {
        events.push(next_line().await);
    }
    watcher.start_kill().expect("kubectl can be stopped");
    let _ = watcher.wait().await;
    // The two pods come from one apply: their ADDED events may come in
    // either order.
    events[..2].sort();
    seen.extend(events);
    settings().bind(|| assert_snapshot!(seen.join("\n")));
    lab.stop().await;
}

#[tokio::test]
async fn server_side_apply_creates_then_changes() {
    guard(server_side()).await
}

async fn server_side() {
    let lab = Lab::start().await;
    let mut text = String::from("$ kubectl apply --server-side -f web.yaml\n");
    text += &lab
        .kubectl_with_input(&["apply", "--server-side", "-f", "-"], Some(WEB))
        .await;
    let changed = WEB.replace("replicas: 2", "replicas: 4");
    text += "$ kubectl apply --server-side -f web.yaml   (4 replicas)\n";
    text += &lab
        .kubectl_with_input(&["apply", "--server-side", "-f", "-"], Some(&changed))
        .await;
    text += "$ kubectl diff -f web.yaml   (nothing to show)\n";
    text += &lab
        .kubectl_with_input(&["diff", "-f", "-"], Some(&changed))
        .await;
    text += &session(
        &lab,
        &[&[
            "get",
            "deployment",
            "web",
            "-o",
            "jsonpath={.spec.replicas} generation={.metadata.generation}{\"\\n\"}",
        ]],
    )
    .await;
    settings().bind(|| assert_snapshot!(text));
    lab.stop().await;
}

#[tokio::test]
async fn kubectl_create_service_sends_protobuf_and_gets_addresses() {
    guard(kubectl_create()).await
}

async fn kubectl_create() {
    // Two addresses: web asks for the first, so np gets the second.
    let lab = Lab::start_with(Config {
        service_cluster_ip_range: "10.96.14.16/30".parse().expect("a CIDR"),
        service_node_port_range: "30700-30799".parse().expect("a port range"),
        ..Config::default()
    })
    .await;
    let mut transcript = String::new();
    for args in [
        &[
            "create",
            "service",
            "clusterip",
            "web",
            "--tcp=80:8080",
            "--clusterip=10.96.14.17",
        ][..],
        &[
            "create",
            "service",
            "nodeport",
            "np",
            "--tcp=80:8080",
            "--node-port=30710",
        ],
        &[
            "create",
            "service",
            "clusterip",
            "headless",
            "--clusterip=None",
        ],
        &[
            "create",
            "service",
            "clusterip",
            "taken",
            "--tcp=80",
            "--clusterip=10.96.14.17",
        ],
        &[
            "create",
            "service",
            "nodeport",
            "outside",
            "--tcp=80",
            "--node-port=31000",
        ],
        &["get", "services", "-o", "wide"],
    ] {
        transcript += &format!("$ kubectl {}\n", args.join(" "));
        transcript += &lab.kubectl(args).await;
        transcript.push('\n');
    }
    // Created from kubectl's protobuf: the target port is the number given.
    let web = lab
        .get("/api/v1/namespaces/default/services/web")
        .await
        .json();
    assert_eq!(web["spec"]["ports"][0]["targetPort"], 8080, "{web}");
    settings().bind(|| assert_snapshot!(transcript));
    lab.stop().await;
}
