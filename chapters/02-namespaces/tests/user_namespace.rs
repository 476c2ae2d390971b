//! Rootless containers: hole `write_id_maps` (src/userns.rs).

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::process::Command;

use chapter_02::namespaces::{
    CONFIG_VAR, ContainerConfig, INIT_ARG, IdMapping, Isolation, id_map_line, write_id_maps,
};
use insta::{assert_snapshot, with_settings};

const INIT: &str = env!("CARGO_BIN_EXE_container-init");

#[test]
fn id_maps_are_written_in_the_kernels_format() {
    let fake_proc = tempfile::tempdir().unwrap();
    let uid = IdMapping {
        inside: 0,
        outside: 1000,
        count: 1,
    };
    let gid = IdMapping {
        inside: 0,
        outside: 100,
        count: 1,
    };
    write_id_maps(fake_proc.path(), uid, gid).unwrap();
    let read = |file: &str| std::fs::read_to_string(fake_proc.path().join(file)).unwrap();
    let text = format!(
        "setgroups: {:?}\nuid_map:   {:?}\ngid_map:   {:?}\nline for 1000 ids from 100000: {:?}",
        read("setgroups"),
        read("uid_map"),
        read("gid_map"),
        id_map_line(IdMapping {
            inside: 0,
            outside: 100_000,
            count: 1000
        })
    );
    with_settings!({
        description => "write_id_maps into a directory that stands in for /proc/self: uid 1000 and gid 100 become 0 inside",
        omit_expression => true,
    }, {
        assert_snapshot!(text);
    });
}

/// An ordinary user (nobody, uid 65534) runs the init program directly:
/// the user namespace makes it root inside, and nothing else is needed.
#[test]
fn an_ordinary_user_gets_a_container_where_it_is_root() {
    if !testkit::is_root() {
        return testkit::skip(
            "this test switches to the user nobody, which needs root; run the suite as root to include it",
        );
    }
    let instance = testkit::unique_instance("ch02-rootless");
    let leaks = testkit::LeakCheck::new(&instance);
    let mut isolation = Isolation::container(false);
    isolation.user = Some((
        IdMapping {
            inside: 0,
            outside: 65534,
            count: 1,
        },
        IdMapping {
            inside: 0,
            outside: 65534,
            count: 1,
        },
    ));
    isolation.hostname = Some("rootless".into());
    let config = ContainerConfig {
        name: "rootless".into(),
        instance: instance.clone(),
        isolation,
        command: "sh".into(),
        args: vec![
            "-c".into(),
            "echo \"uid $(id -u) gid $(id -g) on $(hostname)\"; cat /proc/self/uid_map".into(),
        ],
        env: Vec::new(),
        working_dir: "/".into(),
        extensions: Default::default(),
        shim: None,
    };
    // The user nobody must be able to run the program wherever the build
    // is (a home directory may be closed to others): give it a copy.
    let public = tempfile::tempdir().unwrap();
    std::fs::set_permissions(public.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let program = public.path().join("container-init");
    std::fs::copy(INIT, &program).unwrap();
    let mut command = Command::new(&program);
    command
        .arg(INIT_ARG)
        .env_clear()
        .env(CONFIG_VAR, serde_json::to_string(&config).unwrap())
        .uid(65534)
        .gid(65534)
        .current_dir("/");
    // A process forked elsewhere in this multi-threaded test binary while
    // the copy was open for writing holds it until its own exec: meanwhile
    // the kernel refuses to run the file (ETXTBSY).
    let mut attempts = 0;
    let output = loop {
        match command.output() {
            Err(error) if error.raw_os_error() == Some(26) && attempts < 100 => {
                attempts += 1;
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            result => break result.unwrap(),
        }
    };
    let text = format!(
        "status: {:?}\nstdout:\n{}stderr:\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    with_settings!({
        description => "uid 65534 (nobody) runs a container with a user namespace that maps it to 0: root inside, every namespace, no privilege outside",
        omit_expression => true,
    }, {
        assert_snapshot!(text);
    });
    leaks.assert_clean();
}
