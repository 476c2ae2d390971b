// Generated from solutions/10-controllers/src/leader/mod.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
//! Leader election on a Lease, as client-go's `leaderelection` does it:
//! of several controller-managers only one acts at a time, and another
//! takes over within a lease duration when it dies.
//!
//! Every candidate reads the Lease `kube-system/k8s-mini-controller-manager`
//! every retry period. Its holder renews it (a new `renewTime`); the others
//! wait. A candidate that has seen the same record, unchanged, for longer
//! than the lease's `leaseDurationSeconds` takes it over. Time is measured
//! on the candidate's own clock from when *it* saw the record change,
//! never from the `renewTime` written in it, so clocks that disagree
//! between machines do not matter. Writes carry the resourceVersion they
//! read (optimistic concurrency): of two candidates taking over at once,
//! one gets a 409 and stays a follower.
//!
//! A leader that cannot renew for `renew_deadline` (shorter than the lease
//! duration) gives up before anyone else may take over; on a graceful stop
//! it releases the lease (client-go's `ReleaseOnCancel`), so the next
//! candidate takes it at once.
//!
//! This module holds the pure part (the figures, [`decide`], [`claim`],
//! [`release`]); `election` the loop that runs it ([`LeaderElection`]).

mod election;

use std::time::{Duration, Instant};

use objects::lease::LeaseSpec;
use objects::{Lease, MicroTime};

pub use election::{LeaderElection, Leadership};

/// Where kube-controller-manager keeps its lease.
pub const LEASE_NAMESPACE: &str = "kube-system";
pub const LEASE_NAME: &str = "k8s-mini-controller-manager";

/// client-go's `JitterFactor`: a candidate waits between one and 2.2
/// retry periods, so candidates do not all try at the same instant.
pub(crate) const JITTER_FACTOR: f64 = 1.2;

/// The election's figures (client-go's `LeaderElectionConfig`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub namespace: String,
    pub name: String,
    /// This candidate's name in `holderIdentity`: unique among candidates.
    pub identity: String,
    /// How long followers wait after the last renewal they saw before
    /// taking over.
    pub lease_duration: Duration,
    /// How long the leader keeps trying to renew before it gives up.
    pub renew_deadline: Duration,
    /// How often candidates try to acquire, and the leader renews.
    pub retry_period: Duration,
    /// Clear the holder on a graceful stop.
    pub release_on_cancel: bool,
}

impl Config {
    /// kube-controller-manager's defaults: 15 s lease, 10 s renew
    /// deadline, 2 s retry period.
    pub fn new(identity: impl Into<String>) -> Config {
        Config {
            namespace: LEASE_NAMESPACE.into(),
            name: LEASE_NAME.into(),
            identity: identity.into(),
            lease_duration: Duration::from_secs(15),
            renew_deadline: Duration::from_secs(10),
            retry_period: Duration::from_secs(2),
            release_on_cancel: true,
        }
    }

    /// client-go's checks: a leader must give up (renew deadline) before
    /// the others may take over (lease duration), and try to renew more
    /// than once before giving up.
    pub fn validate(&self) -> Result<(), String> {
        if self.identity.is_empty() {
            return Err("the leader election identity must not be empty".into());
        }
        if self.retry_period.is_zero() {
            return Err("the retry period must be positive".into());
        }
        if self.lease_duration <= self.renew_deadline {
            return Err(format!(
                "the lease duration ({:?}) must be longer than the renew deadline ({:?})",
                self.lease_duration, self.renew_deadline
            ));
        }
        if self.renew_deadline.as_secs_f64() <= JITTER_FACTOR * self.retry_period.as_secs_f64() {
            return Err(format!(
                "the renew deadline ({:?}) must be longer than {JITTER_FACTOR} × the retry period ({:?})",
                self.renew_deadline, self.retry_period
            ));
        }
        Ok(())
    }
}

/// What a candidate does with the lease it just read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// There is no lease yet: create it, held by me.
    Create,
    /// The lease is free (released), or its holder's claim ran out: take
    /// it over.
    Acquire,
    /// I hold it: renew it.
    Renew,
    /// Someone else holds it until `until` at the earliest.
    Wait { holder: String, until: Instant },
}

// ANCHOR: decide
/// What `me` does at `now` with `lease` as read (`None`: not found), whose
/// record has looked the same since `observed_at` on my clock: the claim
/// of another holder lasts `leaseDurationSeconds` from then.
pub fn decide(lease: Option<&Lease>, me: &str, observed_at: Instant, now: Instant) -> Decision {
    todo!(
        "exercise 2: decide whether to create, acquire, renew or wait for the lease, counting another holder's claim from when I observed it"
    )
}
// ANCHOR_END: decide

/// The lease held by `me` from `now` for `duration` (rounded up to whole
/// seconds, as the field holds): a new holder restarts `acquireTime` and
/// counts one more transition; the holder itself only moves `renewTime`.
pub fn claim(mut lease: Lease, me: &str, duration: Duration, now: MicroTime) -> Lease {
    let spec = &mut lease.spec;
    if spec.holder_identity.as_deref() != Some(me) {
        if lease.metadata.resource_version.is_some() {
            spec.lease_transitions = Some(spec.lease_transitions.unwrap_or(0) + 1);
        } else {
            spec.lease_transitions = Some(0);
        }
        spec.holder_identity = Some(me.to_string());
        spec.acquire_time = Some(now);
    }
    let seconds = duration.as_secs() + u64::from(duration.subsec_nanos() > 0);
    spec.lease_duration_seconds = Some(i32::try_from(seconds.max(1)).unwrap_or(i32::MAX));
    spec.renew_time = Some(now);
    lease
}

/// The lease given up by its holder, as client-go's release writes it: no
/// holder, a one-second duration, the transitions kept.
pub fn release(mut lease: Lease, now: MicroTime) -> Lease {
    lease.spec = LeaseSpec {
        holder_identity: None,
        lease_duration_seconds: Some(1),
        acquire_time: Some(now),
        renew_time: Some(now),
        lease_transitions: lease.spec.lease_transitions,
    };
    lease
}
