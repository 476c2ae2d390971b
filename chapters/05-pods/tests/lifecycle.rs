//! Pods come and go without a trace, and bad pods fail clearly.
//! Holes exercised: `phase` (src/status.rs), `runs_again`
//! (src/container.rs), `mounts` (src/volumes.rs).

use std::time::Duration;

use chapter_05::pods::{
    ConditionType, Container, ContainerPort, ContainerState, PodPhase, Volume, VolumeSource,
};
use chapter_05::{LIMIT, Lab, describe, guard};
use insta::{assert_snapshot, with_settings};
use process::RestartPolicy;

const INIT: &str = env!("CARGO_BIN_EXE_pod-init");

/// The pod has ended in `phase` and its sandbox is gone (what the
/// snapshots show is then settled).
fn ended(status: &chapter_05::pods::PodStatus, phase: PodPhase) -> bool {
    status.phase == phase
        && status.condition(ConditionType::PodReadyToStartContainers) == Some(false)
}

#[tokio::test]
async fn a_hundred_pods_leave_nothing_behind() {
    guard(a_hundred_pods()).await
}

async fn a_hundred_pods() {
    let lab = Lab::new(INIT);
    let mut addresses = std::collections::BTreeSet::new();
    for round in 0..100 {
        let spec = lab.pod("churn", vec![Container::new("echo", "k8s-mini/echo")]);
        let pod = lab.run(spec);
        let status = pod
            .wait_for(LIMIT, |status| status.phase == PodPhase::Running)
            .await
            .unwrap_or_else(|status| panic!("round {round}:\n{}", describe(&status)));
        addresses.insert(status.pod_ip.expect("an address"));
        let last = pod.delete(Some(Duration::from_secs(2))).await;
        assert_eq!(
            last.pod_ip, None,
            "round {round}: the address was not released"
        );
    }
    // The allocator goes round the subnet rather than reusing the address
    // just released at once, as the CNI host-local plugin does.
    assert!(addresses.len() > 1, "every pod got the same address");
    // finish() checks that no allocation, interface, cgroup, mount,
    // process or directory of the instance is left.
    lab.finish();
}

#[tokio::test]
async fn bad_pods_fail_clearly_and_leave_nothing_behind() {
    guard(bad_pods()).await
}

async fn bad_pods() {
    let lab = Lab::new(INIT);
    let mut report = Vec::new();

    let mut spec = lab.pod("bad-port", vec![Container::new("web", "k8s-mini/echo")]);
    spec.containers[0].ports.push(ContainerPort {
        name: None,
        container_port: 70000,
        protocol: "TCP".into(),
    });
    spec.containers[0]
        .volume_mounts
        .push(chapter_05::pods::VolumeMount {
            name: "nowhere".into(),
            mount_path: "/data".into(),
            read_only: false,
        });
    let pod = lab.run(spec);
    let status = pod
        .wait_for(LIMIT, |status| ended(status, PodPhase::Failed))
        .await
        .unwrap();
    report.push(format!(
        "a port out of range and a mount of no volume:\n{}",
        describe(&status)
    ));
    pod.delete(None).await;

    let spec = lab.pod(
        "no-image",
        vec![Container::new("web", "example.com/missing:1.0")],
    );
    let pod = lab.run(spec);
    let status = pod
        .wait_for(LIMIT, |status| {
            matches!(&status.container_statuses[0].state, ContainerState::Waiting { reason, .. } if reason == "ErrImageNeverPull")
        })
        .await
        .unwrap();
    report.push(format!(
        "an image that is not in the store:\n{}",
        describe(&status)
    ));
    pod.delete(None).await;

    let mut spec = lab.pod(
        "no-command",
        vec![Container::new("web", "busybox").command(["no-such-command"])],
    );
    spec.restart_policy = RestartPolicy::Never;
    let pod = lab.run(spec);
    let status = pod
        .wait_for(LIMIT, |status| ended(status, PodPhase::Failed))
        .await
        .unwrap();
    report.push(format!(
        "a command that does not exist:\n{}",
        describe(&status)
    ));
    pod.delete(None).await;

    let mut spec = lab.pod(
        "no-host-path",
        vec![Container::new("web", "busybox").mount("host", "/host")],
    );
    spec.volumes.push(Volume {
        name: "host".into(),
        source: VolumeSource::HostPath {
            path: "/no/such/path".into(),
            writable: false,
        },
    });
    let pod = lab.run(spec);
    let status = pod
        .wait_for(LIMIT, |status| ended(status, PodPhase::Failed))
        .await
        .unwrap();
    report.push(format!(
        "a hostPath that does not exist:\n{}",
        describe(&status)
    ));
    pod.delete(None).await;

    with_settings!({
        description => "pods this node cannot run: each fails or waits with the reason in its status, and nothing of it stays on the host",
    }, {
        assert_snapshot!(lab.redact(&report.join("\n")));
    });
    lab.finish();
}

