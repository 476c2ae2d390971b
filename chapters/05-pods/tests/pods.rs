//! Pods: containers that share a network, volumes that they share, init
//! containers that go first, and addresses on the pod network.
//! Holes exercised: `phase` and `condition_values` (src/status.rs),
//! `runs_again` (src/container.rs), `mounts` (src/volumes.rs),
//! `exec_isolation` (src/exec.rs).

use std::time::Duration;

use chapter_05::pods::probe::{Action, Probe};
use chapter_05::pods::{Container, ContainerState, PodPhase, PodStatus, Volume, VolumeSource};
use chapter_05::{LIMIT, Lab, describe, events, guard};
use insta::{assert_snapshot, with_settings};

const INIT: &str = env!("CARGO_BIN_EXE_pod-init");

fn sh(name: &str, script: &str) -> Container {
    Container::new(name, "busybox").command(["sh", "-c", script])
}

/// The echo server, ready once it answers on /ready (probed every 50 ms).
fn echo(name: &str) -> Container {
    let mut container = Container::new(name, "k8s-mini/echo");
    container.probes.readiness = Some(quick(Action::http_get("/ready", 8080)));
    container
}

fn quick(action: Action) -> Probe {
    let mut probe = Probe::new(action);
    probe.period = Duration::from_millis(50);
    probe.failure_threshold = 1;
    probe
}

fn words(line: &[&str]) -> Vec<String> {
    line.iter().map(|word| word.to_string()).collect()
}

fn running(status: &PodStatus) -> bool {
    status.phase == PodPhase::Running && status.container_statuses.iter().all(|c| c.ready)
}

#[tokio::test]
async fn two_containers_of_a_pod_talk_over_localhost() {
    guard(two_containers()).await
}

async fn two_containers() {
    let lab = Lab::new(INIT);
    let pod = lab.run(lab.pod("web", vec![echo("server"), sh("client", "sleep 30")]));
    let status = pod
        .wait_for(LIMIT, running)
        .await
        .unwrap_or_else(|status| panic!("the pod did not run:\n{}", describe(&status)));
    let line = words(&["wget", "-qO-", "http://localhost:8080/hello"]);
    let reply = pod
        .exec("client", &line, LIMIT)
        .await
        .expect("wget runs in the client container");
    // Whether the first readiness probe came before the server listened
    // is a matter of timing: leave those events out.
    let mut happened: Vec<_> = pod
        .events()
        .into_iter()
        .filter(|event| event.reason != "Unhealthy")
        .collect();
    // The two containers start at the same time, in either order.
    happened.sort_by(|a, b| a.message.cmp(&b.message));
    let last = pod.delete(Some(Duration::from_secs(2))).await;
    with_settings!({
        description => "a pod of two containers: `client` (busybox) asks `server` (k8s-mini/echo) for /hello on localhost:8080; they share one network namespace, so the server sees the pod's hostname and address",
        filters => vec![(r"127\.0\.0\.1:\d+", "127.0.0.1:<port>")],
    }, {
        assert_snapshot!(lab.redact(&format!(
            "{}\nwget in client, exit code {}:\n{}\nevents:\n{}\nafter deletion:\n{}",
            describe(&status),
            reply.exit_code,
            reply.output,
            events(&happened),
            describe(&last),
        )));
    });
    lab.finish();
}

#[tokio::test]
async fn pods_reach_each_other_and_the_node_by_ip() {
    guard(pods_by_ip()).await
}

