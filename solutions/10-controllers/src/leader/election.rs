//! The election itself, client-go's `LeaderElector`: the loop that
//! acquires the lease, renews it every retry period, gives up after the
//! renew deadline, and releases it on a graceful stop, around the pure
//! [`decide`] and [`claim`] of the parent module.

use std::hash::{BuildHasher, Hasher};
use std::time::{Duration, Instant};

use apiserver::client::{Api, Client, ClientError};
use objects::lease::LeaseSpec;
use objects::{Lease, MicroTime, Namespace, Resource};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tracing::{debug, info, warn};

use super::{Config, Decision, JITTER_FACTOR, claim, decide, release};
use crate::controller::{Shutdown, Stopper};

/// Where a candidate stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Leadership {
    /// Trying to acquire the lease (someone else may hold it).
    Candidate,
    /// Holding the lease: act.
    Leading,
    /// Was leading and could not renew in time: stop acting (for good:
    /// kube-controller-manager exits).
    Lost,
    /// Stopped (and released the lease if it held it).
    Stopped,
}

/// How a try went.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Attempt {
    Holding,
    HeldBy(String),
    /// Another candidate wrote first (409): read again next time.
    Raced,
}

/// The candidate's side of the election: the lease API and what it saw.
struct Candidate {
    config: Config,
    leases: Api<Lease>,
    namespaces: Api<Namespace>,
    /// The record last seen, and when it first looked like that.
    observed: Option<(LeaseSpec, Instant)>,
}

impl Candidate {
    /// When the record in `lease` was first seen as it is now.
    fn observe(&mut self, lease: &Lease, now: Instant) -> Instant {
        match &self.observed {
            Some((spec, at)) if *spec == lease.spec => *at,
            _ => {
                self.observed = Some((lease.spec.clone(), now));
                now
            }
        }
    }

    /// client-go's `tryAcquireOrRenew`: read, decide, write.
    async fn try_acquire_or_renew(&mut self) -> Result<Attempt, ClientError> {
        let me = self.config.identity.clone();
        let current = self.leases.get_opt(&self.config.name).await?;
        let now = tokio::time::Instant::now().into_std();
        let observed_at = match &current {
            Some(lease) => self.observe(lease, now),
            None => now,
        };
        let written = match decide(current.as_ref(), &me, observed_at, now) {
            Decision::Wait { holder, .. } => return Ok(Attempt::HeldBy(holder)),
            Decision::Create => {
                let new = Lease::new(&self.config.name, Some(&self.config.namespace));
                let lease = claim(new, &me, self.config.lease_duration, MicroTime::now());
                self.create(&lease).await
            }
            Decision::Acquire | Decision::Renew => {
                let lease = current.expect("decide creates when there is no lease");
                let lease = claim(lease, &me, self.config.lease_duration, MicroTime::now());
                self.leases.replace(&lease).await
            }
        };
        match written {
            Ok(lease) => {
                self.observe(&lease, now);
                Ok(Attempt::Holding)
            }
            Err(error) if error.is_conflict() || error.is_already_exists() => Ok(Attempt::Raced),
            Err(error) => Err(error),
        }
    }

    /// Creates the lease, and its namespace first if a server lacks it.
    async fn create(&self, lease: &Lease) -> Result<Lease, ClientError> {
        match self.leases.create(lease).await {
            Err(error) if error.is_not_found() => {
                let namespace = Namespace::new(&self.config.namespace, None);
                match self.namespaces.create(&namespace).await {
                    Ok(_) => {}
                    Err(error) if error.is_already_exists() => {}
                    Err(error) => return Err(error),
                }
                self.leases.create(lease).await
            }
            result => result,
        }
    }

    /// Clears the holder, if it is still me.
    async fn release(&mut self) -> Result<(), ClientError> {
        let Some(lease) = self.leases.get_opt(&self.config.name).await? else {
            return Ok(());
        };
        if lease.spec.holder_identity.as_deref() != Some(self.config.identity.as_str()) {
            return Ok(());
        }
        self.leases
            .replace(&release(lease, MicroTime::now()))
            .await?;
        Ok(())
    }

    /// Tries until it holds the lease (`true`) or is stopped (`false`).
    async fn acquire(&mut self, shutdown: &mut Shutdown) -> bool {
        let mut waiting_for = None;
        loop {
            let attempt = tokio::select! {
                _ = shutdown.wait() => return false,
                attempt = self.try_acquire_or_renew() => attempt,
            };
            match attempt {
                Ok(Attempt::Holding) => return true,
                Ok(Attempt::HeldBy(holder)) => {
                    if waiting_for.as_ref() != Some(&holder) {
                        debug!(lease = %self.config.name, %holder, "the lease is held by another");
                        waiting_for = Some(holder);
                    }
                }
                Ok(Attempt::Raced) => {}
                Err(error) => warn!(lease = %self.config.name, "cannot acquire the lease: {error}"),
            }
            tokio::select! {
                _ = shutdown.wait() => return false,
                _ = tokio::time::sleep(jittered(self.config.retry_period)) => {}
            }
        }
    }

