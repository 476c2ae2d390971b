//! Holes: `ProbeKind::initial_status` and `Tracker::observe`
//! (src/probe/threshold.rs); `request`, `parse_status_line` and `verdict`
//! (src/probe/http.rs).
//!
//! The servers here listen on 127.0.0.1 with ports the kernel picks; the
//! snapshots show them as `[port]`. Probe periods are tens of
//! milliseconds, and nothing here measures time except one lower bound
//! (the initial delay), which a slow machine cannot break.

use std::collections::{HashMap, VecDeque};
use std::fmt::Write;
use std::io;
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chapter_05::pods::probe::{
    Action, BoxFuture, ContainerProbes, Exec, ExecOutput, HttpGet, HttpHeader, Probe, ProbeEvent,
    ProbeHandle, ProbeKind, Target, Tracker, http, run_command,
};
use chapter_05::{guard, redact};
use insta::{assert_snapshot, with_settings};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::process::Command;
use tokio::task::JoinSet;
use tokio::time::Instant;

const LOCALHOST: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

/// How long a test waits for something that comes within milliseconds when
/// all is well. Not a performance limit: it turns a hang into a failure
/// that says what was awaited.
const WAIT: Duration = Duration::from_secs(20);

/// A timeout meant to run out.
const SHORT: Duration = Duration::from_millis(300);

/// A timeout meant never to run out, even on a busy machine.
const LONG: Duration = Duration::from_secs(10);

// ---------------------------------------------------------------------------
// Thresholds (pure)

#[test]
fn thresholds_turn_runs_in_a_row_into_a_verdict() {
    let cases: [(ProbeKind, u32, u32, &str); 4] = [
        (ProbeKind::Liveness, 1, 3, "FFPFFFP"),
        (ProbeKind::Readiness, 2, 2, "PPFPFFPP"),
        (ProbeKind::Startup, 1, 3, "FFP"),
        (ProbeKind::Startup, 1, 3, "FFF"),
    ];
    let mut table = String::new();
    for (kind, success, failure, runs) in cases {
        let mut probe = Probe::new(Action::tcp_socket(80));
        probe.success_threshold = success;
        probe.failure_threshold = failure;
        let mut tracker = Tracker::new(kind, &probe);
        writeln!(
            table,
            "{kind} probe, successThreshold {success}, failureThreshold {failure}: starts as {}",
            tracker.status()
        )
        .unwrap();
        for (n, run) in runs.chars().enumerate() {
            let passed = run == 'P';
            let change = match tracker.observe(passed) {
                Some(status) => format!("now {status}"),
                None => "-".to_string(),
            };
            let run = if passed { "pass" } else { "fail" };
            writeln!(
                table,
                "  run {}: {run} -> {change:<12} (status {})",
                n + 1,
                tracker.status()
            )
            .unwrap();
        }
    }
    with_settings!({
        description => "Tracker::new(kind, probe) then observe(pass or fail) per run: a change is published only after `threshold` equal results in a row",
        omit_expression => true,
    }, {
        assert_snapshot!(table);
    });
}

// ---------------------------------------------------------------------------
// HTTP (pure)

#[test]
fn http_requests_carry_the_kubelets_headers() {
    let get = |path: &str, headers: &[(&str, &str)]| HttpGet {
        path: path.to_string(),
        port: 8080,
        host: None,
        headers: headers
            .iter()
            .map(|(name, value)| HttpHeader::new(name, value))
            .collect(),
    };
    let cases = [
        ("path /healthz", get("/healthz", &[])),
        ("empty path", get("", &[])),
        (
            "path without a slash, with a query",
            get("ready?verbose=1", &[]),
        ),
        (
            "custom headers",
            get(
                "/healthz",
                &[("X-Probe", "yes"), ("Authorization", "Bearer t0k3n")],
            ),
        ),
        (
            "headers that replace the kubelet's (any case)",
            get(
                "/healthz",
                &[
                    ("host", "web.example"),
                    ("user-agent", "my-probe/2"),
                    ("Accept", "application/json"),
                ],
            ),
        ),
        (
            "an empty Accept removes it",
            get("/healthz", &[("Accept", "")]),
        ),
    ];
    let mut text = String::new();
    for (what, get) in cases {
        writeln!(text, "{what}:").unwrap();
        let request = http::request(&get, "10.244.0.5:8080");
        text.push_str(&show_crlf(&request));
        text.push('\n');
    }
    with_settings!({
        description => "http::request(get, \"10.244.0.5:8080\"); every \\r\\n is shown, then a line break",
        omit_expression => true,
    }, {
        assert_snapshot!(text);
    });
}

