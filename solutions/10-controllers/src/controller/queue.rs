//! The work queue: which keys need a reconcile, and when.
//!
//! client-go's `workqueue` (its delaying and rate-limiting layers) and
//! kube-runtime's scheduler, as one plain struct with the clock passed in,
//! so its rules are tested without sleeping:
//!
//! - a key is queued at most once: adding it again keeps the *earlier*
//!   time (a change that arrives while a requeue is pending makes the
//!   reconcile happen sooner, never twice);
//! - a key being reconciled is never handed out again until [`done`]: if
//!   it is added meanwhile (its object changed during the reconcile), it
//!   is held and queued once the reconcile is done, so it runs once more
//!   afterwards and never twice at once;
//! - failures are counted per key for the rate-limited requeue
//!   ([`error_delay`]), and [`forget`] resets the count after a success;
//! - after [`shut_down`] nothing new is queued or handed out.
//!
//! [`done`]: WorkQueue::done
//! [`forget`]: WorkQueue::forget
//! [`shut_down`]: WorkQueue::shut_down

use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::Hash;
use std::time::{Duration, Instant};

use process::Backoff;

/// The requeue after a failed reconcile, as client-go's
/// `ItemExponentialFailureRateLimiter` for controllers: 5 ms doubling up
/// to 1000 s. (`reset_after` is unused: a success resets the count.)
pub const ERROR_BACKOFF: Backoff = Backoff {
    initial: Duration::from_millis(5),
    max: Duration::from_secs(1000),
    reset_after: Duration::MAX,
};

/// How many Conflicts in a row are retried at once before the back-off
/// applies: a conflict means the cache was a little behind, and the next
/// try (after the watch delivered the newer version) usually succeeds; one
/// that keeps coming back is treated as any other failure.
pub const CONFLICT_RETRIES_AT_ONCE: u32 = 5;

/// The wait before retrying a key whose reconcile failed `failures` times
/// in a row (1 for the first failure): [`ERROR_BACKOFF`] doubled once per
/// earlier failure; a Conflict (a write based on a stale read) is retried
/// at once for the first [`CONFLICT_RETRIES_AT_ONCE`] failures.
pub fn error_delay(failures: u32, conflict: bool) -> Duration {
    if conflict && failures <= CONFLICT_RETRIES_AT_ONCE {
        return Duration::ZERO;
    }
    ERROR_BACKOFF.delay(failures.saturating_sub(1))
}

/// The keys waiting for a reconcile, the ones being reconciled, and the
/// failure counts. See the module documentation for the rules.
#[derive(Debug)]
pub struct WorkQueue<K> {
    /// Waiting keys by due time; `u64` keeps the order of equal times.
    waiting: BTreeMap<(Instant, u64), K>,
    /// Where each waiting key sits in `waiting`.
    due: HashMap<K, (Instant, u64)>,
    /// Keys handed out by `pop` and not `done` yet.
    processing: HashSet<K>,
    /// Keys added while processing, with the time they asked for.
    again: HashMap<K, Instant>,
    failures: HashMap<K, u32>,
    next_sequence: u64,
    shut_down: bool,
}

impl<K> Default for WorkQueue<K> {
    fn default() -> Self {
        WorkQueue {
            waiting: BTreeMap::new(),
            due: HashMap::new(),
            processing: HashSet::new(),
            again: HashMap::new(),
            failures: HashMap::new(),
            next_sequence: 0,
            shut_down: false,
        }
    }
}

impl<K: Clone + Eq + Hash> WorkQueue<K> {
    pub fn new() -> WorkQueue<K> {
        WorkQueue::default()
    }

    // ANCHOR: add
    /// Asks for a reconcile of `key` at `at` (`now` for "as soon as
    /// possible"). A key already waiting keeps the earlier of its two
    /// times; a key being processed is held until [`WorkQueue::done`].
    /// Ignored after [`WorkQueue::shut_down`].
    pub fn add(&mut self, key: K, at: Instant) {
        // exercise 1: queue `key` for `at`: a waiting key keeps the earlier time, a key being processed is held until done, nothing after shutdown
        // hint: Three cases, checked in order: the queue is shut down; the key is being reconciled right now; the key is already waiting.
        // hint: A key being processed goes to `self.again` (keep the earlier time if it is there already); a waiting key is in `self.due` with its slot: keep it if its time is not later, else take it out of `self.waiting` and queue it anew.
        // hint: if self.shut_down → return; if self.processing.contains(&key) → let held = self.again.entry(key).or_insert(at); *held = (*held).min(at); return; if let Some(&(current, seq)) = self.due.get(&key) { if current <= at → return; self.waiting.remove(&(current, seq)); } then self.insert_waiting(key, at).
        if self.shut_down {
            return;
        }
        if self.processing.contains(&key) {
            let held = self.again.entry(key).or_insert(at);
            *held = (*held).min(at);
            return;
        }
        if let Some(&(current, sequence)) = self.due.get(&key) {
            if current <= at {
                return;
            }
            self.waiting.remove(&(current, sequence));
        }
        self.insert_waiting(key, at);
    }
    // ANCHOR_END: add

