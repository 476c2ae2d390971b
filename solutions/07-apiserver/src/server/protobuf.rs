//! The protobuf bodies kubectl's typed commands send (`kubectl create
//! namespace`, `kubectl create deployment`, `kubectl create service`,
//! `kubectl create configmap|secret`): Kubernetes' own clients encode
//! built-in kinds in protobuf and do not fall back to JSON. This reads the
//! envelope (`k8s\0` + runtime.Unknown) and the fields those commands set,
//! into the JSON the rest of the server reads. Answers are always JSON,
//! which the same clients accept.

use serde_json::{Map, Value, json};

/// The four bytes every Kubernetes protobuf body starts with.
const MAGIC: &[u8] = b"k8s\0";

pub const CONTENT_TYPE: &str = "application/vnd.kubernetes.protobuf";

/// What a field holds.
#[derive(Clone, Copy)]
enum Kind {
    Text,
    Int,
    Bool,
    /// A `metav1.Time`: seconds (1) and nanos (2), written as RFC 3339.
    Time,
    Message(&'static [Field]),
    /// `map<string, string>`: entries with key 1, value 2.
    Map,
    /// `map<string, bytes>`: the same, values written as base64 as JSON
    /// writes bytes.
    BytesMap,
    /// An `IntOrString`: type (1: 0 for a number, 1 for a name), the
    /// number (2) or the name (3), written as JSON's number or string.
    IntOrString,
}

/// One field of a message: its number, its JSON name, what it holds, and
/// whether it repeats.
#[derive(Clone, Copy)]
struct Field(u32, &'static str, Kind, bool);

const ONE: bool = false;
const MANY: bool = true;

const OBJECT_META: &[Field] = &[
    Field(1, "name", Kind::Text, ONE),
    Field(2, "generateName", Kind::Text, ONE),
    Field(3, "namespace", Kind::Text, ONE),
    Field(5, "uid", Kind::Text, ONE),
    Field(6, "resourceVersion", Kind::Text, ONE),
    Field(7, "generation", Kind::Int, ONE),
    Field(8, "creationTimestamp", Kind::Time, ONE),
    Field(11, "labels", Kind::Map, ONE),
    Field(12, "annotations", Kind::Map, ONE),
    Field(14, "finalizers", Kind::Text, MANY),
];

const NAMESPACE: &[Field] = &[
    Field(1, "metadata", Kind::Message(OBJECT_META), ONE),
    Field(
        2,
        "spec",
        Kind::Message(&[Field(1, "finalizers", Kind::Text, MANY)]),
        ONE,
    ),
];

const REQUIREMENT: &[Field] = &[
    Field(1, "key", Kind::Text, ONE),
    Field(2, "operator", Kind::Text, ONE),
    Field(3, "values", Kind::Text, MANY),
];

const LABEL_SELECTOR: &[Field] = &[
    Field(1, "matchLabels", Kind::Map, ONE),
    Field(2, "matchExpressions", Kind::Message(REQUIREMENT), MANY),
];

const CONTAINER_PORT: &[Field] = &[
    Field(1, "name", Kind::Text, ONE),
    Field(2, "hostPort", Kind::Int, ONE),
    Field(3, "containerPort", Kind::Int, ONE),
    Field(4, "protocol", Kind::Text, ONE),
];

const ENV_VAR: &[Field] = &[
    Field(1, "name", Kind::Text, ONE),
    Field(2, "value", Kind::Text, ONE),
];

const CONTAINER: &[Field] = &[
    Field(1, "name", Kind::Text, ONE),
    Field(2, "image", Kind::Text, ONE),
    Field(3, "command", Kind::Text, MANY),
    Field(4, "args", Kind::Text, MANY),
    Field(5, "workingDir", Kind::Text, ONE),
    Field(6, "ports", Kind::Message(CONTAINER_PORT), MANY),
    Field(7, "env", Kind::Message(ENV_VAR), MANY),
    Field(8, "resources", Kind::Message(&[]), ONE),
    Field(13, "terminationMessagePath", Kind::Text, ONE),
    Field(14, "imagePullPolicy", Kind::Text, ONE),
    Field(16, "stdin", Kind::Bool, ONE),
    Field(18, "tty", Kind::Bool, ONE),
    Field(20, "terminationMessagePolicy", Kind::Text, ONE),
];

const POD_SPEC: &[Field] = &[
    Field(2, "containers", Kind::Message(CONTAINER), MANY),
    Field(3, "restartPolicy", Kind::Text, ONE),
    Field(4, "terminationGracePeriodSeconds", Kind::Int, ONE),
    Field(6, "dnsPolicy", Kind::Text, ONE),
    Field(10, "nodeName", Kind::Text, ONE),
    Field(19, "schedulerName", Kind::Text, ONE),
    Field(20, "initContainers", Kind::Message(CONTAINER), MANY),
];

const POD_TEMPLATE: &[Field] = &[
    Field(1, "metadata", Kind::Message(OBJECT_META), ONE),
    Field(2, "spec", Kind::Message(POD_SPEC), ONE),
];

const DEPLOYMENT: &[Field] = &[
    Field(1, "metadata", Kind::Message(OBJECT_META), ONE),
    Field(
        2,
        "spec",
        Kind::Message(&[
            Field(1, "replicas", Kind::Int, ONE),
            Field(2, "selector", Kind::Message(LABEL_SELECTOR), ONE),
            Field(3, "template", Kind::Message(POD_TEMPLATE), ONE),
            Field(
                4,
                "strategy",
                Kind::Message(&[Field(1, "type", Kind::Text, ONE)]),
                ONE,
            ),
            Field(5, "minReadySeconds", Kind::Int, ONE),
            Field(6, "revisionHistoryLimit", Kind::Int, ONE),
            Field(9, "progressDeadlineSeconds", Kind::Int, ONE),
        ]),
        ONE,
    ),
];

const SERVICE_PORT: &[Field] = &[
    Field(1, "name", Kind::Text, ONE),
    Field(2, "protocol", Kind::Text, ONE),
    Field(3, "port", Kind::Int, ONE),
    Field(4, "targetPort", Kind::IntOrString, ONE),
    Field(5, "nodePort", Kind::Int, ONE),
    Field(6, "appProtocol", Kind::Text, ONE),
];

const SERVICE: &[Field] = &[
    Field(1, "metadata", Kind::Message(OBJECT_META), ONE),
    Field(
        2,
        "spec",
        Kind::Message(&[
            Field(1, "ports", Kind::Message(SERVICE_PORT), MANY),
            Field(2, "selector", Kind::Map, ONE),
            Field(3, "clusterIP", Kind::Text, ONE),
            Field(4, "type", Kind::Text, ONE),
            Field(5, "externalIPs", Kind::Text, MANY),
            Field(7, "sessionAffinity", Kind::Text, ONE),
            Field(10, "externalName", Kind::Text, ONE),
            Field(11, "externalTrafficPolicy", Kind::Text, ONE),
        ]),
        ONE,
    ),
];

const CONFIG_MAP: &[Field] = &[
    Field(1, "metadata", Kind::Message(OBJECT_META), ONE),
    Field(2, "data", Kind::Map, ONE),
    Field(3, "binaryData", Kind::BytesMap, ONE),
    Field(4, "immutable", Kind::Bool, ONE),
];

const SECRET: &[Field] = &[
    Field(1, "metadata", Kind::Message(OBJECT_META), ONE),
    Field(2, "data", Kind::BytesMap, ONE),
    Field(3, "type", Kind::Text, ONE),
    Field(4, "stringData", Kind::Map, ONE),
    Field(5, "immutable", Kind::Bool, ONE),
];

/// The schema of the kinds whose protobuf bodies are read.
fn schema(kind: &str) -> Option<&'static [Field]> {
    match kind {
        "Namespace" => Some(NAMESPACE),
        "Deployment" => Some(DEPLOYMENT),
        "Service" => Some(SERVICE),
        "ConfigMap" => Some(CONFIG_MAP),
        "Secret" => Some(SECRET),
        _ => None,
    }
}

/// The JSON of a protobuf body, or why it cannot be read.
pub fn to_json(body: &[u8]) -> Result<Value, String> {
    let envelope = body
        .strip_prefix(MAGIC)
        .ok_or("a protobuf body must start with k8s\\0")?;
    let (mut api_version, mut kind, mut raw) = (String::new(), String::new(), &[][..]);
    for (number, value) in fields(envelope)? {
        match (number, value) {
            (1, Wire::Bytes(type_meta)) => {
                for (number, value) in fields(type_meta)? {
                    if let Wire::Bytes(text) = value {
                        let text = String::from_utf8_lossy(text).into_owned();
                        match number {
                            1 => api_version = text,
                            2 => kind = text,
                            _ => {}
                        }
                    }
                }
            }
            (2, Wire::Bytes(bytes)) => raw = bytes,
            _ => {}
        }
    }
    let fields = schema(&kind).ok_or_else(|| {
        format!("{kind} bodies in protobuf are not supported: send JSON (application/json)")
    })?;
    let mut object = message(raw, fields)?;
    object.insert("apiVersion".into(), json!(api_version));
    object.insert("kind".into(), json!(kind));
    Ok(Value::Object(object))
}

fn message(bytes: &[u8], schema: &[Field]) -> Result<Map<String, Value>, String> {
    let mut object = Map::new();
    for (number, wire) in fields(bytes)? {
        // Fields this reader does not know are left out, as a client
        // that does not know them would.
        let Some(Field(_, name, kind, repeated)) = schema.iter().find(|field| field.0 == number)
        else {
            continue;
        };
        let value = match (kind, wire) {
            // Go writes its zero values to protobuf where its JSON would
            // leave them out: leave them out too, so that defaults apply.
            (Kind::Text, Wire::Bytes(text)) if text.is_empty() && !repeated => continue,
            (Kind::Text, Wire::Bytes(text)) => json!(String::from_utf8_lossy(text)),
            (Kind::Int, Wire::Varint(0)) if *name != "replicas" => continue,
            (Kind::Int, Wire::Varint(number)) => json!(number as i64),
            (Kind::Bool, Wire::Varint(number)) => json!(number != 0),
            (Kind::Message(inner), Wire::Bytes(bytes)) => Value::Object(message(bytes, inner)?),
            (Kind::IntOrString, Wire::Bytes(bytes)) => int_or_string(bytes)?,
            (Kind::Time, Wire::Bytes(bytes)) => match time(bytes)? {
                Some(time) => time,
                None => continue,
            },
            (Kind::BytesMap, Wire::Bytes(bytes)) => {
                let (mut key, mut value) = (String::new(), &[][..]);
                for (number, wire) in fields(bytes)? {
                    match (number, wire) {
                        (1, Wire::Bytes(text)) => key = String::from_utf8_lossy(text).into_owned(),
                        (2, Wire::Bytes(data)) => value = data,
                        _ => {}
                    }
                }
                let encoded = serde_json::to_value(objects::ByteString(value.to_vec()))
                    .expect("bytes serialize");
                let map = object.entry(name.to_string()).or_insert_with(|| json!({}));
                map[key] = encoded;
                continue;
            }
            (Kind::Map, Wire::Bytes(bytes)) => {
                let entry = message(
                    bytes,
                    &[
                        Field(1, "k", Kind::Text, ONE),
                        Field(2, "v", Kind::Text, ONE),
                    ],
                )?;
                let key = entry
                    .get("k")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string();
                let value = entry.get("v").cloned().unwrap_or(json!(""));
                let map = object.entry(name.to_string()).or_insert_with(|| json!({}));
                map[key] = value;
                continue;
            }
            _ => return Err(format!("field {name} has the wrong wire type")),
        };
        if *repeated {
            let list = object.entry(name.to_string()).or_insert_with(|| json!([]));
            list.as_array_mut().expect("made a list").push(value);
        } else {
            object.insert(name.to_string(), value);
        }
    }
    Ok(object)
}

fn int_or_string(bytes: &[u8]) -> Result<Value, String> {
    let (mut is_name, mut number, mut name) = (false, 0i64, String::new());
    for (field, wire) in fields(bytes)? {
        match (field, wire) {
            (1, Wire::Varint(kind)) => is_name = kind == 1,
            (2, Wire::Varint(value)) => number = value as i32 as i64,
            (3, Wire::Bytes(text)) => name = String::from_utf8_lossy(text).into_owned(),
            _ => {}
        }
    }
    Ok(if is_name { json!(name) } else { json!(number) })
}

/// A time, or `None` for Go's zero time (which JSON writes as null).
fn time(bytes: &[u8]) -> Result<Option<Value>, String> {
    let mut seconds = 0i64;
    for (number, wire) in fields(bytes)? {
        if let (1, Wire::Varint(value)) = (number, wire) {
            seconds = value as i64;
        }
    }
    if seconds <= 0 {
        return Ok(None);
    }
    let at = chrono::DateTime::from_timestamp(seconds, 0).ok_or("a time out of range")?;
    Ok(Some(json!(
        at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    )))
}

/// A field's value on the wire.
enum Wire<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
    Fixed,
}

