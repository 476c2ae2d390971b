//! Subresources: `status` (written by controllers and node agents, apart
//! from the spec users write), `scale` (the replica count alone),
//! `binding` (the scheduler's choice of node) and a namespace's
//! `finalize`. A pod's `log` and `exec` go to its node's agent
//! (`node_proxy`).

use axum::http::{Method, StatusCode};
use axum::response::Response;
use objects::labels::Selector;
use objects::resource::{Object, ResourceInfo};
use objects::{LabelSelector, ObjectMeta, Scale, Status};
use serde::Deserialize;
use serde_json::Value;

use super::errors::{ApiError, ApiResult};
use super::handlers::{Part, stored, update_object};
use super::objects::{decode_request, from_entry, parse_body, to_stored};
use super::request::{Call, json, json_with_warnings};
use super::{Server, patch};
use crate::store::Precondition;

pub async fn handle(server: &Server, call: &Call, method: &Method) -> ApiResult<Response> {
    let info = call.target.info;
    let sub = call.target.subresource.as_deref().unwrap_or_default();
    let served =
        info.subresources.contains(&sub) || (info.kind == "Namespace" && sub == "finalize");
    if !served {
        return Err(ApiError::no_such_path(&format!("{}/{sub}", info.plural)));
    }
    match (sub, method.clone()) {
        ("status", Method::GET) => super::handlers::get(server, call),
        ("status", Method::PUT) => {
            let value = call.object_value()?;
            let object = decode_request(info, &value)?.object;
            let updated = update_object(server, call, object, Part::Status).await?;
            Ok(json(
                StatusCode::OK,
                serde_json::to_vec(&updated).expect("objects serialize"),
            ))
        }
        ("status", Method::PATCH) => {
            let (object, warnings) = patch::apply(server, call, Part::Status).await?;
            Ok(json_with_warnings(
                StatusCode::OK,
                serde_json::to_vec(&object).expect("objects serialize"),
                &warnings,
            ))
        }
        ("finalize", Method::PUT) => {
            let value = call.object_value()?;
            let object = decode_request(info, &value)?.object;
            let updated = update_object(server, call, object, Part::Main).await?;
            Ok(json(
                StatusCode::OK,
                serde_json::to_vec(&updated).expect("objects serialize"),
            ))
        }
        ("scale", Method::GET) => {
            let object = current(server, call)?;
            Ok(json(
                StatusCode::OK,
                serde_json::to_vec(&scale_of(info, &object)?).expect("scales serialize"),
            ))
        }
        ("scale", Method::PUT | Method::PATCH) => scale(server, call, method.clone()).await,
        ("binding", Method::POST) => bind(server, call).await,
        _ => Err(ApiError::method_not_allowed()),
    }
}

fn current(server: &Server, call: &Call) -> ApiResult<Object> {
    let (_, entry) = stored(server, call)?;
    Ok(from_entry(call.target.info, &entry))
}

/// The Scale of a deployment or replica set: desired and current replicas,
/// and the selector as a string.
fn scale_of(info: &ResourceInfo, object: &Object) -> ApiResult<Scale> {
    let (meta, desired, current, selector) = match object {
        Object::Deployment(d) => (
            &d.metadata,
            d.spec.replicas,
            d.status.replicas,
            &d.spec.selector,
        ),
        Object::ReplicaSet(r) => (
            &r.metadata,
            r.spec.replicas,
            Some(r.status.replicas),
            &r.spec.selector,
        ),
        _ => return Err(ApiError::no_such_path(&format!("{}/scale", info.plural))),
    };
    let metadata = ObjectMeta {
        name: meta.name.clone(),
        namespace: meta.namespace.clone(),
        uid: meta.uid.clone(),
        resource_version: meta.resource_version.clone(),
        creation_timestamp: meta.creation_timestamp,
        ..ObjectMeta::default()
    };
    Ok(Scale::new(
        metadata,
        desired.unwrap_or(1),
        current.unwrap_or(0),
        selector_string(selector),
    ))
}

fn selector_string(selector: &LabelSelector) -> String {
    Selector::from_label_selector(selector)
        .map(|selector| selector.to_string())
        .unwrap_or_default()
}

