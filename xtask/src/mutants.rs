//! The plausible wrong answers that verify puts into a hole, after the
//! todo!(): a suite that merely *calls* a function fails on the todo!() but
//! not on a body that returns the wrong thing. The wrong values come from the
//! function's signature alone: the input handed back unchanged where a
//! parameter has the return type, or the return type's default (`Ok` of it
//! for a `Result`, `None` for an `Option`, nothing at all for `()`).

use crate::holes::Hole;
use anyhow::{Result, anyhow};
use proc_macro2::Span;
use syn::visit::{self, Visit};

/// A body that compiles (verify finds out) and is wrong for any real hole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrongValue {
    /// The expression the body returns, `""` for a body that does nothing.
    pub expression: String,
}

impl WrongValue {
    /// How a report names it: `` `Default::default()` `` or "an empty body".
    pub fn describe(&self) -> String {
        if self.expression.is_empty() {
            "an empty body (it does nothing)".to_string()
        } else {
            format!("`{}`", self.expression)
        }
    }
}

/// The wrong values to try in `hole`, most plausible first. Verify uses the
/// first that compiles; an empty list means the signature offers none (a
/// function that never returns, say).
pub fn wrong_values(src: &str, hole: &Hole, file: &str) -> Result<Vec<WrongValue>> {
    let syntax = syn::parse_file(src).map_err(|e| anyhow!("{file}: not valid Rust: {e}"))?;
    let mut finder = Finder {
        src,
        line_starts: line_starts(src),
        body_start: hole.body.start,
        found: None,
    };
    finder.visit_file(&syntax);
    let sig = finder
        .found
        .ok_or_else(|| anyhow!("{file}:{}: no function body opens here", hole.line))?;
    Ok(from_signature(&sig))
}

/// `src` with the body of `hole` made to return `value`.
pub fn with_wrong_value(src: &str, hole: &Hole, value: &WrongValue) -> String {
    let line = if value.expression.is_empty() {
        String::new()
    } else {
        format!("{}{}\n", hole.marker_indent, value.expression)
    };
    with_body(src, hole, &format!("{{\n{line}{}}}", hole.fn_indent))
}

/// `src` with the body of `hole` replaced by `body` (`{ ... }`), the
/// hole's marker and hint lines kept at its top: a mutant is still the same
/// hole to whatever reads the solution meanwhile (gen, hint, status), and
/// only what is built from it differs.
pub fn with_body(src: &str, hole: &Hole, body: &str) -> String {
    let original = &src[hole.body.clone()];
    let comments: Vec<&str> = original
        .lines()
        .skip(1)
        .take_while(|l| l.trim_start().starts_with("//"))
        .collect();
    let inner = body
        .strip_prefix('{')
        .and_then(|b| b.strip_suffix('}'))
        .unwrap_or(body)
        .trim_start_matches('\n');
    let inner = if inner.trim().is_empty() {
        hole.fn_indent.as_str()
    } else {
        inner
    };
    format!(
        "{}{{\n{}\n{inner}}}{}",
        &src[..hole.body.start],
        comments.join("\n"),
        &src[hole.body.end..]
    )
}

/// What a signature says, reduced to text: types compare by their tokens.
#[derive(Default)]
struct Signature {
    /// The return type's tokens; `None` for `-> ()` or no arrow.
    output: Option<syn::Type>,
    output_text: String,
    /// `self` by value (not `&self`): the receiver can be handed back.
    self_by_value: bool,
    /// Named parameters and their types' text.
    params: Vec<(String, String)>,
}

