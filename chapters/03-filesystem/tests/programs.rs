//! The programs of the built-in images, run as plain processes on
//! loopback: the echo server and its client, and pause.
//!
//! `route` (src/programs/routes.rs) is given code: its hole moved to
//! chapter 05's HTTP probe, where it pays off. These tests keep it right.

use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};
use std::time::Duration;

use chapter_03::filesystem::programs::{
    ECHO_ARG, Health, Identity, PAUSE_ARG, Request, parse_request_line, route,
};
use insta::{assert_snapshot, with_settings};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

const PROGRAM: &str = env!("CARGO_BIN_EXE_container-init");

#[test]
fn the_echo_servers_routes() {
    let identity = Identity {
        pod: "echo-7d9f".to_string(),
        hostname: "echo-7d9f".to_string(),
        addresses: vec!["10.244.0.5".parse().unwrap()],
    };
    let client: SocketAddr = "10.244.0.1:51234".parse().unwrap();
    let mut health = Health::default();
    let mut table = String::new();
    for (method, target) in [
        ("GET", "/"),
        ("POST", "/hello?name=world"),
        ("GET", "/healthz"),
        ("GET", "/ready"),
        ("GET", "/healthz/fail"),
        ("GET", "/healthz"),
        ("GET", "/ready"),
        ("GET", "/ready/fail"),
        ("GET", "/ready"),
        ("GET", "/healthz/ok"),
        ("GET", "/healthz"),
        ("GET", "/ready/ok"),
        ("GET", "/ready"),
        ("GET", "/healthz?verbose=1"),
        ("GET", "/healthz/"),
        ("GET", "/crash"),
        ("GET", "/crash?code=3"),
        ("GET", "/crash?reason=test&code=42"),
        ("GET", "/crash?code=0"),
        ("GET", "/crash?code=300"),
        ("GET", "/crash?code=x"),
    ] {
        let request = Request {
            method: method.to_string(),
            target: target.to_string(),
            client,
        };
        let reply = route(&request, &identity, &mut health);
        let exit = match reply.exit_code {
            Some(code) => format!(", then exit {code}"),
            None => String::new(),
        };
        writeln!(table, "{method} {target} -> {}{exit}", reply.status).unwrap();
        for line in reply.body.lines() {
            writeln!(table, "    | {line}").unwrap();
        }
    }
    with_settings!({
        description => "route, request after request, with one Health between them: the page, the probes and their switches, /crash with and without a code",
        omit_expression => true,
    }, {
        assert_snapshot!(table);
    });
}

#[test]
fn request_lines() {
    let mut table = String::new();
    for line in [
        "GET / HTTP/1.1",
        "HEAD /healthz HTTP/1.0",
        "DELETE /x?y=z HTTP/1.1",
        "GET /",
        "GET  / HTTP/1.1",
        "get / HTTP/1.1",
        "GET http://example/ HTTP/1.1",
        "GET / HTTP/2",
        "\u{16}\u{3}\u{1} (a TLS hello)",
    ] {
        let outcome = match parse_request_line(line) {
            Ok((method, target)) => format!("method {method}, target {target}"),
            Err(reason) => format!("refused: {reason}"),
        };
        writeln!(table, "{line:?}\n    {outcome}").unwrap();
    }
    with_settings!({
        description => "parse_request_line: well-formed HTTP/1.x request lines, and the ones the server answers with 400",
        omit_expression => true,
    }, {
        assert_snapshot!(table);
    });
}

/// The requests whose answer is the page, whose length varies with the
/// host's name and addresses.
const PAGES: [&str; 3] = ["GET /", "POST with a body", "HEAD /"];

