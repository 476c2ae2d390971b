//! The verbs on collections and objects.

use axum::http::StatusCode;
use axum::response::Response;
use objects::fields::FieldSelector;
use objects::labels::Selector;
use objects::resource::{Object, ResourceInfo};
use objects::table::{IncludeObject, to_table};
use objects::{ErrorList, FieldError, Path, Status, Time};
use serde_json::{Value, json};

use super::errors::{ApiError, ApiResult};
use super::objects::{
    decode_request, from_entry, to_stored, validate_update, with_resource_version,
};
use super::paths::{key, prefix};
use super::query::Query;
use super::request::{Call, json, json_with_warnings};
use super::{Server, allocation, lifecycle, patch};
use crate::store::{Entry, Precondition};

/// The stored object the call names, with its store key; 404 when there is
/// none.
pub fn stored(server: &Server, call: &Call) -> ApiResult<(String, Entry)> {
    let info = call.target.info;
    let name = call.target.name.as_deref().unwrap_or_default();
    let key = key(info, call.target.namespace.as_deref(), name);
    let entry = server
        .store
        .get(&key)
        .ok_or_else(|| ApiError::not_found(info, name))?;
    Ok((key, entry))
}

pub fn get(server: &Server, call: &Call) -> ApiResult<Response> {
    let info = call.target.info;
    let (_, entry) = stored(server, call)?;
    if call.wants_table {
        let object = from_entry(info, &entry);
        return table(info, &[object], &call.query, server.store.revision());
    }
    Ok(json(
        StatusCode::OK,
        with_resource_version(&entry.value, entry.mod_revision),
    ))
}

/// How long a read waits for a resourceVersion the store has not reached
/// (kube-apiserver's watch cache waits 3 s: `blockTimeout`).
pub const FRESHNESS_WAIT: std::time::Duration = std::time::Duration::from_secs(3);

/// A get or list with a resourceVersion (other than 0) must see a state
/// not older than it. One the store has not reached yet is waited for a
/// little, then refused with 504 Timeout: never answered with older data.
pub async fn fresh_enough(server: &Server, call: &Call) -> ApiResult<()> {
    let Some(wanted) = call.query.resource_version()?.filter(|rv| *rv > 0) else {
        return Ok(());
    };
    if server.store.revision() >= wanted {
        return Ok(());
    }
    let current = server.store.wait_for(wanted, FRESHNESS_WAIT).await;
    if current >= wanted {
        return Ok(());
    }
    Err(ApiError::too_large_resource_version(wanted, current))
}

/// Label and field selectors of a list or watch, checked.
pub struct Filter {
    labels: Option<Selector>,
    fields: Option<FieldSelector>,
}

impl Filter {
    pub fn from_query(info: &ResourceInfo, query: &Query) -> ApiResult<Filter> {
        let labels = query
            .get("labelSelector")
            .map(Selector::parse)
            .transpose()
            .map_err(|error| {
                ApiError::bad_request(format!("unable to parse requirement: {error}"))
            })?
            .filter(|selector| !selector.requirements().is_empty());
        let fields = query
            .get("fieldSelector")
            .map(|text| {
                let selector = FieldSelector::parse(text)?;
                selector.check(info)?;
                Ok(selector)
            })
            .transpose()
            .map_err(|error: objects::fields::FieldSelectorError| {
                ApiError::bad_request(error.to_string())
            })?
            .filter(|selector| !selector.is_empty());
        Ok(Filter { labels, fields })
    }

    pub fn is_everything(&self) -> bool {
        self.labels.is_none() && self.fields.is_none()
    }

    pub fn matches(&self, object: &Object) -> bool {
        self.labels
            .as_ref()
            .is_none_or(|labels| labels.matches(&object.metadata().labels))
            && self
                .fields
                .as_ref()
                .is_none_or(|fields| fields.matches(|field| object.field_value(field)))
    }
}