#[test]
fn status_lines_parse_like_gos_http_client() {
    let lines = [
        "HTTP/1.1 200 OK",
        "HTTP/1.0 404 Not Found",
        "HTTP/1.1 204",
        "HTTP/1.1 503 Service Unavailable",
        "HTTP/1.1 2000 OK",
        "HTTP/1.1 20 OK",
        "HTTP/1.1 abc OK",
        "HTTP/2 200 OK",
        "SSH-2.0-OpenSSH_9.2p1 Debian-2",
        "HTTP/1.1",
        "",
    ];
    let mut table = String::new();
    for line in lines {
        writeln!(table, "{line:?} -> {:?}", http::parse_status_line(line)).unwrap();
    }
    with_settings!({
        description => "http::parse_status_line(first line of a response)",
        omit_expression => true,
    }, {
        assert_snapshot!(table);
    });
}

#[test]
fn status_codes_decide_the_verdict() {
    let mut table = String::new();
    for code in [
        100, 199, 200, 204, 299, 301, 302, 304, 399, 400, 404, 418, 500, 503,
    ] {
        writeln!(table, "{code} -> {}", http::verdict(code)).unwrap();
    }
    with_settings!({
        description => "http::verdict(status code): 200 <= code < 400 passes; redirects are not followed",
        omit_expression => true,
    }, {
        assert_snapshot!(table);
    });
}

// ---------------------------------------------------------------------------
// One run of each kind, against real sockets and processes

#[tokio::test]
async fn http_probes_against_a_live_server() {
    guard(async {
        let server = Server::start().await;
        server.always("/ok", Reply::Status(200));
        server.always("/moved", Reply::Status(302));
        server.always("/missing", Reply::Status(404));
        server.always("/broken", Reply::Status(500));
        server.always("/slow", Reply::Hang);
        server.always("/hang-up", Reply::HangUp);
        server.always("/ssh", Reply::Raw("SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n"));
        let closed = closed_port().await;

        let mut table = String::new();
        for path in ["/ok", "/moved", "/missing", "/broken", "/slow", "/hang-up", "/ssh"] {
            let timeout = if path == "/slow" { SHORT } else { LONG };
            let probe = http_probe(path, server.port, timeout);
            let outcome = Target::new(LOCALHOST).probe(&probe).await;
            writeln!(table, "GET {path} -> {outcome}").unwrap();
        }
        let probe = http_probe("/ok", closed, LONG);
        let outcome = Target::new(LOCALHOST).probe(&probe).await;
        writeln!(table, "GET /ok on a port nobody listens on -> {outcome}").unwrap();
        let table = table.replace(&closed.to_string(), "[closed port]");

        let received = server.requests()[0].head.clone();
        let text = format!(
            "{}\nthe request the server received for /ok:\n{}",
            server.redact(&table),
            server.redact(&show_crlf(&received))
        );
        with_settings!({
            description => "Target::new(127.0.0.1).probe(httpGet probe), timeout 300 ms for /slow (10 s for the others); the server answers each path as the path says",
            omit_expression => true,
        }, {
            assert_snapshot!(text);
        });
    })
    .await;
}