fn from_signature(sig: &Signature) -> Vec<WrongValue> {
    let value = |expression: String| WrongValue { expression };
    let Some(output) = &sig.output else {
        return vec![value(String::new())];
    };
    if matches!(output, syn::Type::Never(_)) {
        return Vec::new();
    }
    let mut values = Vec::new();
    // The input unchanged: the most plausible slip of all (a builder method
    // that forgets to set its field, a normalizer that normalizes nothing).
    let wrapped = wrapper(output);
    let inner_text = wrapped.as_ref().map(|(_, inner)| compact(inner));
    for (name, ty) in sig
        .params
        .iter()
        .map(|(n, t)| (n.as_str(), t.as_str()))
        .chain(sig.self_by_value.then_some(("self", "Self")))
    {
        if ty == sig.output_text {
            values.push(value(name.to_string()));
        } else if let Some((wrap, _)) = &wrapped
            && inner_text.as_deref() == Some(ty)
        {
            values.push(value(format!("{wrap}({name})")));
        }
    }
    // The type's default.
    values.push(value(match &wrapped {
        Some(("Ok", inner)) if is_unit(inner) => "Ok(())".to_string(),
        Some(("Ok", _)) => "Ok(Default::default())".to_string(),
        Some(_) => "None".to_string(),
        None if is_unit(output) => String::new(),
        None => "Default::default()".to_string(),
    }));
    values.dedup();
    values
}

/// `Result<T, E>` -> ("Ok", T); `Option<T>` -> ("Some", T).
fn wrapper(ty: &syn::Type) -> Option<(&'static str, &syn::Type)> {
    let syn::Type::Path(path) = ty else {
        return None;
    };
    let last = path.path.segments.last()?;
    let wrap = match last.ident.to_string().as_str() {
        "Result" => "Ok",
        "Option" => "Some",
        _ => return None,
    };
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    match args.args.first()? {
        syn::GenericArgument::Type(inner) => Some((wrap, inner)),
        _ => None,
    }
}

fn is_unit(ty: &syn::Type) -> bool {
    matches!(ty, syn::Type::Tuple(tuple) if tuple.elems.is_empty())
}

/// A type's tokens without spacing, for comparing types written alike.
fn compact(ty: &syn::Type) -> String {
    let mut tokens = proc_macro2::TokenStream::new();
    quote::ToTokens::to_tokens(ty, &mut tokens);
    tokens.to_string().split_whitespace().collect()
}

fn line_starts(src: &str) -> Vec<usize> {
    let newlines = src.match_indices('\n').map(|(i, _)| i + 1);
    std::iter::once(0).chain(newlines).collect()
}

/// Finds the function whose body starts at `body_start`.
struct Finder<'a> {
    src: &'a str,
    line_starts: Vec<usize>,
    body_start: usize,
    found: Option<Signature>,
}

impl Finder<'_> {
    /// Byte offset of a span's start (columns count characters).
    fn offset(&self, span: Span) -> usize {
        let at = span.start();
        let start = self.line_starts[at.line - 1];
        self.src[start..]
            .char_indices()
            .nth(at.column)
            .map_or(self.src.len(), |(i, _)| start + i)
    }

    fn function(&mut self, sig: &syn::Signature, block: &syn::Block) {
        if self.offset(block.brace_token.span.open()) != self.body_start {
            return;
        }
        let mut found = Signature::default();
        if let syn::ReturnType::Type(_, ty) = &sig.output
            && !is_unit(ty)
        {
            found.output_text = compact(ty);
            found.output = Some((**ty).clone());
        }
        for input in &sig.inputs {
            match input {
                syn::FnArg::Receiver(receiver) => {
                    found.self_by_value = receiver.reference.is_none()
                        && matches!(&*receiver.ty, syn::Type::Path(p) if p.path.is_ident("Self"));
                }
                syn::FnArg::Typed(typed) => {
                    if let syn::Pat::Ident(ident) = &*typed.pat
                        && ident.subpat.is_none()
                    {
                        found
                            .params
                            .push((ident.ident.to_string(), compact(&typed.ty)));
                    }
                }
            }
        }
        self.found = Some(found);
    }
}

