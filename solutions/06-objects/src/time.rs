//! Timestamps as Kubernetes writes them.
//!
//! `metav1.Time` is RFC 3339 in UTC with whole seconds
//! (`2024-05-01T12:00:00Z`); `metav1.MicroTime` (an event's `eventTime`)
//! keeps microseconds. Clients parse these strings strictly, so the
//! precision is part of the wire format, not a matter of taste.

use chrono::{DateTime, SecondsFormat, SubsecRound, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// A point in time with the precision of `metav1.Time`: whole seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Time(pub DateTime<Utc>);

impl Time {
    /// The current time, truncated to whole seconds, as the API server stamps it.
    pub fn now() -> Time {
        Time(Utc::now().trunc_subsecs(0))
    }

    /// Parses any RFC 3339 timestamp and converts it to UTC.
    pub fn parse(text: &str) -> Result<Time, chrono::ParseError> {
        let at = DateTime::parse_from_rfc3339(text)?;
        Ok(Time(at.with_timezone(&Utc).trunc_subsecs(0)))
    }
}

impl fmt::Display for Time {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.to_rfc3339_opts(SecondsFormat::Secs, true))
    }
}

impl From<DateTime<Utc>> for Time {
    fn from(at: DateTime<Utc>) -> Time {
        Time(at.trunc_subsecs(0))
    }
}

impl Serialize for Time {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Time {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Time, D::Error> {
        let text = String::deserialize(deserializer)?;
        Time::parse(&text).map_err(|e| {
            serde::de::Error::custom(format!("invalid RFC 3339 timestamp {text:?}: {e}"))
        })
    }
}

/// A point in time with microseconds, as `metav1.MicroTime` (events).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MicroTime(pub DateTime<Utc>);

impl MicroTime {
    /// The current time, truncated to microseconds.
    pub fn now() -> MicroTime {
        MicroTime(Utc::now().trunc_subsecs(6))
    }
}

impl fmt::Display for MicroTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.to_rfc3339_opts(SecondsFormat::Micros, true))
    }
}

impl Serialize for MicroTime {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for MicroTime {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<MicroTime, D::Error> {
        let text = String::deserialize(deserializer)?;
        let at = DateTime::parse_from_rfc3339(&text).map_err(|e| {
            serde::de::Error::custom(format!("invalid RFC 3339 timestamp {text:?}: {e}"))
        })?;
        Ok(MicroTime(at.with_timezone(&Utc).trunc_subsecs(6)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_utc_with_whole_seconds() {
        let t = Time::parse("2024-05-01T14:00:00.75+02:00").unwrap();
        assert_eq!(t.to_string(), "2024-05-01T12:00:00Z");
        assert_eq!(
            serde_json::to_string(&t).unwrap(),
            "\"2024-05-01T12:00:00Z\""
        );
    }

    #[test]
    fn micro_times_keep_microseconds() {
        let t: MicroTime = serde_json::from_str("\"2024-05-01T12:00:00.123456789Z\"").unwrap();
        assert_eq!(t.to_string(), "2024-05-01T12:00:00.123456Z");
    }

    #[test]
    fn a_bad_timestamp_is_an_error() {
        assert!(serde_json::from_str::<Time>("\"yesterday\"").is_err());
    }
}
