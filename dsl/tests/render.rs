//! Rendering at scale: lines of any length, many diagnostics, the cap, and
//! JSON streamed byte for byte as it was built whole.

use iommugen_dsl::lines::LineIndex;
use iommugen_dsl::render::{
    json_array, json_value, line_col, write_json_array, Cap, HumanStyle, Item, SourceFile,
    WHOLE_LINE,
};
use iommugen_dsl::{check_source, Code, Diagnostic, Severity};

const GOOD: &str = "driver d {\n    compatible \"v,x\";\n    cells 1;\n    field sid: u16 = cell[0][15:0];\n    id = sid;\n    page-table arm-lpae-s1 { granule 4K; ias 48; oas 48; pool 8; }\n    init crate::d::probe;\n}\n";

/// The rows of a rendered snippet: `(source row, underline row)` for each
/// row of source text that has a label under it.
fn labelled_rows(out: &str) -> Vec<(&str, &str)> {
    let rows: Vec<&str> = out.lines().collect();
    rows.windows(2)
        .filter(|w| w[0].contains(" │ ") && w[1].trim_start().starts_with('·'))
        .filter(|w| w[1].contains('┬') || w[1].contains('─'))
        .map(|w| (w[0], w[1]))
        .collect()
}

/// Asserts that some underline in `out` starts exactly under the first
/// characters of `source[span]`, and that `[name:line:col]` names it.
fn assert_points_at(out: &str, source: &str, start: usize, name: &str) {
    let (line, col) = line_col(source, start);
    assert!(
        out.contains(&format!("[{name}:{line}:{col}]")),
        "no header {name}:{line}:{col} in\n{}",
        clip(out)
    );
    let want: String = source[start..]
        .chars()
        .take_while(|&c| c != '\n' && c != '\r')
        .take(4)
        .collect();
    let found = labelled_rows(out).iter().any(|(text, under)| {
        let under: Vec<char> = under.chars().collect();
        let Some(col) = under.iter().position(|&c| c == '─' || c == '┬') else {
            return false;
        };
        let text: Vec<char> = text.chars().collect();
        text.get(col..)
            .is_some_and(|rest| rest.iter().take(4).collect::<String>() == want)
    });
    assert!(found, "no underline under {want:?} in\n{}", clip(out));
}

fn clip(s: &str) -> String {
    s.chars().take(4000).collect()
}

/// No shown row is longer than the window and its markers and gutter.
fn assert_rows_bounded(out: &str) {
    for row in out.lines().filter(|r| r.contains(" │ ")) {
        assert!(
            row.chars().count() <= WHOLE_LINE + 16,
            "row too long: {}",
            clip(row)
        );
    }
}

#[test]
fn a_200_000_character_identifier_is_shown_cut() {
    let name = "a".repeat(200_000);
    let src = GOOD
        .replace("driver d", &format!("driver {name}"))
        .replace("    init crate::d::probe;\n", "");
    let checked = check_source("long.iommu", &src);
    let d = checked
        .diagnostics
        .iter()
        .find(|d| d.code == Code::MissingInit)
        .expect("the driver has no init");
    let file = SourceFile::new("long.iommu", &src);
    let out = file.human(d, HumanStyle::default());
    assert!(out.len() < 4_000, "{} bytes", out.len());
    assert!(out.contains('…'), "{out}");
    assert_points_at(&out, &src, 7, "long.iommu");
    assert_rows_bounded(&out);
    // The message's long word is shortened too; JSON keeps it whole.
    assert!(
        out.lines().all(|l| l.chars().count() < 200),
        "{}",
        clip(&out)
    );
    let json = file.json_value(d);
    assert!(json["message"].as_str().unwrap().contains(&name));
    assert_eq!(json["labels"][0]["column"], 8);
}

#[test]
fn a_megabyte_line_with_labels_far_apart_gets_one_snippet_each() {
    // `cells` twice on one line, a megabyte of multi-byte comment between.
    let filler = "é€".repeat(250_000);
    let src = GOOD.replace(
        "    cells 1;",
        &format!("    cells 1; /* {filler} */ cells 2; /* {filler} */"),
    );
    assert!(src.len() > 1_000_000);
    let checked = check_source("mb.iommu", &src);
    let d = checked
        .diagnostics
        .iter()
        .find(|d| d.code == Code::RepeatedItem)
        .expect("cells is repeated");
    let out = SourceFile::new("mb.iommu", &src).human(d, HumanStyle::default());
    assert!(out.len() < 8_000, "{} bytes", out.len());
    let second = src.find("cells 2").unwrap();
    assert_points_at(&out, &src, second, "mb.iommu");
    assert_points_at(&out, &src, src.find("cells 1").unwrap(), "mb.iommu");
    assert_eq!(labelled_rows(&out).len(), 2, "{}", clip(&out));
    assert_rows_bounded(&out);
}