pub fn list(server: &Server, call: &Call) -> ApiResult<Response> {
    let info = call.target.info;
    let filter = Filter::from_query(info, &call.query)?;
    let (entries, revision) = server
        .store
        .list(&prefix(info, call.target.namespace.as_deref()));
    if call.wants_table {
        let objects: Vec<Object> = entries
            .iter()
            .map(|(_, entry)| from_entry(info, entry))
            .filter(|object| filter.matches(object))
            .collect();
        return table(info, &objects, &call.query, revision);
    }
    // The fast way: the stored JSON, with resourceVersions put back, joined
    // into the list's JSON without decoding, unless a selector must look in.
    let mut body = format!(
        "{{\"kind\":\"{}\",\"apiVersion\":\"{}\",\"metadata\":{{\"resourceVersion\":\"{revision}\"}},\"items\":[",
        info.list_kind(),
        info.api_version()
    )
    .into_bytes();
    let mut first = true;
    for (_, entry) in &entries {
        if !filter.is_everything() && !filter.matches(&from_entry(info, entry)) {
            continue;
        }
        if !first {
            body.push(b',');
        }
        first = false;
        body.extend(with_resource_version(&entry.value, entry.mod_revision));
    }
    body.extend_from_slice(b"]}");
    Ok(json(StatusCode::OK, body))
}

fn table(
    info: &ResourceInfo,
    objects: &[Object],
    query: &Query,
    revision: u64,
) -> ApiResult<Response> {
    let include = IncludeObject::parse(query.get("includeObject"));
    let mut table = to_table(info, objects, Time::now(), include);
    table.metadata.resource_version = Some(revision.to_string());
    Ok(json(
        StatusCode::OK,
        serde_json::to_vec(&table).expect("tables serialize"),
    ))
}

/// How the client wants unknown fields treated (`fieldValidation`):
/// refused (Strict), warned about (Warn, the default), or ignored.
pub fn unknown_field_warnings(query: &Query, unknown: &[String]) -> ApiResult<Vec<String>> {
    let warnings: Vec<String> = unknown
        .iter()
        .map(|field| format!("unknown field {field:?}"))
        .collect();
    match query.get("fieldValidation").unwrap_or("Warn") {
        "Ignore" => Ok(Vec::new()),
        "Warn" => Ok(warnings),
        "Strict" if warnings.is_empty() => Ok(warnings),
        "Strict" => Err(ApiError::bad_request(format!(
            "strict decoding error: {}",
            warnings.join(", ")
        ))),
        other => Err(ApiError::bad_request(format!(
            "fieldValidation: unsupported value {other:?}: supported values: \"Ignore\", \"Strict\", \"Warn\""
        ))),
    }
}

pub async fn create(server: &Server, call: &Call) -> ApiResult<Response> {
    let info = call.target.info;
    let namespace = call.target.namespace.as_deref();
    if info.namespaced && namespace.is_none() {
        return Err(ApiError::method_not_allowed());
    }
    let value = call.object_value()?;
    let decoded = decode_request(info, &value)?;
    let warnings = unknown_field_warnings(&call.query, &decoded.unknown_fields)?;
    let created = create_object(server, info, namespace, decoded.object, &call.query).await?;
    Ok(json_with_warnings(
        StatusCode::CREATED,
        serde_json::to_vec(&created).expect("objects serialize"),
        &warnings,
    ))
}

