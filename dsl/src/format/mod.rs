//! `iommugen fmt`: one canonical layout for `*.iommu` files.
//!
//! The formatter reads the lossless token stream of [`crate::lex`], so every
//! comment is a token it must print, and prints each top-level item (a
//! driver) on its own ([`print`]). The layout: four spaces per block level,
//! one statement per line, one space around binary operators and `=`,
//! `name: type`, blocks as `keyword args {` … `}`, one blank line between
//! top-level items, blank lines inside a block kept but never more than
//! one, numbers and strings exactly as written, comments where they were
//! (own-line comments on their own line at the statement's indentation,
//! trailing ones one space after their line), no trailing whitespace, `\n`
//! line ends, one `\n` at the end. The book's "Formatting" section is the
//! full description.
//!
//! Two rules keep it from ever losing text:
//! - a file with syntax errors is left exactly as it is, and the errors are
//!   returned (the caller reports them);
//! - each printed item is lexed again and its tokens other than spaces and
//!   line ends compared with the source's: if they differ (a formatter
//!   bug), that item is kept as written and named in [`Formatted::kept`].
//!
//! Linear time and no recursion: one lexing pass, one printing pass, one
//! comparison pass, plus the parser's syntax check (itself linear).

mod print;

use core::ops::Range;

use crate::diag::Diagnostic;
use crate::lex::{self, Kind, Token};

/// The outcome of formatting one source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Formatted {
    /// The formatted text; the source itself when `errors` is not empty.
    pub text: String,
    /// The source's syntax errors; when there are any, the source is not
    /// formatted.
    pub errors: Vec<Diagnostic>,
    /// Byte ranges of the source's items left as written because printing
    /// them would have changed their tokens (should stay empty: a report
    /// here is a formatter bug).
    pub kept: Vec<Range<usize>>,
}

impl Formatted {
    /// Whether any error stopped formatting.
    pub fn has_errors(&self) -> bool {
        self.errors.iter().any(Diagnostic::is_error)
    }
}

/// Formats one source (as decoded by [`crate::encoding::decode`]; a
/// byte-order mark at its start is kept). Never fails: see [`Formatted`].
pub fn format_source(source: &str) -> Formatted {
    let errors: Vec<Diagnostic> = crate::parse::parse_each(source, drop)
        .into_iter()
        .filter(Diagnostic::is_error)
        .collect();
    if !errors.is_empty() {
        return Formatted {
            text: source.to_owned(),
            errors,
            kept: Vec::new(),
        };
    }
    let (bom, body) = source.split_at(crate::encoding::text_start(source));
    let (mut text, kept) = layout(body, print::item);
    text.insert_str(0, bom);
    let kept = kept
        .into_iter()
        .map(|r| r.start + bom.len()..r.end + bom.len())
        .collect();
    Formatted {
        text,
        errors: Vec::new(),
        kept,
    }
}

/// One printable token: not a space or line end.
#[derive(Clone, Debug)]
pub(crate) struct El {
    pub(crate) kind: Kind,
    pub(crate) span: Range<usize>,
    /// Line ends between the previous printable token and this one.
    pub(crate) newlines: usize,
}

/// The printable tokens of `tokens`, each with the line ends before it.
fn elements(tokens: impl Iterator<Item = Token>) -> Vec<El> {
    let mut out = Vec::new();
    let mut newlines = 0;
    for t in tokens {
        match t.kind {
            Kind::Space => {}
            Kind::Newline => newlines += 1,
            kind => {
                out.push(El {
                    kind,
                    span: t.span.clone(),
                    newlines,
                });
                newlines = 0;
            }
        }
    }
    out
}

/// A top-level piece: a comment between items, or an item's elements.
enum Segment {
    Comment(usize),
    Item(Range<usize>),
}

/// Cuts the elements at the top level: an item runs from its first code
/// token to the `}` that closes its braces (or a `;` at depth 0, or the
/// end); comments outside items stand alone.
fn segments(src: &str, els: &[El]) -> Vec<Segment> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < els.len() {
        if els[i].kind.is_comment() {
            out.push(Segment::Comment(i));
            i += 1;
            continue;
        }
        let start = i;
        let mut depth = 0usize;
        while i < els.len() {
            let el = &els[i];
            i += 1;
            if el.kind != Kind::Punct {
                continue;
            }
            match &src[el.span.clone()] {
                "{" => depth += 1,
                "}" => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        break;
                    }
                }
                ";" if depth == 0 => break,
                _ => {}
            }
        }
        out.push(Segment::Item(start..i));
    }
    out
}

/// Lays out a source without a byte-order mark, printing items with
/// `print`; returns the text and the items kept as written.
fn layout(src: &str, print: fn(&str, &[El]) -> String) -> (String, Vec<Range<usize>>) {
    let els = elements(lex::tokens(src));
    let mut out = String::with_capacity(src.len() + src.len() / 8);
    let mut kept = Vec::new();
    // What the last segment was: an item (`None`) or a comment's kind.
    let mut prev: Option<Option<Kind>> = None;
    // The last segment was an item, or a comment trailing one.
    let mut after_item = false;
    for seg in segments(src, &els) {
        let (first, comment) = match &seg {
            Segment::Comment(i) => (&els[*i], Some(els[*i].kind)),
            Segment::Item(r) => (&els[r.start], None),
        };
        if let Some(prev) = prev {
            let sep = top_separator(prev, after_item, first);
            after_item = comment.is_none() || (after_item && sep == " ");
            out.push_str(sep);
        } else {
            after_item = comment.is_none();
        }
        match seg {
            Segment::Comment(i) => out.push_str(&src[els[i].span.clone()]),
            Segment::Item(r) => {
                let items = &els[r];
                let printed = print(src, items);
                if same_tokens(src, items, &printed) {
                    out.push_str(&printed);
                } else {
                    let whole = items[0].span.start..items[items.len() - 1].span.end;
                    out.push_str(&src[whole.clone()]);
                    kept.push(whole);
                }
            }
        }
        prev = Some(comment);
    }
    if !out.is_empty() {
        out.push('\n');
    }
    (out, kept)
}

/// What goes between two top-level segments: `prev` is an item (`None`)
/// or a comment of that kind; `after_item`: it is an item or trails one.
fn top_separator(prev: Option<Kind>, after_item: bool, next: &El) -> &'static str {
    let line_comment = matches!(prev, Some(Kind::LineComment | Kind::DocComment));
    if next.newlines == 0 && !line_comment {
        // A comment trails what is before it on its line; a block comment
        // that opens a line keeps what follows it there.
        if next.kind.is_comment() || (prev == Some(Kind::BlockComment) && !after_item) {
            return " ";
        }
    }
    if after_item || next.newlines >= 2 {
        "\n\n"
    } else {
        "\n"
    }
}

/// Whether `printed` lexes to the same tokens as `els` (spaces and line
/// ends aside).
fn same_tokens(src: &str, els: &[El], printed: &str) -> bool {
    let mut again = lex::tokens(printed).filter(|t| !t.kind.is_layout());
    let same = els.iter().all(|e| {
        again.next().is_some_and(|t| {
            t.kind == e.kind && printed.get(t.span.clone()) == src.get(e.span.clone())
        })
    });
    same && again.next().is_none()
}

#[cfg(test)]
mod tests;
