//! Every kubectl from 1.27 to 1.33 against `k8s-mini apiserver`: apply
//! (create, then change), get, create namespace, delete. The machines that
//! build this project keep them beside the `kubectl` on the PATH, as
//! `kubectl.1.27` ... `kubectl.1.33`.

use std::path::PathBuf;
use std::process::{Command, Stdio};

mod api_server;

use api_server::ApiServer;

const DEPLOYMENT: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: REPLICAS
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: k8s-mini/echo
";

/// `kubectl.1.NN` beside the `kubectl` on the PATH.
fn versions() -> Vec<(String, PathBuf)> {
    let kubectl = which("kubectl").expect("kubectl is on the PATH");
    let dir = std::fs::canonicalize(&kubectl)
        .expect("kubectl resolves")
        .parent()
        .expect("a directory")
        .to_path_buf();
    let found: Vec<_> = (27..=33)
        .map(|minor| (format!("1.{minor}"), dir.join(format!("kubectl.1.{minor}"))))
        .filter(|(_, path)| path.is_file())
        .collect();
    assert_eq!(
        found.len(),
        7,
        "\n\n*** this test runs kubectl 1.27 to 1.33, kept as kubectl.1.NN in {}; found {found:?} ***\n\n",
        dir.display()
    );
    found
}

fn which(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(name))
        .find(|path| path.is_file())
}

fn run(
    kubectl: &PathBuf,
    url: &str,
    cache: &std::path::Path,
    args: &[&str],
    input: Option<&str>,
) -> String {
    use std::io::Write;
    let config = cache.join("kubeconfig");
    if !config.exists() {
        std::fs::create_dir_all(cache).unwrap();
        std::fs::write(&config, testkit::kubeconfig(url)).unwrap();
    }
    let mut child = Command::new(kubectl)
        .arg("--kubeconfig")
        .arg(&config)
        .arg("--cache-dir")
        .arg(cache)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kubectl runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.unwrap_or("").as_bytes())
        .expect("kubectl reads");
    let output = child.wait_with_output().expect("kubectl ends");
    let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&output.stderr));
    text
}

#[test]
fn kubectl_1_27_to_1_33_apply_get_and_delete() {
    let tmp = tempfile::tempdir().unwrap();
    let server = ApiServer::start(&tmp.path().join("data"), &["--in-memory"]);
    let url = server.url.clone();
    for (version, kubectl) in versions() {
        let cache = tmp.path().join(&version);
        // 1.27 and 1.28 check fields against an OpenAPI v2 document in
        // protobuf, which this server does not publish: they are told to
        // leave validation to the server. 1.29 on read its OpenAPI v3.
        let mut apply = vec!["apply", "-f", "-"];
        if version == "1.27" || version == "1.28" {
            apply.push("--validate=false");
        }
        let created = run(
            &kubectl,
            &url,
            &cache,
            &apply,
            Some(&DEPLOYMENT.replace("REPLICAS", "1")),
        );
        assert_eq!(
            created.trim(),
            "deployment.apps/web created",
            "kubectl {version}"
        );
        let changed = run(
            &kubectl,
            &url,
            &cache,
            &apply,
            Some(&DEPLOYMENT.replace("REPLICAS", "3")),
        );
        assert_eq!(
            changed.trim(),
            "deployment.apps/web configured",
            "kubectl {version}"
        );
        let replicas = run(
            &kubectl,
            &url,
            &cache,
            &[
                "get",
                "deployment",
                "web",
                "-o",
                "jsonpath={.spec.replicas}",
            ],
            None,
        );
        assert_eq!(replicas.trim(), "3", "kubectl {version}");
        let table = run(&kubectl, &url, &cache, &["get", "deployments"], None);
        assert!(
            table.starts_with("NAME   READY   UP-TO-DATE   AVAILABLE   AGE"),
            "kubectl {version}: {table}"
        );
        let namespace = format!("ns-{}", version.replace('.', "-"));
        let created = run(
            &kubectl,
            &url,
            &cache,
            &["create", "namespace", &namespace],
            None,
        );
        assert_eq!(
            created.trim(),
            format!("namespace/{namespace} created"),
            "kubectl {version}"
        );
        let deleted = run(
            &kubectl,
            &url,
            &cache,
            &["delete", "deployment", "web"],
            None,
        );
        assert_eq!(
            deleted.trim(),
            "deployment.apps \"web\" deleted",
            "kubectl {version}"
        );
    }
}
