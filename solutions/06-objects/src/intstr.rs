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
        // exercise 4: the value as a count out of `total`: an Int as it is, a percentage scaled and rounded as asked
        // hint: IntOrString is either a plain number or a string like "25%". The doc comment says why maxSurge rounds up and maxUnavailable rounds down.
        // hint: A String must end in '%' and the rest must parse as an integer, else an error naming the text. Scale in i64 (percent × total) to avoid overflow, divide by 100 rounding up or down, and check that the result fits an i32.
        // hint: Int(n) → Ok(n). String(text): percent = text.strip_suffix('%').and_then(|d| d.parse::<i64>().ok()) or Err("invalid value for IntOrString: invalid type: string is not a percentage: {text:?}"); scaled = percent * total as i64; value = (scaled + 99).div_euclid(100) if round_up else scaled.div_euclid(100); i32::try_from(value) mapped to an error.
        let text = match self {
            IntOrString::Int(n) => return Ok(*n),
            IntOrString::String(text) => text,
        };
        let percent: i64 = text
            .strip_suffix('%')
            .and_then(|digits| digits.parse().ok())
            .ok_or_else(|| format!("invalid value for IntOrString: invalid type: string is not a percentage: {text:?}"))?;
        let scaled = percent * i64::from(total);
        let value = if round_up {
            (scaled + 99).div_euclid(100)
        } else {
            scaled.div_euclid(100)
        };
        i32::try_from(value).map_err(|_| format!("{text} of {total} is out of range"))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_strings_keep_their_json_type() {
        let values: Vec<IntOrString> = serde_json::from_str(r#"[8080, "http", "25%"]"#).unwrap();
        assert_eq!(values[0], IntOrString::Int(8080));
        assert_eq!(
            serde_json::to_string(&values).unwrap(),
            r#"[8080,"http","25%"]"#
        );
    }

    #[test]
    fn surge_rounds_up_and_unavailable_rounds_down() {
        let quarter = IntOrString::from("25%");
        assert_eq!(quarter.scaled_value(3, true), Ok(1));
        assert_eq!(quarter.scaled_value(3, false), Ok(0));
        assert_eq!(quarter.scaled_value(8, true), Ok(2));
        assert_eq!(IntOrString::Int(2).scaled_value(100, false), Ok(2));
        assert!(IntOrString::from("two").scaled_value(3, true).is_err());
    }
}