async fn pods_by_ip() {
    let lab = Lab::new(INIT);
    // The node listens on its address on the pod network (the bridge's).
    let node = tokio::net::TcpListener::bind((lab.gateway(), 0))
        .await
        .expect("a listener on the node's pod-network address");
    let node_port = node.local_addr().unwrap().port();
    let answer = tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let (mut stream, _) = node.accept().await.expect("a pod connects to the node");
        // Read the request first: closing a socket with unread data sends
        // a reset, and wget would report it.
        let mut request = Vec::new();
        let mut buffer = [0u8; 1024];
        while !request.windows(4).any(|w| w == b"\r\n\r\n") {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(n) => request.extend_from_slice(&buffer[..n]),
            }
        }
        let _ = stream.write_all(b"HTTP/1.0 200 OK\r\n\r\nthe node\n").await;
        let _ = stream.shutdown().await;
    });
    let server = lab.run(lab.pod("server", vec![echo("echo")]));
    let client = lab.run(lab.pod("client", vec![sh("shell", "sleep 30")]));
    let server_status = server.wait_for(LIMIT, running).await.unwrap();
    client.wait_for(LIMIT, running).await.unwrap();
    let server_ip = server_status.pod_ip.expect("the server pod has an address");
    let to_pod = client
        .exec(
            "shell",
            &words(&[
                "wget",
                "-qO-",
                &format!("http://{server_ip}:8080/from-client"),
            ]),
            LIMIT,
        )
        .await
        .unwrap();
    let to_node = client
        .exec(
            "shell",
            &words(&[
                "wget",
                "-qO-",
                &format!("http://{}:{node_port}/", lab.gateway()),
            ]),
            LIMIT,
        )
        .await
        .unwrap();
    answer.await.unwrap();
    let routes = client
        .exec("shell", &words(&["ip", "route"]), LIMIT)
        .await
        .unwrap();
    let interfaces = client
        .exec("shell", &words(&["ip", "-o", "-4", "addr"]), LIMIT)
        .await
        .unwrap();
    server.delete(Some(Duration::from_secs(2))).await;
    client.delete(Some(Duration::from_secs(2))).await;
    with_settings!({
        description => "two pods on one node: `client` fetches a page from `server` at the server pod's IP, then from the node at the bridge's address; then shows its addresses and routes",
        filters => vec![(r"<pod-net>\.\d+:\d+", "<pod-net>.N:<port>"), (r"<pod-net>\.([2-9]|\d\d+)\b", "<pod-net>.N")],
    }, {
        assert_snapshot!(lab.redact(&format!(
            "client -> server pod:\n{}\nclient -> node:\n{}\nclient's addresses:\n{}\nclient's routes:\n{}",
            to_pod.output, to_node.output, interfaces.output, routes.output
        )));
    });
    lab.finish();
}

#[tokio::test]
async fn an_empty_dir_is_shared_by_the_containers_and_goes_with_the_pod() {
    guard(empty_dir()).await
}

async fn empty_dir() {
    let lab = Lab::new(INIT);
    let mut spec = lab.pod(
        "shared",
        vec![
            sh(
                "writer",
                "echo written by the writer > /data/note; sleep 30",
            )
            .mount("data", "/data"),
            sh("reader", "sleep 30").mount("data", "/mnt/shared"),
        ],
    );
    spec.volumes.push(Volume {
        name: "data".into(),
        source: VolumeSource::EmptyDir,
    });
    let dir = lab.runtime.pod_dir(&spec.uid);
    let pod = lab.run(spec);
    pod.wait_for(LIMIT, running).await.unwrap();
    let mut read = pod
        .exec("reader", &words(&["cat", "/mnt/shared/note"]), LIMIT)
        .await
        .unwrap();
    for _ in 0..100 {
        if read.exit_code == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        read = pod
            .exec("reader", &words(&["cat", "/mnt/shared/note"]), LIMIT)
            .await
            .unwrap();
    }
    let on_host = std::fs::read_to_string(dir.join("volumes/data/note")).unwrap_or_default();
    pod.delete(Some(Duration::from_secs(2))).await;
    let gone = !dir.exists();
    assert_snapshot!(format!(
        "reader reads /mnt/shared/note (exit code {}): {}on the host, in the pod's directory: {}pod directory gone after deletion: {gone}",
        read.exit_code, read.output, on_host
    ));
    lab.finish();
}

