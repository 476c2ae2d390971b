//! Watches: every change after a revision, under a prefix, exactly once and
//! in order, from the history into the live stream without a seam; Expired
//! when the history is too short; slow watchers dropped, never waited for.

use std::time::Duration;

use solution_07_apiserver::store::{
    Change, ChangeKind, Options, Precondition, Revision, Store, StoreError, Watcher,
};

/// What a writer saw acknowledged: (revision, kind, key).
type Acked = (Revision, ChangeKind, String);

/// Creates, updates (conditionally) and deletes its own keys under `/a/`
/// and `/b/`, and reports every acknowledged write.
async fn writer(store: Store, id: usize, rounds: usize) -> Vec<Acked> {
    let mut acked = Vec::new();
    for round in 0..rounds {
        let prefix = if round % 2 == 0 { "a" } else { "b" };
        let key = format!("/{prefix}/{id}/{round}");
        let created = store
            .put(&key, vec![1], Precondition::Absent)
            .await
            .unwrap();
        acked.push((created.mod_revision, ChangeKind::Created, key.clone()));
        let updated = store
            .put(&key, vec![2], Precondition::Revision(created.mod_revision))
            .await
            .unwrap();
        acked.push((updated.mod_revision, ChangeKind::Updated, key.clone()));
        if round % 3 == 0 {
            let deleted = store.delete(&key, Precondition::None).await.unwrap();
            acked.push((deleted.mod_revision, ChangeKind::Deleted, key.clone()));
        }
    }
    acked
}

/// Reads `count` changes, or fails loudly if the watch stalls or ends.
async fn take(watcher: &mut Watcher, count: usize) -> Vec<Change> {
    let mut changes = Vec::new();
    while changes.len() < count {
        let next = tokio::time::timeout(Duration::from_secs(60), watcher.next())
            .await
            .expect("the watch stalled");
        changes.push(next.unwrap_or_else(|| {
            panic!(
                "the watch ended after {} changes (lagged: {})",
                changes.len(),
                watcher.lagged()
            )
        }));
    }
    changes
}

fn seen(changes: &[Change]) -> Vec<Acked> {
    changes
        .iter()
        .map(|change| (change.entry.mod_revision, change.kind, change.key.clone()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn replay_and_live_changes_without_gaps_or_doubles() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), Options::default()).unwrap();
    let from_start = store.watch("/a/", 0).unwrap();

    let writers: Vec<_> = (0..16)
        .map(|id| tokio::spawn(writer(store.clone(), id, 12)))
        .collect();
    // Join the stream while the writers are busy.
    while store.revision() < 150 {
        tokio::task::yield_now().await;
    }
    // 50 changes back: those come from the history, the rest live.
    let after = store.revision() - 50;
    let midway = store.watch("/a/", after).unwrap();
    let everything = store.watch("", after).unwrap();

    let mut acked = Vec::new();
    for writer in writers {
        acked.extend(writer.await.unwrap());
    }
    // The last write: whatever came twice or out of place would show
    // before it.
    let last = store
        .put("/a/last", vec![], Precondition::None)
        .await
        .unwrap();
    acked.push((last.mod_revision, ChangeKind::Created, "/a/last".into()));
    acked.sort_by_key(|(revision, _, _)| *revision);
    let under_a: Vec<Acked> = acked
        .iter()
        .filter(|(_, _, key)| key.starts_with("/a/"))
        .cloned()
        .collect();
    let under_a_after: Vec<Acked> = under_a
        .iter()
        .filter(|(revision, _, _)| *revision > after)
        .cloned()
        .collect();
    let all_after: Vec<Acked> = acked
        .iter()
        .filter(|(revision, _, _)| *revision > after)
        .cloned()
        .collect();
    assert!(!under_a_after.is_empty() && under_a_after.len() < under_a.len());

    for (mut watcher, expected) in [
        (from_start, under_a),
        (midway, under_a_after),
        (everything, all_after),
    ] {
        let changes = take(&mut watcher, expected.len()).await;
        assert_eq!(seen(&changes), expected);
        assert!(!watcher.lagged());
    }
}

