//! Streaming exec: a process in a running container whose standard
//! streams the caller drives while it runs (what `kubectl exec -i` and
//! `-it` need): pipes, or a terminal that can be resized.

use std::time::Duration;

use chapter_05::pods::{Container, ExecStreams, ExitStatus, PodPhase};
use chapter_05::{LIMIT, Lab, describe, guard};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const INIT: &str = env!("CARGO_BIN_EXE_pod-init");

fn words(line: &[&str]) -> Vec<String> {
    line.iter().map(|word| word.to_string()).collect()
}

async fn read_all(reader: Option<chapter_05::pods::ExecReader>) -> String {
    let mut text = Vec::new();
    if let Some(mut reader) = reader {
        reader.read_to_end(&mut text).await.unwrap();
    }
    String::from_utf8_lossy(&text).into_owned()
}

#[tokio::test]
async fn exec_sessions_stream_pipes_and_terminals() {
    guard(exec_sessions()).await
}

async fn exec_sessions() {
    let lab = Lab::new(INIT);
    let spec = lab.pod(
        "shell",
        vec![Container::new("main", "busybox").command(["sleep", "3600"])],
    );
    let pod = lab.run(spec);
    pod.wait_for(LIMIT, |status| status.phase == PodPhase::Running)
        .await
        .unwrap_or_else(|status| panic!("{}", describe(&status)));
    let io = pod.io();

    // Pipes: input in, output and errors apart, the exit code.
    let pipes = ExecStreams {
        stdin: true,
        stdout: true,
        stderr: true,
        tty: false,
    };
    let mut session = io
        .exec_session(
            "main",
            &words(&["sh", "-c", "cat; echo err >&2; exit 3"]),
            pipes,
        )
        .unwrap();
    let mut stdin = session.stdin.take().unwrap();
    stdin.write_all(b"hello\n").await.unwrap();
    stdin.shutdown().await.unwrap();
    drop(stdin);
    let (out, err) = tokio::join!(
        read_all(session.stdout.take()),
        read_all(session.stderr.take())
    );
    assert_eq!(session.wait().await.unwrap(), ExitStatus::Code(3));
    assert_eq!((out.as_str(), err.as_str()), ("hello\n", "err\n"));

    // A terminal: one output, a size, and ^D as the end of input.
    let terminal = ExecStreams {
        stdin: true,
        stdout: true,
        stderr: false,
        tty: true,
    };
    let mut session = io
        .exec_session(
            "main",
            &words(&["sh", "-c", "stty size; cat; exit 4"]),
            terminal,
        )
        .unwrap();
    assert!(session.tty() && session.stderr.is_none());
    session.resizer().resize(100, 40).unwrap();
    let mut stdin = session.stdin.take().unwrap();
    let output = session.stdout.take();
    let reading = tokio::spawn(read_all(output));
    // After the size is printed: the terminal echoes the input, cat repeats it.
    tokio::time::sleep(Duration::from_millis(300)).await;
    stdin.write_all(b"typed\n").await.unwrap();
    stdin.shutdown().await.unwrap();
    assert_eq!(session.wait().await.unwrap(), ExitStatus::Code(4));
    let text = reading.await.unwrap();
    assert!(
        text.contains("40 100"),
        "no terminal, or not resized: {text:?}"
    );
    assert!(text.contains("typed\r\ntyped\r\n"), "{text:?}");

    // A session abandoned while its command runs takes the command along
    // (the init stages of chapter 02 and the command are in its group).
    let processes = || async {
        let line = words(&["sh", "-c", "cat /proc/[0-9]*/cmdline | tr '\\0' ' '"]);
        pod.exec("main", &line, LIMIT).await.unwrap().output
    };
    let abandoned = io
        .exec_session("main", &words(&["sleep", "3599"]), pipes)
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(processes().await.contains("sleep 3599"));
    drop(abandoned);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let left = processes().await;
    assert!(
        !left.contains("sleep 3599"),
        "the abandoned command still runs: {left}"
    );
    // A container that is not running has no exec.
    assert!(io.exec_session("nope", &words(&["true"]), pipes).is_err());
    // The pod's io holds on to the pod (and its runtime) like the handle.
    drop(io);
    pod.delete(Some(Duration::from_secs(2))).await;
    lab.finish();
}
