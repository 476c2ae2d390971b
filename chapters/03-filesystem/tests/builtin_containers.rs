//! The built-in images at work inside real containers.

use std::io::{Read, Write};
use std::time::Duration;

use chapter_03::filesystem::ContainerRequest;
use chapter_03::{Lab, all_events, guard, timeline, wait_for_log};
use insta::{assert_snapshot, with_settings};
use namespaces::Isolation;
use process::{Event, Supervisor};

const INIT: &str = env!("CARGO_BIN_EXE_container-init");

/// One HTTP/1.0 request from inside the network namespace at `namespace`.
fn get_inside(namespace: &str, path: &str) -> String {
    let namespace = namespace.to_string();
    let path = path.to_string();
    std::thread::spawn(move || {
        let file = std::fs::File::open(&namespace).expect("the container's network namespace");
        nix::sched::setns(&file, nix::sched::CloneFlags::CLONE_NEWNET).expect("setns");
        let mut stream =
            std::net::TcpStream::connect("127.0.0.1:8080").expect("the echo server answers");
        write!(stream, "GET {path} HTTP/1.0\r\nHost: test\r\n\r\n").unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        response.replace("\r\n", "\n")
    })
    .join()
    .unwrap()
}

/// Keeps the lines of an echo response that do not change from run to run
/// (the client's port does).
fn stable(response: &str) -> String {
    response
        .lines()
        .map(|line| match line.split_once("127.0.0.1:") {
            Some((head, _)) => format!("{head}127.0.0.1:[port]"),
            None => line.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn the_echo_image_serves_and_crashes_on_request() {
    guard(async {
        let lab = Lab::new(INIT);
        let request = ContainerRequest {
            name: "web".into(),
            image: "k8s-mini/echo".into(),
            env: vec![("POD_NAME".into(), "web-1".into())],
            etc: chapter_03::filesystem::EtcFiles { hostname: "web-1".into(), ..Default::default() },
            ..ContainerRequest::default()
        };
        let mut isolation = Isolation::container(false);
        isolation.hostname = Some("web-1".into());
        let (mut spec, root) = lab.containers.create(&request, &isolation).expect("created");
        spec.backoff.initial = Duration::from_millis(1);
        let log = spec.log_path.clone();
        let mut supervisor = Supervisor::start(spec).await.expect("started");
        let mut events = wait_for_log(&mut supervisor, &log, "listening").await;
        let listening = std::fs::read_to_string(&log).unwrap_or_default().contains("listening");
        let (Some(Event::Started { pid, .. }), true) = (events.first().cloned(), listening) else {
            panic!(
                "the echo container is not listening:\nevents:\n{}\nlog:\n{}",
                timeline(&events),
                testkit::readable_log(&std::fs::read_to_string(&log).unwrap_or_default())
            );
        };
        let namespace = format!("/proc/{pid}/ns/net");
        let hello = get_inside(&namespace, "/hello");
        let crash = get_inside(&namespace, "/crash?code=3");
        // Always restarts it: wait for the second start (for a while), then stop.
        let restart = tokio::time::timeout(testkit::LOG_WAIT, async {
            while let Some(event) = supervisor.next_event().await {
                let restarted = matches!(event, Event::Started { restart_count: 1, .. });
                events.push(event);
                if restarted {
                    return true;
                }
            }
            false
        })
        .await;
        if restart != Ok(true) {
            panic!(
                "the echo container did not exit and restart after /crash?code=3; it answered:\n{crash}\nevents:\n{}",
                timeline(&events)
            );
        }
        supervisor.stop(Duration::from_secs(5));
        events.extend(all_events(supervisor).await);
        root.remove().unwrap();
        with_settings!({
            description => "k8s-mini/echo in a container: GET /hello and GET /crash?code=3 from inside its network; it exits 3 and restart policy Always starts it again",
            omit_expression => true,
        }, {
            assert_snapshot!(format!("GET /hello:\n{}\n\nGET /crash?code=3:\n{}\n\nevents:\n{}", stable(&hello), stable(&crash), timeline(&events)));
        });
        lab.assert_no_leaks();
    })
    .await;
}

#[tokio::test]
async fn the_pause_image_waits_and_stops_on_sigterm() {
    guard(async {
        let lab = Lab::new(INIT);
        let request = ContainerRequest {
            name: "pause".into(),
            image: "k8s-mini/pause".into(),
            ..ContainerRequest::default()
        };
        let (spec, root) = lab.containers.create(&request, &Isolation::container(false)).expect("created");
        let log = spec.log_path.clone();
        let supervisor = Supervisor::start(spec).await.expect("started");
        // Give it a moment to be pausing; the stop must work at any time.
        tokio::time::sleep(Duration::from_millis(50)).await;
        supervisor.stop(Duration::from_secs(10));
        let events = all_events(supervisor).await;
        let text = testkit::report(&events, &testkit::readable_log(&std::fs::read_to_string(&log).unwrap_or_default()));
        root.remove().unwrap();
        with_settings!({
            description => "k8s-mini/pause in a container, stopped with a 10 s grace period: it exits 0 on SIGTERM at once",
            omit_expression => true,
        }, {
            assert_snapshot!(text);
        });
        lab.assert_no_leaks();
    })
    .await;
}
