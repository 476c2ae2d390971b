//! Label selectors: how objects find each other.
//!
//! A ReplicaSet does not list its pods; it owns whatever pods match its
//! selector. A Service does not list its backends; the endpoints are the
//! ready pods its selector matches. The same selector comes in two forms:
//! a string on the command line and in `?labelSelector=` (`app=web,tier in
//! (fe,be),!canary`) and an object in specs (`matchLabels` and
//! `matchExpressions`). Both become a [`Selector`]: requirements that must
//! all hold.

use crate::meta::{LabelSelector, StringMap};
use crate::names;
use std::collections::BTreeSet;
use std::fmt;

/// How a requirement compares a label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator {
    /// `key=value` or `key==value`.
    Equals,
    /// `key!=value`: also true when the key is absent.
    NotEquals,
    /// `key in (a,b)`.
    In,
    /// `key notin (a,b)`: also true when the key is absent.
    NotIn,
    /// `key`.
    Exists,
    /// `!key`.
    DoesNotExist,
}

/// One condition on one label key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    pub key: String,
    pub operator: Operator,
    /// One value for `=`/`!=`, one or more for `in`/`notin`, none otherwise.
    pub values: BTreeSet<String>,
}

impl Requirement {
    pub fn new(key: &str, operator: Operator, values: &[&str]) -> Requirement {
        Requirement {
            key: key.to_string(),
            operator,
            values: values.iter().map(|v| v.to_string()).collect(),
        }
    }

    /// Whether an object with these labels satisfies the requirement.
    ///
    /// The negative operators (`!=`, `notin`, `!key`) hold for objects that
    /// lack the key altogether: `env!=prod` selects pods with no `env` label.
    // ANCHOR: matches
    pub fn matches(&self, labels: &StringMap) -> bool {
        // exercise 5: whether an object with these `labels` satisfies this requirement
        // hint: Look the key up once, then one `match` on the operator. Read the doc comment on the negative operators twice.
        // hint: Equals and In need the key present with one of `self.values`; NotEquals and NotIn hold when the key is absent or its value is not among them; Exists and DoesNotExist test presence only.
        // hint: let value = labels.get(&self.key); Equals | In → value.is_some_and(|v| self.values.contains(v)); NotEquals | NotIn → the negation of that; Exists → value.is_some(); DoesNotExist → value.is_none().
        let value = labels.get(&self.key);
        match self.operator {
            Operator::Equals | Operator::In => value.is_some_and(|v| self.values.contains(v)),
            Operator::NotEquals | Operator::NotIn => {
                !value.is_some_and(|v| self.values.contains(v))
            }
            Operator::Exists => value.is_some(),
            Operator::DoesNotExist => value.is_none(),
        }
    }
    // ANCHOR_END: matches
}

impl fmt::Display for Requirement {
    /// The string form, as `kubectl` and a Scale's `status.selector` write it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let values: Vec<&str> = self.values.iter().map(String::as_str).collect();
        let first = values.first().copied().unwrap_or("");
        match self.operator {
            Operator::Equals => write!(f, "{}={first}", self.key),
            Operator::NotEquals => write!(f, "{}!={first}", self.key),
            Operator::In => write!(f, "{} in ({})", self.key, values.join(",")),
            Operator::NotIn => write!(f, "{} notin ({})", self.key, values.join(",")),
            Operator::Exists => write!(f, "{}", self.key),
            Operator::DoesNotExist => write!(f, "!{}", self.key),
        }
    }
}

/// Requirements that must all hold. No requirements selects everything;
/// [`Selector::nothing`] selects nothing (a Service without a selector).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Selector {
    requirements: Vec<Requirement>,
    nothing: bool,
}

impl Selector {
    /// Selects every object.
    pub fn everything() -> Selector {
        Selector::default()
    }

    /// Selects no object.
    pub fn nothing() -> Selector {
        Selector {
            requirements: Vec::new(),
            nothing: true,
        }
    }

    /// Builds a selector from requirements, sorted by key as Kubernetes keeps them.
    pub fn new(mut requirements: Vec<Requirement>) -> Selector {
        requirements.sort_by(|a, b| a.key.cmp(&b.key));
        Selector {
            requirements,
            nothing: false,
        }
    }