#[tokio::test]
async fn a_host_path_is_read_only_unless_writable() {
    guard(host_path()).await
}

async fn host_path() {
    let lab = Lab::new(INIT);
    let host = tempfile::tempdir().unwrap();
    std::fs::write(host.path().join("file"), "from the host\n").unwrap();
    let script = "cat /ro/file; { echo x > /ro/new; } 2>&1 || echo 'read-only: refused'; echo written > /rw/new && echo 'writable: written'";
    let mut spec = lab.pod(
        "host",
        vec![
            Container::new("shell", "busybox")
                .command(["sh", "-c", script])
                .mount("ro", "/ro")
                .mount("rw", "/rw"),
        ],
    );
    spec.restart_policy = RestartPolicy::Never;
    for (name, writable) in [("ro", false), ("rw", true)] {
        spec.volumes.push(Volume {
            name: name.into(),
            source: VolumeSource::HostPath {
                path: host.path().to_path_buf(),
                writable,
            },
        });
    }
    let pod = lab.run(spec);
    let status = pod
        .wait_for(LIMIT, |status| ended(status, PodPhase::Succeeded))
        .await
        .unwrap_or_else(|status| panic!("{}", describe(&status)));
    let log = chapter_05::pods::logs::text(&pod.logs("shell", false).unwrap());
    pod.delete(None).await;
    let on_host = std::fs::read_to_string(host.path().join("new")).unwrap_or_default();
    assert_snapshot!(format!(
        "{}\nlog:\n{log}\nthe host's directory now has new: {on_host}",
        describe(&status)
    ));
    lab.finish();
}

#[tokio::test]
async fn restart_policies_decide_what_runs_again() {
    guard(restart_policies()).await
}

/// A container that fails on its first run and succeeds on its second: it
/// counts its runs in a file of an emptyDir volume, which outlives runs.
fn fails_once(name: &str) -> Container {
    let script = "echo run >> /state/runs; [ $(wc -l < /state/runs) -ge 2 ]";
    Container::new(name, "busybox")
        .command(["sh", "-c", script])
        .mount("state", "/state")
}

async fn restart_policies() {
    let lab = Lab::new(INIT);
    let mut report = Vec::new();
    let cases = [
        ("always-init", RestartPolicy::Always, true),
        ("on-failure", RestartPolicy::OnFailure, false),
        ("never", RestartPolicy::Never, false),
        ("never-init", RestartPolicy::Never, true),
    ];
    for (name, policy, init) in cases {
        let mut spec = lab.pod(name, Vec::new());
        spec.restart_policy = policy;
        spec.volumes.push(Volume {
            name: "state".into(),
            source: VolumeSource::EmptyDir,
        });
        if init {
            spec.init_containers.push(fails_once("setup"));
            spec.containers
                .push(Container::new("app", "busybox").command(["sleep", "30"]));
        } else {
            spec.containers.push(fails_once("app"));
        }
        let pod = lab.run(spec);
        // A pod that has ended has also lost its sandbox; one that runs
        // has its app running.
        let settled = |status: &chapter_05::pods::PodStatus| match status.phase {
            PodPhase::Succeeded | PodPhase::Failed => {
                status.condition(ConditionType::PodReadyToStartContainers) == Some(false)
            }
            // Only the app that sleeps is waited for running.
            PodPhase::Running => init && status.container_statuses[0].state.is_running(),
            PodPhase::Pending => false,
        };
        let status = pod
            .wait_for(LIMIT, settled)
            .await
            .unwrap_or_else(|status| panic!("{name}:\n{}", describe(&status)));
        report.push(format!(
            "{name} (restart policy {policy:?}):\n{}",
            describe(&status)
        ));
        pod.delete(Some(Duration::from_secs(2))).await;
    }
    with_settings!({
        description => "each container fails on its first run and succeeds on its second. Init containers run again after a failure unless the policy is Never; app containers follow the policy (OnFailure: again after a failure; Never: not again)",
    }, {
        assert_snapshot!(report.join("\n"));
    });
    lab.finish();
}