#[tokio::test]
async fn a_watch_before_the_history_expires() {
    let dir = tempfile::tempdir().unwrap();
    let options = Options {
        history: 10,
        ..Options::default()
    };
    let store = Store::open(dir.path(), options.clone()).unwrap();
    for i in 0..30 {
        store
            .put(&format!("/k/{i}"), vec![], Precondition::None)
            .await
            .unwrap();
    }
    // The history holds revisions 21 to 30.
    let expired = store.watch("/k/", 19);
    assert!(
        matches!(
            expired,
            Err(StoreError::Expired {
                requested: 19,
                oldest: 20
            })
        ),
        "{:?}",
        expired.err()
    );
    let mut watcher = store.watch("/k/", 20).unwrap();
    let replayed = take(&mut watcher, 10).await;
    let revisions: Vec<_> = replayed.iter().map(|c| c.entry.mod_revision).collect();
    assert_eq!(revisions, (21..=30).collect::<Vec<_>>());
    drop(store);

    // After a restart the history is empty: only "from now on" works.
    let store = Store::open(dir.path(), options).unwrap();
    assert_eq!(store.revision(), 30);
    assert!(matches!(
        store.watch("/k/", 29),
        Err(StoreError::Expired {
            requested: 29,
            oldest: 30
        })
    ));
    let mut watcher = store.watch("/k/", 30).unwrap();
    store
        .put("/k/new", vec![], Precondition::None)
        .await
        .unwrap();
    let live = take(&mut watcher, 1).await;
    assert_eq!(
        seen(&live),
        vec![(31, ChangeKind::Created, "/k/new".into())]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_slow_watcher_is_dropped_while_the_others_go_on() {
    let store = Store::in_memory(Options {
        watcher_buffer: 8,
        ..Options::default()
    });
    let mut slow = store.watch("/", 0).unwrap();
    let mut fast = store.watch("/", 0).unwrap();
    let mut other_prefix = store.watch("/other/", 0).unwrap();

    // The fast reader keeps up (it reads every change before the next
    // write); nobody reads `slow`, and the writes go on regardless.
    for i in 1..=200 {
        let key = format!("/w/{i}");
        let written = store.put(&key, vec![], Precondition::None).await.unwrap();
        let seen_now = take(&mut fast, 1).await;
        assert_eq!(
            seen(&seen_now),
            vec![(written.mod_revision, ChangeKind::Created, key)]
        );
    }
    assert!(!fast.lagged());
    store
        .put("/other/x", vec![], Precondition::None)
        .await
        .unwrap();
    let other = take(&mut other_prefix, 1).await;
    assert_eq!(
        seen(&other),
        vec![(201, ChangeKind::Created, "/other/x".into())]
    );
    let last = take(&mut fast, 1).await;
    assert_eq!(last[0].entry.mod_revision, 201);

    // The slow one got what fit in its buffer, then was cut off.
    assert!(slow.lagged());
    let mut got = 0;
    while let Some(change) = slow.next().await {
        got += 1;
        assert_eq!(change.entry.mod_revision, got);
    }
    assert_eq!(got, 8);
}

/// Many writers and one watcher that falls behind: the writers are never
/// held up by it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn writers_never_wait_for_a_watcher() {
    let store = Store::in_memory(Options {
        watcher_buffer: 8,
        ..Options::default()
    });
    let slow = store.watch("/", 0).unwrap();
    let writers: Vec<_> = (0..8)
        .map(|id| tokio::spawn(writer(store.clone(), id, 10)))
        .collect();
    let mut written = 0;
    for writer in writers {
        written += writer.await.unwrap().len();
    }
    assert_eq!(store.revision(), written as u64);
    assert!(slow.lagged());
}

/// A watch whose replay alone overflows its buffer ends at once, lagged.
#[tokio::test]
async fn a_replay_larger_than_the_buffer_is_lagged() {
    let store = Store::in_memory(Options {
        watcher_buffer: 4,
        ..Options::default()
    });
    for i in 0..10 {
        store
            .put(&format!("/k/{i}"), vec![], Precondition::None)
            .await
            .unwrap();
    }
    let mut watcher = store.watch("/k/", 0).unwrap();
    assert!(watcher.lagged());
    let mut got = 0;
    while watcher.next().await.is_some() {
        got += 1;
    }
    assert_eq!(got, 4);
}

#[tokio::test]
async fn a_watch_from_a_revision_not_reached_yet_skips_the_changes_up_to_it() {
    let store = Store::in_memory(Options::default());
    store.put("/a", vec![], Precondition::None).await.unwrap();
    let mut watcher = store.watch("/", 3).unwrap();
    for key in ["/b", "/c", "/d"] {
        store.put(key, vec![], Precondition::None).await.unwrap();
    }
    let changes = take(&mut watcher, 1).await;
    assert_eq!(seen(&changes), [(4, ChangeKind::Created, "/d".to_string())]);
    // Waiting for a revision: reached within the limit, or not.
    let waiting = store.wait_for(5, Duration::from_secs(5));
    let writing = store.put("/e", vec![], Precondition::None);
    let (reached, _) = tokio::join!(waiting, writing);
    assert_eq!(reached, 5);
    assert_eq!(store.wait_for(7, Duration::from_millis(50)).await, 5);
}
