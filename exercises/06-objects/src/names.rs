// Generated from solutions/06-objects/src/names.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
//! The name formats Kubernetes checks, with its messages.
//!
//! Names end up in DNS (a service is `web.default.svc`), in file paths and
//! in label values, so each kind picks the strictest format its names
//! travel through: most objects are DNS-1123 *subdomains* (`web.v2`),
//! namespaces and container names DNS-1123 *labels* (no dots), services
//! DNS-1035 labels (which also must start with a letter). Each check
//! returns every message that applies; an empty list means valid.

const LABEL_MAX: usize = 63;
const SUBDOMAIN_MAX: usize = 253;

const LABEL_MESSAGE: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric \
     characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  \
     or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";

const SUBDOMAIN_MESSAGE: &str = "a lowercase RFC 1123 subdomain must consist of lower case \
     alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character \
     (e.g. 'example.com', regex used for validation is \
     '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

const DNS1035_MESSAGE: &str = "a DNS-1035 label must consist of lower case alphanumeric \
     characters or '-', start with an alphabetic character, and end with an alphanumeric \
     character (e.g. 'my-name',  or 'abc-123', regex used for validation is \
     '[a-z]([-a-z0-9]*[a-z0-9])?')";

const QUALIFIED_NAME_MESSAGE: &str = "name part must consist of alphanumeric characters, '-', '_' \
     or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  \
     or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";

const LABEL_VALUE_MESSAGE: &str = "a valid label must be an empty string or consist of \
     alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric \
     character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is \
     '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

fn too_long(max: usize) -> String {
    format!("must be no more than {max} characters")
}

fn is_lower_alnum(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit()
}

/// `[a-z0-9]([-a-z0-9]*[a-z0-9])?`, without a length limit.
fn is_label_shaped(part: &str) -> bool {
    let (Some(first), Some(last)) = (part.chars().next(), part.chars().last()) else {
        return false;
    };
    is_lower_alnum(first)
        && is_lower_alnum(last)
        && part.chars().all(|c| is_lower_alnum(c) || c == '-')
}

/// A DNS-1123 label: at most 63 characters of `a-z`, `0-9` and `-`,
/// starting and ending with a letter or digit (`web-1`).
pub fn dns1123_label(value: &str) -> Vec<String> {
    let mut problems = Vec::new();
    if value.len() > LABEL_MAX {
        problems.push(too_long(LABEL_MAX));
    }
    if !is_label_shaped(value) {
        problems.push(LABEL_MESSAGE.to_string());
    }
    problems
}

/// A DNS-1123 subdomain: at most 253 characters; dot-separated parts, each
/// shaped like a DNS-1123 label (`web.v2`, `example.com`).
// ANCHOR: dns1123_subdomain
pub fn dns1123_subdomain(value: &str) -> Vec<String> {
    todo!(
        "exercise 2: what is wrong with `value` as a DNS-1123 subdomain: one message per problem, none when it is fine"
    )
}
// ANCHOR_END: dns1123_subdomain

/// A DNS-1035 label: a DNS-1123 label that starts with a letter (`web`,
/// not `1web`), so that a service name is never mistaken for an address.
pub fn dns1035_label(value: &str) -> Vec<String> {
    let mut problems = Vec::new();
    if value.len() > LABEL_MAX {
        problems.push(too_long(LABEL_MAX));
    }
    let starts_with_letter = value.starts_with(|c: char| c.is_ascii_lowercase());
    if !(starts_with_letter && is_label_shaped(value)) {
        problems.push(DNS1035_MESSAGE.to_string());
    }
    problems
}

fn is_alnum(c: char) -> bool {
    c.is_ascii_alphanumeric()
}

/// `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]`: label keys' names and label values.
fn is_qualified_shaped(value: &str) -> bool {
    let (Some(first), Some(last)) = (value.chars().next(), value.chars().last()) else {
        return false;
    };
    is_alnum(first)
        && is_alnum(last)
        && value
            .chars()
            .all(|c| is_alnum(c) || matches!(c, '-' | '_' | '.'))
}

