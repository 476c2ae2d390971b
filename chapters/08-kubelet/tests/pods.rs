//! Pods created through the API run on the node: status, crash loops,
//! deletion, images, admission, QoS, events, and the API server
//! restarting under the agent.

use std::time::{Duration, Instant};

use chapter_08::{Lab, Options, guard, pod};
use insta::assert_snapshot;
use objects::{Event, Pod};

const INIT: &str = env!("CARGO_BIN_EXE_kubelet-init");

fn phase(pod: Option<&Pod>) -> Option<&str> {
    pod?.status.phase.as_deref()
}

fn waiting_reason(pod: Option<&Pod>) -> Option<String> {
    let status = pod?.status.container_statuses.first()?;
    status.state.as_ref()?.waiting.as_ref()?.reason.clone()
}

fn restarts(pod: Option<&Pod>) -> i32 {
    pod.and_then(|p| p.status.container_statuses.first())
        .map_or(0, |s| s.restart_count)
}

/// The pod's events, one `Type Reason: message` line each, in a stable
/// order (several happen within one second), repeats counted once.
async fn events(lab: &Lab, name: &str) -> String {
    let list = lab
        .client
        .api::<Event>(Some("default"))
        .list(&Default::default())
        .await
        .expect("the events");
    let mut lines: Vec<String> = list
        .items
        .iter()
        .filter(|e| e.involved_object.name.as_deref() == Some(name))
        .map(|e| {
            let source = e.source.clone().unwrap_or_default();
            format!(
                "{} {} ({} on {}): {}",
                e.event_type.clone().unwrap_or_default(),
                e.reason.clone().unwrap_or_default(),
                source.component.unwrap_or_default(),
                source.host.unwrap_or_default(),
                e.message.clone().unwrap_or_default()
            )
        })
        .collect();
    lines.sort();
    lines.dedup();
    lab.redact(&lines.join("\n"))
}

const SLEEPER: &str = "  terminationGracePeriodSeconds: 5\n  containers:\n  - name: main\n    image: busybox\n    command: [sleep, \"1000\"]\n";

#[tokio::test]
async fn a_pod_created_with_kubectl_runs_with_an_address() {
    guard(runs()).await
}

async fn runs() {
    let lab = Lab::start(INIT).await;
    let manifest = pod(
        "web",
        &lab.node,
        &format!("{SLEEPER}    resources:\n      limits: {{cpu: 500m, memory: 64Mi}}\n"),
    );
    let applied = lab
        .kubectl_with_input(&["apply", "-f", "-"], Some(&manifest))
        .await;
    assert_eq!(applied, "pod/web created\n");
    let pod = lab
        .wait_for("web", |p| {
            phase(p) == Some("Running") && p.is_some_and(|p| p.status.pod_ip.is_some())
        })
        .await
        .expect("the pod");
    let ip: std::net::Ipv4Addr = pod
        .status
        .pod_ip
        .as_deref()
        .unwrap()
        .parse()
        .expect("an IPv4 address");
    assert!(
        lab.subnet.contains(ip),
        "{ip} is not in the node's subnet {}",
        lab.subnet
    );
    let mut text = String::from("$ kubectl get pod web -o yaml   (status)\n");
    let yaml = lab.kubectl(&["get", "pod", "web", "-o", "yaml"]).await;
    text += &yaml[yaml.find("status:").expect("a status")..];
    text += "\nevents:\n";
    text += &events(&lab, "web").await;
    assert_snapshot!(lab.redact(&text));
    // Its container really is limited as asked (chapter 04's cgroup: v1's
    // memory controller, or the unified hierarchy's memory.max).
    let uid = pod.metadata.uid.as_deref().expect("a uid");
    let dir = format!("k8s-mini-{}/pods/{uid}/main", lab.instance);
    let limit = [
        format!("/sys/fs/cgroup/memory/{dir}/memory.limit_in_bytes"),
        format!("/sys/fs/cgroup/{dir}/memory.max"),
    ]
    .iter()
    .find_map(|path| std::fs::read_to_string(path).ok())
    .unwrap_or_else(|| panic!("no memory limit file for the container's cgroup {dir}"));
    assert_eq!(limit.trim(), (64u64 << 20).to_string());
    lab.finish().await;
}

#[tokio::test]
async fn a_crashing_container_backs_off_longer_each_time() {
    guard(crash_loop()).await
}