#[tokio::test]
async fn tcp_probe_passes_while_something_listens() {
    guard(async {
        let listener = TcpListener::bind((LOCALHOST, 0)).await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let mut probe = Probe::new(Action::tcp_socket(port));
        probe.timeout = LONG;
        let target = Target::new(LOCALHOST);

        let listening = target.probe(&probe).await;
        drop(listener);
        let closed = target.probe(&probe).await;
        let text = format!("while listening: {listening}\nafter closing: {closed}\n")
            .replace(&port.to_string(), "[port]");
        with_settings!({
            description => "a tcpSocket probe on 127.0.0.1, first with a listener, then after the listener was closed",
            omit_expression => true,
        }, {
            assert_snapshot!(text);
        });
    })
    .await;
}

#[tokio::test]
async fn exec_probes_go_by_the_exit_code() {
    guard(async {
        let tmp = tempfile::tempdir().unwrap();
        let pid_file = tmp.path().join("pid");
        let exec = HostExec;
        let cases: Vec<(Vec<String>, Duration)> = vec![
            (sh("exit 0"), LONG),
            (sh("echo not healthy; exit 3"), LONG),
            (sh("echo disk full >&2; exit 1"), LONG),
            (vec!["/nonexistent/probe".into()], LONG),
            (
                sh(&format!("echo $$ > {}; exec sleep 30", pid_file.display())),
                SHORT,
            ),
        ];
        let mut table = String::new();
        for (command, timeout) in cases {
            let outcome = chapter_05::pods::probe::exec::probe(&exec, &command, timeout).await;
            writeln!(table, "{:?} -> {:?}", command, outcome).unwrap();
        }
        let pid = read_pid(&pid_file);
        wait_until_gone(pid).await;
        writeln!(table, "the timed-out command's process: gone").unwrap();
        with_settings!({
            description => "exec::probe(host exec, command, timeout): exit code 0 passes, any other fails with the output as the message; the last command has 300 ms, the others 10 s",
            omit_expression => true,
        }, {
            assert_snapshot!(redact(&table, tmp.path()));
        });
    })
    .await;
}

#[tokio::test]
async fn run_command_reports_codes_signals_and_timeouts() {
    guard(async {
        let mut table = String::new();
        for script in ["exit 7", "echo out; echo err >&2", "kill -9 $$", "sleep 30 & wait"] {
            let mut command = Command::new("sh");
            command.arg("-c").arg(script);
            let timeout = if script.contains("sleep") { SHORT } else { LONG };
            let answer = match run_command(command, timeout).await {
                Ok(ExecOutput { exit_code, output }) => {
                    format!("exit code {exit_code}, output {output:?}")
                }
                Err(error) => format!("error ({:?}): {error}", error.kind()),
            };
            writeln!(table, "sh -c {script:?} -> {answer}").unwrap();
        }
        with_settings!({
            description => "run_command(sh -c SCRIPT, timeout): 128 + n for a signal; a timeout (300 ms for the sleep, 10 s for the others) kills the whole process group",
            omit_expression => true,
        }, {
            assert_snapshot!(table);
        });
    })
    .await;
}

// ---------------------------------------------------------------------------
// The probes of a container, over time

#[tokio::test]
async fn readiness_follows_the_endpoint_both_ways() {
    guard(async {
        let server = Server::start().await;
        server.script(
            "/ready",
            &[200, 200, 500, 200, 500, 500, 200, 200],
            Reply::Status(200),
        );
        let mut readiness = fast(http_probe("/ready", server.port, LONG));
        readiness.success_threshold = 2;
        readiness.failure_threshold = 2;
        let probes = ContainerProbes {
            readiness: Some(readiness),
            ..ContainerProbes::default()
        };
        let mut handle = probes.start(Target::new(LOCALHOST)).unwrap();
        let events = events_until(&mut handle, 2, |event| *event == ProbeEvent::Ready(true)).await;
        handle.stop().await;

        let text = format!(
            "answers of /ready, in order:\n{}\nevents:\n{}",
            server.answers(8),
            timeline(&events)
        );
        with_settings!({
            description => "readinessProbe httpGet /ready, successThreshold 2, failureThreshold 2, period 20 ms; events until the second Ready",
            omit_expression => true,
        }, {
            assert_snapshot!(text);
        });
    })
    .await;
}

