//! What may be typed at the cursor: statement keywords valid in the
//! enclosing block, format names after `page-table`, parameter names inside
//! its braces, field names inside `check` and `id` expressions.
//!
//! Read from the lossless tokens of [`crate::lex`], not the tree: the text
//! being typed rarely parses, and the lexer never fails.

use iommugen_runtime::pgtable::legal::FormatName;

use crate::lex::{self, Kind};

use super::word_at;
use super::words::{self, Scope};

/// What a candidate is (editors pick an icon from it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CandidateKind {
    Keyword,
    Format,
    Field,
    Value,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    pub label: String,
    pub kind: CandidateKind,
    /// What it means, or a field's type.
    pub detail: String,
}

/// The block a token sits in.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Block {
    Driver,
    PageTable,
    Dma,
    Other,
}

/// Candidates at `offset`, unfiltered (the editor filters by the word
/// typed so far). Nothing inside comments and strings.
pub fn candidates(source: &str, offset: usize) -> Vec<Candidate> {
    let offset = offset.min(source.len());
    // The word being typed is not part of the context.
    let typed_from = word_at(source, offset, true).map_or(offset, |(s, _)| s.start.min(offset));
    let mut blocks: Vec<Block> = Vec::new();
    // Start of the current statement's first significant token, and how
    // many significant tokens it has so far.
    let mut stmt: Option<usize> = None;
    let mut stmt_tokens = 0usize;
    // The statement's second significant token (`master one` or `master same`).
    let mut second: Option<&str> = None;
    let mut saw_eq = false;
    // In a `child` statement: the last token was `where`.
    let mut after_where = false;
    let mut fields: Vec<(String, String)> = Vec::new();
    let mut pending_field = false;
    for t in lex::tokens(source) {
        // Inside a comment or string (or at the end of a line comment):
        // no completion.
        let inside = t.span.start < offset && offset < t.span.end;
        let at_end = offset == t.span.end && matches!(t.kind, Kind::LineComment | Kind::DocComment);
        if (t.kind.is_comment() || t.kind == Kind::Str) && (inside || at_end) {
            return Vec::new();
        }
        if t.span.start >= typed_from {
            break;
        }
        if t.kind.is_layout() || t.kind.is_comment() {
            continue;
        }
        let text = t.text(source);
        match text {
            "{" => {
                let first = stmt.and_then(|s| word_at(source, s, true)).map(|(_, w)| w);
                let b = match (blocks.last(), first) {
                    (None, Some("driver")) => {
                        fields.clear();
                        Block::Driver
                    }
                    (Some(Block::Driver), Some("page-table" | "requests")) => Block::PageTable,
                    (Some(Block::Driver), Some("dma")) => Block::Dma,
                    _ => Block::Other,
                };
                blocks.push(b);
                stmt = None;
            }
            "}" => {
                blocks.pop();
                stmt = None;
            }
            ";" => stmt = None,
            _ => {
                if stmt.is_none() {
                    stmt = Some(t.span.start);
                    stmt_tokens = 0;
                    second = None;
                    saw_eq = false;
                    pending_field = blocks.last() == Some(&Block::Driver) && text == "field";
                } else if pending_field && t.kind == Kind::Ident {
                    fields.push((text.to_owned(), String::new()));
                    pending_field = false;
                } else if text == "=" || text == "==" {
                    saw_eq = true;
                } else if t.kind == Kind::Ident
                    && fields.last().is_some_and(|f| f.1.is_empty())
                    && text.starts_with('u')
                    && !saw_eq
                {
                    if let Some(last) = fields.last_mut() {
                        last.1 = text.to_owned();
                    }
                }
                if stmt_tokens == 1 {
                    second = Some(text);
                }
                stmt_tokens += 1;
                after_where = text == "where";
            }
        }
        if stmt.is_none() {
            stmt_tokens = 0;
        }
    }
    let first = stmt.and_then(|s| word_at(source, s, true)).map(|(_, w)| w);
    let keywords = |scope| {
        words::in_scope(scope)
            .map(|(w, m)| Candidate {
                label: w.to_owned(),
                kind: CandidateKind::Keyword,
                detail: m.to_owned(),
            })
            .collect()
    };
    let values = |list: &[&str]| {
        list.iter()
            .map(|w| Candidate {
                label: (*w).to_owned(),
                kind: CandidateKind::Value,
                detail: words::meaning(w).unwrap_or("").to_owned(),
            })
            .collect()
    };
    let only_first = stmt_tokens <= 3 && !saw_eq;
    match (blocks.last().copied(), first) {
        (None, None) => keywords(Scope::Top),
        (None, Some("driver")) if stmt_tokens == 2 => values(&["extends"]),
        (Some(Block::Driver), None) => keywords(Scope::Driver),
        (Some(Block::PageTable), None) => keywords(Scope::PageTable),
        (Some(Block::Dma), None) => keywords(Scope::Dma),
        (Some(Block::Driver), Some("page-table")) if only_first => FormatName::ALL
            .iter()
            .map(|f| Candidate {
                label: f.dsl_name().to_owned(),
                kind: CandidateKind::Format,
                detail: words::meaning(f.dsl_name()).unwrap_or("").to_owned(),
            })
            .collect(),
        (Some(Block::Driver), Some("requests")) if only_first => values(&["virtio-iommu"]),
        (Some(Block::Driver), Some("pci")) => values(&["iommu-map"]),
        (Some(Block::Driver), Some("allow")) if stmt_tokens == 1 => values(&["masters"]),
        (Some(Block::Driver), Some("deny")) if stmt_tokens == 1 => values(&["soc"]),
        (Some(Block::Driver), Some("deny")) if stmt_tokens >= 3 => values(&["revision"]),
        (Some(Block::Driver), Some("main")) if only_first => values(&["property"]),
        (Some(Block::Driver), Some("contexts")) if stmt_tokens == 2 => values(&["reserved"]),
        (Some(Block::Driver), Some("master")) if stmt_tokens == 1 => values(&["one", "same"]),
        (Some(Block::Driver), Some("master")) if stmt_tokens == 2 && second == Some("one") => {
            values(&["instance"])
        }
        (Some(Block::Driver), Some("field")) if saw_eq => {
            values(&["cell", "property", "master", "else"])
        }
        (Some(Block::Driver), Some("child")) if saw_eq => values(&["property", "else"]),
        (Some(Block::Driver), Some("child")) if !after_where && stmt_tokens >= 2 => {
            values(&["where"])
        }
        (Some(Block::Driver), Some("check" | "id" | "child" | "master")) => fields
            .into_iter()
            .map(|(name, ty)| Candidate {
                label: name,
                kind: CandidateKind::Field,
                detail: if ty.is_empty() {
                    "field".to_owned()
                } else {
                    format!("field: {ty}")
                },
            })
            .collect(),
        (Some(Block::Dma), Some("domain")) => values(&["per-instance", "per-device", "per-group"]),
        (Some(Block::Dma), Some("default")) => values(&["translated", "identity"]),
        (Some(Block::PageTable), Some("generation")) => values(&[
            "t8103", "t6000", "tegra30", "tegra114", "tegra124", "tegra132", "tegra210",
        ]),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(src_with_cursor: &str) -> Vec<String> {
        let at = src_with_cursor.find('|').unwrap();
        let src = src_with_cursor.replacen('|', "", 1);
        candidates(&src, at).into_iter().map(|c| c.label).collect()
    }

    #[test]
    fn main_offers_property() {
        assert_eq!(labels("driver d {\n    main |\n}"), ["property"]);
    }

    #[test]
    fn child_statement_offers_where_then_fields_then_sources() {
        let head = "driver d {\n    field asid: u8 = cell[0];\n    ";
        assert_eq!(labels(&format!("{head}child \"q,ns\" |\n}}")), ["where"]);
        assert_eq!(
            labels(&format!("{head}child \"q,ns\" where |\n}}")),
            ["asid"]
        );
        assert_eq!(
            labels(&format!("{head}child \"q,ns\" where asid == |\n}}")),
            ["property", "else"]
        );
    }

    #[test]
    fn statement_keywords_by_block() {
        assert_eq!(labels("|"), ["driver"]);
        assert_eq!(labels("dri|"), ["driver"]);
        assert_eq!(labels("driver d |"), ["extends"]);
        assert_eq!(labels("driver d ext|"), ["extends"]);
        assert!(labels("driver d extends |").is_empty());
        let driver = labels("driver d {\n    cells 1;\n    |\n}");
        assert!(
            driver.contains(&"compatible".to_owned()) && driver.contains(&"page-table".to_owned())
        );
        assert!(!driver.contains(&"granule".to_owned()));
        let pt = labels("driver d { page-table arm-lpae-s1 { granule 4K; gr| } }");
        assert!(pt.contains(&"granule".to_owned()) && pt.contains(&"pool".to_owned()));
        assert!(!pt.contains(&"cells".to_owned()));
        assert_eq!(
            labels("driver d { dma { | } }"),
            ["domain", "group", "shared-domains", "default", "aperture"]
        );
        assert_eq!(labels("driver d { allow | }"), ["masters"]);
        assert_eq!(labels("driver d { deny | }"), ["soc"]);
        assert_eq!(labels("driver d { deny soc \"a,b\" | }"), ["revision"]);
        assert_eq!(labels("driver d { contexts 8 | }"), ["reserved"]);
        assert_eq!(labels("driver d { master | }"), ["one", "same"]);
        assert_eq!(labels("driver d { master one | }"), ["instance"]);
        assert_eq!(
            labels("driver d { field larb: u5 = cell[0]; master same | }"),
            ["larb"]
        );
        assert!(labels("driver d { field f: u8 = | }").contains(&"master".to_owned()));
        assert_eq!(
            labels("driver d { dma { domain per-| } }"),
            ["per-instance", "per-device", "per-group"]
        );
    }

    #[test]
    fn formats_after_page_table() {
        let f = labels("driver d { page-table arm-l| }");
        assert!(
            f.contains(&"arm-lpae-s1".to_owned()) && f.contains(&"apple-dart".to_owned()),
            "{f:?}"
        );
        assert_eq!(labels("driver d { requests | }"), ["virtio-iommu"]);
        assert!(f.contains(&"tegra-smmu".to_owned()), "{f:?}");
        // Both formats' generations, each with its hover text as detail.
        let g = candidates("driver d { page-table tegra-smmu { generation  } }", 46);
        let names: Vec<&str> = g.iter().map(|c| c.label.as_str()).collect();
        assert!(
            names.contains(&"tegra124") && names.contains(&"t8103"),
            "{names:?}"
        );
        let t124 = g
            .iter()
            .find(|c| c.label == "tegra124")
            .map(|c| c.detail.as_str());
        assert!(t124.is_some_and(|d| d.contains("34-bit")), "{t124:?}");
    }

    #[test]
    fn fields_inside_expressions() {
        let src = "driver d {\n field sid: u16 = cell[0];\n field mask: u8 = 0;\n check s| < 3;\n}";
        assert_eq!(labels(src), ["sid", "mask"]);
        let at = src.find('|').unwrap();
        let c = candidates(&src.replacen('|', "", 1), at);
        assert_eq!(c[0].detail, "field: u16");
        assert_eq!(
            labels("driver a { field x: u1 = 0; }\ndriver b { field y: u2 = 0; id = | }"),
            ["y"]
        );
    }

    #[test]
    fn nothing_in_comments_or_strings() {
        assert!(labels("driver d { // dr| \n}").is_empty());
        assert!(labels("driver d { compatible \"ar|m\"; }").is_empty());
        assert!(labels("/* dri| */").is_empty());
    }
}