async fn crash_loop() {
    let options = Options {
        backoff: process::Backoff {
            initial: Duration::from_millis(400),
            max: Duration::from_secs(10),
            reset_after: Duration::from_secs(600),
        },
        ..Options::default()
    };
    let lab = Lab::start_with(INIT, options).await;
    let spec = "  containers:\n  - name: main\n    image: busybox\n    command: [sh, -c, \"echo dying; exit 3\"]\n";
    lab.kubectl_with_input(&["apply", "-f", "-"], Some(&pod("crash", &lab.node, spec)))
        .await;
    let mut seen = Vec::new();
    let mut last = 0;
    let deadline = Instant::now() + Duration::from_secs(40);
    while seen.len() < 4 {
        assert!(
            Instant::now() < deadline,
            "only {} restarts in 40 s",
            seen.len()
        );
        let count = restarts(lab.pod("crash").await.as_ref());
        if count > last {
            seen.push(Instant::now());
            last = count;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let gaps: Vec<Duration> = seen.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(
        gaps[2] > gaps[0] * 2,
        "the back-off does not grow: gaps between restarts {gaps:?}"
    );
    let pod = lab
        .wait_for("crash", |p| {
            waiting_reason(p).as_deref() == Some("CrashLoopBackOff")
        })
        .await
        .expect("the pod");
    let status = &pod.status.container_statuses[0];
    let last_state = status
        .last_state
        .as_ref()
        .and_then(|s| s.terminated.as_ref())
        .expect("a last state");
    assert_eq!(
        (last_state.exit_code, last_state.reason.as_deref()),
        (3, Some("Error"))
    );
    let listed = lab.kubectl(&["get", "pod", "crash", "--no-headers", "-o", "custom-columns=STATUS:.status.containerStatuses[0].state.waiting.reason,PHASE:.status.phase"]).await;
    assert_eq!(
        listed.split_whitespace().collect::<Vec<_>>(),
        ["CrashLoopBackOff", "Running"]
    );
    // Repeats are counted on one event, not posted again.
    let list = lab
        .client
        .api::<Event>(Some("default"))
        .list(&Default::default())
        .await
        .expect("the events");
    let back_offs: Vec<&Event> = list
        .items
        .iter()
        .filter(|e| e.reason.as_deref() == Some("BackOff"))
        .collect();
    assert_eq!(back_offs.len(), 1, "{back_offs:#?}");
    assert!(back_offs[0].count >= Some(3), "{back_offs:#?}");
    assert!(back_offs[0].last_timestamp > back_offs[0].first_timestamp);
    let events = events(&lab, "crash").await;
    assert!(events.contains("Warning BackOff (kubelet on <node>): Back-off restarting failed container main in pod crash_default("), "{events}");
    lab.finish().await;
}

#[tokio::test]
async fn delete_stops_the_pod_within_its_grace_period_then_removes_it() {
    guard(delete()).await
}

async fn delete() {
    let lab = Lab::start(INIT).await;
    // One that ends at SIGTERM, one that ignores it (killed at the end of
    // its 2 s grace period).
    let stubborn = "  terminationGracePeriodSeconds: 2\n  containers:\n  - name: main\n    image: busybox\n    command: [sh, -c, \"trap '' TERM; while true; do sleep 1; done\"]\n";
    lab.kubectl_with_input(
        &["apply", "-f", "-"],
        Some(&pod("quick", &lab.node, SLEEPER)),
    )
    .await;
    lab.kubectl_with_input(
        &["apply", "-f", "-"],
        Some(&pod("stubborn", &lab.node, stubborn)),
    )
    .await;
    for name in ["quick", "stubborn"] {
        lab.wait_for(name, |p| phase(p) == Some("Running")).await;
    }
    let started = Instant::now();
    let answer = lab.kubectl(&["delete", "pod", "quick"]).await;
    let quick = started.elapsed();
    assert_eq!(answer, "pod \"quick\" deleted\n");
    assert!(
        quick < Duration::from_secs(4),
        "a pod that ends at SIGTERM took {quick:?}"
    );
    assert!(
        lab.pod("quick").await.is_none(),
        "the pod object is still there"
    );
    // The stubborn one: SIGKILL at the end of its 2 s, not before, not
    // much after. (The API server may drop the object at its deadline
    // itself: the node's own pod table tells when the pod stopped.)
    let started = Instant::now();
    let answer = lab
        .kubectl(&["delete", "pod", "stubborn", "--wait=false"])
        .await;
    assert_eq!(answer, "pod \"stubborn\" deleted\n");
    let table = lab.kubelet.as_ref().unwrap().pods();
    while !table.keys().is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the pod still runs after 10 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let stubborn = started.elapsed();
    assert!(
        stubborn >= Duration::from_millis(1900) && stubborn < Duration::from_secs(6),
        "a pod that ignores SIGTERM stopped after {stubborn:?}, not at the end of its 2 s"
    );
    lab.wait_for("stubborn", |pod| pod.is_none()).await;
    assert!(
        lab.kubelet.as_ref().unwrap().pods().keys().is_empty(),
        "the node still runs a pod"
    );
    let events = events(&lab, "stubborn").await;
    assert!(
        events.contains("Normal Killing (kubelet on <node>): Stopping container main"),
        "{events}"
    );
    lab.finish().await;
}

#[tokio::test]
async fn missing_images_wait_with_kubernetes_reasons() {
    guard(images()).await
}

async fn images() {
    let lab = Lab::start(INIT).await;
    let never = "  containers:\n  - name: main\n    image: example/absent:1.0\n    imagePullPolicy: Never\n";
    let pull = "  containers:\n  - name: main\n    image: example/absent:2.0\n";
    lab.kubectl_with_input(&["apply", "-f", "-"], Some(&pod("never", &lab.node, never)))
        .await;
    lab.kubectl_with_input(&["apply", "-f", "-"], Some(&pod("pull", &lab.node, pull)))
        .await;
    let never = lab
        .wait_for("never", |p| {
            waiting_reason(p).as_deref() == Some("ErrImageNeverPull")
        })
        .await
        .expect("the pod");
    lab.wait_for("pull", |p| {
        waiting_reason(p).as_deref() == Some("ErrImagePull")
    })
    .await;
    let pull = lab
        .wait_for("pull", |p| {
            waiting_reason(p).as_deref() == Some("ImagePullBackOff")
        })
        .await
        .expect("the pod");
    let message = |pod: &Pod| {
        let state = pod.status.container_statuses[0]
            .state
            .clone()
            .unwrap_or_default();
        state.waiting.and_then(|w| w.message).unwrap_or_default()
    };
    let mut text = format!(
        "never: {} {}\n  {}\npull: {} {}\n  {}\n",
        phase(Some(&never)).unwrap_or_default(),
        waiting_reason(Some(&never)).unwrap_or_default(),
        message(&never),
        phase(Some(&pull)).unwrap_or_default(),
        waiting_reason(Some(&pull)).unwrap_or_default(),
        message(&pull),
    );
    text += "events of pull:\n";
    text += &events(&lab, "pull").await;
    assert_snapshot!(text);
    lab.finish().await;
}

#[tokio::test]
async fn a_pod_that_does_not_fit_is_rejected_at_admission() {
    guard(admission()).await
}

async fn admission() {
    let lab = Lab::start(INIT).await;
    let greedy = "  containers:\n  - name: main\n    image: busybox\n    command: [sleep, \"1000\"]\n    resources:\n      requests: {cpu: \"3\"}\n";
    let hungry = "  containers:\n  - name: main\n    image: busybox\n    command: [sleep, \"1000\"]\n    resources:\n      requests: {memory: 2Gi}\n";
    lab.kubectl_with_input(
        &["apply", "-f", "-"],
        Some(&pod("greedy", &lab.node, greedy)),
    )
    .await;
    lab.kubectl_with_input(
        &["apply", "-f", "-"],
        Some(&pod("hungry", &lab.node, hungry)),
    )
    .await;
    lab.kubectl_with_input(
        &["apply", "-f", "-"],
        Some(&pod("modest", &lab.node, SLEEPER)),
    )
    .await;
    for name in ["greedy", "hungry"] {
        lab.wait_for(name, |p| phase(p) == Some("Failed")).await;
    }
    lab.wait_for("modest", |p| phase(p) == Some("Running"))
        .await;
    let mut text = String::new();
    for name in ["greedy", "hungry"] {
        let pod = lab.pod(name).await.expect("the pod");
        text += &format!(
            "{name}: {} {}: {}\n",
            pod.status.phase.unwrap_or_default(),
            pod.status.reason.unwrap_or_default(),
            pod.status.message.unwrap_or_default()
        );
        text += &events(&lab, name).await;
        text += "\n";
    }
    assert_snapshot!(text);
    // Refused pods never run, not even later.
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(lab.kubelet.as_ref().unwrap().pods().keys().len(), 1);
    lab.finish().await;
}

#[tokio::test]
async fn each_pod_reports_its_qos_class() {
    guard(qos()).await
}

async fn qos() {
    let lab = Lab::start(INIT).await;
    let with = |resources: &str| {
        format!(
            "  containers:\n  - name: main\n    image: busybox\n    command: [sleep, \"1000\"]\n{resources}"
        )
    };
    let pods = [
        ("besteffort", with("")),
        (
            "burstable",
            with("    resources:\n      requests: {memory: 32Mi}\n"),
        ),
        (
            "guaranteed",
            with("    resources:\n      limits: {cpu: 100m, memory: 32Mi}\n"),
        ),
    ];
    for (name, spec) in &pods {
        lab.kubectl_with_input(&["apply", "-f", "-"], Some(&pod(name, &lab.node, spec)))
            .await;
    }
    for (name, _) in &pods {
        lab.wait_for(name, |p| phase(p) == Some("Running")).await;
    }
    let text = lab
        .kubectl(&[
            "get",
            "pods",
            "-o",
            "custom-columns=NAME:.metadata.name,QOS:.status.qosClass,PHASE:.status.phase",
        ])
        .await;
    assert_snapshot!(text);
    lab.finish().await;
}

#[tokio::test]
async fn the_api_server_restarting_restarts_no_pod() {
    guard(server_restart()).await
}

async fn server_restart() {
    let mut lab = Lab::start(INIT).await;
    lab.kubectl_with_input(
        &["apply", "-f", "-"],
        Some(&pod("steady", &lab.node, SLEEPER)),
    )
    .await;
    let before = lab
        .wait_for("steady", |p| phase(p) == Some("Running"))
        .await
        .expect("the pod");
    lab.restart_server(Duration::from_secs(2)).await;
    // The agent's watch reconnects: a pod created now runs too.
    lab.kubectl_with_input(
        &["apply", "-f", "-"],
        Some(&pod("later", &lab.node, SLEEPER)),
    )
    .await;
    lab.wait_for("later", |p| phase(p) == Some("Running")).await;
    let after = lab.pod("steady").await.expect("the pod");
    let id = |pod: &Pod| pod.status.container_statuses[0].container_id.clone();
    let started = |pod: &Pod| {
        pod.status.container_statuses[0]
            .state
            .clone()
            .and_then(|s| s.running)
            .and_then(|r| r.started_at)
    };
    assert_eq!(id(&after), id(&before), "the container was replaced");
    assert_eq!(
        started(&after),
        started(&before),
        "the container was restarted"
    );
    assert_eq!(after.status.pod_ip, before.status.pod_ip);
    assert_eq!(
        lab.kubelet.as_ref().unwrap().pods().keys().len(),
        2,
        "a pod is duplicated or missing"
    );
    lab.finish().await;
}

#[tokio::test]
async fn a_container_over_its_memory_limit_shows_oom_killed() {
    guard(oom()).await
}

async fn oom() {
    let lab = Lab::start(INIT).await;
    let hog = "  containers:\n  - name: main\n    image: busybox\n    command: [sh, -c, \"tail /dev/zero\"]\n    resources:\n      limits: {memory: 24Mi}\n";
    lab.kubectl_with_input(&["apply", "-f", "-"], Some(&pod("hog", &lab.node, hog)))
        .await;
    let pod = lab
        .wait_for("hog", |p| {
            p.and_then(|p| p.status.container_statuses.first())
                .and_then(|s| s.last_state.as_ref())
                .and_then(|s| s.terminated.as_ref())
                .is_some()
        })
        .await
        .expect("the pod");
    let status = &pod.status.container_statuses[0];
    let terminated = status
        .last_state
        .as_ref()
        .unwrap()
        .terminated
        .as_ref()
        .unwrap();
    assert_eq!(
        (terminated.reason.as_deref(), terminated.exit_code),
        (Some("OOMKilled"), 137),
        "{status:#?}"
    );
    assert_eq!(pod.status.qos_class.as_deref(), Some("Burstable"));
    lab.finish().await;
}

#[tokio::test]
async fn a_failing_readiness_probe_keeps_the_pod_unready_with_events() {
    guard(unready()).await
}

async fn unready() {
    let lab = Lab::start(INIT).await;
    let probed = "  containers:\n  - name: main\n    image: busybox\n    command: [sleep, \"1000\"]\n    readinessProbe:\n      exec:\n        command: [cat, /nonexistent]\n      periodSeconds: 1\n";
    lab.kubectl_with_input(
        &["apply", "-f", "-"],
        Some(&pod("unready", &lab.node, probed)),
    )
    .await;
    let pod = lab
        .wait_for("unready", |p| {
            phase(p) == Some("Running")
                && p.is_some_and(|p| {
                    p.status
                        .conditions
                        .iter()
                        .any(|c| c.condition_type == "Ready" && c.reason.is_some())
                })
        })
        .await
        .expect("the pod");
    let conditions: Vec<String> = pod
        .status
        .conditions
        .iter()
        .map(|c| {
            format!(
                "{} {} {} {}",
                c.condition_type,
                c.status,
                c.reason.clone().unwrap_or_default(),
                c.message.clone().unwrap_or_default()
            )
            .trim_end()
            .to_string()
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(10);
    let events = loop {
        let events = events(&lab, "unready").await;
        if events.contains("Unhealthy") || Instant::now() > deadline {
            break events;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let unhealthy: Vec<&str> = events.lines().filter(|l| l.contains("Unhealthy")).collect();
    assert_snapshot!(format!(
        "{}\n{}",
        conditions.join("\n"),
        unhealthy.join("\n")
    ));
    lab.finish().await;
}

#[tokio::test]
async fn a_change_during_a_busy_pass_is_reported_without_waiting_for_a_resync() {
    guard(change_during_a_pass()).await
}

/// The agent's requests reach the API server a second late, so its pod's
/// container runs while the agent is still writing the first status
/// ("ContainerCreating") and posting the first events; the pod's worker
/// is busy when that change, and the echo of its own write, come. With
/// no resync tick to fall back on (an hour), the pod is Running in the
/// API only if the busy worker takes those changes up when it is done.
async fn change_during_a_pass() {
    let options = Options {
        resync: Duration::from_secs(3600),
        agent_delay: Duration::from_secs(1),
        ..Options::default()
    };
    let lab = Lab::start_with(INIT, options).await;
    let applied = lab
        .kubectl_with_input(
            &["apply", "-f", "-"],
            Some(&pod("late", &lab.node, SLEEPER)),
        )
        .await;
    assert_eq!(applied, "pod/late created\n");
    let pod = lab
        .wait_for("late", |p| phase(p) == Some("Running"))
        .await
        .expect("the pod");
    let running = pod.status.container_statuses.first().and_then(|status| {
        status
            .state
            .as_ref()
            .and_then(|state| state.running.as_ref())
    });
    assert!(running.is_some(), "its container runs: {:?}", pod.status);
    lab.finish().await;
}

#[tokio::test]
async fn a_pre_stop_hook_runs_before_the_container_is_stopped() {
    guard(pre_stop()).await
}

/// The hook runs in the container before SIGTERM: it leaves a file that
/// the container's TERM trap reads, and says so in its log; a hook that
/// fails is a FailedPreStopHook event, and the pod still goes.
async fn pre_stop() {
    let lab = Lab::start(INIT).await;
    let spec = "  terminationGracePeriodSeconds: 10\n  containers:\n  - name: main\n    image: busybox\n    command: [sh, -c, \"trap 'cat /hook-ran || echo no hook; sleep 3; exit 0' TERM; while true; do sleep 0.2; done\"]\n    lifecycle:\n      preStop:\n        exec:\n          command: [sh, -c, \"echo hook ran before TERM > /hook-ran\"]\n  - name: failing\n    image: busybox\n    command: [sleep, \"1000\"]\n    lifecycle:\n      preStop:\n        exec:\n          command: [sh, -c, \"exit 3\"]\n";
    lab.kubectl_with_input(&["apply", "-f", "-"], Some(&pod("hooked", &lab.node, spec)))
        .await;
    lab.wait_for("hooked", |p| phase(p) == Some("Running"))
        .await;
    let (_, handle) = lab
        .kubelet
        .as_ref()
        .unwrap()
        .pods()
        .handle("default", "hooked")
        .expect("the pod runs here");
    let answer = lab
        .kubectl(&["delete", "pod", "hooked", "--wait=false"])
        .await;
    assert_eq!(answer, "pod \"hooked\" deleted\n");
    // The trap lingers 3 s after it wrote, so the log is there to read.
    let log = chapter_08::log_containing(&handle, "main", "hook").await;
    // One line, in the CRI log format: TIME stdout F hook ran before TERM.
    assert!(
        log.trim_end().ends_with(" stdout F hook ran before TERM") && log.lines().count() == 1,
        "the container's log: {log:?}"
    );
    drop(handle);
    lab.wait_for("hooked", |pod| pod.is_none()).await;
    let events = events(&lab, "hooked").await;
    assert!(
        events.contains(
            "Warning FailedPreStopHook (kubelet on <node>): PreStopHook failed: exited with 3"
        ),
        "{events}"
    );
    lab.finish().await;
}
