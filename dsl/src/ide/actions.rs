//! Quick fixes for the checker's diagnostics, read from the diagnostic
//! itself (code, message, help) and the tree:
//! - a did-you-mean help (`E0101` unknown item, `E0205` unknown field,
//!   `E0408` unknown format, …): replace the word with the suggestion;
//! - a missing required statement (`E0103`, `E0104`): insert the help's
//!   example as a skeleton before the driver's (or block's) closing brace;
//! - a field type too narrow for its source (`E0203`): widen the type to
//!   the bits the source gives; too wide (`W0002`): narrow it as the help
//!   says.

use crate::ast::{DriverAst, ItemKind, SpecAst};
use crate::diag::{Code, Diagnostic};
use crate::ir::Span;

/// One fix: a title and the edits (byte span replaced by text) it makes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fix {
    pub title: String,
    pub edits: Vec<(Span, String)>,
}

/// The fixes for `diag`, a diagnostic of `source` (whose parse is `spec`).
pub fn fixes(source: &str, spec: &SpecAst, diag: &Diagnostic) -> Vec<Fix> {
    let Some(at) = diag.primary_span() else {
        return Vec::new();
    };
    let help = diag.help.as_deref().unwrap_or("");
    let word = source.get(at.clone()).unwrap_or("");
    let mut out = Vec::new();
    if let Some(s) = quoted_after(help, "did you mean ") {
        out.push(Fix {
            title: format!("Replace `{word}` with `{s}`"),
            edits: vec![(at.clone(), s.to_owned())],
        });
    }
    match diag.code {
        Code::MissingItem | Code::MissingInit => out.extend(missing(source, spec, diag, &at, help)),
        Code::FieldTooNarrow => out.extend(widen(spec, diag, &at)),
        Code::FieldWiderThanBits => {
            if let Some(ty) = quoted_after(help, "declare it ") {
                out.push(Fix {
                    title: format!("Narrow the field to `{ty}`"),
                    edits: vec![(at, ty.to_owned())],
                });
            }
        }
        _ => {}
    }
    out
}

/// The text between the backticks right after `lead` in `text`.
fn quoted_after<'t>(text: &'t str, lead: &str) -> Option<&'t str> {
    let rest = text
        .get(text.find(lead)? + lead.len()..)?
        .strip_prefix('`')?;
    rest.get(..rest.find('`')?)
}

/// Inserts the help's first example (`e.g. `…``, or `add `…` inside the
/// braces`) before the closing brace of the driver or block at `at`.
fn missing(source: &str, spec: &SpecAst, diag: &Diagnostic, at: &Span, help: &str) -> Option<Fix> {
    let example = quoted_after(help, "e.g. ").or_else(|| quoted_after(help, "add "))?;
    let d: &DriverAst = spec
        .drivers
        .iter()
        .find(|d| d.span.start <= at.start && at.end <= d.span.end)?;
    let (container, indent) = if d.name.span == *at {
        (d.span.clone(), 4)
    } else {
        let block = d.items.iter().find(|i| match &i.kind {
            ItemKind::PageTable(pt) => pt.format.span == *at,
            _ => false,
        })?;
        (block.span.clone(), 8)
    };
    let close = container.end.checked_sub(1)?;
    if source.as_bytes().get(close) != Some(&b'}') {
        return None;
    }
    let line_start = source.get(..close)?.rfind('\n').map_or(0, |i| i + 1);
    let own_line = source
        .get(line_start..close)?
        .bytes()
        .all(|b| b == b' ' || b == b'\t');
    let (at, text) = if own_line {
        (line_start, format!("{}{example}\n", " ".repeat(indent)))
    } else {
        (close, format!(" {example} "))
    };
    let what = diag
        .message
        .rsplit('`')
        .nth(1)
        .unwrap_or("the missing statement");
    Some(Fix {
        title: format!("Add `{what}`: `{example}`"),
        edits: vec![(at..at, text)],
    })
}