    /// `key=value` for every entry: a Service's `spec.selector`.
    pub fn from_map(labels: &StringMap) -> Selector {
        let requirements = labels
            .iter()
            .map(|(k, v)| Requirement::new(k, Operator::Equals, &[v]))
            .collect();
        Selector::new(requirements)
    }

    /// A spec's `LabelSelector`; an empty one selects everything.
    pub fn from_label_selector(selector: &LabelSelector) -> Result<Selector, SelectorError> {
        let mut requirements: Vec<Requirement> = selector
            .match_labels
            .iter()
            .map(|(k, v)| Requirement::new(k, Operator::Equals, &[v]))
            .collect();
        for expression in &selector.match_expressions {
            let operator = match expression.operator.as_str() {
                "In" => Operator::In,
                "NotIn" => Operator::NotIn,
                "Exists" => Operator::Exists,
                "DoesNotExist" => Operator::DoesNotExist,
                other => {
                    return Err(SelectorError::new(
                        0,
                        format!("{other:?} is not a valid label selector operator"),
                    ));
                }
            };
            let values: Vec<&str> = expression.values.iter().map(String::as_str).collect();
            let needs_values = matches!(operator, Operator::In | Operator::NotIn);
            if needs_values && values.is_empty() {
                let message = "for 'in', 'notin' operators, values set can't be empty";
                return Err(SelectorError::new(0, message.into()));
            }
            if !needs_values && !values.is_empty() {
                let message = "values set must be empty for exists and does not exist";
                return Err(SelectorError::new(0, message.into()));
            }
            requirements.push(Requirement::new(&expression.key, operator, &values));
        }
        for requirement in &requirements {
            check_requirement(requirement, 0)?;
        }
        Ok(Selector::new(requirements))
    }

    /// Parses the string form: `app=web,tier in (fe,be),!canary`.
    pub fn parse(text: &str) -> Result<Selector, SelectorError> {
        let mut parser = Parser {
            tokens: lex(text)?,
            next: 0,
        };
        let mut requirements = Vec::new();
        if parser.peek().kind == TokenKind::End {
            return Ok(Selector::everything());
        }
        loop {
            let requirement = parser.requirement()?;
            check_requirement(&requirement, parser.position())?;
            requirements.push(requirement);
            let token = parser.take();
            match token.kind {
                TokenKind::End => break,
                TokenKind::Comma => continue,
                _ => return Err(token.unexpected("',' or the end")),
            }
        }
        Ok(Selector::new(requirements))
    }

    /// Whether the object with these labels is selected.
    pub fn matches(&self, labels: &StringMap) -> bool {
        !self.nothing && self.requirements.iter().all(|r| r.matches(labels))
    }

    pub fn requirements(&self) -> &[Requirement] {
        &self.requirements
    }

    pub fn is_everything(&self) -> bool {
        !self.nothing && self.requirements.is_empty()
    }
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self
            .requirements
            .iter()
            .map(Requirement::to_string)
            .collect();
        f.write_str(&parts.join(","))
    }
}

/// Keys must be qualified names and values label values, as in objects.
fn check_requirement(requirement: &Requirement, at: usize) -> Result<(), SelectorError> {
    if let Some(problem) = names::qualified_name(&requirement.key).first() {
        return Err(SelectorError::new(
            at,
            format!("invalid label key {:?}: {problem}", requirement.key),
        ));
    }
    for value in &requirement.values {
        if let Some(problem) = names::label_value(value).first() {
            return Err(SelectorError::new(
                at,
                format!("invalid label value {value:?}: {problem}"),
            ));
        }
    }
    Ok(())
}

/// What is wrong with a selector, and where (a byte offset into the string).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unable to parse label selector at position {position}: {message}")]
pub struct SelectorError {
    pub position: usize,
    pub message: String,
}

