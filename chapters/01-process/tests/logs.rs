//! Hole: `format_log_line` (src/logs.rs); also how the supervisor writes logs.

use std::time::Duration;

use chapter_01::process::{
    ContainerSpec, MAX_LOG_LINE, RestartPolicy, Stream, Supervisor, copy_lines, format_log_line,
};
use chapter_01::{all_events, guard, readable_log, wait_for_log};
use chrono::{TimeZone, Utc};
use insta::{assert_snapshot, with_settings};

#[test]
fn a_log_entry_is_time_stream_tag_content() {
    let time = Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 0).unwrap()
        + chrono::Duration::nanoseconds(123_456_789);
    let whole = format_log_line(time, Stream::Stdout, false, b"hello world");
    let piece = format_log_line(time, Stream::Stderr, true, b"the first piece");
    let on_the_hour = format_log_line(
        Utc.with_ymd_and_hms(2024, 5, 1, 13, 0, 0).unwrap(),
        Stream::Stdout,
        false,
        b"",
    );
    let text = [whole, piece, on_the_hour]
        .map(|entry| String::from_utf8(entry).unwrap())
        .concat();
    with_settings!({
        description => "format_log_line: three entries (a whole line, a partial piece on stderr, an empty line)",
        omit_expression => true,
    }, {
        assert_snapshot!(text);
    });
}

#[test]
fn content_is_copied_byte_for_byte() {
    let time = Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 0).unwrap();
    let entry = format_log_line(time, Stream::Stdout, false, b"caf\xc3\xa9 \xff\xfe");
    assert!(
        entry.ends_with(b" stdout F caf\xc3\xa9 \xff\xfe\n"),
        "invalid UTF-8 must survive untouched; got {:?}",
        String::from_utf8_lossy(&entry)
    );
}

#[tokio::test]
async fn long_lines_are_split_into_partial_entries() {
    guard(async {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("app.log");
        let log = std::fs::File::create(&path).unwrap();
        let mut output = vec![b'a'; MAX_LOG_LINE + 10];
        output.extend_from_slice(b"\nshort\nno newline at the end");
        copy_lines(&output[..], Stream::Stdout, log).await.unwrap();
        let content = std::fs::read_to_string(&path).unwrap();
        with_settings!({
            description => "copy_lines on 16394 'a's, a newline, \"short\", a newline, and a last line without newline",
            omit_expression => true,
        }, {
            assert_snapshot!(readable_log(&content));
        });
    })
    .await;
}

#[tokio::test]
async fn both_streams_go_to_one_log_file() {
    guard(async {
        let tmp = tempfile::tempdir().unwrap();
        let log = tmp.path().join("logs/app.log");
        let spec = ContainerSpec::new("app", "sh")
            .args(["-c", "echo one; echo two >&2; echo three; printf 'no newline'"])
            .log_path(&log)
            .restart_policy(RestartPolicy::Never);
        all_events(Supervisor::start(spec).await.unwrap()).await;
        let content = std::fs::read_to_string(&log).unwrap();
        with_settings!({
            description => "the log of: echo one; echo two >&2; echo three; printf 'no newline' (stdout entries first)",
            omit_expression => true,
        }, {
            assert_snapshot!(readable_log(&content));
        });
    })
    .await;
}

#[tokio::test]
async fn the_log_can_be_read_while_the_process_runs() {
    guard(async {
        let tmp = tempfile::tempdir().unwrap();
        let log = tmp.path().join("app.log");
        let spec = ContainerSpec::new("app", "sh")
            .args(["-c", "echo started; exec sleep 60"])
            .log_path(&log);
        let supervisor = Supervisor::start(spec).await.unwrap();
        // The process is still sleeping: the line must be there already.
        wait_for_log(&log, "stdout F started").await;
        supervisor.stop(Duration::from_secs(5));
        all_events(supervisor).await;
    })
    .await;
}
