//! Reading objects from text: manifest files (YAML with several documents,
//! or JSON) and request bodies.
//!
//! Two things make this more than `serde_yaml::from_str`. A mistake must be
//! easy to find, so errors carry the file, line, column and the field path
//! (`spec.template.spec.containers[0].ports[0].containerPort`, from
//! `serde_path_to_error`). And fields the types do not know are reported
//! instead of silently dropped (`serde_ignored`): a misspelt
//! `replica: 3` would otherwise give one replica without a word. The API
//! server decides whether such fields are warnings or errors, as
//! Kubernetes' `fieldValidation=Warn|Strict` does.

use crate::resource::{IntoObject, Object, find_kind};
use crate::{
    ConfigMap, Deployment, EndpointSlice, Endpoints, Event, Lease, Namespace, Node, Pod,
    ReplicaSet, Secret, Service,
};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use std::fmt;

/// An object and the fields of the input it did not know.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded<T> {
    pub object: T,
    /// Paths of unknown fields, `spec.foo`, in input order.
    pub unknown_fields: Vec<String>,
}

impl<T> Decoded<T> {
    /// Kubernetes' wording for each unknown field: `unknown field "spec.foo"`.
    pub fn warnings(&self) -> Vec<String> {
        self.unknown_fields
            .iter()
            .map(|f| format!("unknown field {f:?}"))
            .collect()
    }
}

/// Why a text is not an object of the expected shape, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    /// The field being read, empty at the top: `spec.replicas`.
    pub path: String,
    /// 1-based, when the format tells.
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let (Some(line), Some(column)) = (self.line, self.column) {
            write!(f, "line {line}, column {column}: ")?;
        }
        if !self.path.is_empty() {
            write!(f, "{}: ", self.path)?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for DecodeError {}

/// serde_json and serde_yaml end their messages with the position, which
/// the error reports separately.
fn without_position(message: String) -> String {
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_string(),
        None => message,
    }
}

/// `spec.containers[0].foo`, from serde_ignored's path.
fn ignored_path(path: &serde_ignored::Path) -> String {
    match path {
        serde_ignored::Path::Root => String::new(),
        serde_ignored::Path::Seq { parent, index } => format!("{}[{index}]", ignored_path(parent)),
        serde_ignored::Path::Map { parent, key } => {
            let parent = ignored_path(parent);
            if parent.is_empty() {
                key.clone()
            } else {
                format!("{parent}.{key}")
            }
        }
        serde_ignored::Path::Some { parent }
        | serde_ignored::Path::NewtypeStruct { parent }
        | serde_ignored::Path::NewtypeVariant { parent } => ignored_path(parent),
    }
}

// ANCHOR: decode_with
/// Deserializes with field paths and unknown-field tracking; `position`
/// reads line and column from the format's error.
fn decode_with<'de, T, D>(
    deserializer: D,
    position: impl Fn(&D::Error) -> (Option<usize>, Option<usize>),
) -> Result<Decoded<T>, DecodeError>
where
    T: Deserialize<'de>,
    D: serde::Deserializer<'de>,
{
    let mut unknown_fields = Vec::new();
    let mut record = |path: serde_ignored::Path| unknown_fields.push(ignored_path(&path));
    let tracked = serde_ignored::Deserializer::new(deserializer, &mut record);
    let result: Result<T, _> = serde_path_to_error::deserialize(tracked);
    match result {
        Ok(object) => Ok(Decoded {
            object,
            unknown_fields,
        }),
        Err(error) => {
            let mut path = error.path().to_string();
            if path == "." {
                path.clear();
            }
            let (line, column) = position(error.inner());
            let mut message = without_position(error.into_inner().to_string());
            // serde_yaml starts its messages with the path it knows of;
            // keep ours, which goes down to the field, unless we have none.
            if let Some((prefix, rest)) = message.split_once(": ")
                && !prefix.is_empty()
                && !prefix.contains(char::is_whitespace)
            {
                if path.is_empty() {
                    path = prefix.to_string();
                }
                message = rest.to_string();
            }
            Err(DecodeError {
                path,
                line,
                column,
                message,
            })
        }
    }
}
// ANCHOR_END: decode_with

