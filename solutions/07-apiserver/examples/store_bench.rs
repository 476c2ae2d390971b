//! Durable writes per second, against the floor of the disk in the same run.
//!
//! ```text
//! cargo run --release -p solution-07-apiserver --example store_bench [SECONDS_PER_RUN]
//! ```
//!
//! The reference is a raw loop of "append 200 bytes, fdatasync": the most
//! durable writes per second one writer can get without group commit. The
//! store with one writer should come close to it (each write waits for its
//! own fsync); with 100 writers, group commit lets one fsync carry many
//! writes, so it should go well past it. Set STORE_BENCH_DIR to measure
//! another disk (the default is the system's temporary directory).

use std::io::Write;
use std::time::{Duration, Instant};

use solution_07_apiserver::store::{Options, Precondition, Store};

fn main() {
    let seconds: f64 = std::env::args()
        .nth(1)
        .map_or(2.0, |s| s.parse().expect("SECONDS_PER_PHASE"));
    let phase = Duration::from_secs_f64(seconds);
    let base = std::env::var_os("STORE_BENCH_DIR")
        .map_or_else(std::env::temp_dir, std::path::PathBuf::from);
    let runtime = tokio::runtime::Runtime::new().unwrap();

    // The disk is shared: interleave the three, several rounds, and take
    // each one's median, so that a busy moment does not favour one of them.
    const ROUNDS: usize = 3;
    let mut runs: [Vec<Rate>; 3] = Default::default();
    for _ in 0..ROUNDS {
        runs[0].push(raw_fdatasync(&base, phase));
        runs[1].push(runtime.block_on(store_writes(&base, 1, phase)));
        runs[2].push(runtime.block_on(store_writes(&base, 100, phase)));
    }
    let [raw, one, hundred] = runs.map(median);

    println!(
        "durable writes on {} (median of {ROUNDS} interleaved runs of {seconds} s)",
        base.display()
    );
    println!(
        "{:<34} {:>10} {:>10} {:>12} {:>9}",
        "", "writes/s", "fsyncs/s", "writes/fsync", "vs raw"
    );
    for (name, result) in [
        ("raw append + fdatasync (reference)", raw),
        ("store, 1 writer", one),
        ("store, 100 concurrent writers", hundred),
    ] {
        println!(
            "{name:<34} {:>10.0} {:>10.0} {:>12.1} {:>8.2}x",
            result.writes_per_second,
            result.syncs_per_second,
            result.writes_per_second / result.syncs_per_second,
            result.writes_per_second / raw.writes_per_second,
        );
    }
    println!(
        "(one raw fdatasync: {:.3} ms)",
        1000.0 / raw.syncs_per_second
    );
}

#[derive(Clone, Copy, Default)]
struct Rate {
    writes_per_second: f64,
    syncs_per_second: f64,
}

fn median(mut runs: Vec<Rate>) -> Rate {
    runs.sort_by(|a, b| a.writes_per_second.total_cmp(&b.writes_per_second));
    runs[runs.len() / 2]
}

fn raw_fdatasync(base: &std::path::Path, phase: Duration) -> Rate {
    let dir = tempfile::tempdir_in(base).unwrap();
    let mut file = std::fs::File::create(dir.path().join("raw")).unwrap();
    let record = [b'x'; 200];
    let start = Instant::now();
    let mut count = 0u64;
    while start.elapsed() < phase {
        file.write_all(&record).unwrap();
        file.sync_data().unwrap();
        count += 1;
    }
    let rate = count as f64 / start.elapsed().as_secs_f64();
    Rate {
        writes_per_second: rate,
        syncs_per_second: rate,
    }
}

async fn store_writes(base: &std::path::Path, writers: usize, phase: Duration) -> Rate {
    let dir = tempfile::tempdir_in(base).unwrap();
    let store = Store::open(dir.path(), Options::default()).unwrap();
    let value = format!("{{\"kind\":\"Pod\",\"padding\":\"{}\"}}", "x".repeat(150)).into_bytes();
    let start = Instant::now();
    let tasks: Vec<_> = (0..writers)
        .map(|writer| {
            let store = store.clone();
            let value = value.clone();
            tokio::spawn(async move {
                let mut i = 0u64;
                while start.elapsed() < phase {
                    let key = format!("/pods/{writer}/{}", i % 100);
                    store
                        .put(&key, value.clone(), Precondition::None)
                        .await
                        .unwrap();
                    i += 1;
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let elapsed = start.elapsed().as_secs_f64();
    let stats = store.stats();
    Rate {
        writes_per_second: stats.writes as f64 / elapsed,
        syncs_per_second: stats.syncs as f64 / elapsed,
    }
}