    /// Renews every retry period until stopped (`true`) or until a renewal
    /// has not succeeded for the renew deadline (`false`: lost).
    async fn renew(&mut self, shutdown: &mut Shutdown) -> bool {
        let mut renewed = tokio::time::Instant::now();
        loop {
            tokio::select! {
                _ = shutdown.wait() => return true,
                _ = tokio::time::sleep(self.config.retry_period) => {}
            }
            let deadline = renewed + self.config.renew_deadline;
            let attempt = tokio::select! {
                _ = shutdown.wait() => return true,
                attempt = tokio::time::timeout_at(deadline, self.try_acquire_or_renew()) => attempt,
            };
            match attempt {
                Ok(Ok(Attempt::Holding)) => renewed = tokio::time::Instant::now(),
                Ok(Ok(Attempt::HeldBy(holder))) => {
                    warn!(lease = %self.config.name, %holder, "the lease was taken over");
                    return false;
                }
                Ok(Ok(Attempt::Raced)) => {}
                Ok(Err(error)) => {
                    warn!(lease = %self.config.name, "cannot renew the lease: {error}")
                }
                Err(_) => {}
            }
            if tokio::time::Instant::now() >= deadline {
                warn!(lease = %self.config.name, deadline = ?self.config.renew_deadline, "no renewal within the renew deadline");
                return false;
            }
        }
    }
}

/// A wait between `period` and (1 + [`JITTER_FACTOR`]) × `period`.
fn jittered(period: Duration) -> Duration {
    // RandomState is seeded at random: enough randomness for a jitter.
    let random = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    let fraction = (random % 1_000_000) as f64 / 1_000_000.0;
    period.mul_f64(1.0 + JITTER_FACTOR * fraction)
}

/// A running candidate; see the module documentation. Dropping it stops
/// it without releasing the lease (as a crash would).
pub struct LeaderElection {
    identity: String,
    leadership: watch::Receiver<Leadership>,
    stopper: Stopper,
    task: Option<JoinHandle<()>>,
}

impl LeaderElection {
    /// Starts campaigning (within a tokio runtime).
    pub fn start(client: &Client, config: Config) -> Result<LeaderElection, String> {
        config.validate()?;
        let (state, leadership) = watch::channel(Leadership::Candidate);
        let (stopper, shutdown) = Shutdown::channel();
        let identity = config.identity.clone();
        let candidate = Candidate {
            leases: client.api(Some(&config.namespace)),
            namespaces: client.api(None),
            config,
            observed: None,
        };
        Ok(LeaderElection {
            identity,
            leadership,
            stopper,
            task: Some(tokio::spawn(campaign(candidate, state, shutdown))),
        })
    }

    pub fn identity(&self) -> &str {
        &self.identity
    }

    /// Where this candidate stands, and each change.
    pub fn leadership(&self) -> watch::Receiver<Leadership> {
        self.leadership.clone()
    }

    pub fn is_leader(&self) -> bool {
        *self.leadership.borrow() == Leadership::Leading
    }

    /// Stops campaigning; a leader releases the lease (if so configured)
    /// within `limit`.
    pub async fn stop(mut self, limit: Duration) {
        self.stopper.stop();
        if let Some(mut task) = self.task.take()
            && tokio::time::timeout(limit, &mut task).await.is_err()
        {
            task.abort();
            let _ = task.await;
        }
    }
}

impl Drop for LeaderElection {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

// ANCHOR: campaign
/// Acquire, then renew until stopped or lost; release on a graceful stop.
async fn campaign(
    mut candidate: Candidate,
    state: watch::Sender<Leadership>,
    mut shutdown: Shutdown,
) {
    let name = format!("{}/{}", candidate.config.namespace, candidate.config.name);
    if !candidate.acquire(&mut shutdown).await {
        state.send_replace(Leadership::Stopped);
        return;
    }
    info!(lease = %name, identity = %candidate.config.identity, "became the leader");
    state.send_replace(Leadership::Leading);
    if !candidate.renew(&mut shutdown).await {
        state.send_replace(Leadership::Lost);
        return;
    }
    if candidate.config.release_on_cancel {
        match candidate.release().await {
            Ok(()) => info!(lease = %name, "released the lease"),
            Err(error) => warn!(lease = %name, "cannot release the lease: {error}"),
        }
    }
    state.send_replace(Leadership::Stopped);
}
// ANCHOR_END: campaign
