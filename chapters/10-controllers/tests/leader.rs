//! Leader election: the decision a candidate takes on the lease it read
//! (pure), the lease it writes, and two candidates against a real API
//! server (in this process, in memory): one leads; a graceful stop hands
//! over at once; a crash hands over after the lease duration; a leader
//! that cannot renew gives up; and the manager runs its controllers only
//! while it leads.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use apiserver::client::{Api, Client};
use chapter_10::controllers::leader::{
    Config, Decision, LeaderElection, Leadership, claim, decide, release,
};
use chapter_10::controllers::manager::{self, ControllerManager, Ended, Registration};
use objects::{Lease, MicroTime, Resource};
use tokio::sync::watch;

fn lease(holder: Option<&str>, seconds: Option<i32>) -> Lease {
    let mut lease = Lease::new("k8s-mini-controller-manager", Some("kube-system"));
    lease.metadata.resource_version = Some("7".into());
    lease.spec.holder_identity = holder.map(str::to_string);
    lease.spec.lease_duration_seconds = seconds;
    lease
}

fn at(start: Instant, seconds: u64) -> Instant {
    start + Duration::from_secs(seconds)
}

#[test]
fn a_candidate_creates_a_missing_lease_and_takes_a_free_one() {
    let start = Instant::now();
    assert_eq!(decide(None, "me", start, start), Decision::Create);
    assert_eq!(
        decide(Some(&lease(None, Some(15))), "me", start, start),
        Decision::Acquire
    );
    assert_eq!(
        decide(Some(&lease(Some(""), Some(1))), "me", start, start),
        Decision::Acquire,
        "a released lease is free"
    );
}

#[test]
fn the_holder_renews() {
    let start = Instant::now();
    assert_eq!(
        decide(
            Some(&lease(Some("me"), Some(15))),
            "me",
            start,
            at(start, 100)
        ),
        Decision::Renew
    );
}

#[test]
fn another_holder_is_waited_for_until_its_record_is_a_lease_duration_old() {
    let start = Instant::now();
    let held = lease(Some("other"), Some(15));
    assert_eq!(
        decide(Some(&held), "me", start, at(start, 14)),
        Decision::Wait {
            holder: "other".into(),
            until: at(start, 15)
        }
    );
    assert_eq!(
        decide(Some(&held), "me", start, at(start, 15)),
        Decision::Acquire
    );
    // Counted from when this candidate saw the record, not from when the
    // candidate started.
    assert_eq!(
        decide(Some(&held), "me", at(start, 10), at(start, 20)),
        Decision::Wait {
            holder: "other".into(),
            until: at(start, 25)
        }
    );
    assert_eq!(
        decide(Some(&lease(Some("other"), None)), "me", start, start),
        Decision::Acquire,
        "a lease without a duration holds nothing"
    );
}

#[test]
fn claiming_counts_transitions_and_renewing_keeps_the_acquire_time() {
    let t0 = MicroTime::now();
    let t1 = MicroTime(t0.0 + Duration::from_secs(5));
    let mut new = lease(None, None);
    new.metadata.resource_version = None;
    let created = claim(new, "me", Duration::from_millis(1500), t0);
    assert_eq!(created.spec.holder_identity.as_deref(), Some("me"));
    assert_eq!(created.spec.lease_transitions, Some(0));
    assert_eq!(created.spec.lease_duration_seconds, Some(2), "rounded up");
    assert_eq!(created.spec.acquire_time, Some(t0));
    assert_eq!(created.spec.renew_time, Some(t0));

    let mut taken = lease(Some("other"), Some(15));
    taken.spec.lease_transitions = Some(3);
    taken.spec.acquire_time = Some(t0);
    let taken = claim(taken, "me", Duration::from_secs(15), t1);
    assert_eq!(taken.spec.holder_identity.as_deref(), Some("me"));
    assert_eq!(taken.spec.lease_transitions, Some(4));
    assert_eq!(taken.spec.acquire_time, Some(t1));
    assert_eq!(
        taken.metadata.resource_version.as_deref(),
        Some("7"),
        "the update carries the version it read"
    );

    let mut mine = lease(Some("me"), Some(15));
    mine.spec.lease_transitions = Some(4);
    mine.spec.acquire_time = Some(t0);
    let renewed = claim(mine, "me", Duration::from_secs(15), t1);
    assert_eq!(renewed.spec.lease_transitions, Some(4));
    assert_eq!(renewed.spec.acquire_time, Some(t0));
    assert_eq!(renewed.spec.renew_time, Some(t1));

    let released = release(renewed, t1);
    assert_eq!(released.spec.holder_identity, None);
    assert_eq!(released.spec.lease_duration_seconds, Some(1));
    assert_eq!(released.spec.lease_transitions, Some(4));
}

