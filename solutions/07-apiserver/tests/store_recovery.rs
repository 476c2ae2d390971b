//! Recovery: what was acknowledged is there after a restart, a torn or
//! garbled log tail is cut off (never half-applied), snapshots bound the
//! log, and the revision never goes backwards.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use solution_07_apiserver::store::{Entry, Options, Precondition, Revision, Store};

/// What the store should hold: the same writes applied to a plain map.
#[derive(Default, Debug, PartialEq)]
struct Model {
    entries: BTreeMap<String, Entry>,
    revision: Revision,
}

impl Model {
    async fn put(&mut self, store: &Store, key: &str, value: &str) {
        let entry = store
            .put(key, value.as_bytes().to_vec(), Precondition::None)
            .await
            .unwrap();
        self.revision = entry.mod_revision;
        self.entries.insert(key.to_string(), entry);
    }

    async fn delete(&mut self, store: &Store, key: &str) {
        let entry = store.delete(key, Precondition::None).await.unwrap();
        self.revision = entry.mod_revision;
        self.entries.remove(key);
    }

    fn of(store: &Store) -> Model {
        let (items, revision) = store.list("");
        Model {
            entries: items.into_iter().collect(),
            revision,
        }
    }
}

/// The log segments in `dir`, oldest first.
fn files(dir: &Path, prefix: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|item| item.unwrap().path())
        .filter(|path| {
            path.file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with(prefix)
        })
        .collect();
    files.sort();
    files
}

fn only_segment(dir: &Path) -> PathBuf {
    let segments: Vec<_> = files(dir, "wal-")
        .into_iter()
        .filter(|path| !path.to_str().unwrap().contains(".torn-"))
        .collect();
    assert_eq!(segments.len(), 1, "{segments:?}");
    segments[0].clone()
}

#[tokio::test]
async fn reopen_after_a_clean_stop() {
    let dir = tempfile::tempdir().unwrap();
    let mut model = Model::default();
    {
        let store = Store::open(dir.path(), Options::default()).unwrap();
        model.put(&store, "/a", "1").await;
        model.put(&store, "/b", "2").await;
        model.put(&store, "/a", "3").await;
        model.delete(&store, "/b").await;
        model.put(&store, "/c", "{\"json\":[1,2]}").await;
        assert_eq!(Model::of(&store), model);
    }
    let store = Store::open(dir.path(), Options::default()).unwrap();
    assert_eq!(Model::of(&store), model);
    assert_eq!(store.get("/a").unwrap().create_revision, 1);
    // It goes on from there.
    let next = store.put("/d", vec![], Precondition::None).await.unwrap();
    assert_eq!(next.mod_revision, 6);
}

#[tokio::test]
async fn one_store_per_directory() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), Options::default()).unwrap();
    let second = Store::open(dir.path(), Options::default());
    let error = second.err().expect("a second store on the same directory");
    assert!(error.to_string().contains("in use"), "{error}");
    drop(store);
    Store::open(dir.path(), Options::default()).unwrap();
}

/// Writes `count` puts, one at a time, and returns where each record ends
/// in the log.
async fn write_records(dir: &Path, count: usize) -> (Model, Vec<u64>) {
    let store = Store::open(dir, Options::default()).unwrap();
    let mut model = Model::default();
    let mut ends = Vec::new();
    for i in 1..=count {
        model
            .put(&store, &format!("/k/{i}"), &"x".repeat(10 * i))
            .await;
        ends.push(store.stats().log_bytes);
    }
    (model, ends)
}

/// The model after only the first `count` writes of `write_records`.
fn prefix_of(model: &Model, count: usize) -> Model {
    Model {
        entries: model
            .entries
            .iter()
            .filter(|(_, entry)| entry.mod_revision <= count as u64)
            .map(|(key, entry)| (key.clone(), entry.clone()))
            .collect(),
        revision: count as u64,
    }
}

