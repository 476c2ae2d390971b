// Generated from solutions/06-objects/src/field.rs by `cargo workshop gen`: fill in the todo!()s, leave the rest as it is.
//! Field paths and field errors, as Kubernetes reports validation problems:
//! `spec.containers[0].image: Required value`.
//!
//! Validation collects every problem into an [`ErrorList`] instead of
//! stopping at the first, so that one `kubectl apply` shows the user all
//! there is to fix. The API server turns the list into a 422 Status whose
//! `details.causes` carry each error's reason, message and field.

use std::fmt;

/// Where in an object a value sits: `spec.template.spec.containers[0].ports[1]`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Path(String);

impl Path {
    /// A path starting at a top-level field (`metadata`, `spec`).
    pub fn new(field: &str) -> Path {
        Path(field.to_string())
    }

    /// `spec` -> `spec.containers`.
    pub fn child(&self, field: &str) -> Path {
        if self.0.is_empty() {
            Path::new(field)
        } else {
            Path(format!("{}.{field}", self.0))
        }
    }

    /// `spec.containers` -> `spec.containers[0]`.
    pub fn index(&self, index: usize) -> Path {
        Path(format!("{}[{index}]", self.0))
    }

    /// `metadata.labels` -> `metadata.labels[app]`: map keys are not quoted.
    pub fn key(&self, key: &str) -> Path {
        Path(format!("{}[{key}]", self.0))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The kinds of problem, each with the `reason` the API reports for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorType {
    /// A required field is missing or empty.
    Required,
    /// The value is malformed or out of range.
    Invalid,
    /// The value is not one of a fixed set.
    NotSupported,
    /// The value repeats another one that must be unique.
    Duplicate,
    /// The field may not be set (or changed) here.
    Forbidden,
    /// A reference to something that does not exist (a volume mount's volume).
    NotFound,
    /// The value is longer than allowed.
    TooLong,
    /// A list has more items than allowed (the value is its length).
    TooMany,
}

impl ErrorType {
    /// The `reason` of a Status cause: `FieldValueRequired`...
    pub fn reason(self) -> &'static str {
        match self {
            ErrorType::Required => "FieldValueRequired",
            ErrorType::Invalid => "FieldValueInvalid",
            ErrorType::NotSupported => "FieldValueNotSupported",
            ErrorType::Duplicate => "FieldValueDuplicate",
            ErrorType::Forbidden => "FieldValueForbidden",
            ErrorType::NotFound => "FieldValueNotFound",
            ErrorType::TooLong => "FieldValueTooLong",
            ErrorType::TooMany => "FieldValueTooMany",
        }
    }

    /// How a message names it: `Required value`, `Invalid value`...
    pub fn label(self) -> &'static str {
        match self {
            ErrorType::Required => "Required value",
            ErrorType::Invalid => "Invalid value",
            ErrorType::NotSupported => "Unsupported value",
            ErrorType::Duplicate => "Duplicate value",
            ErrorType::Forbidden => "Forbidden",
            ErrorType::NotFound => "Not found",
            ErrorType::TooLong => "Too long",
            ErrorType::TooMany => "Too many",
        }
    }

    /// Whether the message repeats the bad value after the label. A
    /// missing value has nothing to show; a forbidden or too long one is
    /// not worth echoing.
    pub fn shows_value(self) -> bool {
        !matches!(
            self,
            ErrorType::Required | ErrorType::Forbidden | ErrorType::TooLong
        )
    }
}

/// One problem at one field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub error_type: ErrorType,
    /// The field path, as text: `spec.containers[0].image`.
    pub field: String,
    /// The bad value, rendered as Kubernetes quotes it: strings in double
    /// quotes (`"Web"`), numbers bare (`0`). Empty when there is none.
    pub value: String,
    /// Why, or what would be valid; may be empty.
    pub detail: String,
}

impl FieldError {
    fn new(error_type: ErrorType, path: &Path, value: String, detail: String) -> FieldError {
        FieldError {
            error_type,
            field: path.to_string(),
            value,
            detail,
        }
    }

    pub fn required(path: &Path, detail: &str) -> FieldError {
        FieldError::new(ErrorType::Required, path, String::new(), detail.into())
    }

