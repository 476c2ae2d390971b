//! Holes: solution function bodies that open with a numbered marker and its
//! hints:
//!
//! ```text
//! // exercise 3: <the goal: what the function must do and return>
//! // hint: <first tier: a nudge>
//! // hint: <more concrete>
//! // hint: <the recipe>
//! ```
//!
//! syn does not keep comments, so markers are found by line and matched to the
//! innermost function whose body they open, using the spans syn records
//! (proc-macro2's `span-locations`). The same pass finds `#[cfg(test)]` items.

use anyhow::{Result, anyhow, bail};
use proc_macro2::{LineColumn, Span};
use std::ops::Range;
use syn::spanned::Spanned;
use syn::visit::{self, Visit};

/// How every marker starts; the hole's number and a colon follow.
pub const MARKER: &str = "// exercise";

/// How every hint tier starts, on the lines right after the marker.
pub const HINT: &str = "// hint:";

/// At most this many hint tiers per hole: a nudge, more, the recipe (and one spare).
pub const MAX_TIERS: usize = 4;

/// One marked function body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hole {
    /// `Backoff::delay`: the function, qualified by its impl or trait.
    pub name: String,
    /// The goal: what the function must do and return (it goes into the todo!()).
    pub hint: String,
    /// The hole's place in the chapter's order (1..=n), from `// exercise N:`.
    pub order: usize,
    /// The hints, from a nudge to the recipe, shown one at a time on request.
    pub tiers: Vec<String>,
    /// 1-based line of the marker in the solution file.
    pub line: usize,
    /// Bytes of the body, from `{` to `}` inclusive.
    pub body: Range<usize>,
    pub marker_indent: String,
    /// Indentation of the line holding the closing `}`.
    pub fn_indent: String,
}

impl Hole {
    /// What the todo!() says: `exercise 3: <goal>`; also how its panic reads.
    pub fn todo_message(&self) -> String {
        format!("exercise {}: {}", self.order, self.hint)
    }
}

/// What a line that starts with [`MARKER`] says.
enum Marker<'a> {
    /// `// exercise 3: goal`.
    Numbered(usize, &'a str),
    /// `// exercise: goal`, the old form without a number.
    Unnumbered,
    /// `// exercise 3 goal` and the like: a marker gone wrong.
    Malformed,
}

fn marker(trimmed: &str) -> Option<Marker<'_>> {
    let rest = trimmed.strip_prefix(MARKER)?;
    if rest.starts_with(':') {
        return Some(Marker::Unnumbered);
    }
    let rest = rest.strip_prefix(' ')?.trim_start();
    // Prose that happens to begin with "// exercise " is no marker.
    if !rest.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    let Some((number, goal)) = rest.split_once(':') else {
        return Some(Marker::Malformed);
    };
    match number.trim().parse() {
        Ok(n) if n > 0 => Some(Marker::Numbered(n, goal.trim())),
        _ => Some(Marker::Malformed),
    }
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
    let lines: Vec<&str> = src.lines().collect();
    let mut holes = Vec::new();
    // Lines of hint tiers that a marker claimed.
    let mut claimed = std::collections::BTreeSet::new();
    for (index, text) in lines.iter().enumerate() {
        let line = index + 1;
        let trimmed = text.trim_start();
        let (order, hint) = match marker(trimmed) {
            None => continue,
            Some(Marker::Numbered(order, hint)) => (order, hint),
            Some(Marker::Unnumbered) => bail!(
                "{file}:{line}: holes are numbered in the order the chapter presents them: \
                 write `{MARKER} N: goal` (N = 1, 2, ...), not `{MARKER}: goal`"
            ),
            Some(Marker::Malformed) => bail!(
                "{file}:{line}: a hole's marker reads `{MARKER} N: goal`, with N a number from 1"
            ),
        };
        let innermost = functions
            .iter()
            .filter(|f| f.open_line < line && line <= f.close_line)
            .max_by_key(|f| f.body.start);
        let function = match innermost {
            Some(f) if f.open_line + 1 == line => f,
            _ => bail!(
                "{file}:{line}: `{MARKER} {order}:` must be the first line of a function body, \
                 right after its `{{`"
            ),
        };
        let name = &function.name;
        if hint.is_empty() {
            bail!("{file}:{line}: the hole in `{name}` has no goal after `{MARKER} {order}:`");
        }
        let tiers: Vec<String> = lines[line..]
            .iter()
            .map_while(|l| l.trim_start().strip_prefix(HINT))
            .map(|tier| tier.trim().to_string())
            .collect();
        claimed.extend(line + 1..=line + tiers.len());
        if tiers.is_empty() {
            bail!(
                "{file}:{line}: the hole in `{name}` has no hints: follow its marker with \
                 1 to {MAX_TIERS} `{HINT}` lines, from a nudge to the recipe"
            );
        }
        if tiers.len() > MAX_TIERS {
            bail!(
                "{file}:{line}: the hole in `{name}` has {} hint tiers; at most {MAX_TIERS}",
                tiers.len()
            );
        }
        if let Some(empty) = tiers.iter().position(String::is_empty) {
            bail!("{file}:{}: an empty `{HINT}` line", line + 1 + empty);
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
        let close_line_text = lines.get(function.close_line - 1).copied().unwrap_or("");
        holes.push(Hole {
            name: name.clone(),
            hint: hint.to_string(),
            order,
            tiers,
            line,
            body: function.body.clone(),
            marker_indent: indentation(text).to_string(),
            fn_indent: indentation(close_line_text).to_string(),
        });
    }
    for (index, text) in lines.iter().enumerate() {
        if text.trim_start().starts_with(HINT) && !claimed.contains(&(index + 1)) {
            bail!(
                "{file}:{}: a `{HINT}` line belongs right after a `{MARKER} N:` marker \
                 or another hint",
                index + 1
            );
        }
    }
    Ok(Analysis { holes, test_items })
}

