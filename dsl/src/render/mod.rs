//! Rendering diagnostics: miette's graphical report for people, JSON for
//! machines. The CLI, build scripts (codegen) and `iommugen dt` share these.
//!
//! Build one [`SourceFile`] per source and render every diagnostic of it
//! through that: its [`LineIndex`] makes each line/column look-up a binary
//! search, so rendering is linear in the number of diagnostics. The human
//! report shows only the lines around the labels (a long line cut to a
//! window, see `excerpt`), and a terminal report shows the first [`SHOWN`]
//! diagnostics ([`Cap`]); JSON lists every one.

mod excerpt;
mod json;
mod short;

use std::borrow::Cow;
use std::fmt;

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan};

use crate::diag::{Diagnostic, Label, Severity};
use crate::lines::LineIndex;

pub use excerpt::WHOLE_LINE;
pub use json::{json_array, json_value, write_json_array};

/// How the human report looks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HumanStyle {
    /// ANSI colours (only when writing to a terminal, or when asked).
    pub color: bool,
    /// Wrap width in columns.
    pub width: usize,
}

impl Default for HumanStyle {
    fn default() -> Self {
        HumanStyle {
            color: false,
            width: 100,
        }
    }
}

/// What the renderings need of one diagnostic: a checker [`Diagnostic`]
/// (`From`), or one made elsewhere with a code of its own (`iommugen dt`'s
/// `dt::W0314`, its labels in the `.dts` source), drawn by the same code.
#[derive(Clone, Copy, Debug)]
pub struct Item<'a> {
    pub severity: Severity,
    pub code: &'a str,
    pub message: &'a str,
    pub help: Option<&'a str>,
    pub labels: &'a [Label],
}

impl<'a> From<&'a Diagnostic> for Item<'a> {
    fn from(d: &'a Diagnostic) -> Self {
        Item {
            severity: d.severity,
            code: d.code.as_str(),
            message: &d.message,
            help: d.help.as_deref(),
            labels: &d.labels,
        }
    }
}

/// A source prepared for rendering: its name and its line index, built once.
#[derive(Clone, Debug)]
pub struct SourceFile<'s> {
    name: &'s str,
    lines: LineIndex<'s>,
}

impl<'s> SourceFile<'s> {
    /// Indexes `text` (one pass); `name` is what reports call it.
    pub fn new(name: &'s str, text: &'s str) -> Self {
        SourceFile {
            name,
            lines: LineIndex::new(text),
        }
    }

    pub fn name(&self) -> &'s str {
        self.name
    }

    pub fn text(&self) -> &'s str {
        self.lines.source()
    }

    pub fn lines(&self) -> &LineIndex<'s> {
        &self.lines
    }

    /// One diagnostic as miette's graphical report (Unicode box drawing;
    /// colour only if `style.color`). Any line length is fine: long lines
    /// are cut around the labels, long words in the text shortened.
    pub fn human(&self, diag: &Diagnostic, style: HumanStyle) -> String {
        self.human_item(Item::from(diag), style)
    }

    /// [`SourceFile::human`] for any [`Item`] whose labels are spans of
    /// this source.
    pub fn human_item(&self, item: Item<'_>, style: HumanStyle) -> String {
        let theme = if style.color {
            GraphicalTheme::unicode()
        } else {
            GraphicalTheme::unicode_nocolor()
        };
        let handler = GraphicalReportHandler::new_themed(theme)
            .with_width(style.width)
            .with_links(false);
        let spans: Vec<_> = item.labels.iter().map(|l| l.span.clone()).collect();
        let (excerpt, rebased) = excerpt::Excerpt::new(self.name, &self.lines, &spans);
        let shown = Shown {
            item,
            message: shorten(item.message),
            help: item.help.map(shorten),
            labels: item
                .labels
                .iter()
                .zip(rebased)
                .map(|(l, span)| {
                    let text = (!l.text.is_empty()).then(|| shorten(&l.text).into_owned());
                    if l.primary {
                        LabeledSpan::new_primary_with_span(text, span)
                    } else {
                        LabeledSpan::new_with_span(text, span)
                    }
                })
                .collect(),
            excerpt,
        };
        let mut out = String::new();
        if handler.render_report(&mut out, &shown).is_err() {
            // Rendering into a String fails only if the excerpt cannot be
            // read; fall back to the plain message rather than lose it.
            out = format!(
                "{}: {} [{}]\n",
                item.severity.as_str(),
                shown.message,
                item.code
            );
        }
        out
    }

    /// 1-based line and column (characters) of a byte offset; see
    /// [`LineIndex::line_col`].
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        self.lines.line_col(offset)
    }
}

