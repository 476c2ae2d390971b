// Generated from solutions/06-objects/src/intstr.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
//! Integer-or-string values: `maxSurge: 25%` or `maxSurge: 2`, a Service's
//! `targetPort: 8080` or `targetPort: http`.
//!
//! On the wire the value is a bare JSON number or a JSON string, never an
//! object, so the type has hand-written serde impls.

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// `intstr.IntOrString`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum IntOrString {
    Int(i32),
    String(String),
}

impl Default for IntOrString {
    fn default() -> IntOrString {
        IntOrString::Int(0)
    }
}

impl From<i32> for IntOrString {
    fn from(value: i32) -> IntOrString {
        IntOrString::Int(value)
    }
}

impl From<&str> for IntOrString {
    fn from(value: &str) -> IntOrString {
        IntOrString::String(value.to_string())
    }
}

impl fmt::Display for IntOrString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IntOrString::Int(n) => write!(f, "{n}"),
            IntOrString::String(s) => f.write_str(s),
        }
    }
}

impl IntOrString {
    /// Resolves an absolute number or a percentage of `total`.
    ///
    /// A rollout's `maxSurge` rounds up (25% of 3 pods allows one extra pod)
    /// and `maxUnavailable` rounds down (25% of 3 pods allows none to be
    /// missing), so that a small deployment still makes progress without
    /// ever dropping below what the user asked for. A string that is not a
    /// percentage (`"two"`, `"25"`) is an error.
    // ANCHOR: scaled_value
    pub fn scaled_value(&self, total: i32, round_up: bool) -> Result<i32, String> {
        todo!(
            "exercise 4: the value as a count out of `total`: an Int as it is, a percentage scaled and rounded as asked"
        )
    }
    // ANCHOR_END: scaled_value
}

impl Serialize for IntOrString {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            IntOrString::Int(n) => serializer.serialize_i32(*n),
            IntOrString::String(s) => serializer.serialize_str(s),
        }
    }
}

impl<'de> Deserialize<'de> for IntOrString {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<IntOrString, D::Error> {
        deserializer.deserialize_any(IntOrStringVisitor)
    }
}

struct IntOrStringVisitor;

impl Visitor<'_> for IntOrStringVisitor {
    type Value = IntOrString;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an integer or a string")
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<IntOrString, E> {
        i32::try_from(v)
            .map(IntOrString::Int)
            .map_err(|_| E::invalid_value(de::Unexpected::Signed(v), &"a 32-bit integer"))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<IntOrString, E> {
        i32::try_from(v)
            .map(IntOrString::Int)
            .map_err(|_| E::invalid_value(de::Unexpected::Unsigned(v), &"a 32-bit integer"))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<IntOrString, E> {
        Ok(IntOrString::String(v.to_string()))
    }
}
