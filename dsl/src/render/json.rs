//! The JSON rendering: one object per diagnostic, every diagnostic listed
//! (machines get the full list; only the report for people is capped).

use std::io::{self, Write};

use serde_json::{json, Value};

use super::{Item, SourceFile};
use crate::diag::{Diagnostic, Label};

impl SourceFile<'_> {
    /// One diagnostic as a JSON object:
    /// `{file, severity, code, message, help, labels: [{label, primary,
    /// offset, length, line, column, end_line, end_column, column_utf16,
    /// end_column_utf16}]}`: offsets in bytes; lines and columns 1-based,
    /// `column` and `end_column` in characters, the `_utf16` ones in UTF-16
    /// code units (what LSP clients count); the end is the position just
    /// past the label's last character.
    pub fn json_value(&self, diag: &Diagnostic) -> Value {
        self.json_item(Item::from(diag))
    }

    /// [`SourceFile::json_value`] for any [`Item`] whose labels are spans
    /// of this source.
    pub fn json_item(&self, item: Item<'_>) -> Value {
        let labels: Vec<Value> = item.labels.iter().map(|l| self.json_label(l)).collect();
        json!({
            "file": self.name(),
            "severity": item.severity.as_str(),
            "code": item.code,
            "message": item.message,
            "help": item.help,
            "labels": labels,
        })
    }

    /// One label as the `labels[]` entry of [`SourceFile::json_value`].
    pub fn json_label(&self, l: &Label) -> Value {
        let end = l.span.end.max(l.span.start);
        let (line, column) = self.line_col(l.span.start);
        let (end_line, end_column) = self.line_col(end);
        json!({
            "label": l.text,
            "primary": l.primary,
            "offset": l.span.start,
            "length": end - l.span.start,
            "line": line,
            "column": column,
            "end_line": end_line,
            "end_column": end_column,
            "column_utf16": self.lines().column_utf16(l.span.start),
            "end_column_utf16": self.lines().column_utf16(end),
        })
    }
}

/// One diagnostic as a JSON object (indexes `source` for it: for many, use
/// [`SourceFile::json_value`]).
pub fn json_value(diag: &Diagnostic, file: &str, source: &str) -> Value {
    SourceFile::new(file, source).json_value(diag)
}

/// Diagnostics of many files as one pretty JSON array. Consecutive items of
/// the same source share one line index.
pub fn json_array<'a>(
    items: impl IntoIterator<Item = (&'a Diagnostic, &'a str, &'a str)>,
) -> String {
    let mut out = Vec::new();
    let mut current: Option<SourceFile<'a>> = None;
    let values = items.into_iter().map(|(d, file, source)| {
        let same = current
            .as_ref()
            .is_some_and(|f| f.name() == file && core::ptr::eq(f.text(), source));
        if !same {
            current = Some(SourceFile::new(file, source));
        }
        current.as_ref().map_or(Value::Null, |f| f.json_value(d))
    });
    // Writing into a Vec cannot fail.
    let _ = write_values(&mut out, values);
    String::from_utf8(out).unwrap_or_else(|_| "[]".to_owned())
}

/// Writes diagnostics as one pretty JSON array (the same bytes as
/// [`json_array`]), one object at a time, so a report of 200,000
/// diagnostics is never all in memory.
pub fn write_json_array<'a, 's: 'a>(
    out: &mut impl Write,
    items: impl IntoIterator<Item = (&'a Diagnostic, &'a SourceFile<'s>)>,
) -> io::Result<()> {
    write_values(out, items.into_iter().map(|(d, f)| f.json_value(d)))
}

/// `serde_json::to_writer_pretty` of an array, without building it: each
/// element pretty-printed and indented one level (strings escape their
/// newlines, so indenting after each `\n` touches only the layout).
fn write_values(out: &mut impl Write, values: impl Iterator<Item = Value>) -> io::Result<()> {
    let mut first = true;
    let mut buf = Vec::new();
    for v in values {
        out.write_all(if first { b"[\n  " } else { b",\n  " })?;
        first = false;
        buf.clear();
        serde_json::to_writer_pretty(&mut buf, &v)?;
        for (i, line) in buf.split(|&b| b == b'\n').enumerate() {
            if i > 0 {
                out.write_all(b"\n  ")?;
            }
            out.write_all(line)?;
        }
    }
    out.write_all(if first { b"[]" } else { b"\n]" })
}