/// A hand-made diagnostic with one label, for positions no check reaches.
fn at(span: core::ops::Range<usize>) -> Diagnostic {
    Diagnostic::new(Code::Syntax, "here", span, "this")
}

#[test]
fn every_window_points_at_the_labelled_characters() {
    // One long line of mixed widths, no trailing newline, then labels at
    // the start, inside, and at the last character.
    let mut src = String::from("first line\n");
    for i in 0..40_000 {
        src.push(['a', 'é', '€', '𝄞', 'z'][i % 5]);
    }
    let file = SourceFile::new("w.iommu", &src);
    let starts: Vec<usize> = src
        .char_indices()
        .map(|(i, _)| i)
        .filter(|&i| i > 11)
        .step_by(997)
        .chain([11, src.char_indices().last().unwrap().0])
        .collect();
    for start in starts {
        let len = src[start..].chars().next().unwrap().len_utf8();
        let out = file.human(&at(start..start + len), HumanStyle::default());
        assert_points_at(&out, &src, start, "w.iommu");
        assert_rows_bounded(&out);
    }
}

#[test]
fn a_label_longer_than_the_window_is_shown_from_its_start() {
    let src = format!("x {} y\n", "b".repeat(10_000));
    let out = SourceFile::new("l.iommu", &src).human(&at(2..10_002), HumanStyle::default());
    assert_points_at(&out, &src, 2, "l.iommu");
    assert_rows_bounded(&out);
}

#[test]
fn labels_on_a_line_end_and_at_the_end_of_the_file() {
    for src in ["ab\r\ncd\r\n", "ab\ncd", "ab\ncd\n", "\n\n"] {
        let file = SourceFile::new("e.iommu", src);
        for start in 0..=src.len() {
            let end = (start + 1).min(src.len());
            // Must not panic; the header names the clamped place.
            let out = file.human(&at(start..end), HumanStyle::default());
            let (line, col) = line_col(src, start);
            assert!(
                out.contains(&format!("e.iommu:{line}:{col}")),
                "{src:?} {start}\n{out}"
            );
        }
    }
}

#[test]
fn a_label_over_many_lines_is_shown_on_its_first() {
    let src = "a {\n".to_owned() + &"x\n".repeat(1_000) + "}\n";
    let out = SourceFile::new("m.iommu", &src).human(&at(2..src.len() - 1), HumanStyle::default());
    assert!(out.lines().count() < 20, "{out}");
    assert_points_at(&out, &src, 2, "m.iommu");
}

#[test]
fn twenty_thousand_labels_on_one_line_each_in_its_place() {
    // `x;` 20,000 times on one line: each diagnostic's window and JSON
    // column agree with counting from the start.
    let src = format!("€ {}\n", "x; ".repeat(20_000));
    let file = SourceFile::new("many.iommu", &src);
    let diags: Vec<Diagnostic> = src.match_indices('x').map(|(i, _)| at(i..i + 1)).collect();
    assert_eq!(diags.len(), 20_000);
    for d in diags.iter().step_by(1_999) {
        let out = file.human(d, HumanStyle::default());
        assert_points_at(&out, &src, d.labels[0].span.start, "many.iommu");
    }
    let json: serde_json::Value = serde_json::from_str(&json_array(
        diags.iter().map(|d| (d, "many.iommu", src.as_str())),
    ))
    .unwrap();
    for (v, d) in json.as_array().unwrap().iter().zip(&diags).step_by(1_001) {
        let (line, col) = line_col(&src, d.labels[0].span.start);
        assert_eq!(v["labels"][0]["line"], line);
        assert_eq!(v["labels"][0]["column"], col);
    }
}

#[test]
fn the_line_index_of_a_million_lines() {
    let src = "ab\n".repeat(1_000_000);
    let index = LineIndex::new(&src);
    assert_eq!(index.line_count(), 1_000_001);
    for offset in [0, 1, 2, 3, 1_500_001, src.len() - 1, src.len()] {
        assert_eq!(index.line_col(offset), line_col(&src, offset), "{offset}");
    }
    assert_eq!(index.line_text(999_999), "ab");
}