    pub fn invalid(path: &Path, value: impl Quoted, detail: &str) -> FieldError {
        FieldError::new(ErrorType::Invalid, path, value.quoted(), detail.into())
    }

    /// `supported` is listed sorted, quoted, after `supported values:`.
    pub fn not_supported(path: &Path, value: impl Quoted, supported: &[&str]) -> FieldError {
        let mut sorted = supported.to_vec();
        sorted.sort_unstable();
        let list: Vec<String> = sorted.iter().map(|s| format!("{s:?}")).collect();
        let detail = format!("supported values: {}", list.join(", "));
        FieldError::new(ErrorType::NotSupported, path, value.quoted(), detail)
    }

    pub fn duplicate(path: &Path, value: impl Quoted) -> FieldError {
        FieldError::new(ErrorType::Duplicate, path, value.quoted(), String::new())
    }

    pub fn forbidden(path: &Path, detail: &str) -> FieldError {
        FieldError::new(ErrorType::Forbidden, path, String::new(), detail.into())
    }

    /// A list of `actual` items where at most `max` are allowed:
    /// `Too many: 1001: must have at most 1000 items`.
    pub fn too_many(path: &Path, actual: usize, max: usize) -> FieldError {
        let detail = format!("must have at most {max} items");
        FieldError::new(ErrorType::TooMany, path, actual.to_string(), detail)
    }

    pub fn not_found(path: &Path, value: impl Quoted) -> FieldError {
        FieldError::new(ErrorType::NotFound, path, value.quoted(), String::new())
    }

    /// The message without the field: what a Status cause's `message` holds.
    ///
    /// The label, then the value (for the types that show it), then the
    /// detail (when there is one), joined by `": "`:
    /// `Invalid value: "Web": a lowercase RFC 1123 subdomain must ...`,
    /// `Required value`, `Forbidden: field is immutable`.
    // ANCHOR: body
    pub fn body(&self) -> String {
        todo!(
            "exercise 1: the error's message without its field, as a Status cause's `message` holds it"
        )
    }
    // ANCHOR_END: body
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.body())
    }
}

impl std::error::Error for FieldError {}

/// Values as a validation message quotes them.
pub trait Quoted {
    fn quoted(&self) -> String;
}

impl Quoted for &str {
    fn quoted(&self) -> String {
        format!("{self:?}")
    }
}

impl Quoted for &String {
    fn quoted(&self) -> String {
        format!("{self:?}")
    }
}

impl Quoted for String {
    fn quoted(&self) -> String {
        format!("{self:?}")
    }
}

impl Quoted for i32 {
    fn quoted(&self) -> String {
        self.to_string()
    }
}

impl Quoted for i64 {
    fn quoted(&self) -> String {
        self.to_string()
    }
}

/// Structured values (a selector, a label map) are shown as compact JSON.
impl Quoted for &serde_json::Value {
    fn quoted(&self) -> String {
        self.to_string()
    }
}

/// Every problem found in one object, in the order found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ErrorList(pub Vec<FieldError>);

impl ErrorList {
    pub fn new() -> ErrorList {
        ErrorList(Vec::new())
    }

    pub fn push(&mut self, error: FieldError) {
        self.0.push(error);
    }

    pub fn extend(&mut self, other: ErrorList) {
        self.0.extend(other.0);
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn iter(&self) -> std::slice::Iter<'_, FieldError> {
        self.0.iter()
    }

    /// `Ok(())` when there is nothing to report.
    pub fn into_result(self) -> Result<(), ErrorList> {
        if self.is_empty() { Ok(()) } else { Err(self) }
    }

    /// All errors in one line, bracketed when there are several, as an
    /// Invalid Status' message shows them.
    pub fn aggregate(&self) -> String {
        let all: Vec<String> = self.0.iter().map(FieldError::to_string).collect();
        match all.len() {
            1 => all[0].clone(),
            _ => format!("[{}]", all.join(", ")),
        }
    }
}

impl fmt::Display for ErrorList {
    /// One error per line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for error in &self.0 {
            writeln!(f, "{error}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ErrorList {}

impl IntoIterator for ErrorList {
    type Item = FieldError;
    type IntoIter = std::vec::IntoIter<FieldError>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}
