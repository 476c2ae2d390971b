//! Patches on an object's JSON: JSON merge patch (RFC 7386) and
//! Kubernetes' strategic merge patch.
//!
//! A merge patch is a partial object: maps merge, `null` deletes, lists are
//! replaced whole. That is wrong for lists of named things: patching one
//! container's image would drop the others. A *strategic* merge patch knows,
//! per field, that `containers` is a list keyed by `name` (and `env` by
//! `name`, container `ports` by `containerPort`, service `ports` by `port`,
//! `conditions` by `type`...), and merges such lists item by item. This is
//! what `kubectl apply`, `kubectl scale` and `kubectl set image` send, and
//! what the Python client sends for a dict body. The merge keys are
//! knowledge about the types, which is why they live here.
//!
//! JSON Patch (RFC 6902, a list of operations) has no Kubernetes-specific
//! part; a general crate (`json-patch`) does it.

use serde_json::{Map, Value};

/// The key that identifies items of the list at `path` (field names from
/// the top, without indices), if the list merges item by item.
pub fn merge_key(path: &[&str]) -> Option<&'static str> {
    let field = *path.last()?;
    let in_container = path
        .iter()
        .any(|f| matches!(*f, "containers" | "initContainers"));
    match field {
        "containers" | "initContainers" | "env" | "volumes" | "imagePullSecrets" => Some("name"),
        "volumeMounts" => Some("mountPath"),
        "ports" if in_container => Some("containerPort"),
        "ports" if path.first() == Some(&"spec") => Some("port"),
        "conditions" => Some("type"),
        "ownerReferences" => Some("uid"),
        "addresses" if path.first() == Some(&"status") => Some("type"),
        _ => None,
    }
}

/// Lists of plain values that merge as sets (`finalizers`).
fn is_merged_set(path: &[&str]) -> bool {
    path == ["metadata", "finalizers"]
}

/// RFC 7386: `patch`'s maps merge into `target`, `null` removes a key,
/// anything else (lists included) replaces.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let target = target.as_object_mut().expect("made an object above");
    for (key, value) in patch {
        if value.is_null() {
            target.remove(key);
        } else {
            merge_patch(target.entry(key.clone()).or_insert(Value::Null), value);
        }
    }
}

/// A strategic merge patch: a merge patch, except that keyed lists merge
/// item by item (an item with `$patch: delete` removes the item, a list
/// holding `{"$patch": "replace"}` replaces the whole list, and so does a
/// map holding it), `finalizers`
/// merge as a set, `$deleteFromPrimitiveList/<field>` removes values, and
/// the ordering directives kubectl adds (`$setElementOrder/<field>`,
/// `$retainKeys`) are accepted and ignored.
pub fn strategic_merge_patch(target: &mut Value, patch: &Value) -> Result<(), String> {
    merge_at(target, patch, &mut Vec::new())
}

fn merge_at(target: &mut Value, patch: &Value, path: &mut Vec<String>) -> Result<(), String> {
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return Ok(());
    };
    // `{"$patch": "replace", ...}`: this map replaces the old one whole.
    if patch.get("$patch").and_then(Value::as_str) == Some("replace") {
        let mut replacement = patch.clone();
        replacement.remove("$patch");
        *target = Value::Object(replacement);
        return Ok(());
    }
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let target = target.as_object_mut().expect("made an object above");
    for (key, value) in patch {
        if key.starts_with("$setElementOrder/") || key == "$retainKeys" || key == "$patch" {
            continue;
        }
        if let Some(field) = key.strip_prefix("$deleteFromPrimitiveList/") {
            let remove = value.as_array().cloned().unwrap_or_default();
            if let Some(Value::Array(items)) = target.get_mut(field) {
                items.retain(|item| !remove.contains(item));
            }
            continue;
        }
        if value.is_null() {
            target.remove(key);
            continue;
        }
        path.push(key.clone());
        let fields: Vec<&str> = path.iter().map(String::as_str).collect();
        let slot = target.entry(key.clone()).or_insert(Value::Null);
        match (value, merge_key(&fields), is_merged_set(&fields)) {
            (Value::Array(items), Some(merge_key), _) => {
                merge_keyed_list(slot, items, merge_key, path)?
            }
            (Value::Array(items), None, true) => {
                let mut merged = slot.as_array().cloned().unwrap_or_default();
                for item in items {
                    if !merged.contains(item) {
                        merged.push(item.clone());
                    }
                }
                *slot = Value::Array(merged);
            }
            _ => merge_at(slot, value, path)?,
        }
        path.pop();
    }
    Ok(())
}

