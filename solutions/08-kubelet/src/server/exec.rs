//! `GET /exec/{namespace}/{pod}/{container}?command=...`: a command in a
//! container, its streams carried over a WebSocket in Kubernetes'
//! remotecommand protocol (`v5.channel.k8s.io`, and `v4` without the
//! close signal).
//!
//! Every binary message starts with its channel: 0 stdin, 1 stdout,
//! 2 stderr, 3 error (a Status once the command ended), 4 resize (JSON
//! `{"Width":..,"Height":..}`), and, in v5, 255 "close": the client has
//! no more input for the channel in the next byte.

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::ws::{CloseFrame, Message, WebSocket, close_code};
use pods::{ExecStreams, ExitStatus, PodIo};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;

/// The subprotocols this server speaks, preferred first.
pub const PROTOCOLS: [&str; 2] = [V5, V4];
pub const V5: &str = "v5.channel.k8s.io";
pub const V4: &str = "v4.channel.k8s.io";

pub const STDIN: u8 = 0;
pub const STDOUT: u8 = 1;
pub const STDERR: u8 = 2;
pub const ERROR: u8 = 3;
pub const RESIZE: u8 = 4;
/// v5: "no more data on the channel in the next byte".
pub const CLOSE: u8 = 255;

/// How long output may still come once the command has ended (a process
/// it left behind may hold its output open).
const DRAIN: Duration = Duration::from_secs(2);

/// What the client asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecRequest {
    pub command: Vec<String>,
    pub streams: ExecStreams,
}

/// A terminal's new size, as kubectl sends it on the resize channel.
#[derive(Debug, Deserialize)]
struct TerminalSize {
    #[serde(rename = "Width")]
    width: u16,
    #[serde(rename = "Height")]
    height: u16,
}

// ANCHOR: exit_status
/// The Status sent on the error channel when the command has ended:
/// Success for exit code 0; otherwise a Failure with reason
/// `NonZeroExitCode` whose cause `ExitCode` carries the code as text
/// (kubectl exits with it). A signal counts as 128 + its number.
pub fn exit_status(command: &[String], status: ExitStatus) -> Value {
    // exercise 8: the Status JSON that tells kubectl how the command ended: Success for exit code 0, else a Failure whose cause carries the exit code
    // hint: kubectl reads `status`; on "Failure" with reason "NonZeroExitCode" it looks in details.causes for the cause whose reason is "ExitCode" and exits with its message parsed as a number. Chapter 01's `kubernetes_code` turns a signal into 128 + its number.
    // hint: Success is {"metadata": {}, "status": "Success"}. A failure has "status": "Failure", "reason": "NonZeroExitCode", a "message" naming the command and the code, and "details": {"causes": [{"reason": "ExitCode", "message": "<code>"}]}.
    // hint: let code = status.kubernetes_code(); if code == 0 { return json!({"metadata": {}, "status": "Success"}); } then json!({"metadata": {}, "status": "Failure", "message": format!("command terminated with non-zero exit code: error executing command [{}], exit code {code}", command.join(" ")), "reason": "NonZeroExitCode", "details": {"causes": [{"reason": "ExitCode", "message": code.to_string()}]}}).
    let code = status.kubernetes_code();
    if code == 0 {
        return json!({"metadata": {}, "status": "Success"});
    }
    json!({
        "metadata": {},
        "status": "Failure",
        "message": format!(
            "command terminated with non-zero exit code: error executing command [{}], exit code {code}",
            command.join(" ")
        ),
        "reason": "NonZeroExitCode",
        "details": {"causes": [{"reason": "ExitCode", "message": code.to_string()}]},
    })
}
// ANCHOR_END: exit_status

/// A Failure Status for an exec that could not run at all.
pub fn failure(message: &str) -> Value {
    json!({
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": "InternalError",
        "code": 500,
    })
}

/// The end of a session. A normal closure (1000) it must be: kubectl takes
/// any other (a close without a code included) for a broken connection and
/// reports an error instead of the exit status it has just read.
fn normal_closure() -> Message {
    Message::Close(Some(CloseFrame {
        code: close_code::NORMAL,
        reason: "".into(),
    }))
}

/// A message on `channel`.
pub fn frame(channel: u8, data: &[u8]) -> Bytes {
    let mut message = Vec::with_capacity(data.len() + 1);
    message.push(channel);
    message.extend_from_slice(data);
    Bytes::from(message)
}

