//! Rendering diagnostics: miette's graphical report for people, JSON for
//! machines. The CLI, build scripts (codegen) and `iommugen dt` share these.

use miette::{GraphicalReportHandler, GraphicalTheme};
use serde_json::{json, Value};

use crate::diag::Diagnostic;

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

/// One diagnostic as miette's graphical report (Unicode box drawing; colour
/// only if `style.color`).
pub fn human(diag: &Diagnostic, file: &str, source: &str, style: HumanStyle) -> String {
    let theme = if style.color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(style.width)
        .with_links(false);
    let mut out = String::new();
    let with_source = diag.with_source(file, source);
    if handler.render_report(&mut out, &with_source).is_err() {
        // Rendering into a String cannot fail short of a formatter bug; fall
        // back to the plain message rather than losing the diagnostic.
        out = format!(
            "{}: {} [{}]\n",
            diag.severity.as_str(),
            diag.message,
            diag.code
        );
    }
    out
}

/// Every diagnostic of one file, in order, separated by blank lines.
pub fn human_all(diags: &[Diagnostic], file: &str, source: &str, style: HumanStyle) -> String {
    diags
        .iter()
        .map(|d| human(d, file, source, style))
        .collect::<Vec<_>>()
        .join("\n")
}

/// 1-based line and column (in characters) of a byte offset. Offsets past the
/// end or inside a UTF-8 sequence are clamped to the nearest boundary before.
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

/// One diagnostic as a JSON object:
/// `{file, severity, code, message, help, labels: [{label, offset, length, line, column}]}`.
pub fn json_value(diag: &Diagnostic, file: &str, source: &str) -> Value {
    let labels: Vec<Value> = diag
        .labels
        .iter()
        .map(|l| {
            let (line, column) = line_col(source, l.span.start);
            json!({
                "label": l.text,
                "primary": l.primary,
                "offset": l.span.start,
                "length": l.span.end.saturating_sub(l.span.start),
                "line": line,
                "column": column,
            })
        })
        .collect();
    json!({
        "file": file,
        "severity": diag.severity.as_str(),
        "code": diag.code.as_str(),
        "message": diag.message,
        "help": diag.help,
        "labels": labels,
    })
}

/// Diagnostics of many files as one pretty JSON array.
pub fn json_array<'a>(
    items: impl IntoIterator<Item = (&'a Diagnostic, &'a str, &'a str)>,
) -> String {
    let values: Vec<Value> = items
        .into_iter()
        .map(|(d, file, source)| json_value(d, file, source))
        .collect();
    serde_json::to_string_pretty(&Value::Array(values)).unwrap_or_else(|_| "[]".to_owned())
}
