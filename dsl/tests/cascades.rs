//! Diagnostics come in source order, and a driver whose text did not parse
//! gets no "missing item" errors for what the broken text held.

use iommugen_dsl::{check_source, Code};

const GOOD: &str = "driver d {\n    compatible \"v,d\";\n    cells 1;\n    field sid: u16 = cell[0][15:0];\n    id = sid;\n    page-table arm-lpae-s1 { granule 4K; ias 48; oas 48; pool 64; }\n    init crate::d::probe;\n}\n";

fn codes(src: &str) -> Vec<Code> {
    check_source("t", src)
        .diagnostics
        .iter()
        .map(|d| d.code)
        .collect()
}

fn starts(src: &str) -> Vec<usize> {
    check_source("t", src)
        .diagnostics
        .iter()
        .map(|d| d.primary_span().unwrap().start)
        .collect()
}

#[test]
fn an_unclosed_driver_reports_only_that() {
    // Everything after `cells` is gone: no `page-table`, no `init`, and the
    // field is not used by anything that parsed.
    let src =
        "driver d {\n    compatible \"v,d\";\n    cells 1;\n    field sid: u16 = cell[0][15:0];\n";
    assert_eq!(codes(src), [Code::UnclosedBlock]);
}

#[test]
fn a_syntax_error_mid_body_is_not_buried_under_missing_items() {
    // The broken line held the rest of the driver (a `;` typed as `,`).
    let src = "driver d {\n    compatible \"v,d\";\n    cells 1;\n    field sid: u16 = cell[0][15:0];\n    id = sid, page-table arm-lpae-s1 { granule 4K; ias 48; oas 48; pool 64; }\n    init crate::d::probe;\n}\n";
    assert_eq!(codes(src), [Code::Syntax]);
    // A broken `page-table` block does not say which of its items it lacks.
    let src = GOOD.replace("ias 48; oas 48;", "ias 48 oas 48;");
    assert_eq!(codes(&src), [Code::Syntax]);
}

#[test]
fn other_drivers_in_the_file_are_still_fully_checked() {
    let broken = GOOD
        .replace("driver d", "driver b")
        .replace("cells 1;", "cells 1 1;");
    // The third driver lacks `init` for real, and has a too-narrow field.
    let third = GOOD
        .replace("driver d", "driver c")
        .replace("v,d", "v,c")
        .replace("    init crate::d::probe;\n", "")
        .replace("u16 = cell[0][15:0]", "u8 = cell[0][15:0]");
    let src = format!("{GOOD}{}{third}", broken.replace("v,d", "v,b"));
    assert_eq!(
        codes(&src),
        [Code::Syntax, Code::MissingInit, Code::FieldTooNarrow]
    );
}

#[test]
fn diagnostics_come_in_source_order() {
    // A driver with an unknown item (parser), an unknown field in a check
    // (checker) and an unclosed `dma` block (parser) in between.
    let src = GOOD.replace(
        "    id = sid;\n",
        "    id = sid;\n    check nope < 1;\n    feild x: u8 = cell[0];\n    check sid > 0;\n",
    );
    let s = starts(&src);
    let mut sorted = s.clone();
    sorted.sort();
    assert_eq!(s, sorted, "{:?}", codes(&src));
    assert_eq!(codes(&src), [Code::UnknownField, Code::UnknownItem]);
    // Several files' worth of errors in one: each driver's come in order.
    let many = format!(
        "{src}{}",
        src.replace("driver d", "driver e").replace("v,d", "v,e")
    );
    let s = starts(&many);
    let mut sorted = s.clone();
    sorted.sort();
    assert_eq!(s, sorted);
}