#[tokio::test]
async fn liveness_restarts_after_failure_threshold_failures_in_a_row() {
    guard(async {
        let server = Server::start().await;
        server.script(
            "/live",
            &[500, 500, 200, 500, 500, 500],
            Reply::Status(200),
        );
        let liveness = fast(http_probe("/live", server.port, LONG));
        let probes = ContainerProbes {
            liveness: Some(liveness),
            ..ContainerProbes::default()
        };
        let mut handle = probes.start(Target::new(LOCALHOST)).unwrap();
        let events = all_events(&mut handle).await;
        let restart = events.last().map(|event| event.event_message("web"));

        let text = format!(
            "answers of /live, in order:\n{}\nrequests in all: {}\nevents:\n{}\nthe kubelet's event for the restart: {restart:?}",
            server.answers(6),
            server.requests().len(),
            timeline(&events)
        );
        with_settings!({
            description => "livenessProbe httpGet /live with the default thresholds (1, 3), period 20 ms; every event until probing ends",
            omit_expression => true,
        }, {
            assert_snapshot!(text);
        });
    })
    .await;
}

#[tokio::test]
async fn a_startup_probe_holds_liveness_and_readiness_back() {
    guard(async {
        let server = Server::start().await;
        server.script("/started", &[500, 500, 200], Reply::Status(200));
        server.always("/live", Reply::Status(200));
        server.always("/ready", Reply::Status(200));
        let port = server.port;
        let probes = ContainerProbes {
            startup: Some(fast(http_probe("/started", port, LONG))),
            liveness: Some(fast(http_probe("/live", port, LONG))),
            readiness: Some(fast(http_probe("/ready", port, LONG))),
        };
        let mut handle = probes.start(Target::new(LOCALHOST)).unwrap();
        let events = events_until(&mut handle, 1, |event| *event == ProbeEvent::Ready(true)).await;
        wait_for(|| server.count("/live") > 0 && server.count("/ready") > 0).await;
        let state = handle.state();
        handle.stop().await;

        let requests = server.requests();
        let first: Vec<_> = requests.iter().take(3).map(|r| r.path.as_str()).collect();
        let mut later: Vec<_> = requests.iter().skip(3).map(|r| r.path.as_str()).collect();
        later.sort();
        later.dedup();
        let text = format!(
            "the first three requests: {first:?}\npaths asked for after those: {later:?}\n\
             startup requests in all: {}\nevents:\n{}\nstate at the end: {state:?}",
            server.count("/started"),
            timeline(&events)
        );
        with_settings!({
            description => "startupProbe /started fails twice then passes; livenessProbe /live and readinessProbe /ready always pass; period 20 ms each",
            omit_expression => true,
        }, {
            assert_snapshot!(text);
        });
    })
    .await;
}

#[tokio::test]
async fn a_failing_startup_probe_restarts_the_container() {
    guard(async {
        let server = Server::start().await;
        server.always("/started", Reply::Status(503));
        server.always("/live", Reply::Status(200));
        let port = server.port;
        let probes = ContainerProbes {
            startup: Some(fast(http_probe("/started", port, LONG))),
            liveness: Some(fast(http_probe("/live", port, LONG))),
            readiness: None,
        };
        let mut handle = probes.start(Target::new(LOCALHOST)).unwrap();
        let events = all_events(&mut handle).await;
        let restart = events.last().map(|event| event.event_message("web"));
        let paths: Vec<_> = server.requests().into_iter().map(|r| r.path).collect();
        let text = format!(
            "requests: {paths:?}\nevents:\n{}\nthe kubelet's event for the restart: {restart:?}\nstate at the end: {:?}",
            timeline(&events),
            handle.state()
        );
        with_settings!({
            description => "startupProbe /started always answers 503 (failureThreshold 3); livenessProbe /live would pass but must never run",
            omit_expression => true,
        }, {
            assert_snapshot!(text);
        });
    })
    .await;
}