fn merge_keyed_list(
    target: &mut Value,
    patch: &[Value],
    merge_key: &str,
    path: &mut Vec<String>,
) -> Result<(), String> {
    let directive = |item: &Value| {
        item.get("$patch")
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    if patch
        .iter()
        .any(|item| directive(item).as_deref() == Some("replace"))
    {
        let kept = patch
            .iter()
            .filter(|item| directive(item).is_none())
            .cloned()
            .collect();
        *target = Value::Array(kept);
        return Ok(());
    }
    let mut items = target.as_array().cloned().unwrap_or_default();
    for item in patch {
        let Some(key) = item.get(merge_key) else {
            return Err(format!(
                "{}: map does not contain declared merge key: {merge_key}",
                path.join(".")
            ));
        };
        let position = items
            .iter()
            .position(|existing| existing.get(merge_key) == Some(key));
        match (directive(item).as_deref(), position) {
            (Some("delete"), Some(at)) => {
                items.remove(at);
            }
            (Some("delete"), None) => {}
            (Some(other), _) => return Err(format!("unknown patch directive {other:?}")),
            (None, Some(at)) => merge_at(&mut items[at], item, path)?,
            (None, None) => items.push(item.clone()),
        }
    }
    *target = Value::Array(items);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_patch_replaces_lists_and_deletes_nulls() {
        let mut target = json!({"a": {"b": 1, "c": 2}, "list": [1, 2]});
        merge_patch(&mut target, &json!({"a": {"b": null, "d": 3}, "list": [3]}));
        assert_eq!(target, json!({"a": {"c": 2, "d": 3}, "list": [3]}));
    }

    #[test]
    fn strategic_patches_merge_containers_by_name() {
        let mut pod = json!({"spec": {"containers": [
            {"name": "web", "image": "web:1", "ports": [{"containerPort": 80}]},
            {"name": "log", "image": "log:1"}
        ]}, "metadata": {"finalizers": ["a"]}});
        let patch = json!({
            "$setElementOrder/containers": [{"name": "web"}, {"name": "log"}],
            "spec": {"containers": [
                {"name": "web", "image": "web:2", "ports": [{"containerPort": 8080}]},
                {"name": "log", "$patch": "delete"},
                {"name": "new", "image": "new:1"}
            ]},
            "metadata": {"finalizers": ["b", "a"]}
        });
        strategic_merge_patch(&mut pod, &patch).unwrap();
        assert_eq!(
            pod,
            json!({"spec": {"containers": [
            {"name": "web", "image": "web:2", "ports": [{"containerPort": 80}, {"containerPort": 8080}]},
            {"name": "new", "image": "new:1"}
        ]}, "metadata": {"finalizers": ["a", "b"]}})
        );
    }

    #[test]
    fn unkeyed_lists_are_replaced_and_missing_keys_are_errors() {
        let mut pod = json!({"spec": {"tolerations": [{"key": "a"}], "containers": []}});
        strategic_merge_patch(&mut pod, &json!({"spec": {"tolerations": [{"key": "b"}]}})).unwrap();
        assert_eq!(pod["spec"]["tolerations"], json!([{"key": "b"}]));
        let error =
            strategic_merge_patch(&mut pod, &json!({"spec": {"containers": [{"image": "x"}]}}));
        assert_eq!(
            error.unwrap_err(),
            "spec.containers: map does not contain declared merge key: name"
        );
    }

    #[test]
    fn merge_keys_depend_on_where_the_list_is() {
        assert_eq!(
            merge_key(&["spec", "template", "spec", "containers", "ports"]),
            Some("containerPort")
        );
        assert_eq!(merge_key(&["spec", "ports"]), Some("port"));
        assert_eq!(merge_key(&["status", "conditions"]), Some("type"));
        assert_eq!(merge_key(&["spec", "tolerations"]), None);
    }
}
