//! `bench proxy`'s tables: requests per second and latency percentiles,
//! the bulk transfer's throughput, each way and as ratios, and the
//! issue's goals with a verdict each (reported, never asserted).

use std::time::Duration;

use super::load::Requests;
use super::{Figures, Way};
use crate::bench::percentile;

/// The goals, reported against (never asserted): through the
/// proxy at least this share of direct requests per second and bulk
/// throughput, and less than this added at p50.
const REQUESTS_GOAL: f64 = 0.70;
const BULK_GOAL: f64 = 0.90;
const ADDED_GOAL: Duration = Duration::from_micros(100);

/// Requests per second, then p50, p90 and p99.
fn request_figures(requests: &mut Requests) -> (f64, [Duration; 3]) {
    requests.latencies.sort();
    let at = |q| percentile(&requests.latencies, q);
    (requests.per_second(), [at(0.5), at(0.9), at(0.99)])
}

pub(super) fn plural(count: usize) -> &'static str {
    if count == 1 { "" } else { "s" }
}

fn micros(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e6
}

pub(super) fn print_table(
    rounds: usize,
    length: Duration,
    connections: usize,
    mib: u64,
    mut figures: Figures,
) {
    let title = format!(
        "REQUESTS (GET, 3-BYTE ANSWER), {rounds} x {:.1} S",
        length.as_secs_f64()
    );
    println!(
        "{title:<48} {:>10} {:>10} {:>10} {:>10}",
        "REQ/S", "P50", "P90", "P99"
    );
    let mut added = Vec::new();
    let mut kept = Vec::new();
    let cases = [
        ("1 connection".to_string(), &mut figures.one),
        (
            format!("{connections} connection{}", plural(connections)),
            &mut figures.many,
        ),
    ];
    for (case, ways) in cases {
        let [direct, proxy] = ways;
        let (direct_rate, direct_at) = request_figures(direct);
        let (proxy_rate, proxy_at) = request_figures(proxy);
        for (way, rate, at) in [
            ("direct", direct_rate, direct_at),
            ("through the proxy", proxy_rate, proxy_at),
        ] {
            let [p50, p90, p99] = at.map(micros);
            println!(
                "{:<48} {rate:>10.0} {p50:>8.1}µs {p90:>8.1}µs {p99:>8.1}µs",
                format!("{case}, {way}")
            );
        }
        let [r50, r90, r99] = [0, 1, 2].map(|i| micros(proxy_at[i]) / micros(direct_at[i]));
        println!(
            "{:<48} {:>9.2}x {r50:>9.2}x {r90:>9.2}x {r99:>9.2}x",
            "  through the proxy / direct",
            proxy_rate / direct_rate
        );
        let [a50, a90, a99] = [0, 1, 2].map(|i| micros(proxy_at[i]) - micros(direct_at[i]));
        println!(
            "{:<48} {:>10} {a50:>+8.1}µs {a90:>+8.1}µs {a99:>+8.1}µs",
            "  added through the proxy", ""
        );
        kept.push((case.clone(), proxy_rate / direct_rate));
        added.push((case, proxy_at[0].as_secs_f64() - direct_at[0].as_secs_f64()));
    }
    println!();
    let title = format!("BULK ({mib} MIB, 1 CONNECTION), {rounds} TRANSFERS, P50");
    println!(
        "{title:<48} {:>10} {:>10} {:>10}",
        "GBIT/S", "GIB/S", "SECONDS"
    );
    let bytes = (mib << 20) as f64;
    let mut medians = [0.0; 2];
    for (way, name) in [(Way::Direct, "direct"), (Way::Proxy, "through the proxy")] {
        let transfers = &mut figures.bulk[way as usize];
        transfers.sort();
        let seconds = percentile(transfers, 0.5).as_secs_f64();
        medians[way as usize] = seconds;
        println!(
            "{name:<48} {:>10.2} {:>10.2} {seconds:>10.3}",
            bytes * 8.0 / seconds / 1e9,
            bytes / seconds / f64::from(1 << 30)
        );
    }
    let bulk_kept = medians[Way::Direct as usize] / medians[Way::Proxy as usize];
    println!("{:<48} {bulk_kept:>9.2}x", "  through the proxy / direct");
    println!();
    println!(
        "{:<48} {:>10} {:>10}",
        "GOALS (REPORTED, NOT ASSERTED)", "GOAL", "MEASURED"
    );
    let verdict = |met: bool| if met { "met" } else { "missed" };
    let percent = |goal: f64| format!(">= {:.0}%", goal * 100.0);
    for (case, share) in kept {
        println!(
            "{:<48} {:>10} {:>9.0}% {:>10}",
            format!("requests/s through the proxy, {case}"),
            percent(REQUESTS_GOAL),
            share * 100.0,
            verdict(share >= REQUESTS_GOAL)
        );
    }
    println!(
        "{:<48} {:>10} {:>9.0}% {:>10}",
        "bulk throughput through the proxy",
        percent(BULK_GOAL),
        bulk_kept * 100.0,
        verdict(bulk_kept >= BULK_GOAL)
    );
    for (case, seconds) in added {
        println!(
            "{:<48} {:>10} {:>+8.1}µs {:>10}",
            format!("added at p50, {case}"),
            format!("< {}µs", ADDED_GOAL.as_micros()),
            seconds * 1e6,
            verdict(seconds < ADDED_GOAL.as_secs_f64())
        );
    }
}