/// Runs the session over the upgraded connection: input and resizes from
/// the client, output to it, and the exit status at the end.
pub async fn run(mut socket: WebSocket, pod: PodIo, container: String, request: ExecRequest) {
    let v5 = socket.protocol().and_then(|value| value.to_str().ok()) == Some(V5);
    let mut session = match pod.exec_session(&container, &request.command, request.streams) {
        Ok(session) => session,
        Err(error) => {
            let status = failure(&error.to_string());
            let _ = socket
                .send(Message::Binary(frame(ERROR, status.to_string().as_bytes())))
                .await;
            let _ = socket.send(normal_closure()).await;
            return;
        }
    };
    let resizer = session.resizer();
    let mut stdin = session.stdin.take();
    // Output of both streams comes through one queue, so that one loop
    // owns the socket.
    let (output, mut outputs) = mpsc::channel::<(u8, Vec<u8>)>(16);
    for (channel, reader) in [
        (STDOUT, session.stdout.take()),
        (STDERR, session.stderr.take()),
    ] {
        let Some(mut reader) = reader else { continue };
        let output = output.clone();
        tokio::spawn(async move {
            let mut buffer = vec![0; 32 * 1024];
            while let Ok(read) = reader.read(&mut buffer).await {
                if read == 0
                    || output
                        .send((channel, buffer[..read].to_vec()))
                        .await
                        .is_err()
                {
                    break;
                }
            }
        });
    }
    drop(output);
    let mut exited: Option<ExitStatus> = None;
    let mut outputs_open = true;
    let mut drain_until = None;
    // Until the command has ended and its output is sent (or the drain
    // time is over); the client's input is read all along.
    while exited.is_none() || outputs_open {
        let deadline = async {
            match drain_until {
                Some(until) => tokio::time::sleep_until(until).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            status = session.wait(), if exited.is_none() => {
                exited = Some(status.unwrap_or(ExitStatus::Code(1)));
                drain_until = Some(tokio::time::Instant::now() + DRAIN);
            }
            next = outputs.recv(), if outputs_open => match next {
                Some((channel, data)) => {
                    if socket.send(Message::Binary(frame(channel, &data))).await.is_err() {
                        return;
                    }
                }
                // Every output has ended; the command may still run.
                None => outputs_open = false,
            },
            () = deadline => break,
            message = socket.recv() => match message {
                Some(Ok(Message::Binary(data))) => {
                    on_input(&data, v5, &mut stdin, &resizer).await;
                }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => {
                    // The client is gone: so is the command (the session's
                    // drop kills what is left of it).
                    return;
                }
                Some(Ok(_)) => {}
            },
        }
    }
    let status = exit_status(&request.command, exited.unwrap_or(ExitStatus::Code(1)));
    let _ = socket
        .send(Message::Binary(frame(ERROR, status.to_string().as_bytes())))
        .await;
    let _ = socket.send(normal_closure()).await;
}

/// One message from the client: input, a resize, or (v5) the end of input.
async fn on_input(
    data: &[u8],
    v5: bool,
    stdin: &mut Option<pods::ExecWriter>,
    resizer: &pods::Resizer,
) {
    let Some((&channel, payload)) = data.split_first() else {
        return;
    };
    match channel {
        STDIN => {
            if let Some(writer) = stdin
                && writer.write_all(payload).await.is_err()
            {
                *stdin = None;
            }
        }
        RESIZE => {
            if let Ok(size) = serde_json::from_slice::<TerminalSize>(payload) {
                let _ = resizer.resize(size.width, size.height);
            }
        }
        CLOSE if v5 && payload.first() == Some(&STDIN) => {
            if let Some(mut writer) = stdin.take() {
                let _ = writer.shutdown().await;
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_frame_is_its_channel_then_its_data() {
        assert_eq!(&frame(STDERR, b"oops")[..], b"\x02oops");
        assert_eq!(&frame(ERROR, b"")[..], b"\x03");
    }

    #[test]
    fn a_failure_is_an_internal_error_status() {
        let status = failure("no container \"c\" is running in this pod");
        assert_eq!(status["status"], "Failure");
        assert_eq!(status["code"], 500);
    }
}