impl<'ast> Visit<'ast> for Finder<'_> {
    fn visit_item_fn(&mut self, item: &'ast syn::ItemFn) {
        self.function(&item.sig, &item.block);
        visit::visit_item_fn(self, item);
    }

    fn visit_impl_item_fn(&mut self, item: &'ast syn::ImplItemFn) {
        self.function(&item.sig, &item.block);
        visit::visit_impl_item_fn(self, item);
    }

    fn visit_trait_item_fn(&mut self, item: &'ast syn::TraitItemFn) {
        if let Some(block) = &item.default {
            self.function(&item.sig, block);
        }
        visit::visit_trait_item_fn(self, item);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::holes::analyse;

    /// The wrong values of every hole in `src`, as expressions.
    fn values(src: &str) -> Vec<Vec<String>> {
        analyse(src, "a.rs")
            .unwrap()
            .holes
            .iter()
            .map(|hole| {
                wrong_values(src, hole, "a.rs")
                    .unwrap()
                    .into_iter()
                    .map(|v| v.expression)
                    .collect()
            })
            .collect()
    }

    fn hole(order: usize, signature: &str) -> String {
        format!(
            "{signature} {{\n    // exercise {order}: do it\n    // hint: somehow\n    todo_in_real_life()\n}}\n"
        )
    }

    #[test]
    fn the_input_unchanged_comes_first_then_the_default() {
        let src = [
            hole(1, "pub fn double(x: u32) -> u32"),
            hole(2, "pub fn name(s: &str, n: usize) -> String"),
            "pub struct B;\nimpl B {\n".to_string(),
            hole(3, "pub fn with(mut self, n: u32) -> Self"),
            hole(
                4,
                "pub fn parse(text: &'static str) -> Result<&'static str, E>",
            ),
            "}\n".to_string(),
        ]
        .concat();
        assert_eq!(
            values(&src),
            [
                vec!["x", "Default::default()"],
                vec!["Default::default()"],
                vec!["self", "Default::default()"],
                vec!["Ok(text)", "Ok(Default::default())"],
            ]
        );
    }

    #[test]
    fn wrappers_units_and_never() {
        let src = [
            hole(1, "fn a() -> Option<u32>"),
            hole(2, "fn b() -> anyhow::Result<()>"),
            hole(3, "fn c() -> io::Result<Vec<u8>>"),
            hole(4, "fn d(&self, x: u8)"),
            hole(5, "fn e() -> ()"),
            hole(6, "fn f() -> !"),
            hole(7, "async fn g(id: Option<u32>) -> Option<u32>"),
            hole(8, "fn h(v: Vec<String>) -> Option<Vec<String>>"),
        ]
        .concat();
        assert_eq!(
            values(&src),
            [
                vec!["None"],
                vec!["Ok(())"],
                vec!["Ok(Default::default())"],
                vec![""],
                vec![""],
                vec![],
                vec!["id", "None"],
                vec!["Some(v)", "None"],
            ]
        );
    }

    #[test]
    fn the_mutant_body_replaces_the_hole_in_place() {
        let src = "pub struct B;\nimpl B {\n    fn double(&self, x: u32) -> u32 {\n        // exercise 1: do it\n        // hint: somehow\n        x * 2\n    }\n}\n";
        let hole = &analyse(src, "a.rs").unwrap().holes[0];
        let value = &wrong_values(src, hole, "a.rs").unwrap()[0];
        assert_eq!(value.describe(), "`x`");
        let marker = "        // exercise 1: do it\n        // hint: somehow\n";
        let mutant = with_wrong_value(src, hole, value);
        assert_eq!(
            mutant,
            format!(
                "pub struct B;\nimpl B {{\n    fn double(&self, x: u32) -> u32 {{\n{marker}        x\n    }}\n}}\n"
            )
        );
        // Still the same hole, for gen and hint.
        let again = &analyse(&mutant, "a.rs").unwrap().holes[0];
        assert_eq!((again.order, &again.hint), (hole.order, &hole.hint));
        let empty = WrongValue {
            expression: String::new(),
        };
        assert!(
            with_wrong_value(src, hole, &empty).contains(&format!("-> u32 {{\n{marker}    }}\n}}"))
        );
        assert_eq!(empty.describe(), "an empty body (it does nothing)");
    }
}