/// One object from JSON text (a request body).
pub fn decode_json<T: DeserializeOwned>(text: &str) -> Result<Decoded<T>, DecodeError> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let decoded = decode_with(&mut deserializer, |e: &serde_json::Error| {
        (Some(e.line()), Some(e.column()))
    })?;
    deserializer.end().map_err(|e| DecodeError {
        path: String::new(),
        line: Some(e.line()),
        column: Some(e.column()),
        message: without_position(e.to_string()),
    })?;
    Ok(decoded)
}

/// One object from a YAML document.
pub fn decode_yaml<T: DeserializeOwned>(text: &str) -> Result<Decoded<T>, DecodeError> {
    decode_with(
        serde_yaml::Deserializer::from_str(text),
        |e: &serde_yaml::Error| {
            let location = e.location();
            (
                location.as_ref().map(|l| l.line()),
                location.as_ref().map(|l| l.column()),
            )
        },
    )
}

/// One object from a JSON value (a patched object); no positions.
pub fn decode_value<T: DeserializeOwned>(
    value: &serde_json::Value,
) -> Result<Decoded<T>, DecodeError> {
    decode_with(value, |_: &serde_json::Error| (None, None))
}

/// `apiVersion` and `kind`, read first to pick the type; `items` for lists.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct TypeMeta {
    #[serde(default)]
    api_version: Option<String>,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    items: Option<Vec<serde_json::Value>>,
}

/// A text format that typed objects can be decoded from.
trait Format {
    fn decode<T: DeserializeOwned>(&self) -> Result<Decoded<T>, DecodeError>;
}

struct Json<'a>(&'a str);
struct Yaml<'a>(&'a str);
struct JsonValue<'a>(&'a serde_json::Value);

impl Format for Json<'_> {
    fn decode<T: DeserializeOwned>(&self) -> Result<Decoded<T>, DecodeError> {
        decode_json(self.0)
    }
}

impl Format for Yaml<'_> {
    fn decode<T: DeserializeOwned>(&self) -> Result<Decoded<T>, DecodeError> {
        decode_yaml(self.0)
    }
}

impl Format for JsonValue<'_> {
    fn decode<T: DeserializeOwned>(&self) -> Result<Decoded<T>, DecodeError> {
        decode_value(self.0)
    }
}

fn wrap<T: IntoObject>(decoded: Decoded<T>) -> Decoded<Object> {
    Decoded {
        object: decoded.object.into_object(),
        unknown_fields: decoded.unknown_fields,
    }
}

fn top_level_error(message: String) -> DecodeError {
    DecodeError {
        path: String::new(),
        line: None,
        column: None,
        message,
    }
}

/// Decodes into the type that `apiVersion` and `kind` name.
fn decode_kind(format: &impl Format, type_meta: &TypeMeta) -> Result<Decoded<Object>, DecodeError> {
    let missing = |what: &str| top_level_error(format!("Object '{what}' is missing"));
    let api_version = type_meta
        .api_version
        .as_deref()
        .ok_or_else(|| missing("apiVersion"))?;
    let kind = type_meta.kind.as_deref().ok_or_else(|| missing("Kind"))?;
    let info = find_kind(api_version, kind).ok_or_else(|| {
        top_level_error(format!(
            "no matches for kind {kind:?} in version {api_version:?}"
        ))
    })?;
    match info.kind {
        "Namespace" => format.decode::<Namespace>().map(wrap),
        "Pod" => format.decode::<Pod>().map(wrap),
        "Node" => format.decode::<Node>().map(wrap),
        "Service" => format.decode::<Service>().map(wrap),
        "Endpoints" => format.decode::<Endpoints>().map(wrap),
        "Event" => format.decode::<Event>().map(wrap),
        "Deployment" => format.decode::<Deployment>().map(wrap),
        "ReplicaSet" => format.decode::<ReplicaSet>().map(wrap),
        "Lease" => format.decode::<Lease>().map(wrap),
        "EndpointSlice" => format.decode::<EndpointSlice>().map(wrap),
        "ConfigMap" => format.decode::<ConfigMap>().map(wrap),
        "Secret" => format.decode::<Secret>().map(wrap),
        other => Err(top_level_error(format!("{other} cannot be decoded"))),
    }
}