/// Check that `holes` (a chapter's, with where each is) are numbered 1..=n
/// without gaps or twins, and sort them into that order.
pub fn in_order<T>(mut holes: Vec<(T, Hole)>, chapter: &str) -> Result<Vec<(T, Hole)>>
where
    T: std::fmt::Display,
{
    holes.sort_by_key(|(_, hole)| hole.order);
    for pair in holes.windows(2) {
        let ((file_a, a), (file_b, b)) = (&pair[0], &pair[1]);
        if a.order == b.order {
            bail!(
                "{chapter}: two holes are numbered {}: `{}` ({file_a}:{}) and `{}` ({file_b}:{}); \
                 number the holes 1 to {} in the order the book presents them",
                a.order,
                a.name,
                a.line,
                b.name,
                b.line,
                holes.len()
            );
        }
    }
    if let Some(position) = holes
        .iter()
        .enumerate()
        .position(|(index, (_, hole))| hole.order != index + 1)
    {
        let numbers: Vec<String> = holes.iter().map(|(_, h)| h.order.to_string()).collect();
        bail!(
            "{chapter}: no hole is numbered {} (the holes are numbered {}); \
             number them 1 to {} without gaps",
            position + 1,
            numbers.join(", "),
            holes.len()
        );
    }
    Ok(holes)
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
        // exercise 2: double the base delay for every restart
        // hint: a loop
        let mut delay = self.base;
        for _ in 0..n {
            delay *= 2;
        }
        delay
    }
}

pub trait Policy {
    fn restarts(&self, code: i32) -> bool {
        // exercise 3: restart on failure only
        // hint: compare with zero
        // hint: `code != 0`
        code != 0
    }
}