    fn insert_waiting(&mut self, key: K, at: Instant) {
        let slot = (at, self.next_sequence);
        self.next_sequence += 1;
        self.waiting.insert(slot, key.clone());
        self.due.insert(key, slot);
    }

    // ANCHOR: pop
    /// The key due first, if one is due at `now` (the earliest time; among
    /// equal times, the first added): it is now being processed until
    /// [`WorkQueue::done`]. `None` when nothing is due, or after a
    /// shutdown.
    pub fn pop(&mut self, now: Instant) -> Option<K> {
        if self.shut_down {
            return None;
        }
        let (&slot, _) = self.waiting.first_key_value()?;
        if slot.0 > now {
            return None;
        }
        let key = self.waiting.remove(&slot)?;
        self.due.remove(&key);
        self.processing.insert(key.clone());
        Some(key)
    }
    // ANCHOR_END: pop

    /// The reconcile of `key` is over: if it was added meanwhile, it is
    /// queued again (at the time it asked for).
    pub fn done(&mut self, key: &K) {
        self.processing.remove(key);
        if let Some(at) = self.again.remove(key)
            && !self.shut_down
        {
            self.add(key.clone(), at);
        }
    }

    /// When the next waiting key is due: the driver sleeps until then.
    pub fn next_due(&self) -> Option<Instant> {
        self.waiting.first_key_value().map(|(slot, _)| slot.0)
    }

    /// Counts one more failure of `key` and returns the count (1 for the
    /// first failure since the last success).
    pub fn failed(&mut self, key: &K) -> u32 {
        let count = self.failures.entry(key.clone()).or_insert(0);
        *count = count.saturating_add(1);
        *count
    }

    /// The failures of `key` since its last success.
    pub fn failures(&self, key: &K) -> u32 {
        self.failures.get(key).copied().unwrap_or(0)
    }

    /// `key` was reconciled successfully: its next failure starts the
    /// back-off from the beginning.
    pub fn forget(&mut self, key: &K) {
        self.failures.remove(key);
    }

    /// Whether `key` is waiting (or held for after its current reconcile).
    pub fn contains(&self, key: &K) -> bool {
        self.due.contains_key(key) || self.again.contains_key(key)
    }

    /// Whether `key` is being reconciled.
    pub fn is_processing(&self, key: &K) -> bool {
        self.processing.contains(key)
    }

    /// Keys waiting, including those held until their reconcile is done.
    pub fn len(&self) -> usize {
        self.due.len() + self.again.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Keys being reconciled.
    pub fn processing(&self) -> usize {
        self.processing.len()
    }

    /// Stops the queue: everything waiting is dropped, nothing is added or
    /// handed out any more; keys being processed may still be `done`.
    pub fn shut_down(&mut self) {
        self.shut_down = true;
        self.waiting.clear();
        self.due.clear();
        self.again.clear();
    }

    pub fn is_shut_down(&self) -> bool {
        self.shut_down
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(start: Instant, millis: u64) -> Instant {
        start + Duration::from_millis(millis)
    }

    #[test]
    fn a_requeue_and_a_change_make_one_reconcile_at_the_earlier_time() {
        let start = Instant::now();
        let mut queue = WorkQueue::new();
        queue.add("a", at(start, 100));
        queue.add("a", at(start, 10));
        queue.add("a", at(start, 50));
        assert_eq!(queue.len(), 1);
        assert_eq!(queue.next_due(), Some(at(start, 10)));
        assert_eq!(queue.pop(at(start, 9)), None);
        assert_eq!(queue.pop(at(start, 10)), Some("a"));
        assert_eq!(queue.pop(at(start, 200)), None);
    }

    #[test]
    fn failures_count_until_forgotten() {
        let mut queue = WorkQueue::new();
        assert_eq!(queue.failed(&"a"), 1);
        assert_eq!(queue.failed(&"a"), 2);
        assert_eq!(queue.failures(&"b"), 0);
        queue.forget(&"a");
        assert_eq!(queue.failures(&"a"), 0);
    }

    #[test]
    fn error_delays_double_from_5ms_to_1000s() {
        assert_eq!(error_delay(1, false), Duration::from_millis(5));
        assert_eq!(error_delay(2, false), Duration::from_millis(10));
        assert_eq!(error_delay(11, false), Duration::from_millis(5120));
        assert_eq!(error_delay(40, false), Duration::from_secs(1000));
        assert_eq!(error_delay(1, true), Duration::ZERO);
        assert_eq!(error_delay(6, true), Duration::from_millis(160));
    }
}