/// Widens the field the diagnostic names to the bits its message gives.
fn widen(spec: &SpecAst, diag: &Diagnostic, at: &Span) -> Option<Fix> {
    let m = &diag.message;
    let field = quoted_after(m, "field ")?;
    let bits: u32 = if let Some(rest) = m.strip_prefix("this source gives ") {
        rest.split(' ').next()?.parse().ok()?
    } else {
        m.split(" needs ").nth(1)?.split(' ').next()?.parse().ok()?
    };
    if !(1..=32).contains(&bits) {
        return None;
    }
    let d = spec
        .drivers
        .iter()
        .find(|d| d.span.start <= at.start && at.end <= d.span.end)?;
    let width = d.items.iter().find_map(|i| match &i.kind {
        ItemKind::Field(f) if f.name.name == field => Some(f.width.span.clone()),
        _ => None,
    })?;
    Some(Fix {
        title: format!("Widen `{field}` to `u{bits}`"),
        edits: vec![(width, format!("u{bits}"))],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apply(src: &str, fix: &Fix) -> String {
        let mut out = src.to_owned();
        for (span, text) in fix.edits.iter().rev() {
            out.replace_range(span.clone(), text);
        }
        out
    }

    fn fixes_for(src: &str, code: Code) -> (Vec<Fix>, Vec<Diagnostic>) {
        let checked = crate::check_source("t.iommu", src);
        let (spec, _) = crate::parse::parse(src);
        let d: Vec<_> = checked
            .diagnostics
            .iter()
            .filter(|d| d.code == code)
            .cloned()
            .collect();
        let f = d.iter().flat_map(|d| fixes(src, &spec, d)).collect();
        (f, d)
    }

    const GOOD: &str = "driver d {\n    compatible \"a,b\";\n    cells 1;\n    field s: u16 = cell[0][15:0];\n    id = s;\n    page-table arm-lpae-s1 {\n        granule 4K;\n        ias 48;\n        oas 48;\n        pool 64;\n    }\n    init crate::p;\n}\n";

    fn clean(src: &str) {
        let c = crate::check_source("t.iommu", src);
        assert!(c.diagnostics.is_empty(), "{src}\n{:?}", c.diagnostics);
    }

    #[test]
    fn did_you_mean_replaces_the_word() {
        let src = GOOD.replace("    cells 1;", "    celss 1;");
        let (f, _) = fixes_for(&src, Code::UnknownItem);
        assert_eq!(f[0].title, "Replace `celss` with `cells`");
        clean(&apply(&src, &f[0]));
    }

    #[test]
    fn a_misspelt_probe_field_is_replaced() {
        let src = GOOD.replace("    id = s;\n", "    id = s;\n    master same ss;\n");
        let (f, _) = fixes_for(&src, Code::ProbeUnknownField);
        assert_eq!(f[0].title, "Replace `ss` with `s`");
        clean(&apply(&src, &f[0]));
    }

    #[test]
    fn a_missing_statement_gets_a_skeleton() {
        let src = GOOD.replace("    init crate::p;\n", "");
        let (f, _) = fixes_for(&src, Code::MissingInit);
        assert_eq!(f.len(), 1);
        let fixed = apply(&src, &f[0]);
        assert!(fixed.contains("    init crate::smmu::probe;\n}"), "{fixed}");
        clean(&fixed);
        let src = GOOD.replace("        pool 64;\n", "");
        let (f, _) = fixes_for(&src, Code::MissingItem);
        let fixed = apply(&src, &f[0]);
        assert!(fixed.contains("        pool "), "{fixed}");
        clean(&fixed);
    }

    #[test]
    fn a_narrow_field_is_widened() {
        let src = GOOD.replace("s: u16", "s: u8");
        let (f, d) = fixes_for(&src, Code::FieldTooNarrow);
        assert_eq!(d.len(), 1);
        assert_eq!(f[0].title, "Widen `s` to `u16`");
        clean(&apply(&src, &f[0]));
        let src = GOOD.replace("s: u16", "s: u32");
        let (f, _) = fixes_for(&src, Code::FieldWiderThanBits);
        clean(&apply(&src, &f[0]));
    }
}
