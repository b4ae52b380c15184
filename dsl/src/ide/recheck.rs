//! Re-checking a document after an edit without re-reading all of it.
//!
//! The checker works driver by driver (see `stream` in `lib.rs`); only the
//! rules across drivers (a name defined twice, `E0105`; a compatible
//! claimed twice, `E0601`) look past one. A [`Document`] keeps each
//! driver's span, its own diagnostics (parser and checker) and the keys
//! those rules need. An edit strictly inside one driver re-parses and
//! re-checks that driver alone, shifts the spans after it, and replays the
//! rules across drivers from the kept keys (`Checker::replay`, the same
//! code `check_source` runs). Anything else (an edit between drivers, one
//! that moves a driver's end, a driver that no longer reads as one) reads
//! the whole text again. Either way [`Document::diagnostics`] is what
//! [`crate::diagnose_source`] says of the text (tested below and in the
//! server's proptest).

use std::borrow::Cow;

use crate::ast::DriverAst;
use crate::check::{self, Checker};
use crate::diag::{Code, Diagnostic};
use crate::ir::Span;
use crate::lex::Kind;

/// One driver as last checked.
#[derive(Clone, Debug)]
struct Entry {
    span: Span,
    name: String,
    name_span: Span,
    /// The base `extends` names, and where.
    extends: Option<(String, Span)>,
    claims: Vec<(String, Span)>,
    /// The parser's diagnostics inside the driver.
    parse: Vec<Diagnostic>,
    /// The checker's diagnostics of the driver alone.
    own: Vec<Diagnostic>,
}

/// A source and what the checker said of each of its drivers.
#[derive(Clone, Debug)]
pub struct Document {
    text: String,
    /// The parser's diagnostics outside every driver.
    loose: Vec<Diagnostic>,
    drivers: Vec<Entry>,
}