// ANCHOR: fields
/// The fields of a message, in order: each is a key (field number << 3 |
/// wire type) followed by a varint, 8 bytes, a length-prefixed run of
/// bytes, or 4 bytes.
fn fields(mut bytes: &[u8]) -> Result<Vec<(u32, Wire<'_>)>, String> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        let key = varint(&mut bytes)?;
        let number = u32::try_from(key >> 3).map_err(|_| "a field number out of range")?;
        let wire = match key & 7 {
            0 => Wire::Varint(varint(&mut bytes)?),
            1 => take(&mut bytes, 8).map(|_| Wire::Fixed)?,
            2 => {
                let length = usize::try_from(varint(&mut bytes)?).map_err(|_| "too long")?;
                Wire::Bytes(take(&mut bytes, length)?)
            }
            5 => take(&mut bytes, 4).map(|_| Wire::Fixed)?,
            other => return Err(format!("unknown wire type {other}")),
        };
        out.push((number, wire));
    }
    Ok(out)
}
// ANCHOR_END: fields

fn varint(bytes: &mut &[u8]) -> Result<u64, String> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let (&byte, rest) = bytes.split_first().ok_or("a truncated varint")?;
        *bytes = rest;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err("a varint longer than 64 bits".into())
}

fn take<'a>(bytes: &mut &'a [u8], length: usize) -> Result<&'a [u8], String> {
    if bytes.len() < length {
        return Err("a truncated field".into());
    }
    let (taken, rest) = bytes.split_at(length);
    *bytes = rest;
    Ok(taken)
}
