//! The scheduling queue (kube-scheduler's `PriorityQueue`): which pod to
//! try next, and when to try again a pod that did not fit.
//!
//! Three places a waiting pod can be:
//! - **active**: ready to be tried, first in first out;
//! - **backoff**: failed recently, waits `backoff_delay(attempts)`
//!   (1 s doubling to 10 s, kube-scheduler's podInitialBackoffSeconds and
//!   podMaxBackoffSeconds) before it is active again;
//! - **unschedulable**: no node fits, and trying again is pointless until
//!   the cluster changes: a node is added or changes, or a pod is deleted
//!   ([`SchedulingQueue::move_all`]), or five minutes pass
//!   (podMaxInUnschedulablePodsDuration). Then it goes to active, or to
//!   backoff if its back-off has not run out, so a cluster that changes
//!   all the time still cannot make the scheduler spin on one pod.
//!
//! A plain struct with the time passed in: the driver owns the clock, the
//! tests step it.

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use std::time::{Duration, Instant};

/// kube-scheduler's podInitialBackoffSeconds.
pub const INITIAL_BACKOFF: Duration = Duration::from_secs(1);
/// kube-scheduler's podMaxBackoffSeconds.
pub const MAX_BACKOFF: Duration = Duration::from_secs(10);
/// How long a pod may sit in the unschedulable set without any cluster
/// change before it is tried again anyway.
pub const MAX_UNSCHEDULABLE: Duration = Duration::from_secs(5 * 60);

// ANCHOR: backoff_delay
/// How long a pod waits after its `attempts`-th failed attempt (1 for the
/// first): `initial`, doubled for each attempt after the first, never
/// more than `max`. No wait before any attempt has failed.
pub fn backoff_delay(attempts: u32, initial: Duration, max: Duration) -> Duration {
    // exercise 1: compute the back-off after the given number of failed attempts: initial, doubling each time, capped at max
    // hint: Zero attempts: no back-off. One attempt: `initial`. Each further attempt doubles it, and the result never exceeds `max`, however many attempts (beware of overflow).
    // hint: Start from `initial` and double (`saturating_mul(2)` or `checked_mul`) attempts - 1 times, stopping as soon as you reach `max`; return the smaller of that and `max`.
    // hint: if attempts == 0 { return Duration::ZERO } let mut delay = initial; for _ in 1..attempts { if delay >= max { break } delay = delay.saturating_mul(2) } delay.min(max).
    if attempts == 0 {
        return Duration::ZERO;
    }
    let mut delay = initial;
    for _ in 1..attempts {
        if delay >= max {
            break;
        }
        delay = delay.saturating_mul(2);
    }
    delay.min(max)
}
// ANCHOR_END: backoff_delay

/// The queue of pods waiting for a node, by key (`namespace/name`).
#[derive(Debug)]
pub struct SchedulingQueue {
    active: VecDeque<String>,
    queued: HashSet<String>,
    /// (ready at, sequence, key), earliest first.
    backoff: BTreeSet<(Instant, u64, String)>,
    backoff_at: HashMap<String, (Instant, u64)>,
    /// Unschedulable pods and since when.
    unschedulable: HashMap<String, Instant>,
    /// Failed attempts so far, and when the last one failed.
    failures: HashMap<String, (u32, Instant)>,
    sequence: u64,
    initial: Duration,
    max: Duration,
}

impl Default for SchedulingQueue {
    fn default() -> Self {
        SchedulingQueue::new(INITIAL_BACKOFF, MAX_BACKOFF)
    }
}

impl SchedulingQueue {
    pub fn new(initial: Duration, max: Duration) -> SchedulingQueue {
        SchedulingQueue {
            active: VecDeque::new(),
            queued: HashSet::new(),
            backoff: BTreeSet::new(),
            backoff_at: HashMap::new(),
            unschedulable: HashMap::new(),
            failures: HashMap::new(),
            sequence: 0,
            initial,
            max,
        }
    }

    /// A pod to schedule appeared, or changed in a way that may change
    /// the answer: active, unless it is still backing off.
    pub fn add(&mut self, key: &str, now: Instant) {
        if self.queued.contains(key) || self.backoff_at.contains_key(key) {
            return;
        }
        self.unschedulable.remove(key);
        self.requeue(key, now);
    }

    /// The pod is gone, or bound: forget everything about it.
    pub fn remove(&mut self, key: &str) {
        if self.queued.remove(key) {
            self.active.retain(|k| k != key);
        }
        if let Some((at, sequence)) = self.backoff_at.remove(key) {
            self.backoff.remove(&(at, sequence, key.to_string()));
        }
        self.unschedulable.remove(key);
        self.failures.remove(key);
    }

