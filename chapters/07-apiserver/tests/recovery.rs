//! The log on disk, as a crash leaves it: a torn last batch is cut off
//! (and kept aside), damage to acknowledged writes stops the start and
//! changes nothing, garbled bytes are never read back as data, and no
//! write is acknowledged before it is synced.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chapter_07::apiserver::store::{LogFile, LogLayer, Options, Precondition, Store};
use chapter_07::guard;

/// The log segments in `dir` (not what was kept aside).
fn segments(dir: &Path) -> Vec<PathBuf> {
    let mut segments: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|item| item.unwrap().path())
        .filter(|path| {
            let name = path.file_name().unwrap().to_str().unwrap();
            name.starts_with("wal-") && !name.contains(".torn")
        })
        .collect();
    segments.sort();
    segments
}

fn only_segment(dir: &Path) -> PathBuf {
    let segments = segments(dir);
    assert_eq!(segments.len(), 1, "one log segment: {segments:?}");
    segments[0].clone()
}

/// Puts `/k/1` to `/k/{count}`, one at a time (each its own batch), with
/// values `value-1`...; returns where each write's record ends in the log.
async fn write(dir: &Path, count: usize) -> Vec<usize> {
    let store = Store::open(dir, Options::default()).expect("the store opens");
    let mut ends = Vec::new();
    for i in 1..=count {
        store
            .put(
                &format!("/k/{i}"),
                format!("value-{i}").into_bytes(),
                Precondition::None,
            )
            .await
            .expect("a put");
        ends.push(store.stats().log_bytes as usize);
    }
    ends
}

/// The keys and values a store holds.
fn contents(store: &Store) -> BTreeMap<String, String> {
    store
        .list("")
        .0
        .into_iter()
        .map(|(key, entry)| (key, String::from_utf8_lossy(&entry.value).into_owned()))
        .collect()
}

fn expected(count: usize) -> BTreeMap<String, String> {
    (1..=count)
        .map(|i| (format!("/k/{i}"), format!("value-{i}")))
        .collect()
}

#[tokio::test]
async fn a_torn_last_batch_is_cut_off_and_kept_aside() {
    guard(torn()).await
}

async fn torn() {
    let dir = tempfile::tempdir().unwrap();
    let ends = write(dir.path(), 5).await;
    let segment = only_segment(dir.path());
    let whole = std::fs::read(&segment).unwrap();
    // The crash came in the middle of the fifth write: only its first
    // bytes reached the disk. It was never acknowledged.
    let cut = ends[3] + (ends[4] - ends[3]) / 2;
    std::fs::write(&segment, &whole[..cut]).unwrap();

    let store =
        Store::open(dir.path(), Options::default()).expect("a torn tail is no reason to refuse");
    assert_eq!(contents(&store), expected(4));
    assert_eq!(store.revision(), 4);
    let next = store
        .put("/after", b"crash".to_vec(), Precondition::None)
        .await
        .unwrap();
    assert_eq!(
        next.mod_revision, 5,
        "the log goes on from the good records"
    );
    drop(store);

    let name = segment.file_name().unwrap().to_str().unwrap();
    let aside = dir.path().join(format!("{name}.torn-{}", ends[3]));
    assert_eq!(
        std::fs::read(&aside).expect("the cut bytes are kept in wal-<start>.torn-<offset>"),
        &whole[ends[3]..cut],
    );
    let store = Store::open(dir.path(), Options::default()).unwrap();
    let mut after = expected(4);
    after.insert("/after".into(), "crash".into());
    assert_eq!(contents(&store), after);
}

#[tokio::test]
async fn damage_before_later_batches_is_refused_and_the_log_left_as_it_was() {
    guard(damage()).await
}

async fn damage() {
    let dir = tempfile::tempdir().unwrap();
    let ends = write(dir.path(), 6).await;
    let segment = only_segment(dir.path());
    let whole = std::fs::read(&segment).unwrap();
    // One byte flipped in the third record: in its header, in the middle,
    // in its value. The three after it were written (and acknowledged)
    // after the third was synced: this is damage, not a torn write.
    for at in [ends[1] + 2, (ends[1] + ends[2]) / 2, ends[2] - 1] {
        let mut garbled = whole.clone();
        garbled[at] ^= 0x08;
        std::fs::write(&segment, &garbled).unwrap();
        let error = match Store::open(dir.path(), Options::default()) {
            Ok(store) => panic!(
                "byte {at} of the log flipped, and the store opened with {:?}",
                contents(&store)
            ),
            Err(error) => error.to_string(),
        };
        assert!(
            error.contains(&segment.display().to_string()),
            "the error names the file: {error}"
        );
        assert!(
            error.contains(&format!("byte {}", ends[1])),
            "the error names where the damage starts (byte {}): {error}",
            ends[1]
        );
        assert!(
            std::fs::read(&segment).unwrap() == garbled,
            "byte {at} flipped: the log was changed"
        );
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            3,
            "nothing but the segment, LOCK and FORMAT"
        );
    }
}