impl SelectorError {
    fn new(position: usize, message: String) -> SelectorError {
        SelectorError { position, message }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum TokenKind {
    /// A key or a value: anything up to a space or an operator character.
    Identifier(String),
    Bang,
    Equals,
    DoubleEquals,
    NotEquals,
    In,
    NotIn,
    OpenParen,
    CloseParen,
    Comma,
    End,
}

#[derive(Debug, Clone)]
struct Token {
    kind: TokenKind,
    position: usize,
}

impl Token {
    fn unexpected(&self, expected: &str) -> SelectorError {
        let found = match &self.kind {
            TokenKind::Identifier(word) => format!("{word:?}"),
            TokenKind::Bang => "'!'".into(),
            TokenKind::Equals => "'='".into(),
            TokenKind::DoubleEquals => "'=='".into(),
            TokenKind::NotEquals => "'!='".into(),
            TokenKind::In => "'in'".into(),
            TokenKind::NotIn => "'notin'".into(),
            TokenKind::OpenParen => "'('".into(),
            TokenKind::CloseParen => "')'".into(),
            TokenKind::Comma => "','".into(),
            TokenKind::End => "the end".into(),
        };
        SelectorError::new(self.position, format!("found {found}, expected {expected}"))
    }
}

/// Splits a selector into tokens. `in` and `notin` are words only where a
/// word stands alone; `>` and `<` (which Kubernetes accepts for numeric
/// values) are not supported and say so.
fn lex(text: &str) -> Result<Vec<Token>, SelectorError> {
    let mut tokens = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some(&(position, c)) = chars.peek() {
        let kind = match c {
            ' ' | '\t' | '\n' => {
                chars.next();
                continue;
            }
            ',' | '(' | ')' => {
                chars.next();
                match c {
                    ',' => TokenKind::Comma,
                    '(' => TokenKind::OpenParen,
                    _ => TokenKind::CloseParen,
                }
            }
            '=' | '!' => {
                chars.next();
                let doubled = chars.next_if(|&(_, next)| next == '=').is_some();
                match (c, doubled) {
                    ('=', false) => TokenKind::Equals,
                    ('=', true) => TokenKind::DoubleEquals,
                    ('!', false) => TokenKind::Bang,
                    _ => TokenKind::NotEquals,
                }
            }
            '<' | '>' => {
                let message = format!("the operator '{c}' is not supported");
                return Err(SelectorError::new(position, message));
            }
            _ => {
                let mut word = String::new();
                while let Some((_, c)) = chars.next_if(|&(_, c)| !" \t\n,()=!<>".contains(c)) {
                    word.push(c);
                }
                match word.as_str() {
                    "in" => TokenKind::In,
                    "notin" => TokenKind::NotIn,
                    _ => TokenKind::Identifier(word),
                }
            }
        };
        tokens.push(Token { kind, position });
    }
    tokens.push(Token {
        kind: TokenKind::End,
        position: text.len(),
    });
    Ok(tokens)
}

struct Parser {
    tokens: Vec<Token>,
    next: usize,
}

impl Parser {
    fn peek(&self) -> &Token {
        &self.tokens[self.next.min(self.tokens.len() - 1)]
    }

    fn take(&mut self) -> Token {
        let token = self.peek().clone();
        self.next += 1;
        token
    }

    fn position(&self) -> usize {
        self.peek().position
    }

    /// A label key or value. A value may be empty (`app=` selects an
    /// empty `app` label), so `allow_empty` accepts a missing word.
    fn word(&mut self, what: &str, allow_empty: bool) -> Result<String, SelectorError> {
        match &self.peek().kind {
            TokenKind::Identifier(word) => {
                let word = word.clone();
                self.take();
                Ok(word)
            }
            TokenKind::Comma | TokenKind::CloseParen | TokenKind::End if allow_empty => {
                Ok(String::new())
            }
            _ => Err(self.peek().unexpected(what)),
        }
    }

    /// `(a, b, c)`: at least one value.
    fn value_set(&mut self) -> Result<Vec<String>, SelectorError> {
        let open = self.take();
        if open.kind != TokenKind::OpenParen {
            return Err(open.unexpected("'('"));
        }
        let mut values = Vec::new();
        loop {
            values.push(self.word("a value", true)?);
            let token = self.take();
            match token.kind {
                TokenKind::Comma => continue,
                TokenKind::CloseParen => break,
                _ => return Err(token.unexpected("',' or ')'")),
            }
        }
        if values.iter().all(String::is_empty) {
            let message = "for 'in', 'notin' operators, values set can't be empty";
            return Err(SelectorError::new(open.position, message.into()));
        }
        Ok(values)
    }

    /// One requirement: `!key`, `key`, `key=value`, `key==value`,
    /// `key!=value`, `key in (a,b)` or `key notin (a,b)`.
    // ANCHOR: requirement
    fn requirement(&mut self) -> Result<Requirement, SelectorError> {
        // exercise 6: parse one requirement of a label selector (`!key`, `key`, `key=value`, `key!=value`, `key in (a,b)`, ...)
        // hint: This is a recursive-descent parser: `peek()` looks at the next token without taking it, `take()` consumes it, `word(...)` reads a key or value, `value_set()` a parenthesised list. The requirement's first token, then the one after its key, decide its form.
        // hint: A leading `!` means DoesNotExist of the key that follows. Otherwise read the key and peek: a comma or the end means Exists; `=` or `==` is Equals, `!=` NotEquals (each with one value, which may be empty); `in`/`notin` take a value set; anything else is an error from `peek().unexpected(...)` listing what was expected.
        // hint: if peek is Bang: take, key = word("a label key", false)?, return DoesNotExist. key = word(...)?; operator = match peek().kind { Comma | End → return Exists, Equals | DoubleEquals → Equals, NotEquals → NotEquals, In → In, NotIn → NotIn, _ → Err(unexpected("'=', '==', '!=', 'in', 'notin', ',' or the end")) }; take(); values = value_set()? for In/NotIn else vec![word("a value", true)?]; Ok(Requirement::new(&key, operator, &values)).
        if self.peek().kind == TokenKind::Bang {
            self.take();
            let key = self.word("a label key", false)?;
            return Ok(Requirement::new(&key, Operator::DoesNotExist, &[]));
        }
        let key = self.word("a label key", false)?;
        let operator = match self.peek().kind {
            TokenKind::Comma | TokenKind::End => {
                return Ok(Requirement::new(&key, Operator::Exists, &[]));
            }
            TokenKind::Equals | TokenKind::DoubleEquals => Operator::Equals,
            TokenKind::NotEquals => Operator::NotEquals,
            TokenKind::In => Operator::In,
            TokenKind::NotIn => Operator::NotIn,
            _ => {
                return Err(self
                    .peek()
                    .unexpected("'=', '==', '!=', 'in', 'notin', ',' or the end"));
            }
        };
        self.take();
        let values = match operator {
            Operator::In | Operator::NotIn => self.value_set()?,
            _ => vec![self.word("a value", true)?],
        };
        let values: Vec<&str> = values.iter().map(String::as_str).collect();
        Ok(Requirement::new(&key, operator, &values))
    }
    // ANCHOR_END: requirement
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> StringMap {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn parses_and_prints_every_operator() {
        let selector =
            Selector::parse("tier in (fe, be), app==web,!canary,env!=prod,track, x notin (a)")
                .unwrap();
        assert_eq!(
            selector.to_string(),
            "app=web,!canary,env!=prod,tier in (be,fe),track,x notin (a)"
        );
    }

    #[test]
    fn negative_operators_match_missing_keys() {
        let pod = labels(&[("app", "web")]);
        assert!(Selector::parse("env!=prod").unwrap().matches(&pod));
        assert!(Selector::parse("env notin (prod)").unwrap().matches(&pod));
        assert!(!Selector::parse("env in (prod)").unwrap().matches(&pod));
        assert!(Selector::parse("").unwrap().matches(&pod));
        assert!(!Selector::nothing().matches(&pod));
    }

    #[test]
    fn errors_say_where() {
        let error = Selector::parse("app in (a").unwrap_err();
        assert_eq!(
            error.to_string(),
            "unable to parse label selector at position 9: found the end, expected ',' or ')'"
        );
    }
}
