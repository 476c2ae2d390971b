// Generated from solutions/03-filesystem/src/image/name.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
use std::fmt;

use super::ImageError;

/// An image name as Kubernetes writes it (`busybox`, `k8s-mini/echo`,
/// `registry.example:5000/team/app:1.2`), split into repository and tag.
///
/// The name decides where the image lives in the store, so it is checked
/// before it comes near a path: a name like `../../etc` must never become
/// one.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ImageName {
    repository: String,
    tag: String,
}

/// The tag of a name that has none, as Docker and Kubernetes assume.
pub const DEFAULT_TAG: &str = "latest";

impl ImageName {
    // ANCHOR: parse
    /// Checks `name` and splits it. The tag follows the last `:` after the
    /// last `/` (a `:` before it belongs to a registry's port); without
    /// one, the tag is `latest`.
    pub fn parse(name: &str) -> Result<ImageName, ImageError> {
        todo!(
            "exercise 2: check an image name and split it into repository and tag (`latest` when none), or say what is wrong"
        )
    }
    // ANCHOR_END: parse

    pub fn repository(&self) -> &str {
        &self.repository
    }

    pub fn tag(&self) -> &str {
        &self.tag
    }

    // ANCHOR: dir_name
    /// The name of the image's directory in the store: one path component,
    /// reversible, made of `a-z 0-9 . _ -` and `%XX` escapes. It never
    /// holds `/` (so it stays one level down), nor `:` or `,` (which would
    /// break an overlayfs `lowerdir=` option), and it always holds the
    /// escaped `:` before the tag, so it is never `.` or `..`.
    pub fn dir_name(&self) -> String {
        let mut escaped = String::new();
        for byte in self.to_string().bytes() {
            match byte {
                b'a'..=b'z' | b'0'..=b'9' | b'.' | b'_' | b'-' => escaped.push(byte as char),
                other => escaped.push_str(&format!("%{other:02X}")),
            }
        }
        escaped
    }
    // ANCHOR_END: dir_name
}

impl fmt::Display for ImageName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.repository, self.tag)
    }
}

/// What can be wrong with an image name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadName {
    Empty,
    Character,
    Absolute,
    Tag,
    EmptyPart,
    DotPart,
    Part,
}

impl BadName {
    /// The error for `name`, saying what is wrong with it.
    pub fn of(self, name: &str) -> ImageError {
        ImageError::InvalidName {
            name: name.to_string(),
            reason: self.reason().to_string(),
        }
    }

    pub fn reason(self) -> &'static str {
        match self {
            BadName::Empty => "the name is empty",
            BadName::Character => "it contains a space, NUL or another control character",
            BadName::Absolute => "it is an absolute path, not an image name",
            BadName::Tag => {
                "the tag (after the last `:`) must be 1 to 128 letters, digits, `_`, `.` or `-`, not starting with `.` or `-`"
            }
            BadName::EmptyPart => "it has an empty part (`//`, or a `/` or `:` at an end)",
            BadName::DotPart => "`.` and `..` are not allowed as parts of a name",
            BadName::Part => {
                "each part must be lowercase letters, digits, `.`, `_` or `-`, starting with a letter or digit (and `:PORT` after a registry)"
            }
        }
    }
}

/// A tag as Docker allows it: `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`.
pub fn valid_tag(tag: &str) -> bool {
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-');
    (1..=128).contains(&tag.len()) && !tag.starts_with(['.', '-']) && tag.chars().all(allowed)
}

/// One part of a repository: lowercase letters, digits, `.`, `_`, `-`,
/// starting with a letter or digit (so no directory of the store starts
/// with a dot); a `:PORT` (digits) may follow, as in `localhost:5000/app`.
pub fn valid_part(part: &str) -> bool {
    let (base, port) = match part.split_once(':') {
        Some((base, port)) => (base, Some(port)),
        None => (part, None),
    };
    let base_ok = base.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && base
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'));
    let port_ok = port.is_none_or(|port| {
        !port.is_empty() && port.len() <= 5 && port.chars().all(|c| c.is_ascii_digit())
    });
    base_ok && port_ok
}