/// A document's objects: one object, or the items of a `List`
/// (`kubectl get -o yaml` writes several objects as `kind: List`).
fn decode_document(
    format: &impl Format,
    type_meta: TypeMeta,
) -> Result<Vec<Decoded<Object>>, DecodeError> {
    let is_list = type_meta
        .kind
        .as_deref()
        .is_some_and(|k| k.ends_with("List"));
    match type_meta.items {
        Some(items) if is_list => {
            let mut objects = Vec::new();
            for (i, item) in items.iter().enumerate() {
                let decoded = decode_object_value(item).map_err(|mut e| {
                    e.path = match e.path.as_str() {
                        "" => format!("items[{i}]"),
                        path => format!("items[{i}].{path}"),
                    };
                    e
                })?;
                objects.push(decoded);
            }
            Ok(objects)
        }
        _ => Ok(vec![decode_kind(format, &type_meta)?]),
    }
}

/// Any served kind from a JSON request body.
pub fn decode_object_json(text: &str) -> Result<Decoded<Object>, DecodeError> {
    let type_meta: TypeMeta = decode_json(text)?.object;
    decode_kind(&Json(text), &type_meta)
}

/// Any served kind from a JSON value.
pub fn decode_object_value(value: &serde_json::Value) -> Result<Decoded<Object>, DecodeError> {
    let type_meta: TypeMeta = decode_value(value)?.object;
    decode_kind(&JsonValue(value), &type_meta)
}

/// One YAML document of a file, and the line it starts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Document<'a> {
    pub text: &'a str,
    /// 1-based line of the document's first line in the file.
    pub first_line: usize,
}

/// Splits a YAML stream at its `---` lines.
///
/// A separator is a line that starts with `---` followed by nothing but
/// spaces or a comment. Documents holding only blank lines and comments (a
/// leading `---`, a trailing one, a commented-out object) are skipped.
/// Each document remembers its first line, so that an error inside it can
/// name the line in the whole file.
// ANCHOR: split_documents
pub fn split_documents(text: &str) -> Vec<Document<'_>> {
    // exercise 7: cut a YAML stream into its documents at `---` separator lines, each with its first line number
    // hint: Walk the text line by line, keeping where the current document started; `is_separator` and `is_blank_or_comment` (given) classify a line. Documents borrow from `text`, so slice it rather than copy.
    // hint: `text.split_inclusive('\n')` keeps each line's newline, so adding the line lengths gives byte offsets. At a separator, close the current document (from its start to the separator) and start the next one after the separator line. Close the last one at the end, then drop documents that have nothing but blank lines and comments.
    // hint: documents = vec![]; start = 0; first_line = 1; offset = 0; for (index, line) in text.split_inclusive('\n').enumerate(): if is_separator(line) { push Document { text: &text[start..offset], first_line }; start = offset + line.len(); first_line = index + 2 }; offset += line.len(). Then push &text[start..]; retain documents with a line that is not is_blank_or_comment.
    let mut documents = Vec::new();
    let mut start = 0;
    let mut first_line = 1;
    let mut offset = 0;
    for (index, line) in text.split_inclusive('\n').enumerate() {
        if is_separator(line) {
            documents.push(Document {
                text: &text[start..offset],
                first_line,
            });
            start = offset + line.len();
            first_line = index + 2;
        }
        offset += line.len();
    }
    documents.push(Document {
        text: &text[start..],
        first_line,
    });
    documents.retain(|d| d.text.lines().any(|l| !is_blank_or_comment(l)));
    documents
}
// ANCHOR_END: split_documents