/// Creates `object` in `namespace`: the server's fields set, defaults,
/// validation, then a write that fails if the name is taken.
pub async fn create_object(
    server: &Server,
    info: &ResourceInfo,
    namespace: Option<&str>,
    mut object: Object,
    query: &Query,
) -> ApiResult<Object> {
    let meta = object.metadata_mut();
    if let (Some(given), Some(path)) = (
        meta.namespace.as_deref().filter(|ns| !ns.is_empty()),
        namespace,
    ) && given != path
    {
        return Err(ApiError::bad_request(
            "the namespace of the provided object does not match the namespace sent on the request",
        ));
    }
    meta.namespace = namespace.map(str::to_string);
    if meta.name.as_deref().is_none_or(str::is_empty) {
        match meta
            .generate_name
            .as_deref()
            .filter(|prefix| !prefix.is_empty())
        {
            Some(prefix) => meta.name = Some(generated_name(prefix)),
            None => {
                let errors = ErrorList(vec![FieldError::required(
                    &Path::new("metadata").child("name"),
                    "name or generateName is required",
                )]);
                return Err(ApiError::invalid(info, "", &errors));
            }
        }
    }
    let name = meta.name.clone().unwrap_or_default();
    if let Some(namespace) = namespace {
        lifecycle::check_namespace_open(server, namespace)?;
    }
    let meta = object.metadata_mut();
    meta.uid = Some(uuid::Uuid::new_v4().to_string());
    meta.creation_timestamp = Some(Time::now());
    meta.resource_version = None;
    meta.deletion_timestamp = None;
    meta.deletion_grace_period_seconds = None;
    let mut object = lifecycle::prepare_for_create(info, object)?;
    object.set_defaults();
    super::admission::admit_create(&mut object);
    let errors = object.validate();
    if !errors.is_empty() {
        return Err(ApiError::invalid(info, &name, &errors));
    }
    let key = key(info, namespace, &name);
    // A dry run checks that the Service's addresses could be had, and
    // gives them back when the claim drops.
    let claim = server.allocator.claim_create(&key, &mut object)?;
    if query.dry_run()? {
        return Ok(object);
    }
    let entry = server
        .store
        .put(&key, to_stored(&object), Precondition::Absent)
        .await
        .map_err(|error| ApiError::from_store(error, info, &name))?;
    claim.commit();
    object.metadata_mut().resource_version = Some(entry.mod_revision.to_string());
    Ok(object)
}

/// `generateName` plus five random characters, as Kubernetes picks them
/// (no vowels, no look-alikes, so that no word is spelled by accident).
/// A prefix longer than 58 characters is cut, as Kubernetes'
/// `SimpleNameGenerator` does, so that the name still fits a DNS label
/// (63): a pod's name becomes its hostname.
fn generated_name(prefix: &str) -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    const MAX_PREFIX: usize = 63 - 5;
    let prefix = match prefix.char_indices().nth(MAX_PREFIX) {
        Some((end, _)) => &prefix[..end],
        None => prefix,
    };
    let random = uuid::Uuid::new_v4();
    let suffix: String = random.as_bytes()[..5]
        .iter()
        .map(|byte| ALPHABET[*byte as usize % ALPHABET.len()] as char)
        .collect();
    format!("{prefix}{suffix}")
}

pub async fn update(server: &Server, call: &Call) -> ApiResult<Response> {
    let info = call.target.info;
    let value = call.object_value()?;
    let decoded = decode_request(info, &value)?;
    let warnings = unknown_field_warnings(&call.query, &decoded.unknown_fields)?;
    let updated = update_object(server, call, decoded.object, Part::Main).await?;
    Ok(json_with_warnings(
        StatusCode::OK,
        serde_json::to_vec(&updated).expect("objects serialize"),
        &warnings,
    ))
}

/// Which part of an object a write may change: the main resource (not the
/// status) or the status subresource (only the status).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Main,
    Status,
}

/// Replaces the object named by the call with `new`, checking that the
/// client saw the latest version (when it says which it saw).
pub async fn update_object(
    server: &Server,
    call: &Call,
    new: Object,
    part: Part,
) -> ApiResult<Object> {
    let info = call.target.info;
    let name = call.target.name.clone().unwrap_or_default();
    let (_, old_entry) = stored(server, call)?;
    let precondition =
        match new.metadata().resource_version.as_deref() {
            Some(version) => Precondition::Revision(version.parse().map_err(|_| {
                ApiError::bad_request(format!("invalid resource version {version:?}"))
            })?),
            None => Precondition::Revision(old_entry.mod_revision),
        };
    if let Precondition::Revision(seen) = precondition
        && seen != old_entry.mod_revision
    {
        return Err(ApiError::of(Status::conflict(info, &name)));
    }
    replace(server, info, call, &old_entry, new, part, precondition).await
}

