//! What the word under the cursor means: a keyword, parameter or format
//! name (from [`super::words`]), a field (its type and sources, as
//! written), or `cell[N]` (which fields read that cell and which of its
//! bits are ignored).

use crate::ast::{DriverAst, ItemKind, SourceBase, SpecAst, WordAst};
use crate::ir::Span;

use super::{driver_at, word_at, words};

/// Markdown text and the span it describes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hover {
    pub text: String,
    pub span: Span,
}

/// The hover at `offset` in `source` (whose parse is `spec`).
pub fn hover(source: &str, spec: &SpecAst, offset: usize) -> Option<Hover> {
    if let Some(d) = driver_at(spec, offset) {
        if let Some((span, index)) = cell_at(source, offset) {
            return Some(Hover {
                text: cell_text(source, d, index),
                span,
            });
        }
        if let Some((span, word)) = word_at(source, offset, false) {
            if let Some(text) = field_text(source, d, word) {
                return Some(Hover { text, span });
            }
        }
    }
    let (span, word) = word_at(source, offset, true)?;
    let meaning = words::meaning(word).or_else(|| {
        // `page-table` is one word, `a-b` in an expression is not.
        let (_, w) = word_at(source, offset, false)?;
        words::meaning(w)
    })?;
    Some(Hover {
        text: meaning.to_owned(),
        span,
    })
}

/// `cell[N]` around `offset`: its span and `N`.
fn cell_at(source: &str, offset: usize) -> Option<(Span, u64)> {
    let (span, word) = word_at(source, offset, false)?;
    let start = if word == "cell" {
        span.start
    } else if word.bytes().all(|b| b.is_ascii_digit())
        && source.get(..span.start)?.ends_with("cell[")
    {
        span.start - 5
    } else {
        return None;
    };
    let rest = source.get(start + 5..)?;
    if !source.get(start..)?.starts_with("cell[") {
        return None;
    }
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let n = rest.get(..digits)?.parse().ok()?;
    rest.get(digits..)?
        .starts_with(']')
        .then(|| (start..start + 5 + digits + 1, n))
}

fn cell_text(source: &str, d: &DriverAst, index: u64) -> String {
    let counts: Vec<String> = d
        .items
        .iter()
        .filter_map(|i| match &i.kind {
            ItemKind::Cells(c) => Some(c.iter().map(|n| n.value.to_string()).collect::<Vec<_>>()),
            _ => None,
        })
        .flatten()
        .collect();
    let mut text = format!(
        "`cell[{index}]`: cell {index} of the IOMMU specifier, present when it has more than {index} cell{} (this driver: `cells {}`).",
        if index == 1 { "" } else { "s" },
        if counts.is_empty() { "?".to_owned() } else { counts.join(" | ") }
    );
    let mut readers = Vec::new();
    let mut ignored = Vec::new();
    for item in &d.items {
        match &item.kind {
            ItemKind::Field(f) => {
                for s in &f.sources {
                    if matches!(&s.base, SourceBase::Cell(n) if n.value == index) {
                        readers.push(format!(
                            "- `{}: u{}` = `{}`",
                            f.name.name,
                            f.width.value,
                            source.get(s.span.clone()).unwrap_or("")
                        ));
                    }
                }
            }
            ItemKind::Ignore(list) => {
                for g in list {
                    if matches!(&g.word, WordAst::Cell(n) if n.value == index) {
                        ignored.push(format!("`{}`", source.get(g.span.clone()).unwrap_or("")));
                    }
                }
            }
            _ => {}
        }
    }
    if readers.is_empty() {
        text.push_str("\n\nNo field reads it.");
    } else {
        text.push_str("\n\nRead by:\n");
        text.push_str(&readers.join("\n"));
    }
    if !ignored.is_empty() {
        text.push_str("\n\nIgnored: ");
        text.push_str(&ignored.join(", "));
    }
    text
}

fn field_text(source: &str, d: &DriverAst, name: &str) -> Option<String> {
    d.items.iter().find_map(|i| match &i.kind {
        ItemKind::Field(f) if f.name.name == name => Some(format!(
            "field `{name}`: `u{}`\n\n```iommu\n{}\n```",
            f.width.value,
            source.get(i.span.clone()).unwrap_or("").trim_end()
        )),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: &str = "driver d {\n    cells 1 | 2;\n    field sid: u16 = cell[0][15:0];\n    ignore cell[0][31:16];\n    check sid < 8;\n    page-table arm-lpae-s1 { granule 4K; }\n}\n";

    fn at(needle: &str, plus: usize) -> Option<Hover> {
        let (spec, _) = crate::parse::parse(SRC);
        hover(SRC, &spec, SRC.find(needle).unwrap() + plus)
    }

    #[test]
    fn keywords_and_formats() {
        let h = at("cells", 2).unwrap();
        assert!(h.text.starts_with("`cells N;`"), "{}", h.text);
        assert_eq!(&SRC[h.span], "cells");
        let h = at("page-table", 6).unwrap();
        assert_eq!(&SRC[h.span.clone()], "page-table");
        let h = at("lpae", 1).unwrap();
        assert!(h.text.contains("stage 1"), "{}", h.text);
        assert!(at("granule", 0).unwrap().text.contains("4K, 16K or 64K"));
    }

    #[test]
    fn a_field_shows_its_type_and_source() {
        let h = at("sid <", 1).unwrap();
        assert!(h.text.starts_with("field `sid`: `u16`"), "{}", h.text);
        assert!(h.text.contains("cell[0][15:0]"));
    }

    #[test]
    fn a_cell_shows_its_readers() {
        for plus in [0, 3, 5] {
            let h = at("cell[0][15", plus).unwrap();
            assert_eq!(&SRC[h.span.clone()], "cell[0]");
            assert!(
                h.text.contains("- `sid: u16` = `cell[0][15:0]`"),
                "{}",
                h.text
            );
            assert!(h.text.contains("Ignored: `cell[0][31:16]`"), "{}", h.text);
            assert!(h.text.contains("`cells 1 | 2`"), "{}", h.text);
        }
    }

    #[test]
    fn child_where_and_its_field() {
        let src = "driver d {\n    field asid: u32 = cell[0];\n    child \"q,ns\" where asid == property \"reg\" >> 12;\n}\n";
        let (spec, _) = crate::parse::parse(src);
        let on = |needle: &str| hover(src, &spec, src.find(needle).unwrap() + 1).unwrap();
        let h = on("child");
        assert!(h.text.starts_with("`child \"COMPAT\""), "{}", h.text);
        assert!(on("where")
            .text
            .contains("the field the child's key must equal"));
        let h = on("asid ==");
        assert!(h.text.starts_with("field `asid`: `u32`"), "{}", h.text);
    }

    #[test]
    fn nothing_on_punctuation_or_past_the_end() {
        let (spec, _) = crate::parse::parse(SRC);
        assert_eq!(hover(SRC, &spec, SRC.len() + 10), None);
        assert_eq!(hover(SRC, &spec, SRC.find('{').unwrap() + 1), None);
    }
}
