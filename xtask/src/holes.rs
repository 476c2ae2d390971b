//! Holes: solution function bodies that open with `// exercise: <hint>`.
//!
//! syn does not keep comments, so markers are found by line and matched to the
//! innermost function whose body they open, using the spans syn records
//! (proc-macro2's `span-locations`). The same pass finds `#[cfg(test)]` items.

use anyhow::{Result, anyhow, bail};
use proc_macro2::{LineColumn, Span};
use std::ops::Range;
use syn::spanned::Spanned;
use syn::visit::{self, Visit};

pub const MARKER: &str = "// exercise:";

/// One marked function body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hole {
    /// `Backoff::delay`: the function, qualified by its impl or trait.
    pub name: String,
    pub hint: String,
    /// 1-based line of the marker in the solution file.
    pub line: usize,
    /// Bytes of the body, from `{` to `}` inclusive.
    pub body: Range<usize>,
    pub marker_indent: String,
    /// Indentation of the line holding the closing `}`.
    pub fn_indent: String,
}

/// A function with a body, as the tool sees it.
#[derive(Debug, Clone)]
pub struct Function {
    pub name: String,
    pub body: Range<usize>,
    pub open_line: usize,
    pub close_line: usize,
    pub is_const: bool,
    pub returns_impl_trait: bool,
}

/// What gen needs from one source file.
#[derive(Debug, Default)]
pub struct Analysis {
    pub holes: Vec<Hole>,
    /// Bytes of `#[cfg(test)]` items, their attributes and doc comments included.
    pub test_items: Vec<Range<usize>>,
}

/// The holes and `#[cfg(test)]` items of `src`; `file` names it in errors.
pub fn analyse(src: &str, file: &str) -> Result<Analysis> {
    let (functions, test_items) = parse(src, file)?;
    let mut holes = Vec::new();
    for (index, text) in src.lines().enumerate() {
        let line = index + 1;
        let trimmed = text.trim_start();
        let Some(hint) = trimmed.strip_prefix(MARKER) else {
            continue;
        };
        let hint = hint.trim();
        let innermost = functions
            .iter()
            .filter(|f| f.open_line < line && line <= f.close_line)
            .max_by_key(|f| f.body.start);
        let function = match innermost {
            Some(f) if f.open_line + 1 == line => f,
            _ => bail!(
                "{file}:{line}: `{MARKER}` must be the first line of a function body, \
                 right after its `{{`"
            ),
        };
        let name = &function.name;
        if hint.is_empty() {
            bail!("{file}:{line}: the hole in `{name}` has no hint after `{MARKER}`");
        }
        if function.is_const {
            bail!("{file}:{line}: the hole in `{name}` is in a const fn, where todo!() cannot go");
        }
        if function.returns_impl_trait {
            bail!(
                "{file}:{line}: the hole in `{name}` returns `impl Trait`, which a todo!() body \
                 does not satisfy; return a named type or move the hole into a helper"
            );
        }
        if test_items.iter().any(|r| r.contains(&function.body.start)) {
            bail!("{file}:{line}: the hole in `{name}` is inside a #[cfg(test)] item");
        }
        if let Some(outer) = holes
            .iter()
            .find(|h: &&Hole| h.body.contains(&function.body.start))
        {
            bail!(
                "{file}:{line}: the hole in `{name}` is inside the hole in `{}` (line {})",
                outer.name,
                outer.line
            );
        }
        let close_line_text = src.lines().nth(function.close_line - 1).unwrap_or("");
        holes.push(Hole {
            name: name.clone(),
            hint: hint.to_string(),
            line,
            body: function.body.clone(),
            marker_indent: indentation(text).to_string(),
            fn_indent: indentation(close_line_text).to_string(),
        });
    }
    Ok(Analysis { holes, test_items })
}

/// Every function with a body in `src`.
pub fn functions(src: &str, file: &str) -> Result<Vec<Function>> {
    Ok(parse(src, file)?.0)
}

fn parse(src: &str, file: &str) -> Result<(Vec<Function>, Vec<Range<usize>>)> {
    let syntax = syn::parse_file(src).map_err(|e| {
        let at = e.span().start();
        anyhow!("{file}:{}:{}: not valid Rust: {e}", at.line, at.column + 1)
    })?;
    let mut collector = Collector {
        src,
        line_starts: line_starts(src),
        scope: Vec::new(),
        functions: Vec::new(),
        test_items: Vec::new(),
    };
    collector.visit_file(&syntax);
    Ok((collector.functions, collector.test_items))
}

fn indentation(line: &str) -> &str {
    &line[..line.len() - line.trim_start().len()]
}

fn line_starts(src: &str) -> Vec<usize> {
    let newlines = src.match_indices('\n').map(|(i, _)| i + 1);
    std::iter::once(0).chain(newlines).collect()
}

