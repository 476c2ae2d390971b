// Generated from solutions/07-apiserver/tests/store.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
//! The store's contract with the API server: preconditions (optimistic
//! concurrency), one revision per write, create revisions kept.

use solution_07_apiserver::store::{ChangeKind, Entry, Options, Precondition, Store, StoreError};

async fn check_preconditions(store: &Store) {
    let created = store
        .put("/pods/a", b"{\"v\":1}".to_vec(), Precondition::Absent)
        .await
        .unwrap();
    assert_eq!((created.create_revision, created.mod_revision), (1, 1));

    let again = store
        .put("/pods/a", b"{}".to_vec(), Precondition::Absent)
        .await;
    assert!(matches!(again, Err(StoreError::AlreadyExists)), "{again:?}");

    let updated = store
        .put("/pods/a", b"{\"v\":2}".to_vec(), Precondition::Revision(1))
        .await
        .unwrap();
    assert_eq!((updated.create_revision, updated.mod_revision), (1, 2));

    let stale = store
        .put("/pods/a", b"{\"v\":3}".to_vec(), Precondition::Revision(1))
        .await;
    assert!(
        matches!(stale, Err(StoreError::Conflict { current: 2 })),
        "{stale:?}"
    );

    let missing = store
        .put("/pods/b", b"{}".to_vec(), Precondition::Present)
        .await;
    assert!(matches!(missing, Err(StoreError::NotFound)), "{missing:?}");
    let missing = store
        .put("/pods/b", b"{}".to_vec(), Precondition::Revision(2))
        .await;
    assert!(matches!(missing, Err(StoreError::NotFound)), "{missing:?}");
    let missing = store.delete("/pods/b", Precondition::None).await;
    assert!(matches!(missing, Err(StoreError::NotFound)), "{missing:?}");

    // Refused writes take no revision.
    assert_eq!(store.revision(), 2);

    let overwritten = store
        .put("/pods/b", b"{}".to_vec(), Precondition::None)
        .await
        .unwrap();
    assert_eq!(
        (overwritten.create_revision, overwritten.mod_revision),
        (3, 3)
    );

    let stale_delete = store.delete("/pods/a", Precondition::Revision(1)).await;
    assert!(
        matches!(stale_delete, Err(StoreError::Conflict { current: 2 })),
        "{stale_delete:?}"
    );
    let deleted = store
        .delete("/pods/a", Precondition::Revision(2))
        .await
        .unwrap();
    assert_eq!(
        deleted,
        Entry {
            value: b"{\"v\":2}".to_vec().into(),
            create_revision: 1,
            mod_revision: 4,
        },
        "a deletion returns the last value with the deletion's revision"
    );
    assert_eq!(store.get("/pods/a"), None);
    assert_eq!(store.revision(), 4);

    // Created again: a new life, a new create revision.
    let reborn = store
        .put("/pods/a", b"{}".to_vec(), Precondition::Absent)
        .await
        .unwrap();
    assert_eq!((reborn.create_revision, reborn.mod_revision), (5, 5));

    let (items, revision) = store.list("/pods/");
    let keys: Vec<_> = items.iter().map(|(key, _)| key.as_str()).collect();
    assert_eq!((keys, revision), (vec!["/pods/a", "/pods/b"], 5));
    assert_eq!(store.list("/pods/a").0.len(), 1);
    assert!(store.list("/services/").0.is_empty());
}

#[tokio::test]
async fn preconditions_in_memory() {
    check_preconditions(&Store::in_memory(Options::default())).await;
}

#[tokio::test]
async fn preconditions_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    check_preconditions(&Store::open(dir.path(), Options::default()).unwrap()).await;
}

/// Many writers at once: every write gets its own revision, the revisions
/// have no gaps, and a create-if-absent race has exactly one winner.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writers_get_distinct_revisions() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), Options::default()).unwrap();
    let mut tasks = Vec::new();
    for writer in 0..50 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut revisions = Vec::new();
            for i in 0..10 {
                let key = format!("/k/{writer}/{i}");
                let entry = store
                    .put(&key, vec![b'1'], Precondition::None)
                    .await
                    .unwrap();
                revisions.push(entry.mod_revision);
            }
            // Everyone tries to create the same key.
            let race = store.put("/race", vec![b'2'], Precondition::Absent).await;
            (revisions, race.is_ok())
        }));
    }
    let mut revisions = Vec::new();
    let mut winners = 0;
    for task in tasks {
        let (mine, won) = task.await.unwrap();
        assert!(mine.is_sorted(), "one writer's revisions go up: {mine:?}");
        revisions.extend(mine);
        winners += usize::from(won);
    }
    assert_eq!(winners, 1);
    revisions.push(store.get("/race").unwrap().mod_revision);
    revisions.sort();
    let expected: Vec<u64> = (1..=501).collect();
    assert_eq!(
        revisions, expected,
        "500 puts and one create: revisions 1 to 501"
    );
    assert_eq!(store.revision(), 501);
    let stats = store.stats();
    assert_eq!((stats.writes, stats.keys), (501, 501));
    assert_eq!(stats.syncs, stats.batches, "one fsync per batch");
    assert!(stats.batches <= stats.writes);
}

#[tokio::test]
async fn watch_sees_kinds() {
    let store = Store::in_memory(Options::default());
    let mut watcher = store.watch("/", 0).unwrap();
    store.put("/a", vec![1], Precondition::None).await.unwrap();
    store.put("/a", vec![2], Precondition::None).await.unwrap();
    store.delete("/a", Precondition::None).await.unwrap();
    let mut kinds = Vec::new();
    for _ in 0..3 {
        let change = watcher.next().await.unwrap();
        kinds.push((
            change.kind,
            change.entry.mod_revision,
            change.entry.value[0],
        ));
    }
    assert_eq!(
        kinds,
        vec![
            (ChangeKind::Created, 1, 1),
            (ChangeKind::Updated, 2, 2),
            (ChangeKind::Deleted, 3, 2)
        ]
    );
}
