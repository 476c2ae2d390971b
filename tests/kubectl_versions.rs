//! Every kubectl from 1.27 to 1.33 against `k8s-mini apiserver`: apply
//! (create, then change), get, create namespace, delete. The machines that
//! build this project keep them beside the `kubectl` on the PATH, as
//! `kubectl.1.27` ... `kubectl.1.33`.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

const BINARY: &str = env!("CARGO_BIN_EXE_k8s-mini");

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

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let pid = nix::unistd::Pid::from_raw(self.0.id() as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        let _ = self.0.wait();
    }
}

fn start(data: &std::path::Path) -> (Server, String) {
    let mut child = Command::new(BINARY)
        .arg("--data-dir")
        .arg(data)
        .args(["apiserver", "--listen", "127.0.0.1:0", "--in-memory"])
        .stderr(Stdio::piped())
        .spawn()
        .expect("k8s-mini starts");
    let stderr = child.stderr.take().expect("stderr");
    for line in BufReader::new(stderr).lines() {
        let line = line.expect("readable");
        if let Some(rest) = line.split("serving the Kubernetes API on ").nth(1) {
            let url = rest
                .split_whitespace()
                .next()
                .expect("an address")
                .to_string();
            return (Server(child), url);
        }
    }
    let _ = child.wait();
    panic!("the API server ended before it served");
}

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
        let text = format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n    server: {url}\n  name: k\ncontexts:\n- context:\n    cluster: k\n    user: u\n  name: k\ncurrent-context: k\nusers:\n- name: u\n  user: {{}}\n"
        );
        std::fs::write(&config, text).unwrap();
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
    let (_server, url) = start(&tmp.path().join("data"));
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