struct Collector<'a> {
    src: &'a str,
    line_starts: Vec<usize>,
    /// Names of the enclosing impls, traits and functions.
    scope: Vec<String>,
    functions: Vec<Function>,
    test_items: Vec<Range<usize>>,
}

impl Collector<'_> {
    /// Byte offset of a span position (columns count characters, not bytes).
    fn offset(&self, at: LineColumn) -> usize {
        let start = self.line_starts[at.line - 1];
        self.src[start..]
            .char_indices()
            .nth(at.column)
            .map_or(self.src.len(), |(i, _)| start + i)
    }

    fn range(&self, span: Span) -> Range<usize> {
        self.offset(span.start())..self.offset(span.end())
    }

    fn function(&mut self, sig: &syn::Signature, block: &syn::Block) {
        let braces = block.brace_token.span;
        let mut returns_impl_trait = FindImplTrait(false);
        returns_impl_trait.visit_return_type(&sig.output);
        let name = self
            .scope
            .iter()
            .map(String::as_str)
            .chain([sig.ident.to_string().as_str()])
            .collect::<Vec<_>>()
            .join("::");
        self.functions.push(Function {
            name,
            body: self.offset(braces.open().start())..self.offset(braces.close().end()),
            open_line: braces.open().start().line,
            close_line: braces.close().start().line,
            is_const: sig.constness.is_some(),
            returns_impl_trait: returns_impl_trait.0,
        });
    }

    fn scoped(&mut self, name: String, visit: impl FnOnce(&mut Self)) {
        self.scope.push(name);
        visit(self);
        self.scope.pop();
    }
}

impl<'ast> Visit<'ast> for Collector<'_> {
    fn visit_item(&mut self, item: &'ast syn::Item) {
        if is_cfg_test(item_attrs(item)) {
            self.test_items.push(self.range(item.span()));
        } else {
            visit::visit_item(self, item);
        }
    }

    fn visit_impl_item(&mut self, item: &'ast syn::ImplItem) {
        if is_cfg_test(impl_item_attrs(item)) {
            self.test_items.push(self.range(item.span()));
        } else {
            visit::visit_impl_item(self, item);
        }
    }

    fn visit_item_impl(&mut self, item: &'ast syn::ItemImpl) {
        self.scoped(type_name(&item.self_ty), |c| {
            visit::visit_item_impl(c, item)
        });
    }

    fn visit_item_trait(&mut self, item: &'ast syn::ItemTrait) {
        self.scoped(item.ident.to_string(), |c| visit::visit_item_trait(c, item));
    }

    fn visit_item_fn(&mut self, item: &'ast syn::ItemFn) {
        self.function(&item.sig, &item.block);
        self.scoped(item.sig.ident.to_string(), |c| {
            visit::visit_item_fn(c, item)
        });
    }

    fn visit_impl_item_fn(&mut self, item: &'ast syn::ImplItemFn) {
        self.function(&item.sig, &item.block);
        self.scoped(item.sig.ident.to_string(), |c| {
            visit::visit_impl_item_fn(c, item)
        });
    }

    fn visit_trait_item_fn(&mut self, item: &'ast syn::TraitItemFn) {
        if let Some(block) = &item.default {
            self.function(&item.sig, block);
        }
        self.scoped(item.sig.ident.to_string(), |c| {
            visit::visit_trait_item_fn(c, item)
        });
    }
}

struct FindImplTrait(bool);

impl<'ast> Visit<'ast> for FindImplTrait {
    fn visit_type_impl_trait(&mut self, _: &'ast syn::TypeImplTrait) {
        self.0 = true;
    }
}

fn is_cfg_test(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|attr| {
        attr.path().is_ident("cfg")
            && attr
                .parse_args::<syn::Ident>()
                .is_ok_and(|ident| ident == "test")
    })
}

fn item_attrs(item: &syn::Item) -> &[syn::Attribute] {
    use syn::Item::*;
    match item {
        Const(i) => &i.attrs,
        Enum(i) => &i.attrs,
        ExternCrate(i) => &i.attrs,
        Fn(i) => &i.attrs,
        ForeignMod(i) => &i.attrs,
        Impl(i) => &i.attrs,
        Macro(i) => &i.attrs,
        Mod(i) => &i.attrs,
        Static(i) => &i.attrs,
        Struct(i) => &i.attrs,
        Trait(i) => &i.attrs,
        TraitAlias(i) => &i.attrs,
        Type(i) => &i.attrs,
        Union(i) => &i.attrs,
        Use(i) => &i.attrs,
        _ => &[],
    }
}

fn impl_item_attrs(item: &syn::ImplItem) -> &[syn::Attribute] {
    match item {
        syn::ImplItem::Const(i) => &i.attrs,
        syn::ImplItem::Fn(i) => &i.attrs,
        syn::ImplItem::Type(i) => &i.attrs,
        syn::ImplItem::Macro(i) => &i.attrs,
        _ => &[],
    }
}

