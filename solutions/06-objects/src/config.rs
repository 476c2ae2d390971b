//! ConfigMaps and Secrets (`v1`): configuration kept apart from the pod
//! spec, so that one image runs in every environment. Pods read them as
//! environment variables or as files in a volume (chapter 08).
//!
//! A Secret is a ConfigMap whose values are bytes, not text: they travel as
//! base64 on the wire. Kubernetes does not encrypt them by default either;
//! what makes them secret is who may read them, and that the node agent
//! keeps them in memory (a tmpfs), never on disk.

use crate::meta::{ObjectMeta, StringMap};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::BTreeMap;

/// The type of Secret that holds arbitrary user data: the default.
pub const SECRET_TYPE_OPAQUE: &str = "Opaque";
/// The most a ConfigMap's or Secret's values may weigh together: objects
/// live in etcd, whose values are limited, and are sent to every watcher.
pub const MAX_SIZE: usize = 1024 * 1024;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfigMap {
    #[serde(default)]
    pub api_version: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub metadata: ObjectMeta,
    /// UTF-8 values.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub data: StringMap,
    /// Values that are not UTF-8, in base64 on the wire; a key is in
    /// `data` or here, never both.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub binary_data: BTreeMap<String, ByteString>,
    /// Once true, the values can no longer change (and it cannot be unset):
    /// the node agents then need not watch it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub immutable: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Secret {
    #[serde(default)]
    pub api_version: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub metadata: ObjectMeta,
    /// `Opaque` by default; says which keys the data holds
    /// (`kubernetes.io/tls` has `tls.crt` and `tls.key`).
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub secret_type: Option<String>,
    /// The values, base64 on the wire.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub data: BTreeMap<String, ByteString>,
    /// Write-only convenience: plain text values that the API server moves
    /// into `data` (over a key of the same name) before storing. Never
    /// stored, never returned.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub string_data: StringMap,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub immutable: Option<bool>,
}

impl Secret {
    /// The type, `Opaque` when unset.
    pub fn type_name(&self) -> &str {
        self.secret_type.as_deref().unwrap_or(SECRET_TYPE_OPAQUE)
    }
}

/// Bytes that are base64 text on the wire, as Kubernetes' `[]byte` fields.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ByteString(pub Vec<u8>);

impl Serialize for ByteString {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&STANDARD.encode(&self.0))
    }
}

impl<'de> Deserialize<'de> for ByteString {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        STANDARD
            .decode(text.as_bytes())
            .map(ByteString)
            .map_err(|error| serde::de::Error::custom(format!("illegal base64 data: {error}")))
    }
}

impl From<&str> for ByteString {
    fn from(text: &str) -> ByteString {
        ByteString(text.as_bytes().to_vec())
    }
}
