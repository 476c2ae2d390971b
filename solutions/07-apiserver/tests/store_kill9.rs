//! kill -9 at any moment: every write that was acknowledged is in the store
//! after a restart (with its revision, or a later one when the writer's
//! next, unacknowledged write also made it), and the store's revision is at
//! least every acknowledged one. The writer is a child process
//! (`store-stress`, in this package) that prints each acknowledged write;
//! it is SIGKILLed mid-stream, several times over the same directory.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use solution_07_apiserver::store::{Options, Revision, Store};

/// Kills the child (by its pid, SIGKILL) if the test fails before it does.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Verb {
    Put,
    Delete,
}

/// One printed acknowledgement: the writer, the key, what and when.
struct Ack {
    writer: String,
    key: String,
    verb: Verb,
    revision: Revision,
}

fn parse(line: &str) -> Ack {
    let fields: Vec<&str> = line.split(' ').collect();
    let [verb, key, revision] = fields[..] else {
        panic!("unexpected output from store-stress: {line:?}");
    };
    let writer = key.split('/').nth(2).expect("/stress/<writer>/<n>");
    Ack {
        writer: writer.to_string(),
        key: key.to_string(),
        verb: match verb {
            "put" => Verb::Put,
            "delete" => Verb::Delete,
            _ => panic!("unexpected output from store-stress: {line:?}"),
        },
        revision: revision.parse().unwrap(),
    }
}

/// Runs the writer until it has acknowledged `kill_after` writes, SIGKILLs
/// it, and returns every write it acknowledged (including those printed
/// between the count and the kill).
fn run_and_kill(dir: &Path, writers: usize, snapshot_after: u64, kill_after: usize) -> Vec<Ack> {
    let child = Command::new(env!("CARGO_BIN_EXE_store-stress"))
        .arg(dir)
        .arg(writers.to_string())
        .arg(snapshot_after.to_string())
        .stdout(Stdio::piped())
        .spawn()
        .expect("store-stress starts");
    let mut child = Killed(child);
    let mut out = BufReader::new(child.0.stdout.take().unwrap());
    let mut lines = Vec::new();
    let mut line = Vec::new();
    while lines.len() < kill_after {
        line.clear();
        let read = out.read_until(b'\n', &mut line).unwrap();
        assert!(read > 0, "store-stress ended early: {:?}", child.0.wait());
        lines.push(String::from_utf8(line.clone()).unwrap());
    }
    assert!(
        child.0.try_wait().unwrap().is_none(),
        "still writing when killed"
    );
    child.0.kill().unwrap();
    let status = child.0.wait().unwrap();
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&status),
        Some(9)
    );
    // What it printed before it died counts too; a torn last line does not.
    let mut rest = Vec::new();
    out.read_to_end(&mut rest).unwrap();
    let rest = String::from_utf8_lossy(&rest);
    let mut tail: Vec<&str> = rest.split_inclusive('\n').collect();
    if tail.last().is_some_and(|last| !last.ends_with('\n')) {
        tail.pop();
    }
    lines.extend(tail.into_iter().map(str::to_string));
    lines.iter().map(|line| parse(line.trim_end())).collect()
}

/// Checks the reopened store against the acknowledgements of one run.
fn check(store: &Store, acks: &[Ack]) {
    let highest = acks.iter().map(|ack| ack.revision).max().unwrap();
    assert!(
        store.revision() >= highest,
        "the store is at {} but revision {highest} was acknowledged",
        store.revision()
    );
    let mut last: BTreeMap<&str, &Ack> = BTreeMap::new();
    for ack in acks {
        last.insert(&ack.key, ack);
    }
    // Each writer writes one key at a time, so at most one of its keys may
    // be ahead of its last acknowledgement: the write in flight at the kill.
    let mut ahead: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for (key, ack) in last {
        let stored = store.get(key);
        let state = match (&stored, ack.verb) {
            (Some(entry), Verb::Put) if entry.mod_revision == ack.revision => continue,
            (None, Verb::Delete) => continue,
            (Some(entry), _) if entry.mod_revision > ack.revision => {
                format!(
                    "{key} at {} after {:?} at {}",
                    entry.mod_revision, ack.verb, ack.revision
                )
            }
            (None, Verb::Put) => format!("{key} deleted after put at {}", ack.revision),
            (Some(entry), _) => panic!(
                "{key}: {:?} at revision {} was acknowledged, the store has revision {}",
                ack.verb, ack.revision, entry.mod_revision
            ),
        };
        ahead.entry(&ack.writer).or_default().push(state);
    }
    for (writer, keys) in ahead {
        assert!(keys.len() <= 1, "writer {writer}: {keys:?}");
    }
}

#[test]
fn acknowledged_writes_survive_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let mut highest = 0;
    // Different moments, writer counts and snapshot sizes: a small
    // threshold kills the writer in the middle of snapshots too.
    for (round, (writers, snapshot_after, kill_after)) in [
        (64, 16 << 10, 1500),
        (8, 1 << 20, 700),
        (100, 4 << 10, 3000),
        (1, 16 << 10, 300),
        (100, 64 << 10, 20_000),
    ]
    .into_iter()
    .enumerate()
    {
        let acks = run_and_kill(dir.path(), writers, snapshot_after, kill_after);
        assert!(acks.len() >= kill_after);
        let store = Store::open(dir.path(), Options::default())
            .unwrap_or_else(|error| panic!("round {round}: the store does not open: {error}"));
        check(&store, &acks);
        assert!(
            store.revision() >= highest,
            "round {round}: the revision went back"
        );
        highest = store.revision();
    }
}