/// One diagnostic rendered alone (indexes `source` for it: for many
/// diagnostics of one source, use [`SourceFile::human`]).
pub fn human(diag: &Diagnostic, file: &str, source: &str, style: HumanStyle) -> String {
    SourceFile::new(file, source).human(diag, style)
}

/// Every diagnostic of one file, in order, separated by blank lines.
pub fn human_all(diags: &[Diagnostic], file: &str, source: &str, style: HumanStyle) -> String {
    let file = SourceFile::new(file, source);
    diags
        .iter()
        .map(|d| file.human(d, style))
        .collect::<Vec<_>>()
        .join("\n")
}

/// 1-based line and column (in characters) of one byte offset, counted from
/// the start of `source`. Offsets past the end or inside a UTF-8 sequence are
/// clamped to the nearest boundary before. For many offsets, build a
/// [`LineIndex`] (or a [`SourceFile`]) once.
pub fn line_col(source: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(source.len());
    while !source.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &source[..offset];
    let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

/// How many diagnostics a report for people shows.
pub const SHOWN: usize = 100;

/// Shows the first diagnostics of a report (in the order offered: source
/// order within a file, files in the order given) and counts the rest, so
/// a file with 200,000 errors prints a hundred and one line saying what was
/// left off. Exit statuses are computed from all diagnostics, not from this.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cap {
    limit: usize,
    shown: usize,
    errors_left: usize,
    warnings_left: usize,
}

impl Default for Cap {
    fn default() -> Self {
        Cap::new(SHOWN)
    }
}

impl Cap {
    pub fn new(limit: usize) -> Self {
        Cap {
            limit,
            shown: 0,
            errors_left: 0,
            warnings_left: 0,
        }
    }

    /// Whether to show `diag`; counts it as left off if not.
    pub fn admit(&mut self, diag: &Diagnostic) -> bool {
        self.admit_severity(diag.severity)
    }

    /// [`Cap::admit`] for a diagnostic of this severity (an [`Item`]'s).
    pub fn admit_severity(&mut self, severity: Severity) -> bool {
        if self.shown < self.limit {
            self.shown += 1;
            return true;
        }
        if severity == Severity::Error {
            self.errors_left += 1;
        } else {
            self.warnings_left += 1;
        }
        false
    }

    /// Errors and warnings left off so far.
    pub fn left_off(&self) -> (usize, usize) {
        (self.errors_left, self.warnings_left)
    }

    /// `… and N more errors, M more warnings`, if anything was left off.
    pub fn summary(&self) -> Option<String> {
        let (e, w) = self.left_off();
        (e + w > 0).then(|| {
            format!(
                "… and {e} more error{}, {w} more warning{}",
                plural(e),
                plural(w)
            )
        })
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// Words (runs without whitespace) longer than this are shortened in the
/// human report: a 200,000-character name in a message would otherwise be
/// wrapped into 2,000 lines. JSON keeps the full text.
const LONG_WORD: usize = 64;

/// `text` with every word over [`LONG_WORD`] characters cut to its first
/// half and last quarter around `…`.
fn shorten(text: &str) -> Cow<'_, str> {
    let long = |w: &str| w.chars().nth(LONG_WORD).is_some();
    if !text.split_whitespace().any(long) {
        return Cow::Borrowed(text);
    }
    let mut out = String::new();
    for piece in text.split_inclusive(char::is_whitespace) {
        let word = piece.trim_end();
        if !long(word) {
            out.push_str(piece);
            continue;
        }
        let head = word.char_indices().nth(LONG_WORD / 2).map_or(0, |(i, _)| i);
        let tail = word
            .char_indices()
            .rev()
            .nth(LONG_WORD / 4 - 1)
            .map_or(0, |(i, _)| i);
        out.push_str(&word[..head]);
        out.push('…');
        out.push_str(&word[tail..]);
        out.push_str(&piece[word.len()..]);
    }
    Cow::Owned(out)
}

/// A diagnostic as shown: shortened text, labels re-based into the excerpt.
struct Shown<'a> {
    item: Item<'a>,
    message: Cow<'a, str>,
    help: Option<Cow<'a, str>>,
    labels: Vec<LabeledSpan>,
    excerpt: excerpt::Excerpt,
}

impl fmt::Debug for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.item, f)
    }
}

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Shown<'_> {}

impl miette::Diagnostic for Shown<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        Some(Box::new(self.item.code))
    }
    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.item.severity {
            Severity::Warning => miette::Severity::Warning,
            Severity::Error => miette::Severity::Error,
        })
    }
    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        if self.labels.is_empty() {
            return None;
        }
        Some(Box::new(self.labels.iter().cloned()))
    }
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.excerpt)
    }
}