#[tokio::test]
async fn timeouts_and_refused_connections_are_failures() {
    guard(async {
        let server = Server::start().await;
        server.always("/slow", Reply::Hang);
        let closed = closed_port().await;
        let mut liveness = fast(http_probe("/slow", server.port, Duration::from_millis(50)));
        liveness.failure_threshold = 2;
        let mut refused = fast(Probe::new(Action::tcp_socket(closed)));
        refused.timeout = LONG;
        refused.failure_threshold = 1;

        let mut text = String::new();
        for (what, probes) in [
            (
                "livenessProbe httpGet /slow (never answers), timeout 50 ms, failureThreshold 2",
                ContainerProbes {
                    liveness: Some(liveness),
                    ..ContainerProbes::default()
                },
            ),
            (
                "livenessProbe tcpSocket on a closed port, failureThreshold 1",
                ContainerProbes {
                    liveness: Some(refused),
                    ..ContainerProbes::default()
                },
            ),
        ] {
            let mut handle = probes.start(Target::new(LOCALHOST)).unwrap();
            let events = all_events(&mut handle).await;
            writeln!(text, "{what}:\n{}", timeline(&events)).unwrap();
        }
        let text = server
            .redact(&text)
            .replace(&closed.to_string(), "[closed port]");
        with_settings!({
            description => "a probe that times out, and one that is refused, count as failed runs",
            omit_expression => true,
        }, {
            assert_snapshot!(text);
        });
    })
    .await;
}

#[tokio::test]
async fn exec_liveness_probes_run_through_the_exec_trait() {
    guard(async {
        let mut liveness = fast(Probe::new(Action::Exec {
            command: sh("echo probe says no; exit 1"),
        }));
        liveness.timeout = LONG;
        liveness.failure_threshold = 2;
        let probes = ContainerProbes {
            liveness: Some(liveness),
            ..ContainerProbes::default()
        };
        let target = Target::new(LOCALHOST).with_exec(Arc::new(HostExec));
        let mut handle = probes.start(target).unwrap();
        let events = all_events(&mut handle).await;
        with_settings!({
            description => "livenessProbe exec [sh -c \"echo probe says no; exit 1\"], failureThreshold 2",
            omit_expression => true,
        }, {
            assert_snapshot!(timeline(&events));
        });
    })
    .await;
}