pub fn total<T>(items: &[T]) -> usize
where
    T: Copy,
{
    // exercise 1: count them
    // hint: slices know their length
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
                    h.order,
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
                    2,
                    "Backoff::delay",
                    "double the base delay for every restart",
                    8
                ),
                (22, 3, "Policy::restarts", "restart on failure only", 8),
                (33, 1, "total", "count them", 4),
            ]
        );
        assert_eq!(holes[0].tiers, ["a loop"]);
        assert_eq!(holes[1].tiers, ["compare with zero", "`code != 0`"]);
        assert_eq!(
            holes[1].todo_message(),
            "exercise 3: restart on failure only"
        );
        let body = &SOURCE[holes[2].body.clone()];
        assert_eq!(
            body,
            "{\n    // exercise 1: count them\n    // hint: slices know their length\n    items.len()\n}"
        );
        assert_eq!(holes[0].fn_indent, "    ");
    }

    fn one(src: &str) -> String {
        analyse(src, "a.rs").unwrap_err().to_string()
    }

    #[test]
    fn markers_need_a_number_a_goal_and_hints() {
        let error = one("fn f() {\n    // exercise: old form\n    // hint: h\n}\n");
        assert!(
            error.starts_with("a.rs:2: holes are numbered in the order the chapter presents them"),
            "{error}"
        );
        let error = one("fn f() {\n    // exercise 2 no colon\n    // hint: h\n}\n");
        assert!(
            error.starts_with("a.rs:2: a hole's marker reads"),
            "{error}"
        );
        let error = one("fn f() {\n    // exercise 0: zero\n    // hint: h\n}\n");
        assert!(
            error.starts_with("a.rs:2: a hole's marker reads"),
            "{error}"
        );
        let error = one("fn f() {\n    // exercise 1: no hints\n}\n");
        assert_eq!(
            error,
            "a.rs:2: the hole in `f` has no hints: follow its marker with 1 to 4 `// hint:` \
             lines, from a nudge to the recipe"
        );
        let five = "    // hint: h\n".repeat(5);
        let error = one(&format!("fn f() {{\n    // exercise 1: many\n{five}}}\n"));
        assert_eq!(error, "a.rs:2: the hole in `f` has 5 hint tiers; at most 4");
        let error = one("fn f() {\n    // exercise 1: g\n    // hint:\n}\n");
        assert_eq!(error, "a.rs:3: an empty `// hint:` line");
        // Prose about exercise is no marker.
        assert!(analyse("// exercise the code\nfn f() {}\n", "a.rs").is_ok());
    }

    #[test]
    fn a_hint_away_from_its_marker_is_an_error() {
        let error = one("fn f() {\n    let x = 1;\n    // hint: stray\n}\n");
        assert_eq!(
            error,
            "a.rs:3: a `// hint:` line belongs right after a `// exercise N:` marker or another hint"
        );
        let error = one("fn f() {\n    // exercise 1: g\n    // hint: h\n\n    // hint: late\n}\n");
        assert!(error.starts_with("a.rs:5: "), "{error}");
    }

    fn numbered(orders: &[usize]) -> Vec<(&'static str, Hole)> {
        orders
            .iter()
            .enumerate()
            .map(|(index, &order)| {
                let hole = Hole {
                    name: format!("f{index}"),
                    hint: "goal".into(),
                    order,
                    tiers: vec!["nudge".into()],
                    line: 10 * (index + 1),
                    body: 0..0,
                    marker_indent: String::new(),
                    fn_indent: String::new(),
                };
                ("src/lib.rs", hole)
            })
            .collect()
    }

    #[test]
    fn chapter_order_is_the_numbers_not_the_file_order() {
        let sorted = in_order(numbered(&[3, 1, 2]), "solutions/01-demo").unwrap();
        let names: Vec<_> = sorted.iter().map(|(_, h)| h.name.as_str()).collect();
        assert_eq!(names, ["f1", "f2", "f0"]);
    }

    #[test]
    fn twins_and_gaps_in_the_numbers_are_errors() {
        let error = in_order(numbered(&[1, 2, 2]), "solutions/01-demo").unwrap_err();
        assert_eq!(
            error.to_string(),
            "solutions/01-demo: two holes are numbered 2: `f1` (src/lib.rs:20) and `f2` \
             (src/lib.rs:30); number the holes 1 to 3 in the order the book presents them"
        );
        let error = in_order(numbered(&[1, 4, 2]), "solutions/01-demo").unwrap_err();
        assert_eq!(
            error.to_string(),
            "solutions/01-demo: no hole is numbered 3 (the holes are numbered 1, 2, 4); \
             number them 1 to 3 without gaps"
        );
        let error = in_order(numbered(&[2]), "c").unwrap_err();
        assert!(error.to_string().starts_with("c: no hole is numbered 1"));
    }

    #[test]
    fn a_marker_that_does_not_open_a_body_is_an_error() {
        let src = "fn f() -> u32 {\n    let x = 1;\n    // exercise 1: too late\n    // hint: h\n    x\n}\n";
        let error = analyse(src, "src/lib.rs").unwrap_err().to_string();
        assert_eq!(
            error,
            "src/lib.rs:3: `// exercise 1:` must be the first line of a function body, \
             right after its `{`"
        );
        let outside = "// exercise 1: nowhere\n// hint: h\nfn f() {}\n";
        assert!(
            analyse(outside, "a.rs")
                .unwrap_err()
                .to_string()
                .starts_with("a.rs:1: ")
        );
    }

    #[test]
    fn a_marker_opening_a_closure_is_an_error() {
        let src = "fn f() {\n    let g = || {\n        // exercise 1: no\n        // hint: h\n        1\n    };\n}\n";
        let error = analyse(src, "a.rs").unwrap_err().to_string();
        assert!(error.starts_with("a.rs:3: "), "{error}");
    }

    #[test]
    fn holes_that_cannot_hold_a_todo_are_errors() {
        let src = "const fn f() -> u32 {\n    // exercise 1: no\n    // hint: h\n    1\n}\n";
        let error = analyse(src, "a.rs").unwrap_err().to_string();
        assert_eq!(
            error,
            "a.rs:2: the hole in `f` is in a const fn, where todo!() cannot go"
        );
        let src = "fn f() -> impl Iterator<Item = u8> {\n    // exercise 1: no\n    // hint: h\n    None.into_iter()\n}\n";
        let error = analyse(src, "a.rs").unwrap_err().to_string();
        assert!(error.contains("returns `impl Trait`"), "{error}");
        let src = "fn f() {\n    // exercise 1:\n    // hint: h\n}\n";
        let error = analyse(src, "a.rs").unwrap_err().to_string();
        assert_eq!(
            error,
            "a.rs:2: the hole in `f` has no goal after `// exercise 1:`"
        );
    }

    #[test]
    fn nested_functions_are_named_by_their_scope() {
        let src = "fn outer() {\n    fn inner() {\n        // exercise 1: inside\n        // hint: h\n    }\n}\n";
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