    /// The next pod to try, if any is active now.
    pub fn pop(&mut self, now: Instant) -> Option<String> {
        self.flush(now);
        let key = self.active.pop_front()?;
        self.queued.remove(&key);
        Some(key)
    }

    /// The attempt for `key` failed: no node fits (`unschedulable`), or
    /// an error (binding failed): it waits for a change, or its back-off.
    pub fn failed(&mut self, key: &str, unschedulable: bool, now: Instant) {
        let entry = self.failures.entry(key.to_string()).or_insert((0, now));
        entry.0 += 1;
        entry.1 = now;
        if unschedulable {
            self.unschedulable.insert(key.to_string(), now);
        } else {
            self.requeue(key, now);
        }
    }

    /// Failed attempts so far for `key`.
    pub fn attempts(&self, key: &str) -> u32 {
        self.failures.get(key).map_or(0, |(n, _)| *n)
    }

    /// The pod was scheduled: its failures are forgotten.
    pub fn succeeded(&mut self, key: &str) {
        self.failures.remove(key);
    }

    /// The cluster changed in a way that may let unschedulable pods fit.
    pub fn move_all(&mut self, now: Instant) {
        let keys: Vec<String> = self.unschedulable.drain().map(|(k, _)| k).collect();
        for key in keys {
            self.requeue(&key, now);
        }
    }

    /// When the driver must wake up for the queue, if nothing else
    /// happens: the end of the earliest back-off, or the earliest
    /// unschedulable pod's five minutes.
    pub fn next_wakeup(&self) -> Option<Instant> {
        let backoff = self.backoff.iter().next().map(|(at, _, _)| *at);
        let stale = self
            .unschedulable
            .values()
            .min()
            .map(|since| *since + MAX_UNSCHEDULABLE);
        backoff.into_iter().chain(stale).min()
    }

    /// (active, backoff, unschedulable) sizes.
    pub fn lengths(&self) -> (usize, usize, usize) {
        (
            self.active.len(),
            self.backoff.len(),
            self.unschedulable.len(),
        )
    }

    /// To active if its back-off is over, else to backoff.
    fn requeue(&mut self, key: &str, now: Instant) {
        let ready_at = self
            .failures
            .get(key)
            .map(|(attempts, last)| *last + backoff_delay(*attempts, self.initial, self.max));
        match ready_at {
            Some(at) if at > now => {
                self.sequence += 1;
                self.backoff.insert((at, self.sequence, key.to_string()));
                self.backoff_at.insert(key.to_string(), (at, self.sequence));
            }
            _ => {
                if self.queued.insert(key.to_string()) {
                    self.active.push_back(key.to_string());
                }
            }
        }
    }

    /// Back-offs that ran out go to active; pods unschedulable for too
    /// long are tried again.
    fn flush(&mut self, now: Instant) {
        while let Some((at, sequence, key)) = self.backoff.first().cloned() {
            if at > now {
                break;
            }
            self.backoff.remove(&(at, sequence, key.clone()));
            self.backoff_at.remove(&key);
            if self.queued.insert(key.clone()) {
                self.active.push_back(key);
            }
        }
        let stale: Vec<String> = self
            .unschedulable
            .iter()
            .filter(|(_, since)| now.duration_since(**since) >= MAX_UNSCHEDULABLE)
            .map(|(k, _)| k.clone())
            .collect();
        for key in stale {
            self.unschedulable.remove(&key);
            self.requeue(&key, now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unschedulable_pod_waits_for_a_change_then_for_its_backoff() {
        let start = Instant::now();
        let mut queue = SchedulingQueue::default();
        queue.add("default/a", start);
        assert_eq!(queue.pop(start).as_deref(), Some("default/a"));
        queue.failed("default/a", true, start);
        assert_eq!(queue.pop(start + Duration::from_secs(60)), None);
        // A node appears at once: the pod still waits out its 1 s.
        queue.move_all(start);
        assert_eq!(queue.pop(start + Duration::from_millis(999)), None);
        assert_eq!(queue.next_wakeup(), Some(start + Duration::from_secs(1)));
        assert_eq!(
            queue.pop(start + Duration::from_secs(1)).as_deref(),
            Some("default/a")
        );
    }

    #[test]
    fn stale_unschedulable_pods_are_retried() {
        let start = Instant::now();
        let mut queue = SchedulingQueue::default();
        queue.add("default/a", start);
        queue.pop(start);
        queue.failed("default/a", true, start);
        assert_eq!(queue.next_wakeup(), Some(start + MAX_UNSCHEDULABLE));
        assert_eq!(
            queue.pop(start + MAX_UNSCHEDULABLE).as_deref(),
            Some("default/a")
        );
    }
}
