//! Resource quantities: `128Mi`, `500m`, `2`.
//!
//! Kept as the user wrote them (Kubernetes canonicalises; we do not need
//! to), with conversions for the two consumers: memory limits in bytes and
//! CPU in millicores. YAML lets users write `cpu: 1` as a number, so a
//! number is accepted and kept as its decimal text.

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Quantity(pub String);

impl Quantity {
    /// The value in bytes (memory): binary (`Ki`, `Mi`, `Gi`, `Ti`) and
    /// decimal (`k`, `M`, `G`, `T`) suffixes; `None` if malformed.
    pub fn to_bytes(&self) -> Option<u64> {
        let text = self.0.trim();
        let suffixes: [(&str, u64); 8] = [
            ("Ki", 1 << 10),
            ("Mi", 1 << 20),
            ("Gi", 1 << 30),
            ("Ti", 1 << 40),
            ("k", 1_000),
            ("M", 1_000_000),
            ("G", 1_000_000_000),
            ("T", 1_000_000_000_000),
        ];
        for (suffix, factor) in suffixes {
            if let Some(number) = text.strip_suffix(suffix) {
                return number.parse::<u64>().ok()?.checked_mul(factor);
            }
        }
        text.parse().ok()
    }

    /// The value in thousandths (CPU): `500m` is 500, `2` is 2000, `0.5` is 500.
    pub fn to_millis(&self) -> Option<u64> {
        let text = self.0.trim();
        if let Some(millis) = text.strip_suffix('m') {
            return millis.parse().ok();
        }
        let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
        if fraction.len() > 3 || !fraction.chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
        let whole: u64 = if whole.is_empty() {
            0
        } else {
            whole.parse().ok()?
        };
        let fraction: u64 = format!("{fraction:0<3}").parse().ok()?;
        whole.checked_mul(1000)?.checked_add(fraction)
    }
}

impl From<&str> for Quantity {
    fn from(text: &str) -> Quantity {
        Quantity(text.to_string())
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for Quantity {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Quantity {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Quantity, D::Error> {
        deserializer.deserialize_any(QuantityVisitor)
    }
}

struct QuantityVisitor;

impl Visitor<'_> for QuantityVisitor {
    type Value = Quantity;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a quantity such as \"128Mi\", \"500m\" or 2")
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Quantity, E> {
        Ok(Quantity(v.to_string()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Quantity, E> {
        Ok(Quantity(v.to_string()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Quantity, E> {
        Ok(Quantity(v.to_string()))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Quantity, E> {
        Ok(Quantity(v.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_in_bytes() {
        assert_eq!(Quantity::from("128Mi").to_bytes(), Some(128 << 20));
        assert_eq!(Quantity::from("1G").to_bytes(), Some(1_000_000_000));
        assert_eq!(Quantity::from("4096").to_bytes(), Some(4096));
        assert_eq!(Quantity::from("lots").to_bytes(), None);
    }

    #[test]
    fn cpu_in_millicores() {
        assert_eq!(Quantity::from("500m").to_millis(), Some(500));
        assert_eq!(Quantity::from("2").to_millis(), Some(2000));
        assert_eq!(Quantity::from("0.25").to_millis(), Some(250));
        assert_eq!(Quantity::from(".5").to_millis(), Some(500));
    }

    #[test]
    fn numbers_become_text() {
        let q: Quantity = serde_json::from_str("1").unwrap();
        assert_eq!(serde_json::to_string(&q).unwrap(), "\"1\"");
    }
}