/// Sets the replica count from a Scale (PUT) or a patch of one.
async fn scale(server: &Server, call: &Call, method: Method) -> ApiResult<Response> {
    let info = call.target.info;
    let name = call.target.name.clone().unwrap_or_default();
    let object = current(server, call)?;
    let before = scale_of(info, &object)?;
    let requested: Scale = if method == Method::PUT {
        let value = parse_body(&call.body, false)?;
        serde_json::from_value(value)
            .map_err(|error| ApiError::bad_request(format!("the body is not a Scale: {error}")))?
    } else {
        let kind = patch::PatchType::from_content_type(&call.content_type)?;
        let mut value = serde_json::to_value(&before).expect("scales serialize");
        let body = parse_body(&call.body, kind == patch::PatchType::Apply)?;
        patch::apply_patch(&mut value, &body, kind).map_err(|message| {
            ApiError::bad_request(format!("the patch cannot be applied: {message}"))
        })?;
        serde_json::from_value(value).map_err(|error| {
            ApiError::bad_request(format!("the patched Scale is invalid: {error}"))
        })?
    };
    if let Some(version) = &requested.metadata.resource_version
        && Some(version) != before.metadata.resource_version.as_ref()
    {
        return Err(ApiError::of(Status::conflict(info, &name)));
    }
    let replicas = requested.spec.replicas.unwrap_or(0);
    let mut value = object.to_value();
    value["spec"]["replicas"] = Value::from(replicas);
    let updated_object = decode_request(info, &value)?.object;
    let updated = update_object(server, call, updated_object, Part::Main).await?;
    let after = scale_of(info, &updated)?;
    Ok(json(
        StatusCode::OK,
        serde_json::to_vec(&after).expect("scales serialize"),
    ))
}

/// A Binding: the node a pod goes to.
#[derive(Debug, Deserialize)]
struct Binding {
    target: BindingTarget,
}

#[derive(Debug, Deserialize)]
struct BindingTarget {
    #[serde(default)]
    kind: Option<String>,
    name: String,
}

/// Binds a pod to a node, once: a pod already bound is a conflict.
async fn bind(server: &Server, call: &Call) -> ApiResult<Response> {
    let info = call.target.info;
    let name = call.target.name.clone().unwrap_or_default();
    let value = parse_body(&call.body, false)?;
    let binding: Binding = serde_json::from_value(value)
        .map_err(|error| ApiError::bad_request(format!("the body is not a Binding: {error}")))?;
    if binding
        .target
        .kind
        .as_deref()
        .is_some_and(|kind| kind != "Node")
    {
        return Err(ApiError::bad_request("a pod can only be bound to a Node"));
    }
    let (pod_key, entry) = stored(server, call)?;
    let Object::Pod(mut pod) = from_entry(info, &entry) else {
        return Err(ApiError::method_not_allowed());
    };
    if pod.metadata.deletion_timestamp.is_some() {
        return Err(ApiError::of(Status::failure(
            409,
            "Conflict",
            format!("pod {name} is being deleted, cannot be assigned to a host"),
        )));
    }
    if let Some(node) = &pod.spec.node_name {
        return Err(ApiError::of(Status::failure(
            409,
            "Conflict",
            format!("pod {name} is already assigned to node {node:?}"),
        )));
    }
    // The one change to a pod's spec that is allowed, and only here (the
    // checks of an ordinary update would refuse it).
    pod.spec.node_name = Some(binding.target.name);
    // As Kubernetes' binding does: the pod is scheduled now, whatever an
    // earlier attempt said (PodScheduled=False, Unschedulable).
    let scheduled = pod
        .status
        .conditions
        .iter()
        .any(|c| c.condition_type == "PodScheduled" && c.status == "True");
    if !scheduled {
        pod.status
            .conditions
            .retain(|c| c.condition_type != "PodScheduled");
        pod.status.conditions.push(objects::pod::PodCondition {
            condition_type: "PodScheduled".into(),
            status: "True".into(),
            last_transition_time: Some(objects::Time::now()),
            ..Default::default()
        });
    }
    server
        .store
        .put(
            &pod_key,
            to_stored(&Object::Pod(pod)),
            Precondition::Revision(entry.mod_revision),
        )
        .await
        .map_err(|error| ApiError::from_store(error, info, &name))?;
    let status = Status {
        status: Some("Success".into()),
        code: 201,
        ..Status::success(info, &name)
    };
    Ok(json(
        StatusCode::CREATED,
        serde_json::to_vec(&status).expect("statuses serialize"),
    ))
}
