// Generated from solutions/07-apiserver/src/bin/store-stress.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
//! Hammers a store with concurrent writers and prints every acknowledged
//! write, one line each, as soon as it is acknowledged:
//!
//! ```text
//! put <key> <revision>
//! delete <key> <revision>
//! ```
//!
//! The kill -9 test runs it, kills it mid-stream and checks that the store
//! it leaves behind holds every write it printed.
//!
//! Usage: `store-stress DIR [WRITERS] [SNAPSHOT_AFTER_BYTES]`

use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use solution_07_apiserver::store::{Options, Precondition, Store, StoreError};

/// Keys per writer: each writer owns its keys, so the order of its own
/// acknowledgements is the order of the writes to them.
const KEYS: usize = 8;

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let Some(dir) = args.next().map(PathBuf::from) else {
        eprintln!("usage: store-stress DIR [WRITERS] [SNAPSHOT_AFTER_BYTES]");
        std::process::exit(2);
    };
    let writers: usize = args.next().map_or(64, |n| n.parse().expect("WRITERS"));
    let snapshot_after: u64 = args
        .next()
        .map_or(256 << 10, |n| n.parse().expect("SNAPSHOT_AFTER_BYTES"));
    let options = Options {
        snapshot_after,
        ..Options::default()
    };
    let store = Store::open(&dir, options).expect("the store opens");
    let out = Arc::new(Mutex::new(std::io::stdout()));
    let tasks: Vec<_> = (0..writers)
        .map(|writer| tokio::spawn(write_forever(store.clone(), writer, out.clone())))
        .collect();
    for task in tasks {
        task.await.expect("a writer failed");
    }
}

/// Round after round over its keys: put, put, delete.
async fn write_forever(store: Store, writer: usize, out: Arc<Mutex<std::io::Stdout>>) {
    let value = format!(
        "{{\"writer\":{writer},\"padding\":\"{}\"}}",
        "x".repeat(100)
    );
    for i in 0usize.. {
        let key = format!("/stress/{writer}/{}", i % KEYS);
        let (verb, written) = if (i / KEYS) % 3 == 2 {
            ("delete", store.delete(&key, Precondition::None).await)
        } else {
            let value = value.clone().into_bytes();
            ("put", store.put(&key, value, Precondition::None).await)
        };
        match written {
            Ok(entry) => {
                let mut out = out.lock().unwrap();
                writeln!(out, "{verb} {key} {}", entry.mod_revision).unwrap();
                out.flush().unwrap();
            }
            // A key left absent by an earlier run.
            Err(StoreError::NotFound) => {}
            Err(error) => panic!("{verb} {key}: {error}"),
        }
    }
}
