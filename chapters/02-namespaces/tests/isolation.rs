//! Inside the container: its own processes, hostname and network.

use chapter_02::{Lab, guard};
use insta::{assert_snapshot, with_settings};

const INIT: &str = env!("CARGO_BIN_EXE_container-init");

#[tokio::test]
async fn ps_sees_only_the_container() {
    guard(async {
        let lab = Lab::new(INIT);
        let app = lab.app("ps", "ps", &["-e", "-o", "pid,comm"]);
        let report = lab.run(&app, &lab.isolation()).await;
        with_settings!({
            description => "`ps -e -o pid,comm` in a container: PID 1 is the container's init, ps itself is PID 2, nothing of the host",
            omit_expression => true,
        }, {
            assert_snapshot!(report);
        });
        lab.assert_no_leaks();
    })
    .await;
}

#[tokio::test]
async fn the_hostname_is_the_containers_own() {
    guard(async {
        let lab = Lab::new(INIT);
        let host_before = nix::unistd::gethostname().unwrap();
        let mut isolation = lab.isolation();
        let named = lab.run(&lab.app("web-1", "hostname", &[]), &isolation).await;
        isolation.hostname = Some("chosen.example".into());
        let chosen = lab.run(&lab.app("web-2", "hostname", &[]), &isolation).await;
        with_settings!({
            description => "`hostname` in two containers: by default the container's name (web-1), else the one asked for",
            omit_expression => true,
        }, {
            assert_snapshot!(format!("{named}\n\n{chosen}"));
        });
        assert_eq!(nix::unistd::gethostname().unwrap(), host_before, "the host's hostname changed");
        lab.assert_no_leaks();
    })
    .await;
}

#[tokio::test]
async fn the_network_has_only_a_working_loopback() {
    guard(async {
        let lab = Lab::new(INIT);
        let app = lab.app("net", "sh", &["-c", "echo ready; exec sleep 60"]);
        let mut supervisor = lab.start(&app, &lab.isolation()).await;
        let events = chapter_02::wait_for_log(&mut supervisor, &lab.log_path("net"), "ready").await;
        let Some(process::Event::Started { pid, .. }) = events.first().cloned() else {
            panic!("the container did not start:\n{}", lab.report("net", &events));
        };
        // The init program's first process lives in the container's network
        // namespace (only its PID namespace differs): look through its eyes.
        let namespace = format!("/proc/{pid}/ns/net");
        let view = std::thread::spawn(move || look_at_network(&namespace)).join().unwrap();
        supervisor.stop(std::time::Duration::from_secs(5));
        chapter_02::all_events(supervisor).await;
        with_settings!({
            description => "the container's network namespace seen from inside: its devices with their flags, and a TCP connection to 127.0.0.1",
            omit_expression => true,
        }, {
            assert_snapshot!(view);
        });
        lab.assert_no_leaks();
    })
    .await;
}

/// Enters a network namespace on this thread only (a thread's namespace is
/// its own) and describes what it finds.
fn look_at_network(namespace: &str) -> String {
    use std::io::{Read, Write};
    let own = std::fs::metadata("/proc/thread-self/ns/net")
        .map(|m| std::os::unix::fs::MetadataExt::ino(&m));
    let file = std::fs::File::open(namespace).expect("the container's network namespace");
    nix::sched::setns(&file, nix::sched::CloneFlags::CLONE_NEWNET)
        .expect("setns into the container's network");
    let inside = std::fs::metadata("/proc/thread-self/ns/net")
        .map(|m| std::os::unix::fs::MetadataExt::ino(&m));
    let mut report = format!("a namespace of its own: {}\n", own.ok() != inside.ok());
    let mut devices: Vec<String> = nix::ifaddrs::getifaddrs()
        .expect("getifaddrs")
        .map(|address| {
            let flags = address.flags;
            let mut names = Vec::new();
            for (flag, name) in [
                (nix::net::if_::InterfaceFlags::IFF_UP, "UP"),
                (nix::net::if_::InterfaceFlags::IFF_LOOPBACK, "LOOPBACK"),
                (nix::net::if_::InterfaceFlags::IFF_RUNNING, "RUNNING"),
            ] {
                if flags.contains(flag) {
                    names.push(name);
                }
            }
            format!("device {} <{}>", address.interface_name, names.join(","))
        })
        .collect();
    devices.sort();
    devices.dedup();
    report += &devices.join("\n");
    let answer = std::net::TcpListener::bind("127.0.0.1:0").and_then(|listener| {
        let mut client = std::net::TcpStream::connect(listener.local_addr()?)?;
        let (mut server, _) = listener.accept()?;
        client.write_all(b"hello")?;
        let mut buffer = [0; 5];
        server.read_exact(&mut buffer)?;
        Ok(String::from_utf8_lossy(&buffer).into_owned())
    });
    report += &format!("\nTCP over 127.0.0.1: {answer:?}");
    report
}
