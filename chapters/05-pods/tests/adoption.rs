//! The agent dies; its pods live on. A node agent killed with SIGKILL
//! leaves its containers running, logging into their files through their
//! shims; a new agent adopts the pods it still wants (same processes, same
//! restart counts, exits that happened meanwhile reported) and removes the
//! others without a trace.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use chapter_05::pods::{ContainerState, PodPhase};
use chapter_05::{AgentArgs, LIMIT, Lab, agent_pods, application_pid, describe, guard};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

const INIT: &str = env!("CARGO_BIN_EXE_pod-init");
const AGENT: &str = env!("CARGO_BIN_EXE_pod-agent");

/// The "tick N" lines of a CRI log, in order.
fn ticks(log: &Path) -> Vec<u64> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .filter_map(|line| line.split_once(" stdout F tick ")?.1.parse().ok())
        .collect()
}

fn gone(pid: u32) -> bool {
    !Path::new(&format!("/proc/{pid}")).exists()
        || std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
            stat.rsplit_once(") ")
                .is_some_and(|(_, rest)| rest.starts_with('Z'))
        })
}

async fn wait_until(limit: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if condition() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    condition()
}

/// Starts the agent process, waits until its pods run, and returns it
/// with the shim pid of each pod (by uid).
fn start_agent(args: AgentArgs) -> (std::process::Child, Vec<(String, u32)>) {
    let mut agent = Command::new(AGENT)
        .args(args.to_args())
        .stdout(Stdio::piped())
        .spawn()
        .expect("the agent process starts");
    let mut lines = BufReader::new(agent.stdout.take().expect("its stdout")).lines();
    let mut pids = Vec::new();
    loop {
        let line = match lines.next() {
            Some(Ok(line)) => line,
            other => {
                let _ = agent.kill();
                let _ = agent.wait();
                panic!("the agent ended before its pods ran: {other:?}");
            }
        };
        if line == "ready" {
            return (agent, pids);
        }
        let (uid, pid) = line.split_once(' ').expect("<uid> <pid>");
        pids.push((uid.to_string(), pid.parse().expect("a pid")));
    }
}

#[tokio::test]
async fn a_restarted_agent_adopts_its_pods_and_removes_the_rest() {
    guard(adoption()).await
}

async fn adoption() {
    let lab = Lab::new(INIT);
    let args = AgentArgs {
        init_program: INIT.into(),
        state_dir: lab.tmp.path().to_path_buf(),
        instance: lab.instance.clone(),
        subnet: lab.subnet,
    };
    let (mut agent, pids) = tokio::task::spawn_blocking(move || start_agent(args))
        .await
        .expect("the agent started");
    let shim = |uid: &str| {
        pids.iter()
            .find(|(name, _)| name == uid)
            .expect("its pid")
            .1
    };
    let pods_dir: PathBuf = lab.tmp.path().join("pods").join(&lab.instance);
    let keeper_log = pods_dir.join("keeper/logs/app/0.log");

    // The agent crashes.
    kill(Pid::from_raw(agent.id() as i32), Signal::SIGKILL).expect("SIGKILL to the agent");
    agent.wait().expect("the agent reaped");
    let before = ticks(&keeper_log).len();
    // While no agent runs, the application goes on, and so does its log.
    let logging = wait_until(Duration::from_secs(10), || {
        ticks(&keeper_log).len() >= before + 10
    })
    .await;
    assert!(
        logging,
        "nothing was logged while no agent ran: {before} ticks before, {} after",
        ticks(&keeper_log).len()
    );
    // The quitter exits (code 3) while no agent runs.
    let quitter_shim = shim("quitter");
    assert!(
        wait_until(Duration::from_secs(10), || gone(quitter_shim)).await,
        "the quitter's container did not end"
    );

    // A new agent: the lab's own runtime, on the same node.
    let recorded: Vec<String> = lab
        .runtime
        .recorded_pods()
        .into_iter()
        .map(|pod| pod.uid)
        .collect();
    assert_eq!(recorded, ["finisher", "keeper", "quitter", "unwanted"]);
    let specs = agent_pods();
    let mut changed = specs[2].clone();
    changed.containers[0].command = vec!["sleep".into(), "1".into()];
    assert!(
        lab.runtime.adopt(changed).is_err(),
        "a pod adopted under another spec"
    );
    let keeper = lab
        .runtime
        .adopt(specs[0].clone())
        .expect("the keeper adopted");
    let quitter = lab
        .runtime
        .adopt(specs[1].clone())
        .expect("the quitter adopted");
    let finisher = lab
        .runtime
        .adopt(specs[3].clone())
        .expect("the finisher adopted");
    lab.runtime
        .discard("unwanted", Duration::from_secs(2))
        .await
        .expect("the unwanted pod removed");
    assert!(
        gone(shim("unwanted")),
        "the unwanted pod's container still runs"
    );

    // Adopted, not restarted: the same process, no restart.
    let status = keeper
        .wait_for(LIMIT, |status| status.phase == PodPhase::Running)
        .await
        .unwrap_or_else(|status| panic!("{}", describe(&status)));
    let line = status.container("app").expect("its line").clone();
    assert!(line.state.is_running(), "{}", describe(&status));
    assert_eq!(line.restart_count, 0);
    assert_eq!(keeper.container_pid("app"), Some(shim("keeper")));
    assert!(status.pod_ip.is_some(), "the address was forgotten");
    // Its log is whole: the lines written while no agent ran are there,
    // in order, and more keep coming.
    let seen = ticks(&keeper_log);
    assert_eq!(seen, (0..seen.len() as u64).collect::<Vec<_>>());
    let log = keeper.logs("app", false).expect("the log");
    assert!(log.contains(&format!("tick {}", seen.len() - 1)));

    // The exit that happened while no agent ran, with its code.
    let status = quitter
        .wait_for(LIMIT, |status| status.phase == PodPhase::Failed)
        .await
        .unwrap_or_else(|status| panic!("{}", describe(&status)));
    match &status.container("app").expect("its line").state {
        ContainerState::Terminated { exit_code, .. } => assert_eq!(*exit_code, 3),
        other => panic!("not terminated: {other:?}"),
    }

    // A pod that had completed is reported as it ended, and nothing of it
    // runs again.
    let status = finisher.status();
    assert_eq!(status.phase, PodPhase::Succeeded, "{}", describe(&status));
    assert_eq!(
        status
            .container("app")
            .and_then(|line| line.state.exit_code()),
        Some(0)
    );
    assert!(
        finisher
            .logs("app", false)
            .expect("its log")
            .contains("done")
    );

    // Supervision goes on: a crash of the adopted container is restarted,
    // with the next restart count.
    let app = application_pid(shim("keeper")).expect("the keeper's application");
    kill(Pid::from_raw(app as i32), Signal::SIGKILL).expect("SIGKILL to the application");
    let status = keeper
        .wait_for(LIMIT, |status| {
            status
                .container("app")
                .is_some_and(|line| line.restart_count == 1 && line.state.is_running())
        })
        .await
        .unwrap_or_else(|status| panic!("{}", describe(&status)));
    let line = status.container("app").expect("its line");
    match &line.last_state {
        Some(ContainerState::Terminated { exit_code, .. }) => assert_eq!(*exit_code, 137),
        other => panic!("no last state: {other:?}"),
    }
    assert_ne!(keeper.container_pid("app"), Some(shim("keeper")));

    keeper.delete(Some(Duration::from_secs(2))).await;
    quitter.delete(Some(Duration::from_secs(2))).await;
    finisher.delete(Some(Duration::from_secs(2))).await;
    lab.finish();
}