#[tokio::test]
async fn init_containers_run_in_order_before_the_app() {
    guard(init_order()).await
}

async fn init_order() {
    let lab = Lab::new(INIT);
    let mut spec = lab.pod(
        "ordered",
        vec![
            sh("app", "cat /work/steps; echo app >> /work/steps; sleep 30").mount("work", "/work"),
        ],
    );
    spec.init_containers = vec![
        sh("first", "sleep 0.2; echo first >> /work/steps").mount("work", "/work"),
        sh("second", "echo second >> /work/steps").mount("work", "/work"),
    ];
    spec.volumes.push(Volume {
        name: "work".into(),
        source: VolumeSource::EmptyDir,
    });
    let pod = lab.run(spec);
    // Watch every change: the app must not start before both init
    // containers have completed.
    let mut watch = pod.watch();
    let deadline = tokio::time::Instant::now() + LIMIT;
    loop {
        let status = watch.borrow_and_update().clone();
        let app_started = !matches!(
            status.container_statuses[0].state,
            ContainerState::Waiting { .. }
        );
        let inits_done = status
            .init_container_statuses
            .iter()
            .all(|init| init.state.exit_code() == Some(0));
        assert!(
            !app_started || inits_done,
            "the app started before the init containers completed:\n{}",
            describe(&status)
        );
        if running(&status) {
            break;
        }
        if tokio::time::timeout_at(deadline, watch.changed())
            .await
            .is_err()
        {
            panic!("the pod did not run:\n{}", describe(&pod.status()));
        }
    }
    let status = pod.status();
    // The app has started, but may not have written its line yet.
    let script = "until grep -q app /work/steps; do sleep 0.05; done; cat /work/steps";
    let steps = pod
        .exec("app", &words(&["sh", "-c", script]), LIMIT)
        .await
        .unwrap();
    let happened = pod.events();
    pod.delete(Some(Duration::from_secs(2))).await;
    assert_snapshot!(format!(
        "{}\nevents:\n{}\n/work/steps, written by each container in turn:\n{}",
        describe(&status),
        events(&happened),
        steps.output,
    ));
    lab.finish();
}

#[tokio::test]
async fn a_failing_liveness_probe_restarts_the_container() {
    guard(liveness()).await
}

async fn liveness() {
    let lab = Lab::new(INIT);
    let mut server = echo("server");
    server.probes.liveness = Some(quick(Action::http_get("/healthz", 8080)));
    // Liveness is probed only once the startup probe has passed: the
    // server may take a moment to listen, and must not be killed for it.
    let mut startup = quick(Action::http_get("/healthz", 8080));
    startup.failure_threshold = 200;
    server.probes.startup = Some(startup);
    let pod = lab.run(lab.pod("lively", vec![server, sh("shell", "sleep 30")]));
    pod.wait_for(LIMIT, running).await.unwrap();
    // The echo server's /healthz/fail switch makes its liveness probe fail.
    let ip = pod.status().pod_ip.unwrap();
    let switch = pod
        .exec(
            "shell",
            &words(&["wget", "-qO-", &format!("http://{ip}:8080/healthz/fail")]),
            LIMIT,
        )
        .await
        .unwrap();
    let restarted = pod
        .wait_for(LIMIT, |status| {
            running(status) && status.container_statuses[0].restart_count == 1
        })
        .await
        .unwrap_or_else(|status| panic!("no restart:\n{}", describe(&status)));
    let previous = pod.logs("server", true).unwrap();
    // The server's events (the shell's interleave with them), without the
    // probes that ran before the server listened.
    let happened: Vec<_> = pod
        .events()
        .into_iter()
        .filter(|event| event.message.contains("server") || event.message.contains(": 500"))
        .collect();
    pod.delete(Some(Duration::from_secs(2))).await;
    with_settings!({
        description => "the server's liveness probe (GET /healthz every 50 ms, one failure is enough; it starts once the startup probe has passed) passes until /healthz/fail is requested; then the kubelet kills the container and starts a new one, whose /healthz passes again",
        filters => vec![
            (r"<pod-net>\.(\d+):\d+", "<pod-net>.$1:<port>"),
            (r"\d+\.\d+\.\d+\.\d+:\d+", "<address>:<port>"),
        ],
    }, {
        assert_snapshot!(lab.redact(&format!(
            "the switch answered: {}\n{}\nevents:\n{}\nthe previous run's log:\n{}",
            switch.output,
            describe(&restarted),
            events(&happened),
            // The first line, and the lines of the switch and of the first
            // failed probe (how many passed before varies).
            {
                let text = chapter_05::pods::logs::text(&previous);
                let lines: Vec<&str> = text.lines().collect();
                let first_500 = lines.iter().find(|line| line.contains("\"GET /healthz\" 500"));
                let switch = lines.iter().find(|line| line.contains("/healthz/fail"));
                format!("{}\n...\n{}\n...\n{}", lines[0], switch.unwrap(), first_500.unwrap())
            },
        )));
    });
    lab.finish();
}

