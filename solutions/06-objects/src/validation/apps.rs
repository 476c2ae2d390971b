//! Deployments and ReplicaSets.

use super::{
    validate_non_negative, validate_object_meta, validate_object_meta_update, validate_pod_spec,
};
use crate::apps::{Deployment, ReplicaSet};
use crate::field::{ErrorList, FieldError, Path};
use crate::intstr::IntOrString;
use crate::labels::Selector;
use crate::meta::LabelSelector;
use crate::names;
use crate::pod::PodTemplateSpec;

const PERCENT_MESSAGE: &str = "a valid percent string must be a numeric string followed by an \
     ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')";

fn selector_value(selector: &LabelSelector) -> serde_json::Value {
    serde_json::to_value(selector).unwrap_or_default()
}

/// A controller's selector and template: the selector must not be empty
/// (it would adopt every pod in the namespace) and must match the
/// template's labels (or the controller would never see the pods it
/// creates, and create more forever). Pods it creates must restart
/// themselves: `restartPolicy: Always`.
fn validate_selector_and_template(
    selector: &LabelSelector,
    template: &PodTemplateSpec,
    kind: &str,
    errors: &mut ErrorList,
) {
    let spec = Path::new("spec");
    let selector_path = spec.child("selector");
    let parsed = match Selector::from_label_selector(selector) {
        Ok(parsed) => Some(parsed),
        Err(error) => {
            errors.push(FieldError::invalid(
                &selector_path,
                &selector_value(selector),
                &error.message,
            ));
            None
        }
    };
    if selector.match_labels.is_empty() && selector.match_expressions.is_empty() {
        let detail = format!("empty selector is invalid for {kind}");
        errors.push(FieldError::invalid(
            &selector_path,
            &selector_value(selector),
            &detail,
        ));
    }
    errors.extend(super::validate_labels(
        &selector.match_labels,
        &selector_path.child("matchLabels"),
    ));
    let template_path = spec.child("template");
    let labels_path = template_path.child("metadata").child("labels");
    if let Some(parsed) = parsed.filter(|p| !p.is_everything())
        && !parsed.matches(&template.metadata.labels)
    {
        let labels = serde_json::to_value(&template.metadata.labels).unwrap_or_default();
        errors.push(FieldError::invalid(
            &labels_path,
            &labels,
            "`selector` does not match template `labels`",
        ));
    }
    errors.extend(super::validate_labels(
        &template.metadata.labels,
        &labels_path,
    ));
    let pod_spec = template_path.child("spec");
    errors.extend(validate_pod_spec(&template.spec, &pod_spec));
    let restart = template.spec.restart_policy.as_deref();
    if let Some(policy) = restart.filter(|p| *p != "Always") {
        errors.push(FieldError::not_supported(
            &pod_spec.child("restartPolicy"),
            policy,
            &["Always"],
        ));
    }
}

fn validate_replicas(replicas: Option<i32>, errors: &mut ErrorList) {
    validate_non_negative(
        replicas.map(i64::from),
        &Path::new("spec").child("replicas"),
        errors,
    );
}

/// A number (not negative), or a percentage (`25%`, at most 100% where asked).
fn validate_int_or_percent(
    value: &IntOrString,
    path: &Path,
    at_most_100: bool,
    errors: &mut ErrorList,
) {
    match value {
        IntOrString::Int(n) => validate_non_negative(Some(i64::from(*n)), path, errors),
        IntOrString::String(text) => {
            let percent = text.strip_suffix('%').and_then(|d| {
                d.chars()
                    .all(|c| c.is_ascii_digit())
                    .then(|| d.parse::<i64>().ok())
                    .flatten()
            });
            match percent {
                None => errors.push(FieldError::invalid(path, text, PERCENT_MESSAGE)),
                Some(p) if at_most_100 && p > 100 => {
                    errors.push(FieldError::invalid(
                        path,
                        text,
                        "must not be greater than 100%",
                    ));
                }
                Some(_) => {}
            }
        }
    }
}

fn is_zero(value: &IntOrString) -> bool {
    matches!(value, IntOrString::Int(0)) || matches!(value, IntOrString::String(s) if s == "0%")
}