#[tokio::test]
async fn without_probes_a_container_is_started_and_ready_at_once() {
    guard(async {
        let mut handle = ContainerProbes::default()
            .start(Target::new(LOCALHOST))
            .unwrap();
        let events = all_events(&mut handle).await;
        let text = format!("{}\nstate: {:?}", timeline(&events), handle.state());
        assert_snapshot!(text, @r"
        Started
        Ready
        state: ProbeState { started: true, ready: true }
        ");
    })
    .await;
}

#[tokio::test]
async fn the_initial_delay_holds_the_first_probe_back() {
    guard(async {
        let server = Server::start().await;
        server.always("/ready", Reply::Status(200));
        let delay = Duration::from_millis(400);
        let mut readiness = fast(http_probe("/ready", server.port, LONG));
        readiness.initial_delay = delay;
        let probes = ContainerProbes {
            readiness: Some(readiness),
            ..ContainerProbes::default()
        };
        let started = Instant::now();
        let mut handle = probes.start(Target::new(LOCALHOST)).unwrap();
        let events = events_until(&mut handle, 1, |event| *event == ProbeEvent::Ready(true)).await;
        handle.stop().await;
        let first = server.requests()[0].at;
        // A lower bound only: a slow machine makes the probe later, never
        // earlier.
        assert!(
            first.duration_since(started) >= delay,
            "the first probe came {:?} after the start, before the initial delay of {delay:?}",
            first.duration_since(started)
        );
        assert_eq!(timeline(&events), "Started\nReady");
    })
    .await;
}

#[tokio::test]
async fn stopping_or_dropping_the_handle_kills_a_running_probe_command() {
    guard(async {
        let tmp = tempfile::tempdir().unwrap();
        for stop in [true, false] {
            let pid_file = tmp.path().join(format!("pid-{stop}"));
            let mut liveness = fast(Probe::new(Action::Exec {
                command: sh(&format!("echo $$ > {}; exec sleep 30", pid_file.display())),
            }));
            liveness.timeout = Duration::from_secs(30);
            let probes = ContainerProbes {
                liveness: Some(liveness),
                ..ContainerProbes::default()
            };
            let target = Target::new(LOCALHOST).with_exec(Arc::new(HostExec));
            let mut handle = probes.start(target).unwrap();
            let pid = wait_for_pid(&mut handle, &pid_file).await;
            if stop {
                handle.stop().await;
            } else {
                drop(handle);
            }
            wait_until_gone(pid).await;
        }
    })
    .await;
}

#[test]
fn probes_the_api_would_refuse_are_refused() {
    let tcp = || Probe::new(Action::tcp_socket(8080));
    let with = |change: fn(&mut Probe)| {
        let mut probe = tcp();
        change(&mut probe);
        probe
    };
    let cases = [
        (
            "liveness, successThreshold 2",
            ContainerProbes {
                liveness: Some(with(|p| p.success_threshold = 2)),
                ..ContainerProbes::default()
            },
        ),
        (
            "startup, successThreshold 2",
            ContainerProbes {
                startup: Some(with(|p| p.success_threshold = 2)),
                ..ContainerProbes::default()
            },
        ),
        (
            "readiness, successThreshold 2",
            ContainerProbes {
                readiness: Some(with(|p| p.success_threshold = 2)),
                ..ContainerProbes::default()
            },
        ),
        (
            "readiness, periodSeconds 0",
            ContainerProbes {
                readiness: Some(with(|p| p.period = Duration::ZERO)),
                ..ContainerProbes::default()
            },
        ),
        (
            "liveness, failureThreshold 0",
            ContainerProbes {
                liveness: Some(with(|p| p.failure_threshold = 0)),
                ..ContainerProbes::default()
            },
        ),
        (
            "liveness, exec with no command",
            ContainerProbes {
                liveness: Some(Probe::new(Action::Exec { command: vec![] })),
                ..ContainerProbes::default()
            },
        ),
    ];
    let mut table = String::new();
    for (what, probes) in cases {
        writeln!(
            table,
            "{what}: {:?}",
            probes.validate().map_err(|e| e.to_string())
        )
        .unwrap();
    }
    let defaults = Probe::new(Action::tcp_socket(8080));
    writeln!(
        table,
        "defaults: initial delay {:?}, period {:?}, timeout {:?}, successThreshold {}, failureThreshold {}",
        defaults.initial_delay,
        defaults.period,
        defaults.timeout,
        defaults.success_threshold,
        defaults.failure_threshold
    )
    .unwrap();
    with_settings!({
        description => "ContainerProbes::validate(), and Probe::new's defaults",
        omit_expression => true,
    }, {
        assert_snapshot!(table);
    });
}

#[tokio::test]
async fn an_exec_probe_needs_a_way_into_the_container() {
    let probes = ContainerProbes {
        readiness: Some(Probe::new(Action::exec(["cat", "/tmp/ready"]))),
        ..ContainerProbes::default()
    };
    let error = probes.start(Target::new(LOCALHOST)).unwrap_err();
    assert_eq!(
        error.to_string(),
        "readinessProbe.exec: the target cannot run commands in the container"
    );
}

// ---------------------------------------------------------------------------
// Helpers

/// Runs commands on the host, as a pod layer would run them in a container.
struct HostExec;

impl Exec for HostExec {
    fn run<'a>(
        &'a self,
        command: &'a [String],
        timeout: Duration,
    ) -> BoxFuture<'a, io::Result<ExecOutput>> {
        Box::pin(async move {
            let (program, args) = command
                .split_first()
                .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "empty command"))?;
            let mut host_command = Command::new(program);
            host_command.args(args);
            run_command(host_command, timeout).await
        })
    }
}

