//! The Deployment controller's writes: finding or creating the new
//! ReplicaSet with its revision, scaling, deleting old
//! revisions, and the deployment's own revision and status. Every write
//! that a stale read could make wrong sends the resourceVersion it read,
//! so a decision made on a stale cache fails with Conflict and is made
//! again, never applied.
//!
//! Kubernetes: sync.go (`getNewReplicaSet`, `scaleReplicaSet`,
//! `cleanupDeployment`).

use apiserver::client::{Api, DeleteParams, Patch, Preconditions};
use objects::apps::ReplicaSetSpec;
use objects::{Deployment, ReplicaSet, Resource, Time};
use serde_json::json;

use super::claim;
use super::counts::{Scaling, desired, replicas, total_replicas};
use super::hash::{equal_ignore_hash, pod_template_hash};
use super::replica_sets::Rollout;
use super::revision::{self, REVISION};
use super::rolling::{max_surge, new_rs_replicas};
use super::status::{self, PROGRESSING};
use super::{DeploymentController, DeploymentError, POD_TEMPLATE_HASH};

impl DeploymentController {
    pub(super) fn replica_set_api(&self, deployment: &Deployment) -> Api<ReplicaSet> {
        self.client.api(Some(deployment.metadata.namespace()))
    }

    pub(super) fn deployment_api(&self, deployment: &Deployment) -> Api<Deployment> {
        self.client.api(Some(deployment.metadata.namespace()))
    }

    /// The new ReplicaSet with its revision synced, created first if
    /// `create` and it does not exist (`getAllReplicaSetsAndSyncRevision`):
    /// the new one's revision is above every old one's, its annotations
    /// and minReadySeconds follow the deployment's, and the deployment's
    /// revision is the new one's.
    pub(super) async fn sync_revision(
        &self,
        rollout: &mut Rollout,
        create: bool,
    ) -> Result<Option<ReplicaSet>, DeploymentError> {
        let (new, old) = rollout.split();
        let new_revision = revision::max_revision(&old) + 1;
        let Some(existing) = new else {
            if !create {
                return Ok(None);
            }
            return self
                .create_new_replica_set(rollout, &old, new_revision)
                .await
                .map(Some);
        };
        let deployment = &rollout.deployment;
        let desired = desired(deployment);
        let max = desired + max_surge(deployment);
        let mut rs = existing.clone();
        let annotated = revision::set_new_replica_set_annotations(
            deployment,
            &mut rs,
            new_revision,
            true,
            desired,
            max,
        );
        if annotated || rs.spec.min_ready_seconds != deployment.spec.min_ready_seconds {
            rs.spec.min_ready_seconds = deployment.spec.min_ready_seconds;
            let updated = self.replica_set_api(deployment).replace(&rs).await?;
            rollout.store(updated.clone());
            return Ok(Some(updated));
        }
        let rs_revision = rs
            .metadata
            .annotations
            .get(REVISION)
            .cloned()
            .unwrap_or_default();
        let deployment = &mut rollout.deployment;
        let revision_changed = revision::set_deployment_revision(deployment, &rs_revision);
        let mut status_changed = false;
        if deployment.spec.progress_deadline_seconds.is_some()
            && status::get_condition(&deployment.status, PROGRESSING).is_none()
        {
            let message = format!("Found new replica set \"{}\"", rs.metadata.name());
            let condition = status::new_condition(
                PROGRESSING,
                "True",
                status::FOUND_NEW_REPLICA_SET,
                message,
                Time::now(),
            );
            status::set_condition(&mut deployment.status, condition);
            status_changed = true;
        }
        self.write_revision_and_status(deployment, revision_changed, status_changed)
            .await?;
        Ok(Some(rs))
    }