#[test]
fn the_figures_must_let_a_leader_give_up_before_another_takes_over() {
    assert_eq!(Config::new("me").validate(), Ok(()));
    let mut config = Config::new("me");
    config.renew_deadline = config.lease_duration;
    assert!(config.validate().is_err());
    let mut config = Config::new("me");
    config.retry_period = Duration::from_secs(9);
    assert!(config.validate().is_err());
    assert!(Config::new("").validate().is_err());
}

// ---------------------------------------------------------------------
// Against a real API server.

/// Short figures: a takeover after a crash within about 2 s.
fn quick(identity: &str) -> Config {
    Config {
        lease_duration: Duration::from_secs(2),
        renew_deadline: Duration::from_millis(1000),
        retry_period: Duration::from_millis(200),
        ..Config::new(identity)
    }
}

async fn until_leading(leadership: &mut watch::Receiver<Leadership>, what: &str) {
    tokio::time::timeout(
        Duration::from_secs(10),
        leadership.wait_for(|state| *state == Leadership::Leading),
    )
    .await
    .unwrap_or_else(|_| panic!("{what}: not leading within 10 s"))
    .unwrap();
}

async fn holder(leases: &Api<Lease>) -> Option<String> {
    leases
        .get("k8s-mini-controller-manager")
        .await
        .unwrap()
        .spec
        .holder_identity
}