fn sh(script: &str) -> Vec<String> {
    vec!["sh".into(), "-c".into(), script.into()]
}

fn http_probe(path: &str, port: u16, timeout: Duration) -> Probe {
    let mut probe = Probe::new(Action::http_get(path, port));
    probe.timeout = timeout;
    probe
}

/// A probe every 20 ms, so that a test sees many runs quickly.
fn fast(mut probe: Probe) -> Probe {
    probe.period = Duration::from_millis(20);
    probe
}

fn show_crlf(text: &str) -> String {
    text.replace("\r\n", "\\r\\n\n")
}

fn timeline(events: &[ProbeEvent]) -> String {
    events
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every event until probing ends by itself.
async fn all_events(handle: &mut ProbeHandle) -> Vec<ProbeEvent> {
    let mut events = Vec::new();
    loop {
        match tokio::time::timeout(WAIT, handle.next_event()).await {
            Ok(Some(event)) => events.push(event),
            Ok(None) => return events,
            Err(_) => panic!(
                "probing did not end within {WAIT:?}; events so far:\n{}",
                timeline(&events)
            ),
        }
    }
}

/// Events up to the `nth` one that `wanted` picks.
async fn events_until(
    handle: &mut ProbeHandle,
    nth: usize,
    wanted: impl Fn(&ProbeEvent) -> bool,
) -> Vec<ProbeEvent> {
    let mut events = Vec::new();
    let mut seen = 0;
    while seen < nth {
        match tokio::time::timeout(WAIT, handle.next_event()).await {
            Ok(Some(event)) => {
                if wanted(&event) {
                    seen += 1;
                }
                events.push(event);
            }
            Ok(None) => panic!(
                "probing ended before the awaited event; events:\n{}",
                timeline(&events)
            ),
            Err(_) => panic!(
                "the awaited event did not come within {WAIT:?}; events so far:\n{}",
                timeline(&events)
            ),
        }
    }
    events
}

async fn wait_for(mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + WAIT;
    while !condition() {
        assert!(Instant::now() < deadline, "waited {WAIT:?} in vain");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Waits until the probe command has written its pid, reading the events
/// meanwhile (a probe that fails before it runs the command says so there).
async fn wait_for_pid(handle: &mut ProbeHandle, path: &Path) -> i32 {
    let deadline = Instant::now() + WAIT;
    let mut events = Vec::new();
    while !std::fs::read_to_string(path).is_ok_and(|text| text.ends_with('\n')) {
        assert!(
            Instant::now() < deadline,
            "the probe command did not start within {WAIT:?}; events:\n{}",
            timeline(&events)
        );
        tokio::select! {
            event = handle.next_event() => match event {
                Some(event) => events.push(event),
                None => panic!("probing ended before the command ran; events:\n{}", timeline(&events)),
            },
            () = tokio::time::sleep(Duration::from_millis(5)) => {}
        }
    }
    read_pid(path)
}

fn read_pid(path: &Path) -> i32 {
    let text = std::fs::read_to_string(path).expect("the command wrote its pid");
    text.trim().parse().expect("a pid")
}

/// Waits until `pid` has exited (gone, or a zombie not yet reaped).
async fn wait_until_gone(pid: i32) {
    let stat = PathBuf::from(format!("/proc/{pid}/stat"));
    let exited = move || match std::fs::read_to_string(&stat) {
        Err(_) => true,
        // The state is the field after the command name in parentheses.
        Ok(text) => text
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| rest.starts_with('Z')),
    };
    let deadline = Instant::now() + WAIT;
    while !exited() {
        assert!(
            Instant::now() < deadline,
            "the probe command (pid {pid}) is still running {WAIT:?} later"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// A port that nobody listens on (bound, then closed again).
async fn closed_port() -> u16 {
    let listener = TcpListener::bind((LOCALHOST, 0)).await.unwrap();
    listener.local_addr().unwrap().port()
}

/// How the test server answers a request.
#[derive(Debug, Clone, Copy)]
enum Reply {
    /// A response with this status and no body.
    Status(u16),
    /// Reads the request and never answers.
    Hang,
    /// Closes the connection without a word.
    HangUp,
    /// These bytes, then closes.
    Raw(&'static str),
}

/// What the server was asked, and what it answered.
#[derive(Debug, Clone)]
struct Received {
    path: String,
    head: String,
    reply: Reply,
    at: Instant,
}

#[derive(Default)]
struct Scripts {
    /// Per path: replies to give in order, then the one to repeat.
    paths: HashMap<String, (VecDeque<Reply>, Reply)>,
    log: Vec<Received>,
}

/// An HTTP server on 127.0.0.1 whose answers the test scripts per path.
struct Server {
    port: u16,
    scripts: Arc<Mutex<Scripts>>,
    _tasks: JoinSet<()>,
}

impl Server {
    async fn start() -> Server {
        let listener = TcpListener::bind((LOCALHOST, 0)).await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let scripts = Arc::new(Mutex::new(Scripts::default()));
        let mut tasks = JoinSet::new();
        tasks.spawn(accept_loop(listener, Arc::clone(&scripts)));
        Server {
            port,
            scripts,
            _tasks: tasks,
        }
    }

    fn always(&self, path: &str, reply: Reply) {
        self.script_replies(path, VecDeque::new(), reply);
    }

    fn script(&self, path: &str, codes: &[u16], then: Reply) {
        let replies = codes.iter().map(|&code| Reply::Status(code)).collect();
        self.script_replies(path, replies, then);
    }

    fn script_replies(&self, path: &str, replies: VecDeque<Reply>, then: Reply) {
        let mut scripts = self.scripts.lock().unwrap();
        scripts.paths.insert(path.to_string(), (replies, then));
    }

    fn requests(&self) -> Vec<Received> {
        self.scripts.lock().unwrap().log.clone()
    }

    fn count(&self, path: &str) -> usize {
        self.requests().iter().filter(|r| r.path == path).count()
    }

    /// The first `n` answers, one per line.
    fn answers(&self, n: usize) -> String {
        let requests = self.requests();
        assert!(
            requests.len() >= n,
            "the server had {} requests, {n} expected",
            requests.len()
        );
        requests
            .iter()
            .take(n)
            .enumerate()
            .map(|(i, r)| format!("  {}. {} -> {:?}\n", i + 1, r.path, r.reply))
            .collect()
    }

    fn redact(&self, text: &str) -> String {
        text.replace(&format!(":{}", self.port), ":[port]")
    }
}

async fn accept_loop(listener: TcpListener, scripts: Arc<Mutex<Scripts>>) {
    // Connection tasks live in this set, so they end with the server.
    let mut connections = JoinSet::new();
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        connections.spawn(serve(stream, Arc::clone(&scripts)));
        while connections.try_join_next().is_some() {}
    }
}

async fn serve(mut stream: TcpStream, scripts: Arc<Mutex<Scripts>>) {
    let mut head = Vec::new();
    let mut buffer = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buffer[..n]),
        }
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let path = head.split(' ').nth(1).unwrap_or("").to_string();
    let reply = {
        let mut scripts = scripts.lock().unwrap();
        let reply = match scripts.paths.get_mut(&path) {
            Some((queue, then)) => queue.pop_front().unwrap_or(*then),
            None => Reply::Status(404),
        };
        scripts.log.push(Received {
            path,
            head,
            reply,
            at: Instant::now(),
        });
        reply
    };
    match reply {
        Reply::Status(code) => {
            let response = format!(
                "HTTP/1.1 {code} Whatever\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
            let _ = stream.write_all(response.as_bytes()).await;
        }
        Reply::Hang => std::future::pending().await,
        Reply::HangUp => {}
        Reply::Raw(bytes) => {
            let _ = stream.write_all(bytes.as_bytes()).await;
        }
    }
}