#[tokio::test]
async fn garbled_bytes_are_never_read_back_as_data() {
    guard(garbled()).await
}

async fn garbled() {
    let dir = tempfile::tempdir().unwrap();
    let ends = write(dir.path(), 3).await;
    let segment = only_segment(dir.path());
    let mut bytes = std::fs::read(&segment).unwrap();
    // The last byte of the last value: its checksum no longer matches, so
    // the record is torn (it is the last batch) and must go, never be
    // read back as `value-2`... or anything but `value-3`.
    bytes[ends[2] - 1] ^= 0x01;
    std::fs::write(&segment, &bytes).unwrap();
    let store = Store::open(dir.path(), Options::default()).expect("the store opens");
    assert_eq!(contents(&store), expected(2));
}

/// A stand-in for the machine's power: while it is on, the log's writes
/// reach the file; `sync_data` (which takes a while, as on a real disk)
/// makes them survive a power cut; after the cut nothing reaches anything.
#[derive(Default)]
struct Power {
    off: AtomicBool,
    /// Per segment, how many of its bytes were synced.
    synced: Mutex<BTreeMap<PathBuf, u64>>,
}

impl Power {
    fn layer(self: &Arc<Self>) -> LogLayer {
        let power = self.clone();
        LogLayer(Arc::new(move |path: &Path, file: File, len: u64| {
            power.synced.lock().unwrap().insert(path.to_path_buf(), len);
            Box::new(Plugged {
                path: path.to_path_buf(),
                file,
                written: len,
                power: power.clone(),
            }) as Box<dyn LogFile>
        }))
    }

    fn cut(&self) {
        self.off.store(true, Ordering::SeqCst);
    }

    /// What the disk holds after the cut: only the synced bytes.
    fn lose_unsynced(&self) {
        for (path, synced) in self.synced.lock().unwrap().iter() {
            let file = std::fs::OpenOptions::new().write(true).open(path).unwrap();
            file.set_len(*synced).unwrap();
        }
    }

    fn check(&self) -> std::io::Result<()> {
        if self.off.load(Ordering::SeqCst) {
            Err(std::io::Error::other("the power is off"))
        } else {
            Ok(())
        }
    }
}

struct Plugged {
    path: PathBuf,
    file: File,
    written: u64,
    power: Arc<Power>,
}

impl LogFile for Plugged {
    fn write_all(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.power.check()?;
        std::io::Write::write_all(&mut self.file, bytes)?;
        self.written += bytes.len() as u64;
        Ok(())
    }

    fn sync_data(&mut self) -> std::io::Result<()> {
        std::thread::sleep(Duration::from_millis(20));
        self.power.check()?;
        self.file.sync_data()?;
        self.power
            .synced
            .lock()
            .unwrap()
            .insert(self.path.clone(), self.written);
        Ok(())
    }

    fn set_len(&mut self, len: u64) -> std::io::Result<()> {
        self.power.check()?;
        self.file.set_len(len)?;
        self.written = len;
        let mut synced = self.power.synced.lock().unwrap();
        let synced = synced.entry(self.path.clone()).or_default();
        *synced = (*synced).min(len);
        Ok(())
    }
}

#[tokio::test]
async fn every_acknowledged_write_was_synced_before_its_answer() {
    guard(power_cut()).await
}

async fn power_cut() {
    let dir = tempfile::tempdir().unwrap();
    let power = Arc::new(Power::default());
    let options = Options {
        log_layer: Some(power.layer()),
        ..Options::default()
    };
    let store = Store::open(dir.path(), options).expect("the store opens");
    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let mut writers = Vec::new();
    for writer in 0..8 {
        let (store, power, acknowledged) = (store.clone(), power.clone(), acknowledged.clone());
        writers.push(tokio::spawn(async move {
            for n in 0.. {
                let key = format!("/w/{writer}/{n}");
                if store
                    .put(&key, b"{}".to_vec(), Precondition::None)
                    .await
                    .is_err()
                {
                    return; // the power is off
                }
                let mut acknowledged = acknowledged.lock().unwrap();
                acknowledged.push(key);
                // The power goes the moment the 60th answer arrives.
                if acknowledged.len() == 60 {
                    power.cut();
                }
            }
        }));
    }
    for writer in writers {
        writer.await.expect("a writer ends");
    }
    drop(store);
    power.lose_unsynced();

    let store = Store::open(dir.path(), Options::default()).expect("the store opens after the cut");
    let acknowledged = acknowledged.lock().unwrap();
    let lost: Vec<&String> = acknowledged
        .iter()
        .filter(|key| store.get(key).is_none())
        .collect();
    assert!(
        lost.is_empty(),
        "{} of {} acknowledged writes were not synced before their answer: {lost:?}",
        lost.len(),
        acknowledged.len()
    );
    assert!(
        acknowledged.len() >= 60,
        "{} writes acknowledged",
        acknowledged.len()
    );
}
