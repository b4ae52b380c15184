//! The iommugen DSL front end: `*.iommu` source in, checked [`ir::Spec`] out.
//!
//! Two separate steps, both public:
//! - [`parse::parse`]: source text to an [`ast::SpecAst`] with byte spans, plus
//!   syntax diagnostics (it recovers, so one file reports many errors);
//! - [`check::check_ast`]: syntax tree to [`ir::Spec`], plus semantic
//!   diagnostics. The `#[iommu_driver]` attribute builds the tree itself and
//!   calls this step directly.
//!
//! [`check_source`] and [`check_sources`] run both; [`render`] turns the
//! diagnostics into human or JSON text. [`format`](mod@format), over the
//! lossless tokens of [`lex`], lays a file out canonically.

pub mod ast;
pub mod check;
pub mod depth;
pub mod diag;
pub mod encoding;
mod fast;
pub mod format;
pub mod ide;
pub mod ir;
pub mod lex;
pub mod lines;
pub mod parse;
pub mod render;
mod split;

use std::borrow::Cow;

pub use diag::{Code, Diagnostic, Label, Severity};

/// The outcome of checking one source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checked {
    /// `Some` exactly when `diagnostics` holds no error.
    pub spec: Option<ir::Spec>,
    /// Errors and warnings, sorted by position.
    pub diagnostics: Vec<Diagnostic>,
}

impl Checked {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
    pub fn warnings(&self) -> usize {
        self.diagnostics.iter().filter(|d| !d.is_error()).count()
    }
}

/// Parses and checks one file. `name` is only used in messages that refer to
/// it (cross-file checks); rendering takes the name again.
///
/// Each driver is checked as soon as it is parsed and its tree dropped right
/// after: the result is what [`parse::parse`] then [`check::check_ast`] give,
/// but a large file's tree is never all in memory: each driver's nodes are
/// freed while still in cache and reused for the next one (about a fifth
/// less time for a file of 10,000 drivers, whose tree does not fit in the
/// caches). `tests/streaming.rs` holds the two ways to the same result.
pub fn check_source(name: &str, source: &str) -> Checked {
    let _ = name;
    stream(source, true, None)
}

/// Parses and checks one file as [`check_source`] does, keeping no IR:
/// only the diagnostics (what `iommugen check` reports). A checked file's
/// IR takes several times its source's size; a file of 10^6 drivers need
/// not hold it.
pub fn diagnose_source(name: &str, source: &str) -> Vec<Diagnostic> {
    let _ = name;
    stream(source, false, None).diagnostics
}

/// Checks `source` driver by driver (see [`check_source`]), keeping the IR
/// if `keep_ir`; appends every compatible string to `claims` if given.
fn stream<'s>(source: &'s str, keep_ir: bool, mut claims: Option<&mut Vec<Claim<'s>>>) -> Checked {
    let mut checker = check::Checker::with_capacity(source.len() / 512 + 1);
    if !keep_ir {
        checker = checker.without_ir();
    }
    // Keys borrow the source where the text is there verbatim (names
    // always; compatible strings without escapes).
    let key = |text: &str, span: &ir::Span, quoted: bool| {
        let raw = if quoted {
            span.start + 1..span.end.saturating_sub(1)
        } else {
            span.clone()
        };
        match source.get(raw) {
            Some(raw) if raw == text => Cow::Borrowed(raw),
            _ => Cow::Owned(text.to_owned()),
        }
    };
    let mut diagnostics = parse::parse_each(source, |d| {
        if let Some(claims) = claims.as_deref_mut() {
            let owner = key(&d.name.name, &d.name.span, false);
            for c in check::compatibles(&d) {
                claims.push(Claim {
                    value: key(&c.value, &c.span, true),
                    owner: owner.clone(),
                    span: c.span.clone(),
                });
            }
        }
        checker.driver(&d, key)
    });
    let checked = checker.finish();
    diagnostics.extend(checked.diagnostics);
    finish(checked.spec, diagnostics)
}

/// One compatible string as claimed, for the checks across files.
pub(crate) struct Claim<'s> {
    pub(crate) value: Cow<'s, str>,
    pub(crate) owner: Cow<'s, str>,
    pub(crate) span: ir::Span,
}

/// Parses and checks several files together: each on its own, then the checks
/// that span files (a compatible string claimed by drivers in two files).
/// Returns one [`Checked`] per input, in input order, as `(index, checked)`.
///
/// Each file is checked driver by driver as in [`check_source`]; what the
/// cross-file check needs (each compatible string, its driver and span) is
/// kept, not the files' trees.
pub fn check_sources(files: &[(String, String)]) -> Vec<(usize, Checked)> {
    several(files, true)
}

/// [`check_sources`] without the IR: each file's diagnostics, in input
/// order, as `(index, diagnostics)` (what `iommugen check` reports).
pub fn diagnose_sources(files: &[(String, String)]) -> Vec<(usize, Vec<Diagnostic>)> {
    several(files, false)
        .into_iter()
        .map(|(i, c)| (i, c.diagnostics))
        .collect()
}

fn several(files: &[(String, String)], keep_ir: bool) -> Vec<(usize, Checked)> {
    // One file crosses no file: no claims to keep.
    let across = files.len() > 1;
    let mut claims = Vec::with_capacity(files.len());
    let mut checked = Vec::with_capacity(files.len());
    for (_, source) in files {
        let mut mine = Vec::new();
        checked.push(stream(source, keep_ir, across.then_some(&mut mine)));
        claims.push(mine);
    }
    let names: Vec<&str> = files.iter().map(|(name, _)| name.as_str()).collect();
    for (index, diag) in check::cross_file_claims(&names, &claims) {
        if let Some(c) = checked.get_mut(index) {
            c.diagnostics.push(diag);
        }
    }
    checked
        .into_iter()
        .enumerate()
        .map(|(i, c)| (i, finish(c.spec, c.diagnostics)))
        .collect()
}

pub(crate) fn finish(spec: Option<ir::Spec>, mut diagnostics: Vec<Diagnostic>) -> Checked {
    // Source order by where each problem is; stable, so the parser's report
    // on a spot comes before what the checker adds there.
    diagnostics.sort_by_key(|d| d.primary_span().map(|s| s.start));
    let has_errors = diagnostics.iter().any(Diagnostic::is_error);
    Checked {
        spec: if has_errors { None } else { spec },
        diagnostics,
    }
}
