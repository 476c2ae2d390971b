//! A node agent for the adoption test: runs `chapter_05::agent_pods` on
//! the node its arguments name, prints `<uid> <shim pid>` for each once
//! it runs (0 for the one that completes), then `ready`, and waits to be
//! killed.

use std::io::Write;

use chapter_05::pods::{ConditionType, PodPhase};
use chapter_05::{AgentArgs, LIMIT, agent_pods};

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(args) = AgentArgs::parse(&args) else {
        eprintln!("usage: pod-agent INIT_PROGRAM STATE_DIR INSTANCE POD_CIDR");
        std::process::exit(2);
    };
    let runtime = args.runtime();
    let pods: Vec<_> = agent_pods()
        .into_iter()
        .map(|spec| runtime.run(spec))
        .collect();
    let mut out = std::io::stdout();
    for pod in &pods {
        // A pod that completes is waited for until its sandbox is gone.
        let completes = pod.uid() == "finisher";
        let reached = pod
            .wait_for(LIMIT, |status| match completes {
                false => status.phase == PodPhase::Running,
                true => {
                    status.phase == PodPhase::Succeeded
                        && status.condition(ConditionType::PodReadyToStartContainers) == Some(false)
                }
            })
            .await;
        if let Err(status) = reached {
            eprintln!("pod-agent: {} did not get there: {status:?}", pod.uid());
            std::process::exit(1);
        }
        let pid = pod.container_pid("app").unwrap_or(0);
        writeln!(out, "{} {pid}", pod.uid()).expect("stdout");
    }
    writeln!(out, "ready").expect("stdout");
    out.flush().expect("stdout");
    // Until SIGKILL, as a crashing agent.
    std::future::pending::<()>().await;
}