impl Document {
    /// Reads and checks `text` whole.
    pub fn new(text: String) -> Self {
        let (loose, drivers) = read(&text);
        Document {
            text,
            loose,
            drivers,
        }
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// Replaces `span` (clamped, moved to character boundaries) by
    /// `new_text` and re-checks what the edit touched.
    pub fn edit(&mut self, span: Span, new_text: &str) {
        let clamp = |mut at: usize| {
            at = at.min(self.text.len());
            while !self.text.is_char_boundary(at) {
                at -= 1;
            }
            at
        };
        let (a, b) = (
            clamp(span.start.min(span.end)),
            clamp(span.end.max(span.start)),
        );
        let inside = self
            .drivers
            .partition_point(|d| d.span.end <= b)
            .min(self.drivers.len());
        let target = self
            .drivers
            .get(inside)
            .filter(|d| d.span.start < a && b < d.span.end)
            .map(|d| d.span.clone())
            // A driver the parser's recovery let run over its neighbours
            // (an unclosed one) is not a driver on its own.
            .filter(|d| {
                let before = inside.checked_sub(1).and_then(|i| self.drivers.get(i));
                let after = self.drivers.get(inside + 1);
                before.is_none_or(|p| p.span.end <= d.start)
                    && after.is_none_or(|n| d.end <= n.span.start)
            })
            // A parser diagnostic kept outside every driver but touching
            // this one (an empty one at its last byte, "found end of
            // item") may belong to what the edit changes.
            .filter(|d| {
                !self.loose.iter().any(|l| {
                    l.primary_span()
                        .is_some_and(|s| s.start <= d.end && d.start <= s.end)
                })
            });
        self.text.replace_range(a..b, new_text);
        let delta = new_text.len() as isize - (b - a) as isize;
        if let Some(old) = target {
            let end = (old.end as isize + delta) as usize;
            if let Some(entry) = self.text.get(old.start..end).and_then(alone) {
                let mut entry = entry;
                shift_entry(&mut entry, 0, old.start as isize);
                self.drivers[inside] = entry;
                for d in &mut self.drivers[inside + 1..] {
                    shift_entry(d, 0, delta);
                }
                for d in &mut self.loose {
                    shift(d, b, delta);
                }
                return;
            }
        }
        let (loose, drivers) = read(&self.text);
        self.loose = loose;
        self.drivers = drivers;
    }

    /// The diagnostics of the text, as [`crate::diagnose_source`] gives them.
    pub fn diagnostics(&self) -> Vec<Diagnostic> {
        let mut diags = self.loose.clone();
        for d in &self.drivers {
            diags.extend_from_slice(&d.parse);
        }
        let mut checker = Checker::with_capacity(self.drivers.len()).without_ir();
        for d in &self.drivers {
            let claims = d
                .claims
                .iter()
                .map(|(v, s)| (Cow::Borrowed(v.as_str()), s.clone()));
            let extends = d.extends.as_ref().map(|(b, s)| (b.as_str(), s));
            checker.replay(
                Cow::Borrowed(d.name.as_str()),
                &d.name_span,
                extends,
                &d.own,
                claims,
            );
        }
        diags.extend(checker.finish().diagnostics);
        crate::finish(None, diags).diagnostics
    }
}

/// The diagnostics of several documents checked together, as
/// [`crate::diagnose_sources`] gives them (`E0601` across files included),
/// one list per document in order.
pub fn diagnose_documents(docs: &[(&str, &Document)]) -> Vec<Vec<Diagnostic>> {
    let mut out: Vec<Vec<Diagnostic>> = docs.iter().map(|(_, d)| d.diagnostics()).collect();
    if docs.len() > 1 {
        let names: Vec<&str> = docs.iter().map(|(n, _)| *n).collect();
        let claims: Vec<Vec<crate::Claim<'_>>> = docs
            .iter()
            .map(|(_, d)| {
                d.drivers
                    .iter()
                    .flat_map(|e| {
                        e.claims.iter().map(|(v, s)| crate::Claim {
                            value: Cow::Borrowed(v.as_str()),
                            owner: Cow::Borrowed(e.name.as_str()),
                            span: s.clone(),
                        })
                    })
                    .collect()
            })
            .collect();
        for (i, diag) in check::cross_file_claims(&names, &claims) {
            if let Some(list) = out.get_mut(i) {
                list.push(diag);
            }
        }
        out = out
            .into_iter()
            .map(|d| crate::finish(None, d).diagnostics)
            .collect();
    }
    out
}

/// Parses and checks `text` driver by driver: the diagnostics outside
/// every driver, and each driver's entry.
fn read(text: &str) -> (Vec<Diagnostic>, Vec<Entry>) {
    let mut drivers = Vec::new();
    let parse = crate::parse::parse_each(text, |d| drivers.push(entry(&d)));
    let mut loose = Vec::new();
    for diag in parse {
        let at = diag.primary_span().map(|s| s.start);
        let owner = at.and_then(|at| {
            let i = drivers.partition_point(|d: &Entry| d.span.end <= at);
            drivers
                .get_mut(i)
                .filter(|d: &&mut Entry| d.span.start <= at)
        });
        match owner {
            Some(d) => d.parse.push(diag),
            None => loose.push(diag),
        }
    }
    (loose, drivers)
}

/// `slice` read as exactly one whole driver, as it reads inside the file:
/// `None` when it reads otherwise (then the file is read again whole).
/// Besides reading as one driver from its first byte to its last, every
/// string and block comment in it must be closed: an open one is read to
/// the next line end here but may run on into the next driver in the file.
fn alone(slice: &str) -> Option<Entry> {
    // Braces balance inside the driver and close at its last byte;
    // strings and comments close.
    let mut depth = 0usize;
    let mut open = false;
    for t in crate::lex::tokens(slice) {
        let text = t.text(slice);
        match t.kind {
            Kind::Str => {
                let body = text.strip_prefix('"').and_then(|b| b.strip_suffix('"'));
                // A closing quote after an odd run of backslashes is escaped.
                open |= body
                    .is_none_or(|b| b.bytes().rev().take_while(|&c| c == b'\\').count() % 2 == 1);
            }
            Kind::BlockComment => open |= text.len() < 4 || !text.ends_with("*/"),
            Kind::Punct if text == "{" => depth += 1,
            Kind::Punct if text == "}" => {
                depth = depth.saturating_sub(1);
                open |= depth == 0 && t.span.end != slice.len();
            }
            _ => {}
        }
    }
    open |= depth != 0;
    if open {
        return None;
    }
    let (loose, mut drivers) = read(slice);
    let whole = drivers.len() == 1 && loose.is_empty() && drivers[0].span == (0..slice.len());
    let closed = drivers
        .iter()
        .flat_map(|d| &d.parse)
        .all(|d| d.code != Code::UnclosedBlock);
    (whole && closed).then(|| drivers.remove(0))
}

fn entry(d: &DriverAst) -> Entry {
    Entry {
        span: d.span.clone(),
        name: d.name.name.clone(),
        name_span: d.name.span.clone(),
        extends: d.extends.as_ref().map(|b| (b.name.clone(), b.span.clone())),
        claims: check::compatibles(d)
            .map(|c| (c.value.clone(), c.span.clone()))
            .collect(),
        parse: Vec::new(),
        own: check::driver_diagnostics(d),
    }
}

fn move_span(s: &mut Span, from: usize, delta: isize) {
    let by = |x: usize| {
        if x >= from {
            (x as isize + delta).max(0) as usize
        } else {
            x
        }
    };
    *s = by(s.start)..by(s.end);
}

fn shift(d: &mut Diagnostic, from: usize, delta: isize) {
    for l in &mut d.labels {
        move_span(&mut l.span, from, delta);
    }
}

fn shift_entry(e: &mut Entry, from: usize, delta: isize) {
    move_span(&mut e.span, from, delta);
    move_span(&mut e.name_span, from, delta);
    if let Some((_, s)) = &mut e.extends {
        move_span(s, from, delta);
    }
    for (_, s) in &mut e.claims {
        move_span(s, from, delta);
    }
    for d in e.parse.iter_mut().chain(&mut e.own) {
        shift(d, from, delta);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: &str = "// head\ndriver a {\n    compatible \"x,a\";\n    cells 1;\n    field s: u8 = cell[0][7:0];\n    ignore cell[0][31:8];\n    id = s;\n    requests virtio-iommu { granule 4K; ias 48; }\n    init crate::p;\n}\n\ndriver b {\n    compatible \"x,b\";\n    cells 1;\n    init crate::q;\n}\n";

    fn same(doc: &Document) {
        assert_eq!(
            doc.diagnostics(),
            crate::diagnose_source("t", doc.text()),
            "{}",
            doc.text()
        );
    }

    /// Applies `(find, replace)` edits in turn, comparing after each.
    fn edits(list: &[(&str, &str)]) {
        let mut doc = Document::new(SPEC.to_owned());
        same(&doc);
        for (find, replace) in list {
            let at = doc.text().find(find).unwrap_or(doc.text().len());
            doc.edit(at..at + find.len().min(doc.text().len() - at), replace);
            same(&doc);
        }
    }

    #[test]
    fn edits_inside_one_driver() {
        edits(&[
            ("u8", "u4"),
            ("\"x,b\"", "\"x,a\""),
            ("driver b", "driver a"),
            ("cells 1;\n    init crate::q", "cels 1;\n    init crate::q"),
            ("7:0", "15:0"),
            ("ias 48;", "ias 48; pool"),
            ("    id = s;\n", ""),
        ]);
    }

    #[test]
    fn edits_to_a_base_and_its_extenders() {
        let spec = format!("{SPEC}\ndriver c extends a {{\n    compatible \"x,c\";\n}}\n");
        let mut doc = Document::new(spec);
        same(&doc);
        for (find, replace) in [
            ("extends a", "extends b"),
            ("extends b", "extends q"),
            ("driver a", "driver q"),
            ("\"x,c\";", "\"x,c\"; cells 1;"),
            ("extends q", "extends c"),
            ("driver c extends c", "driver c"),
        ] {
            let at = doc.text().find(find).unwrap_or(doc.text().len());
            doc.edit(at..at + find.len().min(doc.text().len() - at), replace);
            same(&doc);
        }
    }

    #[test]
    fn edits_that_move_boundaries() {
        edits(&[
            ("}\n\ndriver b", "\n\ndriver b"),
            ("// head", "driver c { }"),
            ("init crate::p;", "init crate::p; }"),
            ("{", ""),
            ("\"x,a\"", "\"x,a"),
            ("/", "/*"),
        ]);
    }

    /// An open string at the end of the file leaves the parser's "found
    /// end of item" at the driver's last byte, outside its span; closing
    /// the string inside the driver must take that diagnostic away.
    #[test]
    fn an_error_at_a_drivers_last_byte_goes_with_the_edit() {
        let spec = format!("{SPEC}driver c extends b {{ compatible \"x extends a}}");
        let mut doc = Document::new(spec);
        same(&doc);
        let at = doc.text().rfind("patible \"x").unwrap_or(0);
        doc.edit(at..at + 9, "*/");
        same(&doc);
    }

    #[test]
    fn the_edited_driver_is_all_that_is_read_again() {
        let mut doc = Document::new(SPEC.to_owned());
        let before = doc.drivers[1].clone();
        let at = doc.text().find("u8").unwrap_or(0);
        doc.edit(at..at + 2, "u16");
        assert_eq!(doc.drivers[1].span.start, before.span.start + 1);
        assert_eq!(doc.drivers[1].name_span.start, before.name_span.start + 1);
        same(&doc);
    }

    #[test]
    fn several_documents_as_check_sources() {
        let a = Document::new(SPEC.to_owned());
        let b = Document::new("driver z { compatible \"x,b\"; }\n".to_owned());
        let got = diagnose_documents(&[("a", &a), ("b", &b)]);
        let files = [
            ("a".to_owned(), SPEC.to_owned()),
            ("b".to_owned(), b.text().to_owned()),
        ];
        let want: Vec<_> = crate::diagnose_sources(&files)
            .into_iter()
            .map(|(_, d)| d)
            .collect();
        assert_eq!(got, want);
        assert!(got[1].iter().any(|d| d.code == Code::DuplicateCompatible));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(1000))]
        /// Any edit anywhere, with pieces of the language: the kept
        /// entries give what reading the text whole gives.
        #[test]
        fn random_edits_agree_with_a_whole_check(
            steps in proptest::collection::vec((0usize..400, 0usize..12, 0usize..18), 1..12)
        ) {
            const PIECES: [&str; 18] = ["", "}", "{", ";", "driver b", "\"x,a\"", "u8", "cells 1 | 2;", "/*", "\n", "check s < 1;", "é😀", "\"", "//", "*/", "\\", " extends a ", "driver c extends b { compatible \"x,c\"; }"];
            let mut doc = Document::new(SPEC.to_owned());
            for (at, len, piece) in steps {
                let at = at.min(doc.text().len());
                doc.edit(at..at + len, PIECES[piece]);
                proptest::prop_assert_eq!(doc.diagnostics(), crate::diagnose_source("t", doc.text()));
            }
        }
    }
}