/// A label or annotation key: an optional DNS-1123 subdomain prefix and a
/// slash (`app.kubernetes.io/`), then a name of at most 63 characters
/// (`name`). The prefix keeps tools from stepping on each other's keys.
pub fn qualified_name(value: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let (prefix, name) = match value.split_once('/') {
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, value),
    };
    if let Some(prefix) = prefix {
        if prefix.is_empty() {
            problems.push("prefix part must be non-empty".to_string());
        } else {
            for problem in dns1123_subdomain(prefix) {
                problems.push(format!("prefix part {problem}"));
            }
        }
    }
    if name.is_empty() {
        problems.push("name part must be non-empty".to_string());
    } else if name.len() > LABEL_MAX {
        problems.push(format!("name part {}", too_long(LABEL_MAX)));
    }
    if !name.is_empty() && !is_qualified_shaped(name) {
        problems.push(QUALIFIED_NAME_MESSAGE.to_string());
    }
    problems
}

/// A label value: empty, or at most 63 characters shaped like a qualified name.
pub fn label_value(value: &str) -> Vec<String> {
    let mut problems = Vec::new();
    if value.len() > LABEL_MAX {
        problems.push(too_long(LABEL_MAX));
    }
    if !value.is_empty() && !is_qualified_shaped(value) {
        problems.push(LABEL_VALUE_MESSAGE.to_string());
    }
    problems
}

/// An IANA service name, as a named port: at most 15 characters of `a-z`,
/// `0-9` and `-`, with a letter, no `--` and no hyphen at either end (`http`).
pub fn port_name(value: &str) -> Vec<String> {
    let mut problems = Vec::new();
    if value.len() > 15 {
        problems.push("must be no more than 15 characters".to_string());
    }
    if !value.chars().all(|c| is_lower_alnum(c) || c == '-') {
        problems
            .push("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)".into());
    }
    if value.contains("--") {
        problems.push("must not contain consecutive hyphens".to_string());
    }
    if !value.chars().any(|c| c.is_ascii_lowercase()) {
        problems.push("must contain at least one letter (a-z)".to_string());
    }
    if value.starts_with('-') || value.ends_with('-') {
        problems.push("must not begin or end with a hyphen".to_string());
    }
    problems
}

/// An environment variable's name, as Kubernetes allows them (more than a
/// shell does: dots and dashes are fine, a leading digit is not).
pub fn env_var_name(value: &str) -> Vec<String> {
    let valid = !value.is_empty()
        && !value.starts_with(|c: char| c.is_ascii_digit())
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if valid {
        Vec::new()
    } else {
        vec![
            "a valid environment variable name must consist of alphabetic characters, digits, \
             '_', '-', or '.', and must not start with a digit (e.g. 'my.env-name',  or \
             'MY_ENV.NAME',  or 'MyEnvName1', regex used for validation is \
             '[-._a-zA-Z][-._a-zA-Z0-9]*')"
                .to_string(),
        ]
    }
}

/// A ConfigMap's or Secret's key: it becomes a file name in a volume, so
/// no slash, and not `.` or `..` or anything starting with `..` (the
/// volume's own `..data` entries).
pub fn config_key(value: &str) -> Vec<String> {
    let mut problems = Vec::new();
    if value.len() > SUBDOMAIN_MAX {
        problems.push(too_long(SUBDOMAIN_MAX));
    }
    let valid = !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'));
    if !valid {
        problems.push(
            "a valid config key must consist of alphanumeric characters, '-', '_' or '.' \
             (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is \
             '[-._a-zA-Z0-9]+')"
                .to_string(),
        );
    }
    match value {
        "." => problems.push("must not be '.'".to_string()),
        ".." => problems.push("must not be '..'".to_string()),
        _ if value.starts_with("..") => problems.push("must not start with '..'".to_string()),
        _ => {}
    }
    problems
}