fn is_separator(line: &str) -> bool {
    match line.strip_prefix("---") {
        Some(rest) => {
            rest.trim().is_empty()
                || rest.starts_with([' ', '\t']) && rest.trim_start().starts_with('#')
        }
        None => false,
    }
}

fn is_blank_or_comment(line: &str) -> bool {
    let line = line.trim();
    line.is_empty() || line.starts_with('#')
}

/// An object read from a manifest file.
#[derive(Debug, Clone, PartialEq)]
pub struct Manifest {
    pub object: Object,
    pub unknown_fields: Vec<String>,
    /// 1-based line where the object's document starts.
    pub line: usize,
}

/// A manifest file that cannot be read, with where and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}:{column}: {}{message}", if path.is_empty() { String::new() } else { format!("{path}: ") })]
pub struct ManifestError {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub path: String,
    pub message: String,
}

/// Reads every object of a manifest file: YAML documents separated by
/// `---`, or one JSON object (which may be a `List`). `file` names the file
/// in errors; lines count from the top of the file.
pub fn parse_manifests(file: &str, text: &str) -> Result<Vec<Manifest>, ManifestError> {
    let at = |document_line: usize, error: DecodeError| ManifestError {
        file: file.to_string(),
        line: document_line + error.line.unwrap_or(1) - 1,
        column: error.column.unwrap_or(1),
        path: error.path,
        message: error.message,
    };
    let mut manifests = Vec::new();
    if text.trim_start().starts_with(['{', '[']) {
        let type_meta: TypeMeta = decode_json(text).map_err(|e| at(1, e))?.object;
        for decoded in decode_document(&Json(text), type_meta).map_err(|e| at(1, e))? {
            manifests.push(Manifest {
                object: decoded.object,
                unknown_fields: decoded.unknown_fields,
                line: 1,
            });
        }
        return Ok(manifests);
    }
    for document in split_documents(text) {
        let line = document.first_line;
        let type_meta: TypeMeta = decode_yaml(document.text).map_err(|e| at(line, e))?.object;
        let decoded = decode_document(&Yaml(document.text), type_meta).map_err(|e| at(line, e))?;
        for decoded in decoded {
            manifests.push(Manifest {
                object: decoded.object,
                unknown_fields: decoded.unknown_fields,
                line,
            });
        }
    }
    Ok(manifests)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_keep_their_first_line() {
        let text = "---\na: 1\n---\n# only a comment\n---\nb: 2\n";
        let documents = split_documents(text);
        assert_eq!(
            documents,
            vec![
                Document {
                    text: "a: 1\n",
                    first_line: 2
                },
                Document {
                    text: "b: 2\n",
                    first_line: 6
                },
            ]
        );
    }

    #[test]
    fn unknown_fields_are_reported_with_their_path() {
        let text = r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a"},
            "spec":{"containers":[{"name":"c","image":"i","imagePolicy":"x"}],"foo":1}}"#;
        let decoded = decode_object_json(text).unwrap();
        assert_eq!(
            decoded.unknown_fields,
            vec!["spec.containers[0].imagePolicy", "spec.foo"]
        );
    }

    #[test]
    fn repeated_fields_are_errors_but_repeated_map_keys_keep_the_last() {
        let error = decode_yaml::<crate::Pod>("metadata: {name: a}\nmetadata: {name: b}\n");
        assert!(error.unwrap_err().message.contains("duplicate field"));
        let pod = decode_yaml::<crate::Pod>("metadata:\n  labels: {app: a, app: b}\n");
        assert_eq!(pod.unwrap().object.metadata.labels["app"], "b");
    }

    #[test]
    fn json_errors_have_a_position_and_a_path() {
        let text = "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\n \"spec\":{\"containers\":5}}";
        let error = decode_object_json(text).unwrap_err();
        assert_eq!(error.path, "spec.containers");
        assert_eq!(error.line, Some(2));
    }
}