#[tokio::test]
async fn a_torn_tail_is_cut_off() {
    let dir = tempfile::tempdir().unwrap();
    let (model, ends) = write_records(dir.path(), 6).await;
    let segment = only_segment(dir.path());
    let whole = std::fs::read(&segment).unwrap();
    assert_eq!(whole.len() as u64, ends[5]);

    // Cut the log at every byte: whatever whole records are left survive,
    // nothing of the torn one does.
    for cut in 0..whole.len() as u64 {
        std::fs::write(&segment, &whole[..cut as usize]).unwrap();
        let store = Store::open(dir.path(), Options::default()).unwrap();
        let survivors = ends.iter().filter(|end| **end <= cut).count();
        assert_eq!(
            Model::of(&store),
            prefix_of(&model, survivors),
            "cut at {cut}"
        );
        drop(store);
    }

    // The cut is for good: new writes follow the good prefix.
    std::fs::write(&segment, &whole[..ends[3] as usize + 5]).unwrap();
    let mut survivors = {
        let store = Store::open(dir.path(), Options::default()).unwrap();
        let mut survivors = prefix_of(&model, 4);
        survivors.put(&store, "/after", "cut").await;
        assert_eq!(survivors.revision, 5);
        survivors
    };
    let store = Store::open(dir.path(), Options::default()).unwrap();
    assert_eq!(Model::of(&store), survivors);
    survivors.put(&store, "/and", "on").await;
    assert_eq!(Model::of(&store), survivors);
}

#[tokio::test]
async fn a_garbled_record_followed_by_later_batches_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let (_, ends) = write_records(dir.path(), 6).await;
    let segment = only_segment(dir.path());
    let whole = std::fs::read(&segment).unwrap();

    // One byte flipped anywhere in the third record (header or payload):
    // the records after it are later batches, acknowledged after the third
    // was synced, so this is damage, not a torn tail.
    for at in ends[1]..ends[2] {
        let mut garbled = whole.clone();
        garbled[at as usize] ^= 0x01;
        std::fs::write(&segment, &garbled).unwrap();
        let error = Store::open(dir.path(), Options::default())
            .err()
            .unwrap_or_else(|| panic!("byte {at} flipped: the store opened"));
        let message = error.to_string();
        assert!(
            message.contains(&segment.display().to_string())
                && message.contains(&format!("damaged at byte {}", ends[1])),
            "{message}"
        );
        assert_eq!(
            std::fs::read(&segment).unwrap(),
            garbled,
            "byte {at} flipped"
        );
        assert_eq!(files(dir.path(), "wal-").len(), 1, "nothing kept aside");
    }
}

#[tokio::test]
async fn a_garbled_last_batch_is_cut_off_and_kept_aside() {
    let dir = tempfile::tempdir().unwrap();
    let (model, ends) = write_records(dir.path(), 6).await;
    let segment = only_segment(dir.path());
    let whole = std::fs::read(&segment).unwrap();

    for at in ends[4]..ends[5] {
        let mut garbled = whole.clone();
        garbled[at as usize] ^= 0x01;
        std::fs::write(&segment, &garbled).unwrap();
        let store = Store::open(dir.path(), Options::default()).unwrap();
        assert_eq!(Model::of(&store), prefix_of(&model, 5), "byte {at} flipped");
        drop(store);
        assert_eq!(std::fs::metadata(&segment).unwrap().len(), ends[4]);
        let aside = dir.path().join(format!(
            "{}.torn-{}",
            segment.file_name().unwrap().to_str().unwrap(),
            ends[4]
        ));
        assert_eq!(
            std::fs::read(&aside).unwrap(),
            &garbled[ends[4] as usize..],
            "the cut bytes are kept"
        );
        std::fs::remove_file(aside).unwrap();
    }
}