/// The write of an update, given the stored object it replaces.
pub async fn replace(
    server: &Server,
    info: &ResourceInfo,
    call: &Call,
    old_entry: &Entry,
    new: Object,
    part: Part,
    precondition: Precondition,
) -> ApiResult<Object> {
    let namespace = call.target.namespace.as_deref();
    let name = call.target.name.clone().unwrap_or_default();
    let old = from_entry(info, old_entry);
    let given = new.metadata();
    if given.name.as_deref().is_some_and(|given| given != name) {
        return Err(ApiError::bad_request(format!(
            "the name of the object ({}) does not match the name on the URL ({name})",
            given.name.as_deref().unwrap_or_default()
        )));
    }
    if let (Some(given), Some(path)) = (
        given.namespace.as_deref().filter(|ns| !ns.is_empty()),
        namespace,
    ) && given != path
    {
        return Err(ApiError::bad_request(
            "the namespace of the provided object does not match the namespace sent on the request",
        ));
    }
    let mut new = merge_parts(info, &old, new, part)?;
    new.set_defaults();
    if let (Object::Service(new), Object::Service(old)) = (&mut new, &old) {
        allocation::patch_allocated_values(new, old);
        allocation::drop_type_dependent_fields(new, old);
    }
    // Each kind's update checks include its create checks: running both
    // would report every problem twice.
    let errors = validate_update(&new, &old);
    if !errors.is_empty() {
        return Err(ApiError::invalid(info, &name, &errors));
    }
    let key = key(info, namespace, &name);
    let claim = server.allocator.claim_update(&key, &mut new, &old)?;
    if call.query.dry_run()? {
        new.metadata_mut().resource_version = Some(old_entry.mod_revision.to_string());
        return Ok(new);
    }
    // An object waiting for its finalizers goes when the last one does (a
    // namespace, once empty: the reaper sees to it), unless it is a pod
    // still in its grace period: its agent (or the reaper) ends that, and
    // the agent's status writes meanwhile must not.
    if new.metadata().deletion_timestamp.is_some()
        && new.metadata().finalizers.is_empty()
        && new.metadata().deletion_grace_period_seconds.unwrap_or(0) == 0
        && info.kind != "Namespace"
    {
        let gone = server
            .store
            .delete(&key, precondition)
            .await
            .map_err(|error| ApiError::from_store(error, info, &name))?;
        drop(claim);
        server.allocator.release(&key, &old);
        new.metadata_mut().resource_version = Some(gone.mod_revision.to_string());
        return Ok(new);
    }
    let value = to_stored(&new);
    if value == *old_entry.value {
        // Nothing changed: no write, no new resourceVersion, no event.
        new.metadata_mut().resource_version = Some(old_entry.mod_revision.to_string());
        return Ok(new);
    }
    let entry = server
        .store
        .put(&key, value, precondition)
        .await
        .map_err(|error| ApiError::from_store(error, info, &name))?;
    claim.commit();
    new.metadata_mut().resource_version = Some(entry.mod_revision.to_string());
    Ok(new)
}

// ANCHOR: merge_parts
/// The object to store for an update of `part`: the server's own metadata
/// fields always come from the stored object; an update of the main
/// resource keeps the stored status, an update of the status keeps
/// everything else; the generation goes up when the spec changes.
fn merge_parts(info: &ResourceInfo, old: &Object, new: Object, part: Part) -> ApiResult<Object> {
    let old_value = old.to_value();
    let mut value = new.to_value();
    let has_status = info.subresources.contains(&"status");
    match part {
        Part::Main if has_status => copy_field(&old_value, &mut value, "status"),
        Part::Main => {}
        Part::Status => {
            let status = value.get("status").cloned();
            value = old_value.clone();
            match status {
                Some(status) => value["status"] = status,
                None => {
                    value.as_object_mut().map(|object| object.remove("status"));
                }
            }
        }
    }
    let meta = &mut value["metadata"];
    for field in [
        "uid",
        "creationTimestamp",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "namespace",
        "name",
    ] {
        match old_value["metadata"].get(field) {
            Some(kept) => meta[field] = kept.clone(),
            None => {
                meta.as_object_mut().map(|object| object.remove(field));
            }
        }
    }
    let old_generation = old.metadata().generation.unwrap_or(0);
    let generation = if old_value.get("spec") != value.get("spec") {
        old_generation + 1
    } else {
        old_generation
    };
    if generation > 0 {
        value["metadata"]["generation"] = json!(generation);
    }
    let mut merged = super::objects::decode(info, &value)
        .map_err(|error| ApiError::bad_request(error.to_string()))?
        .object;
    merged.metadata_mut().resource_version = None;
    Ok(merged)
}
// ANCHOR_END: merge_parts

