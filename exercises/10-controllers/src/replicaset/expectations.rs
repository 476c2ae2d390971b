// Generated from solutions/10-controllers/src/replicaset/expectations.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
//! Expectations: what a controller waits to see in its cache before it
//! acts again on an object. Kubernetes: `ControllerExpectations` and
//! `UIDTrackingControllerExpectations` in `pkg/controller/controller_utils.go`.
//!
//! The cache lags the controller's own writes. A ReplicaSet that has just
//! created 3 pods still sees none in its cache for a moment; a reconcile
//! then would create 3 more. So before writing, the controller records
//! what it expects (3 creations; the deletion of these pods), lowers the
//! count as the informer reports each one, and does not act on the object
//! again until nothing is expected — or until the expectations are old
//! enough to be presumed lost (a missed watch event must not freeze it).
//!
//! Pure: the clock is passed in.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use apiserver::client::ObjectKey;

/// Kubernetes gives up on expectations after five minutes.
pub const EXPECTATIONS_TIMEOUT: Duration = Duration::from_secs(5 * 60);

/// What one object waits for.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Expected {
    /// Creations not yet seen.
    creations: u32,
    /// Uids of pods whose deletion is not yet seen.
    deletions: HashSet<String>,
    /// When these expectations were set: they expire after the timeout.
    since: Instant,
}

/// The expectations of every object of one controller, by object key.
#[derive(Debug, Clone)]
pub struct Expectations {
    entries: HashMap<ObjectKey, Expected>,
    timeout: Duration,
}

impl Default for Expectations {
    fn default() -> Self {
        Expectations::new(EXPECTATIONS_TIMEOUT)
    }
}

impl Expectations {
    /// Expectations that expire after `timeout`.
    pub fn new(timeout: Duration) -> Expectations {
        Expectations {
            entries: HashMap::new(),
            timeout,
        }
    }

    // ANCHOR: satisfied
    /// Whether the controller may act on `key`: nothing is expected any
    /// more, the expectations expired, or none were ever set.
    pub fn satisfied(&self, key: &ObjectKey, now: Instant) -> bool {
        match self.entries.get(key) {
            None => true,
            Some(expected) => {
                (expected.creations == 0 && expected.deletions.is_empty())
                    || now.saturating_duration_since(expected.since) > self.timeout
            }
        }
    }
    // ANCHOR_END: satisfied

    /// How long until the expectations of `key` expire (zero when there
    /// are none pending): when to look again if the events never come.
    pub fn remaining(&self, key: &ObjectKey, now: Instant) -> Duration {
        match self.entries.get(key) {
            Some(expected) if !self.satisfied(key, now) => {
                (expected.since + self.timeout).saturating_duration_since(now)
                    + Duration::from_millis(1)
            }
            _ => Duration::ZERO,
        }
    }

    /// About to create `count` pods for `key`: replaces what was expected.
    pub fn expect_creations(&mut self, key: &ObjectKey, count: u32, now: Instant) {
        self.entries.insert(
            key.clone(),
            Expected {
                creations: count,
                deletions: HashSet::new(),
                since: now,
            },
        );
    }

    /// About to delete the pods with these uids for `key`: replaces what
    /// was expected.
    pub fn expect_deletions(&mut self, key: &ObjectKey, uids: Vec<String>, now: Instant) {
        self.entries.insert(
            key.clone(),
            Expected {
                creations: 0,
                deletions: uids.into_iter().collect(),
                since: now,
            },
        );
    }

    /// A pod of `key` was seen created (or its creation failed, or was
    /// never attempted: it will not be seen).
    pub fn creation_observed(&mut self, key: &ObjectKey) {
        if let Some(expected) = self.entries.get_mut(key) {
            expected.creations = expected.creations.saturating_sub(1);
        }
    }

    /// The pod `uid` of `key` was seen deleted (or going: it has a
    /// deletionTimestamp), or its delete failed. A uid not expected (seen
    /// twice, or deleted by someone else) changes nothing.
    pub fn deletion_observed(&mut self, key: &ObjectKey, uid: &str) {
        if let Some(expected) = self.entries.get_mut(key) {
            expected.deletions.remove(uid);
        }
    }

    /// The object is gone: forget what it waited for.
    pub fn forget(&mut self, key: &ObjectKey) {
        self.entries.remove(key);
    }

    /// What `key` still waits for: (creations, deletions).
    pub fn pending(&self, key: &ObjectKey) -> (u32, usize) {
        self.entries
            .get(key)
            .map(|expected| (expected.creations, expected.deletions.len()))
            .unwrap_or((0, 0))
    }
}
