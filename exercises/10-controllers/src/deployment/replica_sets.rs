// Generated from solutions/10-controllers/src/deployment/replica_sets.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
//! What one reconcile works on: the deployment, the ReplicaSets it
//! manages (after adopting matching orphans and releasing those it no
//! longer matches, as [`super::claim`] decides) and, for Recreate, their
//! pods.
//!
//! Kubernetes: `getReplicaSetsForDeployment` and `getPodMapForDeployment`
//! (deployment_controller.go).

use apiserver::client::Patch;
use objects::{Deployment, Pod, ReplicaSet, Selector};

use super::claim::{self, Claim};
use super::hash::find_new_replica_set;
use super::{DeploymentController, DeploymentError};
use crate::controller::trigger::controller_ref;

/// What one reconcile works on: the deployment and its ReplicaSets, as
/// read, then as each write left them.
pub(super) struct Rollout {
    pub deployment: Deployment,
    pub replica_sets: Vec<ReplicaSet>,
}

impl Rollout {
    pub fn new(deployment: Deployment, replica_sets: Vec<ReplicaSet>) -> Rollout {
        Rollout {
            deployment,
            replica_sets,
        }
    }

    /// The new ReplicaSet (the current template's), if it exists, and the
    /// old ones.
    pub fn split(&self) -> (Option<ReplicaSet>, Vec<ReplicaSet>) {
        let new = find_new_replica_set(&self.deployment, &self.replica_sets).cloned();
        let new_name = new.as_ref().map(|rs| rs.metadata.name().to_string());
        let old = self
            .replica_sets
            .iter()
            .filter(|rs| Some(rs.metadata.name()) != new_name.as_deref())
            .cloned()
            .collect();
        (new, old)
    }

    /// Replaces the ReplicaSet of the same name with `rs` (as the server
    /// answered a write), or adds it.
    pub fn store(&mut self, rs: ReplicaSet) {
        match self
            .replica_sets
            .iter_mut()
            .find(|known| known.metadata.name() == rs.metadata.name())
        {
            Some(known) => *known = rs,
            None => self.replica_sets.push(rs),
        }
    }
}

impl DeploymentController {
    /// The deployment's ReplicaSets, after adopting matching orphans and
    /// releasing those no longer matched (`getReplicaSetsForDeployment`).
    pub(super) async fn claim_replica_sets(
        &self,
        deployment: &Deployment,
        selector: &Selector,
    ) -> Result<Vec<ReplicaSet>, DeploymentError> {
        let api = self.replica_set_api(deployment);
        let mut owned = Vec::new();
        let mut can_adopt = None;
        for rs in self
            .replica_sets
            .list_namespace(deployment.metadata.namespace())
        {
            let patch = match claim::claim(deployment, selector, &rs) {
                Claim::Owned => {
                    owned.push((*rs).clone());
                    continue;
                }
                Claim::Ignore => continue,
                Claim::Release => Patch::Strategic(claim::release_patch(deployment, &rs)),
                Claim::Adopt => {
                    if can_adopt.is_none() {
                        can_adopt = Some(self.can_adopt(deployment).await?);
                    }
                    if can_adopt != Some(true) {
                        continue;
                    }
                    Patch::Strategic(claim::adopt_patch(deployment, &rs))
                }
            };
            match api.patch(rs.metadata.name(), &patch).await {
                Ok(patched) if claim::is_controlled_by(&patched.metadata, deployment) => {
                    owned.push(patched)
                }
                Ok(_) => {}
                Err(error) if error.is_not_found() => {}
                Err(error) => return Err(error.into()),
            }
        }
        Ok(owned)
    }

    /// Adopting needs the deployment as it is now, not as cached: one
    /// deleted meanwhile (or deleted and created again, another uid) must
    /// not take ReplicaSets the garbage collector is about to remove.
    async fn can_adopt(&self, deployment: &Deployment) -> Result<bool, DeploymentError> {
        let fresh = self
            .deployment_api(deployment)
            .get_opt(deployment.metadata.name())
            .await?;
        Ok(fresh.is_some_and(|fresh| {
            fresh.metadata.uid == deployment.metadata.uid
                && fresh.metadata.deletion_timestamp.is_none()
        }))
    }

    /// The deployment's pods: those its selector matches whose controller
    /// is one of its ReplicaSets (`getPodMapForDeployment`).
    pub(super) fn pods_of(&self, rollout: &Rollout, selector: &Selector) -> Vec<Pod> {
        let uids: Vec<&str> = rollout
            .replica_sets
            .iter()
            .filter_map(|rs| rs.metadata.uid.as_deref())
            .collect();
        self.pods
            .list_matching(Some(rollout.deployment.metadata.namespace()), selector)
            .into_iter()
            .filter(|pod| {
                controller_ref(&pod.metadata).is_some_and(|r| uids.contains(&r.uid.as_str()))
            })
            .map(|pod| (*pod).clone())
            .collect()
    }
}