#[tokio::test]
async fn one_of_two_leads_a_stop_hands_over_at_once_and_a_crash_after_the_lease() {
    let server = chapter_10::start_server().await;
    let client = Client::new(&server.url()).unwrap();
    let leases: Api<Lease> = Api::namespaced(&client, "kube-system");
    let a = LeaderElection::start(&client, quick("a")).unwrap();
    until_leading(&mut a.leadership(), "a").await;
    let b = LeaderElection::start(&client, quick("b")).unwrap();
    // b keeps reading a renewed lease: it stays a candidate.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(*b.leadership().borrow(), Leadership::Candidate);
    assert_eq!(holder(&leases).await.as_deref(), Some("a"));

    // A graceful stop releases the lease: b takes it at its next try,
    // without waiting for it to run out.
    a.stop(Duration::from_secs(5)).await;
    assert_ne!(holder(&leases).await.as_deref(), Some("a"), "not released");
    until_leading(&mut b.leadership(), "b after a's stop").await;
    let lease = leases.get("k8s-mini-controller-manager").await.unwrap();
    assert_eq!(lease.spec.holder_identity.as_deref(), Some("b"));
    assert_eq!(lease.spec.lease_transitions, Some(1));

    // A crash (dropped without a release): c waits out the lease.
    let c = LeaderElection::start(&client, quick("c")).unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let crashed = Instant::now();
    drop(b);
    until_leading(&mut c.leadership(), "c after b's crash").await;
    assert!(
        crashed.elapsed() >= Duration::from_millis(1400),
        "c took over a lease still valid ({:?})",
        crashed.elapsed()
    );
    assert_eq!(holder(&leases).await.as_deref(), Some("c"));
    c.stop(Duration::from_secs(5)).await;
    assert_eq!(holder(&leases).await, None);
    server.stop(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn a_leader_that_cannot_renew_gives_up() {
    let server = chapter_10::start_server().await;
    let client = Client::new(&server.url())
        .unwrap()
        .with_timeout(Duration::from_millis(500));
    let a = LeaderElection::start(&client, quick("a")).unwrap();
    let mut leadership = a.leadership();
    until_leading(&mut leadership, "a").await;
    server.stop(Duration::from_secs(5)).await;
    tokio::time::timeout(
        Duration::from_secs(10),
        leadership.wait_for(|state| *state == Leadership::Lost),
    )
    .await
    .expect("lost within 10 s")
    .unwrap();
    assert!(!a.is_leader());
}

#[tokio::test]
async fn the_manager_runs_its_controllers_only_while_it_leads() {
    let server = chapter_10::start_server().await;
    let client = Client::new(&server.url()).unwrap();
    let leases: Api<Lease> = Api::namespaced(&client, "kube-system");
    let started = Arc::new(AtomicUsize::new(0));
    let running = Arc::new(AtomicUsize::new(0));
    let registration = || {
        let started = Arc::clone(&started);
        let running = Arc::clone(&running);
        Registration::new("counting", move |_context, mut shutdown| {
            let started = Arc::clone(&started);
            let running = Arc::clone(&running);
            async move {
                started.fetch_add(1, Ordering::SeqCst);
                running.fetch_add(1, Ordering::SeqCst);
                shutdown.wait().await;
                running.fetch_sub(1, Ordering::SeqCst);
                Ok(())
            }
        })
    };
    let config = |identity: &str| manager::Config {
        leader_election: Some(quick(identity)),
        settings: Default::default(),
        controllers: vec![registration()],
    };
    let first = ControllerManager::start(client.clone(), config("first"))
        .await
        .unwrap();
    until_leading(&mut first.leadership(), "first").await;
    let second = ControllerManager::start(client.clone(), config("second"))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert_eq!(
        started.load(Ordering::SeqCst),
        1,
        "only the leader runs them"
    );
    assert_eq!(running.load(Ordering::SeqCst), 1);

    assert_eq!(first.stop(Duration::from_secs(5)).await, Ended::Stopped);
    until_leading(&mut second.leadership(), "second").await;
    assert_eq!(holder(&leases).await.as_deref(), Some("second"));
    tokio::time::timeout(Duration::from_secs(10), async {
        while started.load(Ordering::SeqCst) < 2 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the second started its controllers");
    assert_eq!(
        running.load(Ordering::SeqCst),
        1,
        "the first stopped its own"
    );
    assert_eq!(second.stop(Duration::from_secs(5)).await, Ended::Stopped);
    assert_eq!(running.load(Ordering::SeqCst), 0);
    server.stop(Duration::from_secs(5)).await;
}

/// Counts one running controller until dropped (which an abort does).
struct Running(Arc<AtomicUsize>);

impl Running {
    fn new(count: &Arc<AtomicUsize>) -> Running {
        count.fetch_add(1, Ordering::SeqCst);
        Running(Arc::clone(count))
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

#[tokio::test]
async fn a_manager_that_loses_its_lease_aborts_its_controllers_and_ends() {
    let server = chapter_10::start_server().await;
    let client = Client::new(&server.url())
        .unwrap()
        .with_timeout(Duration::from_millis(500));
    let running = Arc::new(AtomicUsize::new(0));
    let count = Arc::clone(&running);
    // A controller that would never stop on its own, even when asked.
    let stubborn = Registration::new("stubborn", move |_context, _shutdown| {
        let running = Running::new(&count);
        async move {
            let _running = running;
            std::future::pending::<()>().await;
            Ok(())
        }
    });
    let mut manager = ControllerManager::start(
        client,
        manager::Config {
            leader_election: Some(quick("a")),
            settings: Default::default(),
            controllers: vec![stubborn],
        },
    )
    .await
    .unwrap();
    until_leading(&mut manager.leadership(), "a").await;
    assert_eq!(running.load(Ordering::SeqCst), 1);
    server.stop(Duration::from_secs(5)).await;
    let ended = tokio::time::timeout(Duration::from_secs(10), manager.ended())
        .await
        .expect("ended within 10 s");
    assert_eq!(ended, Ended::LostLeadership);
    assert_eq!(*manager.leadership().borrow(), Leadership::Lost);
    assert_eq!(running.load(Ordering::SeqCst), 0, "aborted at once");
}

#[tokio::test]
async fn without_election_the_controllers_run_at_once_and_a_failure_ends_the_manager() {
    let server = chapter_10::start_server().await;
    let client = Client::new(&server.url()).unwrap();
    let failing = Registration::new("failing", |_context, _shutdown| async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        Err(chapter_10::controllers::controller::RunError::Failed {
            controller: "failing".into(),
            message: "broken on purpose".into(),
        })
    });
    let mut manager = ControllerManager::start(
        client,
        manager::Config {
            leader_election: None,
            settings: Default::default(),
            controllers: vec![failing],
        },
    )
    .await
    .unwrap();
    until_leading(&mut manager.leadership(), "without election").await;
    let ended = tokio::time::timeout(Duration::from_secs(10), manager.ended())
        .await
        .expect("ended within 10 s");
    match ended {
        Ended::Failed(message) => assert!(message.contains("broken on purpose"), "{message}"),
        other => panic!("expected a failure, got {other:?}"),
    }
    server.stop(Duration::from_secs(5)).await;
}