    /// Creates the ReplicaSet of the deployment's current template, as
    /// large as the strategy allows now.
    async fn create_new_replica_set(
        &self,
        rollout: &mut Rollout,
        old: &[ReplicaSet],
        new_revision: i64,
    ) -> Result<ReplicaSet, DeploymentError> {
        let deployment = &rollout.deployment;
        let hash = pod_template_hash(&deployment.spec.template, deployment.status.collision_count);
        let mut template = deployment.spec.template.clone();
        template
            .metadata
            .labels
            .insert(POD_TEMPLATE_HASH.into(), hash.clone());
        let mut selector = deployment.spec.selector.clone();
        selector
            .match_labels
            .insert(POD_TEMPLATE_HASH.into(), hash.clone());
        let name = format!("{}-{hash}", deployment.metadata.name());
        let mut rs = ReplicaSet::new(&name, Some(deployment.metadata.namespace()));
        rs.metadata.labels = template.metadata.labels.clone();
        rs.metadata.owner_references = vec![claim::controller_ref(deployment)];
        let size = new_rs_replicas(deployment, total_replicas(old), 0);
        rs.spec = ReplicaSetSpec {
            replicas: Some(size),
            min_ready_seconds: deployment.spec.min_ready_seconds,
            selector,
            template,
        };
        let desired = desired(deployment);
        let max = desired + max_surge(deployment);
        revision::set_new_replica_set_annotations(
            deployment,
            &mut rs,
            new_revision,
            false,
            desired,
            max,
        );

        let api = self.replica_set_api(deployment);
        let (created, already_existed) = match api.create(&rs).await {
            Ok(created) => (created, false),
            Err(error) if error.is_already_exists() => {
                let existing = api.get(&name).await?;
                if !claim::is_controlled_by(&existing.metadata, deployment)
                    || !equal_ignore_hash(&deployment.spec.template, &existing.spec.template)
                {
                    // Another template hashes to this name: count the
                    // collision, which changes the hash, and try again.
                    let deployment = &mut rollout.deployment;
                    let count = deployment.status.collision_count.unwrap_or(0);
                    deployment.status.collision_count = Some(count + 1);
                    self.write_status(deployment).await?;
                    return Err(error.into());
                }
                (existing, true)
            }
            Err(error) => {
                let message = format!("Failed to create new replica set \"{name}\": {error}");
                let deployment = &mut rollout.deployment;
                if deployment.spec.progress_deadline_seconds.is_some() {
                    let condition = status::new_condition(
                        PROGRESSING,
                        "False",
                        status::REPLICA_SET_CREATE_ERROR,
                        message.clone(),
                        Time::now(),
                    );
                    status::set_condition(&mut deployment.status, condition);
                    // The failure to report matters more than this one.
                    let _ = self.write_status(deployment).await;
                }
                self.events
                    .warning(deployment, status::REPLICA_SET_CREATE_ERROR, &message)
                    .await;
                return Err(error.into());
            }
        };
        rollout.store(created.clone());
        let deployment = &mut rollout.deployment;
        if !already_existed && size > 0 {
            let message = format!("Scaled up replica set {name} to {size}");
            self.events
                .normal(deployment, "ScalingReplicaSet", &message)
                .await;
        }
        let revision_changed =
            revision::set_deployment_revision(deployment, &new_revision.to_string());
        let mut status_changed = false;
        if !already_existed && deployment.spec.progress_deadline_seconds.is_some() {
            let message = format!("Created new replica set \"{name}\"");
            let condition = status::new_condition(
                PROGRESSING,
                "True",
                status::NEW_REPLICA_SET_CREATED,
                message,
                Time::now(),
            );
            status::set_condition(&mut deployment.status, condition);
            status_changed = true;
        }
        self.write_revision_and_status(deployment, revision_changed, status_changed)
            .await?;
        Ok(created)
    }