#[tokio::test]
async fn a_failed_rotation_leaves_nothing_that_stops_the_next_start() {
    let dir = tempfile::tempdir().unwrap();
    let mut model = Model::default();
    let segment;
    {
        let store = Store::open(dir.path(), Options::default()).unwrap();
        model.put(&store, "/a", "1").await;
        model.put(&store, "/b", "2").await;
        segment = only_segment(dir.path());
        // Someone's file where the next segment would go: the rotation
        // must not empty it, and fails.
        let next = dir.path().join("wal-00000000000000000003");
        std::fs::write(&next, b"not ours").unwrap();
        assert!(store.compact().await.is_err());
        assert_eq!(std::fs::read(&next).unwrap(), b"not ours");
        std::fs::remove_file(&next).unwrap();
        // Writes go on in the current segment.
        model.put(&store, "/c", "3").await;
        model.put(&store, "/d", "4").await;
        assert_eq!(only_segment(dir.path()), segment);
    }
    // A crash between making the next segment and removing it again
    // leaves it empty, with a name older than what the log holds; and the
    // real last segment has a torn tail. The leftover goes, the torn tail
    // is cut: the store opens.
    std::fs::write(dir.path().join("wal-00000000000000000003"), b"").unwrap();
    let mut bytes = std::fs::read(&segment).unwrap();
    bytes.extend_from_slice(&[7, 0, 0]);
    std::fs::write(&segment, &bytes).unwrap();
    let store = Store::open(dir.path(), Options::default()).unwrap();
    assert_eq!(Model::of(&store), model);
    model.put(&store, "/e", "5").await;
    drop(store);
    let store = Store::open(dir.path(), Options::default()).unwrap();
    assert_eq!(Model::of(&store), model);
    assert!(!dir.path().join("wal-00000000000000000003").exists());
}

#[tokio::test]
async fn a_segment_after_a_gap_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    write_records(dir.path(), 3).await;
    // Revisions 4 to 9 are nowhere.
    std::fs::write(dir.path().join("wal-00000000000000000010"), b"").unwrap();
    let error = Store::open(dir.path(), Options::default())
        .err()
        .expect("a gap is refused");
    assert!(error.to_string().contains("missing"), "{error}");
}

#[tokio::test]
async fn snapshots_bound_the_log_and_recovery_uses_them() {
    let dir = tempfile::tempdir().unwrap();
    let options = Options {
        snapshot_after: 4096,
        ..Options::default()
    };
    let mut model = Model::default();
    {
        let store = Store::open(dir.path(), options.clone()).unwrap();
        for i in 0..600 {
            let key = format!("/k/{}", i % 50);
            if i % 7 == 3 && model.entries.contains_key(&key) {
                model.delete(&store, &key).await;
            } else {
                model.put(&store, &key, &format!("value {i}")).await;
            }
        }
        assert!(store.stats().snapshots > 0, "{:?}", store.stats());
        assert_eq!(Model::of(&store), model);
    }
    // Old snapshots and the log they cover are gone.
    assert_eq!(files(dir.path(), "snap-").len(), 1);
    let segments = files(dir.path(), "wal-");
    assert!(segments.len() <= 2, "{segments:?}");
    let log: u64 = segments
        .iter()
        .map(|path| std::fs::metadata(path).unwrap().len())
        .sum();
    assert!(log < 3 * 4096, "the log holds {log} bytes");

    let store = Store::open(dir.path(), options).unwrap();
    assert_eq!(Model::of(&store), model);
}

#[tokio::test]
async fn compact_then_more_writes() {
    let dir = tempfile::tempdir().unwrap();
    let mut model = Model::default();
    {
        let store = Store::open(dir.path(), Options::default()).unwrap();
        model.put(&store, "/a", "1").await;
        model.put(&store, "/b", "2").await;
        store.compact().await.unwrap();
        assert_eq!(files(dir.path(), "snap-").len(), 1);
        model.put(&store, "/a", "3").await;
        model.delete(&store, "/b").await;
        model.put(&store, "/c", "4").await;
        store.compact().await.unwrap();
        model.put(&store, "/d", "5").await;
    }
    let store = Store::open(dir.path(), Options::default()).unwrap();
    assert_eq!(Model::of(&store), model);
    assert_eq!(store.get("/a").unwrap().create_revision, 1);
}

