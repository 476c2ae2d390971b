//! One test's API server: started in the test's process on a free loopback
//! port, its store in a temporary directory, with a kubeconfig that points
//! stock kubectl at it.

use std::path::PathBuf;
use std::time::Duration;

use crate::apiserver::server::{ApiServer, Config};

pub struct Lab {
    pub server: ApiServer,
    pub url: String,
    pub tmp: tempfile::TempDir,
    http: reqwest::Client,
}

/// An answer, as the tests look at it.
pub struct Answer {
    pub status: u16,
    pub body: String,
    pub headers: Vec<(String, String)>,
}

impl Answer {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|error| panic!("not JSON ({error}): {}", self.body))
    }

    /// Status code and the body, pretty-printed, for a snapshot.
    pub fn show(&self) -> String {
        let body = serde_json::from_str::<serde_json::Value>(&self.body)
            .map(|value| serde_json::to_string_pretty(&value).expect("JSON prints"))
            .unwrap_or_else(|_| self.body.clone());
        format!("{}\n{body}", self.status)
    }
}

impl Lab {
    pub async fn start() -> Lab {
        Lab::start_with(Config::default()).await
    }

    pub async fn start_with(mut config: Config) -> Lab {
        let tmp = tempfile::tempdir().expect("a temporary directory");
        config.listen = "127.0.0.1:0".parse().expect("an address");
        config.data_dir = Some(tmp.path().to_path_buf());
        let server = ApiServer::start(config)
            .await
            .expect("the API server starts");
        let url = server.url();
        let lab = Lab {
            server,
            url,
            tmp,
            http: reqwest::Client::new(),
        };
        std::fs::write(lab.kubeconfig(), testkit::kubeconfig(&lab.url)).expect("a kubeconfig");
        lab
    }

    pub fn kubeconfig(&self) -> PathBuf {
        self.tmp.path().join("kubeconfig")
    }

    /// Sends a request; `body` is sent as is with `content_type`.
    pub async fn request(
        &self,
        method: &str,
        path: &str,
        content_type: &str,
        body: impl Into<Vec<u8>>,
    ) -> Answer {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("a method");
        let mut request = self.http.request(method, format!("{}{path}", self.url));
        let body = body.into();
        if !body.is_empty() {
            request = request.header("Content-Type", content_type).body(body);
        }
        let response = request.send().await.expect("the server answers");
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(name, value)| {
                (
                    name.to_string(),
                    value.to_str().unwrap_or_default().to_string(),
                )
            })
            .collect();
        let body = response.text().await.expect("a body");
        Answer {
            status,
            body,
            headers,
        }
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.request("GET", path, "", Vec::new()).await
    }

    pub async fn post(&self, path: &str, body: &serde_json::Value) -> Answer {
        self.request("POST", path, "application/json", body.to_string())
            .await
    }

    /// Runs stock kubectl against this server, with a discovery cache of
    /// its own; returns exit code, stdout and stderr as one text.
    pub async fn kubectl(&self, args: &[&str]) -> String {
        self.kubectl_with_input(args, None).await
    }

    pub async fn kubectl_with_input(&self, args: &[&str], input: Option<&str>) -> String {
        let kubeconfig = self.kubeconfig();
        testkit::run_kubectl(
            kubectl().as_ref(),
            kubeconfig.as_ref(),
            self.tmp.path(),
            args,
            input,
            "chapter 07's suite",
        )
        .await
    }

    pub async fn stop(self) {
        self.server.stop(Duration::from_secs(5)).await;
    }
}

/// kubectl: `$KUBECTL` or the one on the PATH.
pub fn kubectl() -> String {
    std::env::var("KUBECTL").unwrap_or_else(|_| "kubectl".to_string())
}

/// insta settings that hide what changes from run to run: uids, times,
/// resourceVersions, ages, the server's port, the temporary directory.
pub fn settings() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    for (pattern, replacement) in [
        (
            r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
            "<uid>",
        ),
        (r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", "<time>"),
        (
            r#""resourceVersion": ?"\d+""#,
            r#""resourceVersion": "<rv>""#,
        ),
        (r#"resourceVersion: "\d+""#, r#"resourceVersion: "<rv>""#),
        (r"127\.0\.0\.1:\d+", "127.0.0.1:<port>"),
        (r"/tmp/\.tmp\w+", "<tmp>"),
        (r"(?m)(\s)\d+s$", "${1}<age>"),
        (r"(?m)(\s)\d+s(\s)", "${1}<age>${2}"),
        (
            r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d \w{3} \d{4} \d\d:\d\d:\d\d \+0000",
            "<date>",
        ),
    ] {
        settings.add_filter(pattern, replacement);
    }
    settings
}