pub fn validate_deployment(deployment: &Deployment) -> ErrorList {
    let mut errors = validate_object_meta(&deployment.metadata, true, names::dns1123_subdomain);
    let spec = &deployment.spec;
    let path = Path::new("spec");
    validate_replicas(spec.replicas, &mut errors);
    validate_selector_and_template(&spec.selector, &spec.template, "deployment", &mut errors);
    if let Some(strategy) = &spec.strategy {
        let at = path.child("strategy");
        let strategy_type = strategy.strategy_type.as_deref().unwrap_or("");
        match strategy_type {
            "RollingUpdate" => {}
            "Recreate" => {
                if strategy.rolling_update.is_some() {
                    errors.push(FieldError::forbidden(
                        &at.child("rollingUpdate"),
                        "may not be specified when strategy `type` is 'Recreate'",
                    ));
                }
            }
            "" => errors.push(FieldError::required(&at.child("type"), "")),
            other => errors.push(FieldError::not_supported(
                &at.child("type"),
                other,
                &["Recreate", "RollingUpdate"],
            )),
        }
        if let Some(rolling) = &strategy.rolling_update {
            let at = at.child("rollingUpdate");
            if let Some(surge) = &rolling.max_surge {
                validate_int_or_percent(surge, &at.child("maxSurge"), false, &mut errors);
            }
            if let Some(unavailable) = &rolling.max_unavailable {
                validate_int_or_percent(
                    unavailable,
                    &at.child("maxUnavailable"),
                    true,
                    &mut errors,
                );
            }
            // Both zero: the rollout could neither add a pod nor remove one.
            if let (Some(surge), Some(unavailable)) = (&rolling.max_surge, &rolling.max_unavailable)
                && is_zero(surge)
                && is_zero(unavailable)
            {
                errors.push(FieldError::invalid(
                    &at.child("maxUnavailable"),
                    0,
                    "may not be 0 when `maxSurge` is 0",
                ));
            }
        }
    }
    validate_non_negative(
        spec.min_ready_seconds.map(i64::from),
        &path.child("minReadySeconds"),
        &mut errors,
    );
    validate_non_negative(
        spec.revision_history_limit.map(i64::from),
        &path.child("revisionHistoryLimit"),
        &mut errors,
    );
    if let Some(deadline) = spec.progress_deadline_seconds {
        let at = path.child("progressDeadlineSeconds");
        validate_non_negative(Some(i64::from(deadline)), &at, &mut errors);
        if deadline <= spec.min_ready_seconds.unwrap_or(0) {
            errors.push(FieldError::invalid(
                &at,
                deadline,
                "must be greater than minReadySeconds",
            ));
        }
    }
    errors
}

/// The selector of a Deployment or ReplicaSet is immutable (`apps/v1`):
/// changing it would orphan the pods it owns.
fn validate_selector_update(new: &LabelSelector, old: &LabelSelector, errors: &mut ErrorList) {
    if new != old {
        let path = Path::new("spec").child("selector");
        errors.push(FieldError::invalid(
            &path,
            &selector_value(new),
            "field is immutable",
        ));
    }
}

pub fn validate_deployment_update(new: &Deployment, old: &Deployment) -> ErrorList {
    let mut errors = validate_object_meta_update(&new.metadata, &old.metadata);
    errors.extend(validate_deployment(new));
    validate_selector_update(&new.spec.selector, &old.spec.selector, &mut errors);
    errors
}

pub fn validate_replica_set(replica_set: &ReplicaSet) -> ErrorList {
    let mut errors = validate_object_meta(&replica_set.metadata, true, names::dns1123_subdomain);
    let spec = &replica_set.spec;
    validate_replicas(spec.replicas, &mut errors);
    validate_non_negative(
        spec.min_ready_seconds.map(i64::from),
        &Path::new("spec").child("minReadySeconds"),
        &mut errors,
    );
    validate_selector_and_template(&spec.selector, &spec.template, "replicaset", &mut errors);
    errors
}

pub fn validate_replica_set_update(new: &ReplicaSet, old: &ReplicaSet) -> ErrorList {
    let mut errors = validate_object_meta_update(&new.metadata, &old.metadata);
    errors.extend(validate_replica_set(new));
    validate_selector_update(&new.spec.selector, &old.spec.selector, &mut errors);
    errors
}
