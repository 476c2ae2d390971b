//! The query parameters of a request, read as the Kubernetes API reads
//! them. Booleans follow Go's `strconv.ParseBool` (the Python client sends
//! `True`).

use std::collections::HashMap;

use super::errors::{ApiError, ApiResult};

#[derive(Debug, Default, Clone)]
pub struct Query(HashMap<String, String>);

impl Query {
    pub fn parse(raw: Option<&str>) -> ApiResult<Query> {
        let mut values = HashMap::new();
        for pair in raw.unwrap_or("").split('&').filter(|pair| !pair.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let decode = |text: &str| {
                let text = text.replace('+', " ");
                percent_decode(&text)
                    .ok_or_else(|| ApiError::bad_request(format!("bad query parameter {pair:?}")))
            };
            values.insert(decode(key)?, decode(value)?);
        }
        Ok(Query(values))
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .get(key)
            .map(String::as_str)
            .filter(|value| !value.is_empty())
    }

    // ANCHOR: flag
    /// A boolean parameter, as Go parses one: 1, t, T, TRUE, true, True
    /// and their false counterparts; absent is false.
    pub fn flag(&self, key: &str) -> ApiResult<bool> {
        match self.0.get(key).map(String::as_str) {
            None => Ok(false),
            Some("1" | "t" | "T" | "TRUE" | "true" | "True") => Ok(true),
            Some("0" | "f" | "F" | "FALSE" | "false" | "False") => Ok(false),
            Some(other) => Err(ApiError::bad_request(format!(
                "{key}: {other:?} is not a boolean"
            ))),
        }
    }
    // ANCHOR_END: flag

    /// A whole number parameter.
    pub fn number(&self, key: &str) -> ApiResult<Option<i64>> {
        self.get(key)
            .map(|text| {
                text.parse().map_err(|_| {
                    ApiError::bad_request(format!("{key}: {text:?} is not a whole number"))
                })
            })
            .transpose()
    }

    /// `resourceVersion`, which is a number here (clients must treat it as
    /// opaque, but they send back what they got).
    pub fn resource_version(&self) -> ApiResult<Option<u64>> {
        self.get("resourceVersion")
            .map(|text| {
                text.parse().map_err(|_| {
                    ApiError::bad_request(format!("invalid resource version {text:?}"))
                })
            })
            .transpose()
    }

    /// `dryRun=All`: do everything but store.
    pub fn dry_run(&self) -> ApiResult<bool> {
        match self.get("dryRun") {
            None => Ok(false),
            Some("All") => Ok(true),
            Some(other) => Err(ApiError::bad_request(format!(
                "dryRun: unsupported value {other:?}: supported values: \"All\""
            ))),
        }
    }
}

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_decoded_and_booleans_read_as_go_does() {
        let query = Query::parse(Some(
            "labelSelector=app%3Dweb%2Ctier+in+%28a%2Cb%29&watch=True&allowWatchBookmarks=1",
        ))
        .unwrap();
        assert_eq!(query.get("labelSelector"), Some("app=web,tier in (a,b)"));
        assert!(query.flag("watch").unwrap());
        assert!(query.flag("allowWatchBookmarks").unwrap());
        assert!(!query.flag("missing").unwrap());
        assert!(
            Query::parse(Some("watch=yes"))
                .unwrap()
                .flag("watch")
                .is_err()
        );
    }
}