#[test]
fn the_echo_server_answers_over_http() {
    let mut echo = Echo::start(Some("echo-test"));
    let mut report = String::new();
    let requests: [(&str, &[u8]); 12] = [
        ("GET /", b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
        (
            "POST with a body",
            b"POST /orders?id=7 HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello",
        ),
        ("HEAD /", b"HEAD / HTTP/1.0\r\n\r\n"),
        ("GET /healthz", b"GET /healthz HTTP/1.1\r\n\r\n"),
        ("GET /healthz/fail", b"GET /healthz/fail HTTP/1.1\r\n\r\n"),
        ("GET /healthz", b"GET /healthz HTTP/1.1\r\n\r\n"),
        ("GET /ready/fail", b"GET /ready/fail HTTP/1.1\r\n\r\n"),
        ("GET /ready", b"GET /ready HTTP/1.1\r\n\r\n"),
        ("GET /healthz/ok", b"GET /healthz/ok HTTP/1.1\r\n\r\n"),
        ("GET /healthz", b"GET /healthz HTTP/1.1\r\n\r\n"),
        ("not HTTP", b"hello there\r\n\r\n"),
        (
            "bytes that are not UTF-8",
            b"GET /\xff\xfe HTTP/1.1\r\n\r\n",
        ),
    ];
    for (what, raw) in requests {
        let mut response = exchange(echo.port, raw);
        if PAGES.contains(&what) {
            response = redact_length(&response);
        }
        writeln!(report, "--- {what}\n{}", indent(&response)).unwrap();
    }
    let huge = format!(
        "GET / HTTP/1.1\r\nX-Padding: {}\r\n\r\n",
        "a".repeat(10_000)
    );
    let response = exchange(echo.port, huge.as_bytes());
    writeln!(report, "--- a 10 KB header\n{}", indent(&response)).unwrap();
    // A TCP probe: connects and closes without a word. No answer, no log.
    drop(TcpStream::connect((Ipv4Addr::LOCALHOST, echo.port)).unwrap());
    let response = exchange(echo.port, b"GET /crash?code=7 HTTP/1.1\r\n\r\n");
    writeln!(report, "--- GET /crash?code=7\n{}", indent(&response)).unwrap();
    let status = echo.wait();
    writeln!(report, "the server's exit: {}", describe(status)).unwrap();
    writeln!(
        report,
        "its log (stdout):\n{}",
        indent(&echo.rest_of_stdout())
    )
    .unwrap();
    let report = redact_echo(&report, echo.port);
    with_settings!({
        description => "the echo server as a plain process on 127.0.0.1 (PORT=0, POD_NAME=echo-test): the page, HEAD, a body, the probe switches, malformed requests, a TCP probe, /crash?code=7 and the exit code; then its log. Hostname and addresses are the host's, so redacted.",
        omit_expression => true,
    }, {
        assert_snapshot!(report);
    });
}

#[test]
fn the_echo_server_describes_itself() {
    // Without POD_NAME, the pod's name is the hostname, as in a pod.
    let echo = Echo::start(None);
    let response = exchange(echo.port, b"GET /whoami HTTP/1.1\r\n\r\n");
    let body = response.split("\n\n").nth(1).unwrap_or("").to_string();
    let field = |name: &str| {
        body.lines()
            .find_map(|line| line.strip_prefix(&format!("{name}: ")))
            .unwrap_or("(missing)")
            .to_string()
    };
    let hostname = nix::unistd::gethostname()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let addresses = field("addresses");
    let report = format!(
        "fields: {:?}\n\
         pod is the hostname: {}\n\
         hostname is this machine's: {}\n\
         addresses leave out loopback (127.0.0.1, ::1): {}\n\
         client is 127.0.0.1: {}\n",
        body.lines()
            .filter_map(|line| line.split_once(": "))
            .map(|(name, _)| name)
            .collect::<Vec<_>>(),
        yes(field("pod") == hostname),
        yes(field("hostname") == hostname),
        yes(!addresses.contains("127.0.0.1") && !addresses.split(", ").any(|a| a == "::1")),
        yes(field("client").starts_with("127.0.0.1:")),
    );
    with_settings!({
        description => "GET / without POD_NAME: the pod's name falls back to the hostname; the addresses are not loopback ones",
        omit_expression => true,
    }, {
        assert_snapshot!(report);
    });
}

#[test]
fn the_echo_client() {
    let echo = Echo::start(Some("echo-client-test"));
    let base = format!("http://127.0.0.1:{}", echo.port);
    // A port nobody listens on: bind one, note it, free it.
    let closed = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut report = String::new();
    for args in [
        vec!["get".to_string(), format!("{base}/ready")],
        vec!["get".to_string(), format!("{base}/ready/fail")],
        vec!["get".to_string(), format!("{base}/ready")],
        vec!["get".to_string(), format!("{base}")],
        vec!["get".to_string(), format!("http://127.0.0.1:{closed}/")],
        vec!["get".to_string(), "https://127.0.0.1/".to_string()],
        vec!["get".to_string(), "http://127.0.0.1:notaport/".to_string()],
        vec!["fetch".to_string()],
    ] {
        let output = Command::new(PROGRAM)
            .arg(ECHO_ARG)
            .args(&args)
            .env_clear()
            .stdin(Stdio::null())
            .output()
            .unwrap();
        writeln!(
            report,
            "$ {ECHO_ARG} {}\n  stdout:\n{}  stderr:\n{}  {}\n",
            args.join(" "),
            indent(&indent(&String::from_utf8_lossy(&output.stdout))),
            indent(&indent(&String::from_utf8_lossy(&output.stderr))),
            describe(output.status),
        )
        .unwrap();
    }
    let report = redact_ports(&report, &[(closed, "[closed port]"), (echo.port, "[port]")]);
    let report = redact_echo(&report, echo.port);
    with_settings!({
        description => "the echo client (`__k8s-mini-echo get URL`) against the server: the body and exit 0 for a 2xx answer, exit 1 for a 500 or an error, exit 2 for bad usage",
        omit_expression => true,
    }, {
        assert_snapshot!(report);
    });
}

#[test]
fn pause_reaps_its_children_and_stops_on_sigterm() {
    let mut report = String::new();
    for signal in [Signal::SIGTERM, Signal::SIGINT] {
        // The shell starts a child, then becomes pause (exec keeps the
        // pid): the child is pause's to reap when it exits.
        let script = format!("sleep 0.2 & echo $!; exec {PROGRAM} {PAUSE_ARG}");
        let mut pause = Command::new("sh")
            .args(["-c", &script])
            .env_clear()
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdout = BufReader::new(pause.stdout.take().unwrap());
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        let child: i32 = line
            .trim()
            .parse()
            .expect("the shell should print its child's pid");
        let mut pause = Killer(pause);
        // The child exits after 0.2 s; if pause reaps it, its /proc entry
        // goes. Wait for that, or for at most 10 s.
        let mut reaped = false;
        for _ in 0..1000 {
            if !std::path::Path::new(&format!("/proc/{child}")).exists() {
                reaped = true;
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let child_state = if reaped {
            "reaped".to_string()
        } else {
            let stat = std::fs::read_to_string(format!("/proc/{child}/stat")).unwrap_or_default();
            format!(
                "NOT reaped (state {})",
                stat.split(' ').nth(2).unwrap_or("?")
            )
        };
        kill(Pid::from_raw(pause.0.id() as i32), signal).unwrap();
        let status = wait_bounded(&mut pause.0);
        let mut stderr = String::new();
        pause
            .0
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr)
            .unwrap();
        writeln!(
            report,
            "{signal}:\n  its child, after exiting: {child_state}\n  pause: {}\n  stderr: {}",
            describe(status),
            stderr.trim_end()
        )
        .unwrap();
    }
    with_settings!({
        description => "pause: a child that exits is reaped (no zombie), and SIGTERM or SIGINT stop pause with exit code 0",
        omit_expression => true,
    }, {
        assert_snapshot!(report);
    });
}

// ---- helpers ----

/// An echo server started for one test, on a port of its own choosing
/// (PORT=0): killed and reaped when dropped.
struct Echo {
    child: Option<Child>,
    stdout: BufReader<ChildStdout>,
    port: u16,
}

impl Echo {
    fn start(pod: Option<&str>) -> Echo {
        let mut command = Command::new(PROGRAM);
        command
            .arg(ECHO_ARG)
            .env_clear()
            .env("PORT", "0")
            .env("BIND_ADDRESS", "127.0.0.1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        if let Some(pod) = pod {
            command.env("POD_NAME", pod);
        }
        let mut child = command.spawn().unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        let port = line
            .trim()
            .strip_prefix("echo: listening on 127.0.0.1:")
            .and_then(|port| port.parse().ok());
        let Some(port) = port else {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "the echo server should first print `echo: listening on 127.0.0.1:PORT`, \
                 not {line:?}; does the test program call programs::run_program_if_requested()?"
            );
        };
        Echo {
            child: Some(child),
            stdout,
            port,
        }
    }

    /// Waits for the server to exit by itself (after /crash).
    fn wait(&mut self) -> ExitStatus {
        wait_bounded(self.child.as_mut().unwrap())
    }

    fn rest_of_stdout(&mut self) -> String {
        let mut rest = String::new();
        self.stdout.read_to_string(&mut rest).unwrap();
        rest
    }
}

impl Drop for Echo {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Kills and reaps a child on drop, should the test fail half-way.
struct Killer(Child);

impl Drop for Killer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Waits for `child` for at most 10 s (a guard against a hole that never
/// exits, not a measure): killed if still running then.
fn wait_bounded(child: &mut Child) -> ExitStatus {
    for _ in 0..1000 {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = child.kill();
    child.wait().unwrap()
}

/// Sends `request` on a fresh connection and reads the whole response.
fn exchange(port: u16, request: &[u8]) -> String {
    let mut stream = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream.write_all(request).unwrap();
    let _ = stream.shutdown(Shutdown::Write);
    let mut response = Vec::new();
    if let Err(error) = stream.read_to_end(&mut response) {
        return format!("(no complete response: {error})");
    }
    if response.is_empty() {
        return "(the server closed the connection without answering)".to_string();
    }
    String::from_utf8_lossy(&response).replace("\r\n", "\n")
}

/// The page's host-dependent lines, and the ports, redacted.
fn redact_echo(text: &str, port: u16) -> String {
    let lines: Vec<String> = text
        .lines()
        .map(|line| {
            let trimmed = line.trim_start();
            let indent = &line[..line.len() - trimmed.len()];
            if trimmed.starts_with("hostname: ") {
                format!("{indent}hostname: [hostname]")
            } else if trimmed.starts_with("addresses: ") {
                format!("{indent}addresses: [the host's addresses]")
            } else {
                line.to_string()
            }
        })
        .collect();
    redact_ports(&(lines.join("\n") + "\n"), &[(port, "[port]")])
}

/// `127.0.0.1:43512` -> `127.0.0.1:[client port]`, or the label of a
/// known port.
fn redact_ports(text: &str, known: &[(u16, &str)]) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find("127.0.0.1:") {
        let after = at + "127.0.0.1:".len();
        out.push_str(&rest[..after]);
        rest = &rest[after..];
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        if digits > 0 {
            let label = known
                .iter()
                .find(|(port, _)| rest[..digits] == port.to_string())
                .map_or("[client port]", |(_, label)| label);
            out.push_str(label);
            rest = &rest[digits..];
        }
    }
    out.push_str(rest);
    out
}

/// A page's length depends on the hostname and addresses.
fn redact_length(response: &str) -> String {
    response
        .lines()
        .map(|line| match line.strip_prefix("Content-Length: ") {
            Some(_) => "Content-Length: [length of the page]".to_string(),
            None => line.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

fn describe(status: ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit code {code}"),
        (None, Some(signal)) => format!("killed by signal {signal}"),
        _ => status.to_string(),
    }
}

fn yes(value: bool) -> &'static str {
    if value { "yes" } else { "NO" }
}

fn indent(text: &str) -> String {
    text.lines().map(|line| format!("  {line}\n")).collect()
}