#[test]
fn the_cap_shows_the_first_hundred_and_counts_the_rest() {
    let mut cap = Cap::default();
    let error = at(0..1);
    let warning = Diagnostic::new(Code::UnusedField, "w", 0..1, "w");
    let shown = (0..250)
        .map(|i| if i % 5 == 0 { &warning } else { &error })
        .filter(|d| cap.admit(d))
        .count();
    assert_eq!(shown, 100);
    // Of the 150 left off (diagnostics 100..250), every fifth is a warning.
    assert_eq!(cap.left_off(), (120, 30));
    assert_eq!(
        cap.summary().as_deref(),
        Some("… and 120 more errors, 30 more warnings")
    );
    assert_eq!(Cap::default().summary(), None);
}

#[test]
fn json_is_streamed_as_the_same_bytes_as_built_whole() {
    let src = GOOD
        .replace("oas 48", "oas 50")
        .replace("cells 1;", "cells 1; cells 2;");
    let checked = check_source("j.iommu", &src);
    assert!(checked.diagnostics.len() >= 2);
    let file = SourceFile::new("j.iommu", &src);
    let whole = serde_json::to_string_pretty(&serde_json::Value::Array(
        checked
            .diagnostics
            .iter()
            .map(|d| file.json_value(d))
            .collect(),
    ))
    .unwrap();
    let mut streamed = Vec::new();
    write_json_array(
        &mut streamed,
        checked.diagnostics.iter().map(|d| (d, &file)),
    )
    .unwrap();
    assert_eq!(String::from_utf8(streamed).unwrap(), whole);
    let items = checked
        .diagnostics
        .iter()
        .map(|d| (d, "j.iommu", src.as_str()));
    assert_eq!(json_array(items), whole);
    let mut empty = Vec::new();
    write_json_array(&mut empty, std::iter::empty()).unwrap();
    assert_eq!(empty, b"[]");
}

/// Every JSON label field, worked out by hand for a label that starts after
/// `é` (2 bytes, 1 UTF-16 unit) and `😀` (4 bytes, 2 units) and ends on the
/// next line.
#[test]
fn json_labels_carry_both_ends_in_characters_and_utf16() {
    let src = "é😀 ab\ncd";
    let d = Diagnostic::new(Code::Syntax, "m", 7..12, "here");
    let v = json_value(&d, "f.iommu", src);
    let l = &v["labels"][0];
    for (field, want) in [
        ("offset", 7),
        ("length", 5),
        ("line", 1),
        ("column", 4),
        ("column_utf16", 5),
        ("end_line", 2),
        ("end_column", 3),
        ("end_column_utf16", 3),
    ] {
        assert_eq!(l[field], want, "{field}: {l}");
    }
    assert_eq!(l["label"], "here");
    assert_eq!(l["primary"], true);
    // An empty label ends where it starts.
    let d = Diagnostic::new(Code::Syntax, "m", 6..6, "");
    let l = &json_value(&d, "f.iommu", src)["labels"][0];
    assert_eq!((&l["column"], &l["end_column"]), (&3.into(), &3.into()));
    assert_eq!(
        (&l["column_utf16"], &l["end_column_utf16"]),
        (&4.into(), &4.into())
    );
}

#[test]
fn an_item_with_its_own_code_is_drawn_as_a_diagnostic_is() {
    // `iommugen dt` renders its `dt::` codes through `Item`: everything
    // but the code is the checker's drawing, byte for byte.
    let src = "driver d {\n\tcellz 1;\n}\n";
    let file = SourceFile::new("a.iommu", src);
    let start = src.find("cellz").unwrap();
    let d = Diagnostic::new(Code::UnknownItem, "unknown item", start..start + 5, "here")
        .help("did you mean `cells`?");
    let style = HumanStyle::default();
    let item = Item {
        code: "dt::W0314",
        ..Item::from(&d)
    };
    let ours = file.human_item(item, style);
    assert_eq!(
        ours,
        file.human(&d, style).replace(d.code.as_str(), "dt::W0314")
    );
    assert!(ours.starts_with("dt::W0314\n"), "{ours}");
    assert_points_at(&ours, src, start, "a.iommu");
    let mut json = file.json_value(&d);
    json["code"] = "dt::W0314".into();
    assert_eq!(file.json_item(item), json);
    assert_eq!(file.json_label(&d.labels[0]), json["labels"][0]);
    // The cap counts items by severity alone.
    let mut cap = Cap::new(1);
    assert!(cap.admit_severity(Severity::Warning));
    assert!(!cap.admit_severity(Severity::Error));
    assert!(!cap.admit_severity(Severity::Warning));
    assert_eq!(cap.left_off(), (1, 1));
}