/// `Backoff` for `impl Backoff`, `impl<T> Display for Backoff<T>`, `impl X for &Backoff`.
fn type_name(ty: &syn::Type) -> String {
    match ty {
        syn::Type::Path(path) => path
            .path
            .segments
            .last()
            .map_or_else(|| "_".to_string(), |s| s.ident.to_string()),
        syn::Type::Reference(reference) => type_name(&reference.elem),
        _ => "_".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOURCE: &str = r#"//! Back-off.

pub struct Backoff {
    base: u32,
}

impl Backoff {
    /// The delay before restart `n`.
    pub fn delay(&self, n: u32) -> u32 {
        // exercise: double the base delay for every restart
        let mut delay = self.base;
        for _ in 0..n {
            delay *= 2;
        }
        delay
    }
}

pub trait Policy {
    fn restarts(&self, code: i32) -> bool {
        // exercise: restart on failure only
        code != 0
    }
}

pub fn total<T>(items: &[T]) -> usize
where
    T: Copy,
{
    // exercise: count them
    items.len()
}
"#;

    #[test]
    fn finds_holes_in_functions_methods_and_trait_defaults() {
        let holes = analyse(SOURCE, "lib.rs").unwrap().holes;
        let summary: Vec<_> = holes
            .iter()
            .map(|h| {
                (
                    h.line,
                    h.name.as_str(),
                    h.hint.as_str(),
                    h.marker_indent.len(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                (
                    10,
                    "Backoff::delay",
                    "double the base delay for every restart",
                    8
                ),
                (21, "Policy::restarts", "restart on failure only", 8),
                (30, "total", "count them", 4),
            ]
        );
        let body = &SOURCE[holes[2].body.clone()];
        assert_eq!(body, "{\n    // exercise: count them\n    items.len()\n}");
        assert_eq!(holes[0].fn_indent, "    ");
    }

    #[test]
    fn a_marker_that_does_not_open_a_body_is_an_error() {
        let src = "fn f() -> u32 {\n    let x = 1;\n    // exercise: too late\n    x\n}\n";
        let error = analyse(src, "src/lib.rs").unwrap_err().to_string();
        assert_eq!(
            error,
            "src/lib.rs:3: `// exercise:` must be the first line of a function body, \
             right after its `{`"
        );
        let outside = "// exercise: nowhere\nfn f() {}\n";
        assert!(
            analyse(outside, "a.rs")
                .unwrap_err()
                .to_string()
                .starts_with("a.rs:1: ")
        );
    }

    #[test]
    fn a_marker_opening_a_closure_is_an_error() {
        let src = "fn f() {\n    let g = || {\n        // exercise: no\n        1\n    };\n}\n";
        let error = analyse(src, "a.rs").unwrap_err().to_string();
        assert!(error.starts_with("a.rs:3: "), "{error}");
    }

    #[test]
    fn holes_that_cannot_hold_a_todo_are_errors() {
        let src = "const fn f() -> u32 {\n    // exercise: no\n    1\n}\n";
        let error = analyse(src, "a.rs").unwrap_err().to_string();
        assert_eq!(
            error,
            "a.rs:2: the hole in `f` is in a const fn, where todo!() cannot go"
        );
        let src =
            "fn f() -> impl Iterator<Item = u8> {\n    // exercise: no\n    None.into_iter()\n}\n";
        let error = analyse(src, "a.rs").unwrap_err().to_string();
        assert!(error.contains("returns `impl Trait`"), "{error}");
        let src = "fn f() {\n    // exercise:\n}\n";
        let error = analyse(src, "a.rs").unwrap_err().to_string();
        assert_eq!(
            error,
            "a.rs:2: the hole in `f` has no hint after `// exercise:`"
        );
    }

    #[test]
    fn nested_functions_are_named_by_their_scope() {
        let src = "fn outer() {\n    fn inner() {\n        // exercise: inside\n    }\n}\n";
        let holes = analyse(src, "a.rs").unwrap().holes;
        assert_eq!(holes[0].name, "outer::inner");
    }

    #[test]
    fn cfg_test_items_span_their_doc_comments_and_attributes() {
        let src =
            "fn a() {}\n\n/// Tests.\n#[cfg(test)]\nmod tests {\n    #[test]\n    fn t() {}\n}\n";
        let items = analyse(src, "a.rs").unwrap().test_items;
        assert_eq!(items.len(), 1);
        assert!(src[items[0].clone()].starts_with("/// Tests.\n#[cfg(test)]\nmod tests {"));
        assert!(src[items[0].clone()].ends_with("fn t() {}\n}"));
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        let src = "fn é() -> &'static str { \"ü\" }\n";
        let functions = functions(src, "a.rs").unwrap();
        assert_eq!(&src[functions[0].body.clone()], "{ \"ü\" }");
    }
}