    /// Applies one planned size (`scaleReplicaSet`): writes the size and
    /// the `desired-replicas`/`max-replicas` annotations if either
    /// changed, and records a ScalingReplicaSet event for a new size.
    /// Says whether the size changed.
    pub(super) async fn scale(
        &self,
        rollout: &mut Rollout,
        scaling: &Scaling,
    ) -> Result<bool, DeploymentError> {
        let Some(rs) = rollout
            .replica_sets
            .iter()
            .find(|rs| rs.metadata.name() == scaling.name)
        else {
            return Ok(false);
        };
        let deployment = &rollout.deployment;
        let desired = desired(deployment);
        let max = desired + max_surge(deployment);
        let from = replicas(rs);
        let resize = from != scaling.to;
        if !resize && !revision::replicas_annotations_need_update(rs, desired, max) {
            return Ok(false);
        }
        let mut rs = rs.clone();
        rs.spec.replicas = Some(scaling.to);
        revision::set_replicas_annotations(&mut rs, desired, max);
        let updated = self.replica_set_api(deployment).replace(&rs).await?;
        if resize {
            let direction = if from < scaling.to { "up" } else { "down" };
            let message = format!(
                "Scaled {direction} replica set {} to {} from {from}",
                scaling.name, scaling.to
            );
            self.events
                .normal(deployment, "ScalingReplicaSet", &message)
                .await;
        }
        rollout.store(updated);
        Ok(resize)
    }

    /// Applies planned sizes in order; says whether any size changed.
    pub(super) async fn scale_all(
        &self,
        rollout: &mut Rollout,
        plan: &[Scaling],
    ) -> Result<bool, DeploymentError> {
        let mut scaled = false;
        for scaling in plan {
            scaled |= self.scale(rollout, scaling).await?;
        }
        Ok(scaled)
    }

    /// Deletes old revisions beyond `revisionHistoryLimit`, each only as
    /// it was read: one changed since (scaled up again by a rollback the
    /// cache has not seen yet) is a Conflict, not a loss.
    pub(super) async fn cleanup(&self, rollout: &Rollout) -> Result<(), DeploymentError> {
        let (_, old) = rollout.split();
        let api = self.replica_set_api(&rollout.deployment);
        for rs in revision::history_to_delete(&rollout.deployment, &old) {
            let params = DeleteParams {
                preconditions: Some(Preconditions {
                    uid: rs.metadata.uid.clone(),
                    resource_version: rs.metadata.resource_version.clone(),
                }),
                ..DeleteParams::default()
            };
            match api.delete(rs.metadata.name(), &params).await {
                Ok(_) => {}
                Err(error) if error.is_not_found() => {}
                Err(error) => return Err(error.into()),
            }
        }
        Ok(())
    }

    /// Writes `deployment.status` (the status subresource: the spec a
    /// user may be changing is left alone), keeping what the server answers.
    pub(super) async fn write_status(
        &self,
        deployment: &mut Deployment,
    ) -> Result<(), DeploymentError> {
        *deployment = self
            .deployment_api(deployment)
            .replace_status(deployment)
            .await?;
        Ok(())
    }

    /// Writes the deployment's revision annotation and then its status, as
    /// each changed. Kubernetes sends both in one status update (its status
    /// subresource keeps metadata changes); ours keeps only the status, so
    /// the annotation goes in a merge patch of the metadata, which changes
    /// no spec and so no generation.
    async fn write_revision_and_status(
        &self,
        deployment: &mut Deployment,
        revision_changed: bool,
        status_changed: bool,
    ) -> Result<(), DeploymentError> {
        if revision_changed {
            // The resourceVersion read makes it conditional, as the
            // status write after it is: a stale cache gets a Conflict.
            let revision = deployment.metadata.annotations.get(REVISION).cloned();
            let patch = Patch::Merge(json!({"metadata": {
                "annotations": {REVISION: revision},
                "resourceVersion": deployment.metadata.resource_version,
            }}));
            let patched = self
                .deployment_api(deployment)
                .patch(deployment.metadata.name(), &patch)
                .await?;
            let status = std::mem::take(&mut deployment.status);
            *deployment = patched;
            deployment.status = status;
        }
        if status_changed {
            self.write_status(deployment).await?;
        }
        Ok(())
    }
}
