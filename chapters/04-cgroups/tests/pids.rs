//! A fork bomb meets pids.max.
//! Holes exercised: `Limits::writes` (src/limits.rs), removal
//! (`remove_tree`, src/remove.rs).

use std::fmt::Write;
use std::time::Duration;

use chapter_04::cgroups::{Controller, Limits};
use chapter_04::{Lab, guard, is_dead};
use insta::{assert_snapshot, with_settings};

const PIDS_MAX: u64 = 16;

/// How many times the kernel refused a fork because of pids.max.
fn refused_forks(events: &str) -> u64 {
    events
        .lines()
        .find_map(|line| line.strip_prefix("max "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0)
}

#[tokio::test]
async fn a_fork_bomb_stops_at_pids_max_and_removal_kills_it_all() {
    guard(async {
        let lab = Lab::new();
        let name = lab.name(&["bomb-pod", "bomb"]);
        let limits = Limits { pids_max: Some(PIDS_MAX as i64), ..Limits::default() };
        let cgroup = lab.cgroups.create(&name, &limits).unwrap();
        let events_file = cgroup.dir(Controller::Pids).unwrap().join("pids.events");
        let mut bomb = lab
            .command_in(&cgroup, "sh", &["-c", "while :; do sleep 1000 & done"])
            .spawn()
            .unwrap();

        // Watch until the kernel has refused a fork, never seeing more than
        // pids.max processes. Bounded: 1000 looks.
        let mut most_seen = 0;
        let mut refused = 0;
        for _ in 0..1000 {
            let usage = cgroup.usage().unwrap();
            most_seen = most_seen.max(usage.pids);
            refused = refused_forks(&std::fs::read_to_string(&events_file).unwrap());
            if refused > 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        // A few more looks, while a shell that retries keeps trying.
        for _ in 0..20 {
            most_seen = most_seen.max(cgroup.usage().unwrap().pids);
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let usage = cgroup.usage().unwrap();
        let peak = usage.pids_peak.unwrap_or(most_seen).max(most_seen);
        let pids = cgroup.pids().unwrap();
        eprintln!(
            "fork bomb: {} processes in the cgroup, most seen {most_seen}, peak {:?}, {refused} forks refused",
            pids.len(),
            usage.pids_peak
        );

        cgroup.remove().unwrap();
        let bomb_status = bomb.wait().await.unwrap();
        let mut all_dead = false;
        for _ in 0..500 {
            all_dead = pids.iter().all(|&pid| is_dead(pid));
            if all_dead {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        eprintln!("the bomb's shell: {bomb_status}");

        let mut report = String::new();
        writeln!(report, "bomb:   sh -c 'while :; do sleep 1000 & done', pids_max {PIDS_MAX}").unwrap();
        writeln!(report, "the kernel refused forks: {}", refused > 0).unwrap();
        writeln!(report, "never more than {PIDS_MAX} processes: {}", peak <= PIDS_MAX).unwrap();
        writeln!(report, "after removal, every process of the bomb is dead: {all_dead}").unwrap();
        writeln!(report, "left after removal: {:?}", lab.leftovers_of(&name)).unwrap();
        with_settings!({
            description => "a shell that starts background sleeps without end, in a cgroup with pids.max 16",
            omit_expression => true,
        }, {
            assert_snapshot!(report);
        });
        lab.cgroups.remove(&lab.root_name()).unwrap();
        lab.assert_no_leaks();
    })
    .await;
}
