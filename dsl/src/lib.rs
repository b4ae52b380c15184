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
//! diagnostics into human or JSON text.

pub mod ast;
pub mod check;
pub mod diag;
mod fast;
pub mod ir;
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
    let mut checker = check::Checker::with_capacity(source.len() / 512 + 1);
    let mut diagnostics = parse::parse_each(source, |d| {
        // Keys borrow the source where the text is there verbatim (names
        // always; compatible strings without escapes).
        checker.driver(&d, |text, span, quoted| {
            let raw = if quoted {
                span.start + 1..span.end.saturating_sub(1)
            } else {
                span.clone()
            };
            match source.get(raw) {
                Some(raw) if raw == text => Cow::Borrowed(raw),
                _ => Cow::Owned(text.to_owned()),
            }
        })
    });
    let checked = checker.finish();
    diagnostics.extend(checked.diagnostics);
    finish(checked.spec, diagnostics)
}

/// Parses and checks several files together: each on its own, then the checks
/// that span files (a compatible string claimed by drivers in two files).
/// Returns one [`Checked`] per input, in input order, as `(index, checked)`.
pub fn check_sources(files: &[(String, String)]) -> Vec<(usize, Checked)> {
    let mut parsed = Vec::with_capacity(files.len());
    for (name, source) in files {
        let (ast, mut diagnostics) = parse::parse(source);
        let checked = check::check_ast(&ast);
        diagnostics.extend(checked.diagnostics);
        parsed.push((name.as_str(), ast, checked.spec, diagnostics));
    }
    let cross = check::cross_file_compatibles(
        &parsed
            .iter()
            .map(|(name, ast, _, _)| (*name, ast))
            .collect::<Vec<_>>(),
    );
    for (index, diag) in cross {
        if let Some(entry) = parsed.get_mut(index) {
            entry.3.push(diag);
        }
    }
    parsed
        .into_iter()
        .enumerate()
        .map(|(i, (_, _, spec, diagnostics))| (i, finish(spec, diagnostics)))
        .collect()
}

fn finish(spec: Option<ir::Spec>, mut diagnostics: Vec<Diagnostic>) -> Checked {
    diagnostics.sort_by_key(|d| d.primary_span().map(|s| (s.start, s.end)));
    let has_errors = diagnostics.iter().any(Diagnostic::is_error);
    Checked {
        spec: if has_errors { None } else { spec },
        diagnostics,
    }
}