#[tokio::test]
async fn readiness_follows_the_readiness_probe() {
    guard(readiness()).await
}

async fn readiness() {
    let lab = Lab::new(INIT);
    let pod = lab.run(lab.pod("ready", vec![echo("server"), sh("shell", "sleep 30")]));
    pod.wait_for(LIMIT, running).await.unwrap();
    let ip = pod.status().pod_ip.unwrap();
    let mut seen = Vec::new();
    for (switch, ready) in [("fail", false), ("ok", true)] {
        let url = format!("http://{ip}:8080/ready/{switch}");
        pod.exec("shell", &words(&["wget", "-qO-", &url]), LIMIT)
            .await
            .unwrap();
        let status = pod
            .wait_for(LIMIT, |status| status.container_statuses[0].ready == ready)
            .await
            .unwrap_or_else(|status| panic!("readiness did not follow:\n{}", describe(&status)));
        seen.push(format!("after /ready/{switch}:\n{}", describe(&status)));
    }
    pod.delete(Some(Duration::from_secs(2))).await;
    assert_snapshot!(seen.join("\n"));
    lab.finish();
}

#[tokio::test]
async fn exec_sees_only_the_container() {
    guard(exec_inside()).await
}

async fn exec_inside() {
    let lab = Lab::new(INIT);
    let pod = lab.run(lab.pod("inside", vec![sh("shell", "sleep 30")]));
    pod.wait_for(LIMIT, running).await.unwrap();
    let ps = pod
        .exec("shell", &words(&["ps", "-o", "pid,comm"]), LIMIT)
        .await
        .unwrap();
    let hostname = pod
        .exec("shell", &words(&["hostname"]), LIMIT)
        .await
        .unwrap();
    let missing = pod
        .exec("shell", &words(&["no-such-command"]), LIMIT)
        .await
        .unwrap();
    let elsewhere = pod.exec("nobody", &words(&["true"]), LIMIT).await;
    pod.delete(Some(Duration::from_secs(2))).await;
    with_settings!({
        description => "commands run with exec inside a running container: they are in its PID namespace (ps sees the container's init and shell, then exec's own init and itself), its UTS namespace and its root filesystem",
        filters => vec![(r"(?m)^\s+\d+ ps$", "  <pid> ps")],
    }, {
        assert_snapshot!(format!(
            "ps:\n{}\nhostname: {}\nno-such-command: exit code {}: {}\nexec in a container the pod does not have: {}",
            ps.output,
            hostname.output,
            missing.exit_code,
            missing.output,
            elsewhere.map(|_| "ran".to_string()).unwrap_or_else(|error| error.to_string()),
        ));
    });
    lab.finish();
}
