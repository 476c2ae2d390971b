//! Each path of a Deployment sync: a step of RollingUpdate or Recreate,
//! scaling (when the size changed or the deployment is paused), the
//! pause and resume conditions, and the status writes that end each path.
//!
//! Kubernetes: rolling.go, recreate.go, `sync`, `syncStatusOnly`,
//! `checkPausedConditions`, `syncDeploymentStatus` (sync.go) and
//! `syncRolloutStatus` (progress.go).

use objects::{ReplicaSet, Selector, Time};

use super::counts::{Scaling, desired};
use super::replica_sets::Rollout;
use super::rolling::plan_rolling;
use super::scale::{RecreateStep, is_scaling_event, old_pods_running, plan_recreate, plan_scale};
use super::status::{self, deployment_complete};
use super::{DeploymentController, DeploymentError};
use crate::controller::Action;

impl DeploymentController {
    /// Sets Progressing to DeploymentPaused or DeploymentResumed as the
    /// deployment was paused or resumed, so a long pause never counts
    /// against the progress deadline.
    pub(super) async fn check_paused_conditions(
        &self,
        rollout: &mut Rollout,
    ) -> Result<(), DeploymentError> {
        let deployment = &mut rollout.deployment;
        if let Some(condition) = status::paused_condition(deployment, Time::now()) {
            status::set_condition(&mut deployment.status, condition);
            self.write_status(deployment).await?;
        }
        Ok(())
    }

    /// Whether the deployment's size changed since its ReplicaSets were
    /// scaled (`isScalingEvent`, which syncs the revision on the way).
    pub(super) async fn is_scaling_event(
        &self,
        rollout: &mut Rollout,
    ) -> Result<bool, DeploymentError> {
        let new = self.sync_revision(rollout, false).await?;
        let (_, old) = rollout.split();
        Ok(is_scaling_event(&rollout.deployment, new.as_ref(), &old))
    }

    /// A scaling event, or a paused deployment: resize the ReplicaSets in
    /// proportion, start no rollout (`sync`).
    pub(super) async fn sync(&self, rollout: &mut Rollout) -> Result<Action, DeploymentError> {
        let new = self.sync_revision(rollout, false).await?;
        let (_, old) = rollout.split();
        let plan = plan_scale(&rollout.deployment, new.as_ref(), &old);
        self.scale_all(rollout, &plan).await?;
        if rollout.deployment.spec.paused {
            self.cleanup(rollout).await?;
        }
        self.sync_deployment_status(rollout).await
    }

    /// A deployment being deleted: only its status.
    pub(super) async fn sync_status_only(
        &self,
        rollout: &mut Rollout,
    ) -> Result<Action, DeploymentError> {
        self.sync_revision(rollout, false).await?;
        self.sync_deployment_status(rollout).await
    }

    /// One RollingUpdate step: the new ReplicaSet up, or else the old ones
    /// down; once complete, old revisions beyond the limit go.
    pub(super) async fn rollout_rolling(
        &self,
        rollout: &mut Rollout,
    ) -> Result<Action, DeploymentError> {
        let Some(new) = self.sync_revision(rollout, true).await? else {
            return self.sync_rollout_status(rollout).await;
        };
        let (_, old) = rollout.split();
        let plan = plan_rolling(&rollout.deployment, &new, &old);
        if self.scale_all(rollout, &plan).await? {
            return self.sync_rollout_status(rollout).await;
        }
        if deployment_complete(&rollout.deployment, &rollout.deployment.status) {
            self.cleanup(rollout).await?;
        }
        self.sync_rollout_status(rollout).await
    }

    /// One Recreate step: old ReplicaSets to 0; once their pods are gone,
    /// the new one (created now if needed) to the desired count.
    pub(super) async fn rollout_recreate(
        &self,
        rollout: &mut Rollout,
        selector: &Selector,
    ) -> Result<Action, DeploymentError> {
        // No new ReplicaSet yet: creating it would start pods before the
        // old ones are gone.
        let new = self.sync_revision(rollout, false).await?;
        let (_, old) = rollout.split();
        let pods = self.pods_of(rollout, selector);
        let pods: Vec<_> = pods.iter().collect();
        let running = old_pods_running(new.as_ref(), &old, &pods);
        match plan_recreate(&old, running) {
            RecreateStep::ScaleDownOld(plan) => {
                self.scale_all(rollout, &plan).await?;
                self.sync_rollout_status(rollout).await
            }
            RecreateStep::WaitForOldPods => self.sync_rollout_status(rollout).await,
            RecreateStep::ScaleUpNew => {
                let new = match new {
                    Some(new) => Some(new),
                    None => self.sync_revision(rollout, true).await?,
                };
                if let Some(new) = new {
                    let scaling = Scaling::new(&new, desired(&rollout.deployment));
                    self.scale(rollout, &scaling).await?;
                }
                if deployment_complete(&rollout.deployment, &rollout.deployment.status) {
                    self.cleanup(rollout).await?;
                }
                self.sync_rollout_status(rollout).await
            }
        }
    }

    /// The ReplicaSets, the new one separately.
    fn all_and_new(rollout: &Rollout) -> (Vec<ReplicaSet>, Option<ReplicaSet>) {
        let (new, old) = rollout.split();
        let mut all = old;
        all.extend(new.clone());
        (all, new)
    }

    /// Writes the counts and Available (`syncDeploymentStatus`).
    async fn sync_deployment_status(
        &self,
        rollout: &mut Rollout,
    ) -> Result<Action, DeploymentError> {
        let (all, new) = Self::all_and_new(rollout);
        let all: Vec<&ReplicaSet> = all.iter().collect();
        let deployment = &mut rollout.deployment;
        let status = status::calculate_status(deployment, &all, new.as_ref(), Time::now());
        if status != deployment.status {
            deployment.status = status;
            self.write_status(deployment).await?;
        }
        Ok(Action::await_change())
    }

    /// Writes the counts and the conditions, Progressing included
    /// (`syncRolloutStatus`); asks to be back when the progress deadline
    /// passes, if the rollout is still under way then.
    async fn sync_rollout_status(&self, rollout: &mut Rollout) -> Result<Action, DeploymentError> {
        let (all, new) = Self::all_and_new(rollout);
        let all: Vec<&ReplicaSet> = all.iter().collect();
        let now = Time::now();
        let deployment = &mut rollout.deployment;
        let status = status::rollout_status(deployment, &all, new.as_ref(), now);
        if status != deployment.status {
            deployment.status = status;
            self.write_status(deployment).await?;
        }
        let status = deployment.status.clone();
        Ok(match status::requeue_after(deployment, &status, now) {
            Some(delay) => Action::requeue(delay),
            None => Action::await_change(),
        })
    }
}