#[tokio::test]
async fn the_revision_never_goes_backwards() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(dir.path(), Options::default()).unwrap();
        for i in 0..5 {
            store
                .put(&format!("/k/{i}"), vec![], Precondition::None)
                .await
                .unwrap();
        }
        // The last writes are deletions: no key remembers revision 10.
        for i in 0..5 {
            store
                .delete(&format!("/k/{i}"), Precondition::None)
                .await
                .unwrap();
        }
    }
    {
        let store = Store::open(dir.path(), Options::default()).unwrap();
        assert_eq!(store.list(""), (vec![], 10));
        store.put("/a", vec![], Precondition::None).await.unwrap();
        store.compact().await.unwrap();
        // A deletion after the snapshot, then a crash-like stop.
        store.delete("/a", Precondition::None).await.unwrap();
    }
    {
        let store = Store::open(dir.path(), Options::default()).unwrap();
        assert_eq!(store.list(""), (vec![], 12));
        store.compact().await.unwrap();
    }
    // A snapshot of nothing still knows the revision.
    let store = Store::open(dir.path(), Options::default()).unwrap();
    assert_eq!(store.revision(), 12);
    let next = store.put("/b", vec![], Precondition::None).await.unwrap();
    assert_eq!(next.mod_revision, 13);
}

#[tokio::test]
async fn a_damaged_snapshot_is_an_error_not_an_empty_store() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(dir.path(), Options::default()).unwrap();
        store
            .put("/a", vec![1; 100], Precondition::None)
            .await
            .unwrap();
        store.compact().await.unwrap();
    }
    let snapshot = files(dir.path(), "snap-").remove(0);
    let mut bytes = std::fs::read(&snapshot).unwrap();
    bytes[40] ^= 0x01;
    std::fs::write(&snapshot, bytes).unwrap();
    let error = Store::open(dir.path(), Options::default())
        .err()
        .expect("a damaged snapshot is refused");
    assert!(error.to_string().contains("damaged"), "{error}");
}

#[tokio::test]
async fn damage_before_the_last_segment_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let (_, ends) = write_records(dir.path(), 3).await;
    let segment = only_segment(dir.path());
    let mut bytes = std::fs::read(&segment).unwrap();
    bytes[ends[0] as usize + 10] ^= 0x01;
    std::fs::write(&segment, bytes).unwrap();
    // A later segment: the damaged one was whole and synced before it began,
    // so this is not a torn tail but lost acknowledged writes.
    std::fs::write(dir.path().join("wal-00000000000000000004"), b"").unwrap();
    let error = Store::open(dir.path(), Options::default())
        .err()
        .expect("damage in an older segment is refused");
    assert!(error.to_string().contains("damaged"), "{error}");
}

#[tokio::test]
async fn a_snapshot_interrupted_before_its_rename_is_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let mut model = Model::default();
    {
        let store = Store::open(dir.path(), Options::default()).unwrap();
        model.put(&store, "/a", "1").await;
        model.put(&store, "/b", "2").await;
    }
    let temp = dir.path().join("snap-00000000000000000002.tmp");
    std::fs::write(&temp, b"half a snapsh").unwrap();
    let store = Store::open(dir.path(), Options::default()).unwrap();
    assert_eq!(Model::of(&store), model);
    assert!(!temp.exists(), "the leftover is removed");
}

#[tokio::test]
async fn a_directory_of_an_older_format_is_refused_with_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    write_records(dir.path(), 3).await;
    let format = dir.path().join("FORMAT");
    assert_eq!(
        std::fs::read_to_string(&format).unwrap(),
        "k8s-mini store 2\n"
    );
    let segment = only_segment(dir.path());
    let before = std::fs::read(&segment).unwrap();

    // An older k8s-mini wrote no FORMAT file: its log is not mistaken for a
    // damaged one.
    std::fs::remove_file(&format).unwrap();
    let error = Store::open(dir.path(), Options::default())
        .err()
        .expect("a log without a FORMAT file");
    assert!(error.to_string().contains("older k8s-mini"), "{error}");
    assert!(
        error.to_string().contains("move the directory aside"),
        "{error}"
    );

    // A format this store does not know is refused too.
    std::fs::write(&format, "k8s-mini store 9\n").unwrap();
    let error = Store::open(dir.path(), Options::default())
        .err()
        .expect("an unknown format");
    assert!(error.to_string().contains("k8s-mini store 9"), "{error}");
    assert_eq!(std::fs::read(&segment).unwrap(), before, "nothing changed");
}
