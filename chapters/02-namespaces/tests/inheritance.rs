//! What the application must not get from the runtime that starts it: open
//! descriptors, supplementary groups, the init's OOM protection or core
//! limit, a view of the host's cgroup tree.
//!
//! These tests start the init program directly, as the supervisor would,
//! so that they can give it what a careless parent gives: a descriptor
//! without O_CLOEXEC, extra groups, a core limit.

use std::ffi::CString;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use chapter_02::namespaces::{CONFIG_VAR, ContainerConfig, INIT_ARG, Isolation};
use insta::{assert_snapshot, with_settings};

const INIT: &str = env!("CARGO_BIN_EXE_container-init");

/// What the parent of the init program does to it before exec.
#[derive(Default)]
struct Parent {
    /// A file it opens without O_CLOEXEC, so that the init inherits it.
    leaked: Option<PathBuf>,
    /// Supplementary groups it has.
    groups: Vec<libc::gid_t>,
    /// RLIMIT_CORE (soft, hard) it has.
    core_limit: Option<(libc::rlim_t, libc::rlim_t)>,
    /// The init's working directory.
    dir: Option<PathBuf>,
}

/// Runs `script` with `sh -c` in a container (every namespace) whose init
/// program is started by `parent`.
fn run(
    instance: &str,
    isolation: Isolation,
    script: &str,
    working_dir: &Path,
    parent: Parent,
) -> Output {
    let config = ContainerConfig {
        name: "heir".into(),
        instance: instance.to_string(),
        isolation,
        command: "sh".into(),
        args: vec!["-c".into(), script.into()],
        env: Vec::new(),
        working_dir: working_dir.to_path_buf(),
        extensions: Default::default(),
        shim: None,
    };
    let leaked = parent
        .leaked
        .map(|path| CString::new(path.into_os_string().into_encoded_bytes()).unwrap());
    let groups = parent.groups;
    let core_limit = parent.core_limit;
    let mut command = Command::new(INIT);
    command
        .arg(INIT_ARG)
        .env_clear()
        .env(CONFIG_VAR, serde_json::to_string(&config).unwrap())
        .current_dir(parent.dir.unwrap_or_else(|| PathBuf::from("/")));
    // SAFETY: only system calls between fork and exec, on data prepared
    // before the fork.
    unsafe {
        command.pre_exec(move || {
            if let Some(path) = &leaked
                && libc::open(path.as_ptr(), libc::O_RDONLY) < 0
            {
                return Err(std::io::Error::last_os_error());
            }
            if !groups.is_empty() && libc::setgroups(groups.len(), groups.as_ptr()) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            if let Some((soft, hard)) = core_limit {
                let limit = libc::rlimit {
                    rlim_cur: soft,
                    rlim_max: hard,
                };
                if libc::setrlimit(libc::RLIMIT_CORE, &limit) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            Ok(())
        });
    }
    command.output().expect("the init program runs")
}

fn describe(output: &Output) -> String {
    format!(
        "status: {:?}, signal: {:?}\nstdout:\n{}stderr:\n{}",
        output.status.code(),
        std::os::unix::process::ExitStatusExt::signal(&output.status),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn the_application_inherits_no_descriptors_groups_or_init_settings() {
    if !testkit::is_root() {
        return testkit::skip(
            "this test gives the init program groups and limits, which needs root",
        );
    }
    let instance = testkit::unique_instance("ch02-heir");
    let leaks = testkit::LeakCheck::new(&instance);
    let tmp = tempfile::tempdir().unwrap();
    let secret = tmp.path().join("host-secret");
    std::fs::write(&secret, "not for containers\n").unwrap();
    let script = "echo 'descriptors of the application:'; ls /proc/$$/fd; \
                  grep '^Groups:' /proc/self/status; \
                  echo \"oom_score_adj: PID 1 $(cat /proc/1/oom_score_adj), application $(cat /proc/self/oom_score_adj)\"; \
                  echo \"core limit of PID 1: $(grep 'core file' /proc/1/limits | tr -s ' ' | cut -d' ' -f5,6)\"; \
                  echo \"core limit of the application: $(grep 'core file' /proc/self/limits | tr -s ' ' | cut -d' ' -f5,6)\"";
    let parent = Parent {
        leaked: Some(secret),
        groups: vec![4, 27, 100],
        core_limit: Some((4096, libc::RLIM_INFINITY)),
        dir: None,
    };
    let output = run(
        &instance,
        Isolation::container(false),
        script,
        Path::new("/"),
        parent,
    );
    // Some machines (sandboxed VMs) refuse even root a negative score:
    // there PID 1 stays at 0 like everybody else.
    let protected = if root_may_lower_oom_score() {
        "-1000"
    } else {
        "0"
    };
    let text = describe(&output).replace(
        &format!("oom_score_adj: PID 1 {protected},"),
        "oom_score_adj: PID 1 [-1000 where the machine allows],",
    );
    with_settings!({
        description => "the init program's parent left a host file open (no O_CLOEXEC), gave it groups 4, 27, 100 and a core limit of 4096: the application gets descriptors 0-2 only, no groups, an OOM score of 0 while PID 1 keeps -1000, and the core limit back while PID 1 has 0",
        omit_expression => true,
    }, {
        assert_snapshot!(text);
    });
    leaks.assert_clean();
}

/// Whether this machine lets root set an OOM score adjustment of -1000.
fn root_may_lower_oom_score() -> bool {
    Command::new("sh")
        .args([
            "-c",
            "echo -1000 > /proc/self/oom_score_adj && cat /proc/self/oom_score_adj",
        ])
        .output()
        .is_ok_and(|output| String::from_utf8_lossy(&output.stdout).trim() == "-1000")
}

#[test]
fn the_container_sees_its_own_cgroup_as_the_root() {
    if !testkit::is_root() {
        return testkit::skip("this test makes a cgroup, which needs root");
    }
    let instance = testkit::unique_instance("ch02-cgns");
    let leaks = testkit::LeakCheck::new(&instance);
    let Some(hierarchy) = some_cgroup_hierarchy() else {
        return testkit::skip("no cgroup hierarchy is mounted on this machine");
    };
    let cgroup = hierarchy.join(&instance);
    std::fs::create_dir(&cgroup).unwrap();
    let mut isolation = Isolation::container(false);
    isolation.cgroup_procs = vec![cgroup.join("cgroup.procs")];
    // Each line of /proc/self/cgroup is "id:controllers:path"; the path of
    // the hierarchy we joined is /<instance> from the host.
    let script = "cut -d: -f3 /proc/self/cgroup | sort -u";
    let output = run(
        &instance,
        isolation,
        script,
        Path::new("/"),
        Parent::default(),
    );
    std::fs::remove_dir(&cgroup).unwrap();
    let text = describe(&output).replace(&instance, "[instance]");
    with_settings!({
        description => "a container placed in the cgroup /[instance] prints the cgroup paths of /proc/self/cgroup: with its own cgroup namespace, every one is /",
        omit_expression => true,
    }, {
        assert_snapshot!(text);
    });
    leaks.assert_clean();
}

/// A mounted cgroup hierarchy to make a test's cgroup in: the unified one
/// if there is one, else any v1 one.
fn some_cgroup_hierarchy() -> Option<PathBuf> {
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    let mounts: Vec<(String, String)> = mountinfo
        .lines()
        .filter_map(|line| {
            let (left, right) = line.split_once(" - ")?;
            let mount_point = left.split_whitespace().nth(4)?.to_string();
            let fstype = right.split_whitespace().next()?.to_string();
            Some((mount_point, fstype))
        })
        .collect();
    let pick = |wanted: &str| {
        mounts
            .iter()
            .find(|(_, fstype)| fstype == wanted)
            .map(|(mount_point, _)| PathBuf::from(mount_point))
    };
    pick("cgroup2").or_else(|| pick("cgroup"))
}

#[test]
fn the_init_processes_never_dump_core_but_the_application_may() {
    if !testkit::is_root() {
        return testkit::skip("this test raises the core limit, which needs root");
    }
    let pattern = std::fs::read_to_string("/proc/sys/kernel/core_pattern").unwrap_or_default();
    let pattern = pattern.trim();
    if pattern.is_empty() || pattern.starts_with('|') || pattern.contains('/') {
        return testkit::skip(&format!(
            "core dumps go to {pattern:?} here, not to a file in the working directory that the test can look at"
        ));
    }
    let instance = testkit::unique_instance("ch02-core");
    let leaks = testkit::LeakCheck::new(&instance);
    let tmp = tempfile::tempdir().unwrap();
    let (init_dir, app_dir) = (tmp.path().join("init"), tmp.path().join("app"));
    std::fs::create_dir(&init_dir).unwrap();
    std::fs::create_dir(&app_dir).unwrap();
    let parent = Parent {
        core_limit: Some((libc::RLIM_INFINITY, libc::RLIM_INFINITY)),
        dir: Some(init_dir.clone()),
        ..Parent::default()
    };
    // The application crashes: the first process of the init dies by the
    // same signal to report it, and must not dump its own core doing so.
    let output = run(
        &instance,
        Isolation::container(false),
        "kill -SEGV $$",
        &app_dir,
        parent,
    );
    let cores = |dir: &Path| {
        std::fs::read_dir(dir)
            .unwrap()
            .flatten()
            .filter(|entry| entry.file_name().to_string_lossy().starts_with(pattern))
            .count()
    };
    let text = format!(
        "{}\ncore files of the application: {}\ncore files of the init program: {}",
        describe(&output),
        cores(&app_dir),
        cores(&init_dir)
    );
    with_settings!({
        description => "an application killed by SIGSEGV with an unlimited core limit: it dumps core in its directory; the init program, which dies by the same signal to report it, dumps none in its own",
        omit_expression => true,
    }, {
        assert_snapshot!(text);
    });
    leaks.assert_clean();
}