fn copy_field(from: &Value, to: &mut Value, field: &str) {
    match from.get(field) {
        Some(kept) => to[field] = kept.clone(),
        None => {
            to.as_object_mut().map(|object| object.remove(field));
        }
    }
}

pub async fn patch(server: &Server, call: &Call) -> ApiResult<Response> {
    let (object, warnings) = patch::apply(server, call, Part::Main).await?;
    Ok(json_with_warnings(
        StatusCode::OK,
        serde_json::to_vec(&object).expect("objects serialize"),
        &warnings,
    ))
}

pub async fn delete(server: &Server, call: &Call) -> ApiResult<Response> {
    let info = call.target.info;
    let name = call.target.name.clone().unwrap_or_default();
    let options = lifecycle::DeleteOptions::read(&call.body, &call.query)?;
    match lifecycle::delete(
        server,
        info,
        call.target.namespace.as_deref(),
        &name,
        &options,
    )
    .await?
    {
        lifecycle::Deleted::Gone(object) => Ok(json(
            StatusCode::OK,
            serde_json::to_vec(&object).expect("objects serialize"),
        )),
        lifecycle::Deleted::Pending(object) => Ok(json(
            StatusCode::OK,
            serde_json::to_vec(&object).expect("objects serialize"),
        )),
    }
}

pub async fn delete_collection(server: &Server, call: &Call) -> ApiResult<Response> {
    let info = call.target.info;
    let filter = Filter::from_query(info, &call.query)?;
    let options = lifecycle::DeleteOptions::read(&call.body, &call.query)?;
    let (entries, _) = server
        .store
        .list(&prefix(info, call.target.namespace.as_deref()));
    let mut items = Vec::new();
    for (_, entry) in entries {
        let object = from_entry(info, &entry);
        if !filter.matches(&object) {
            continue;
        }
        let meta = object.metadata();
        let deleted = lifecycle::delete(
            server,
            info,
            meta.namespace.as_deref(),
            meta.name.as_deref().unwrap_or_default(),
            &options,
        )
        .await;
        match deleted {
            Ok(lifecycle::Deleted::Gone(object) | lifecycle::Deleted::Pending(object)) => {
                items.push(object)
            }
            // Gone meanwhile: that is what was asked.
            Err(ApiError(status)) if status.code == 404 => {}
            Err(error) => return Err(error),
        }
    }
    let list = json!({
        "kind": info.list_kind(),
        "apiVersion": info.api_version(),
        "metadata": {"resourceVersion": server.store.revision().to_string()},
        "items": items,
    });
    Ok(json(
        StatusCode::OK,
        serde_json::to_vec(&list).expect("lists serialize"),
    ))
}

#[cfg(test)]
mod tests {
    use super::generated_name;

    #[test]
    fn generated_names_add_five_characters_and_fit_a_label() {
        let name = generated_name("web-");
        assert_eq!(name.len(), 9);
        assert!(name.starts_with("web-"));
        assert!(
            name[4..]
                .bytes()
                .all(|b| b"bcdfghjklmnpqrstvwxz2456789".contains(&b))
        );
        let long = "a".repeat(70);
        let name = generated_name(&long);
        assert_eq!(name.len(), 63);
        assert!(name.starts_with(&"a".repeat(58)));
    }
}
