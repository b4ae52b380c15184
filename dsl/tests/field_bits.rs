//! Field bits are never dropped silently (issue 9): the checker's view.
//! Bits of a cell or property that no field reads are refused by
//! `of_xlate` unless an `ignore` declares them dropped; the IR says which.

use iommugen_dsl::ir::{Driver, Word};
use iommugen_dsl::{check_source, Code};

fn driver_with(body: &str) -> Driver {
    let src = format!(
        "driver d {{\n compatible \"v,i\";\n{body}\n page-table arm-lpae-s1 {{ granule 4K; ias 32; oas 40; pool 8; }}\n init crate::p;\n}}\n"
    );
    let checked = check_source("t.iommu", &src);
    assert!(!checked.has_errors(), "{body}: {:#?}", checked.diagnostics);
    checked.spec.unwrap().drivers.remove(0)
}

fn codes(body: &str) -> Vec<Code> {
    let src = format!(
        "driver d {{\n compatible \"v,i\";\n{body}\n page-table arm-lpae-s1 {{ granule 4K; ias 32; oas 40; pool 8; }}\n init crate::p;\n}}\n"
    );
    check_source("t.iommu", &src)
        .diagnostics
        .iter()
        .map(|d| d.code)
        .collect()
}

#[test]
fn uncovered_bits_without_ignore_are_refused() {
    let d = driver_with("cells 1; field x: u6 = cell[0][5:0]; id = x;");
    assert_eq!(d.refused_cell_bits(1, 0), 0xffff_ffc0);
    assert!(d.dropped.is_empty());
}

#[test]
fn ignored_bits_are_dropped_not_refused() {
    let d = driver_with("cells 1; field x: u6 = cell[0][5:0]; ignore cell[0][31:6]; id = x;");
    assert_eq!(d.refused_cell_bits(1, 0), 0);
    assert_eq!(d.dropped_bits(&Word::Cell(0)), 0xffff_ffc0);
    // Part of the rest dropped, part refused.
    let d = driver_with("cells 1; field x: u6 = cell[0][5:0]; ignore cell[0][31:16]; id = x;");
    assert_eq!(d.refused_cell_bits(1, 0), 0x0000_ffc0);
}

#[test]
fn multi_field_cells_count_the_union() {
    let d = driver_with(
        "cells 1; field larb: u5 = cell[0] >> 5 & 0x1f; field port: u5 = cell[0] & 0x1f; id = larb << 5 | port;",
    );
    assert_eq!(d.read_cell_bits(1, 0), 0x3ff);
    assert_eq!(d.refused_cell_bits(1, 0), 0xffff_fc00);
}

#[test]
fn fallback_chains_read_what_they_may_take() {
    let d = driver_with(
        "cells 1 | 2; field sid: u16 = cell[0][15:0]; field m: u16 = cell[1][15:0] else property \"smm\"[15:0] else 0; ignore cell[1][31:16]; id = m << 16 | sid;",
    );
    assert_eq!(d.refused_cell_bits(1, 0), 0xffff_0000);
    assert_eq!(d.refused_cell_bits(2, 1), 0);
    assert_eq!(d.refused_property_bits("smm"), 0xffff_0000);
    // An unused second cell is refused whole unless ignored.
    let d =
        driver_with("cells 2; field sid: u16 = cell[0][15:0]; ignore cell[0][31:16]; id = sid;");
    assert_eq!(d.refused_cell_bits(2, 1), u32::MAX);
    let d = driver_with(
        "cells 2; field sid: u16 = cell[0][15:0]; ignore cell[0][31:16], cell[1]; id = sid;",
    );
    assert_eq!(d.refused_cell_bits(2, 1), 0);
}

#[test]
fn bad_ignores_are_located_errors() {
    let base =
        "cells 1; field x: u8 = cell[0][7:0]; field y: u8 = property \"p\"[7:0] else 0; id = y << 8 | x;";
    for (extra, want) in [
        ("ignore cell[0][8:0];", Code::IgnoreOverlap),
        ("ignore cell[0][31:8], cell[0][9];", Code::IgnoreOverlap),
        (
            "ignore property \"p\"[31:8]; ignore property \"p\"[31:30];",
            Code::IgnoreOverlap,
        ),
        ("ignore property \"q\"[31:8];", Code::IgnoreUnreadProperty),
        ("ignore cell[1];", Code::CellOutOfRange),
        ("ignore cell[0][32:8];", Code::BadBitRange),
        ("ignore cell[0][8:9];", Code::BadBitRange),
    ] {
        let got = codes(&format!("{base} {extra}"));
        assert_eq!(got, [want], "{extra}");
    }
    // The parser locates a malformed target.
    assert!(codes(&format!("{base} ignore cell[0] >> 3;")).contains(&Code::Syntax));
}

/// A megabyte line: one `ignore` of 48,000 targets, a bit at a time over
/// 2,000 properties each read by a field. Checking stays linear (a
/// quadratic overlap search would take minutes here).
#[test]
fn a_megabyte_ignore_line() {
    let n = 2_000;
    let mut body =
        String::from("cells 1; field sid: u16 = cell[0][15:0]; ignore cell[0][31:16];\n");
    for i in 0..n {
        body.push_str(&format!(
            "field f{i}: u8 = property \"vendor,property-{i}\"[7:0] else 0; check f{i} < 255;\n"
        ));
    }
    body.push_str("ignore ");
    for i in 0..n {
        for bit in 8..32 {
            body.push_str(&format!("property \"vendor,property-{i}\"[{bit}], "));
        }
    }
    body.push_str("property \"vendor,property-0\"[31:31];\n id = sid;");
    assert!(body.len() > 1 << 20);
    let got = codes(&body);
    // Only the last target (bit 31 of the first property, again) is wrong.
    assert_eq!(got, [Code::IgnoreOverlap]);
}

/// A million targets on the same cell: all but the first few collide, and
/// each collision is one diagnostic found in constant time.
#[test]
fn a_million_colliding_targets() {
    let mut body =
        String::from("cells 1; field sid: u16 = cell[0][15:0]; id = sid; ignore cell[0][31:16]");
    for _ in 0..1_000_000 {
        body.push_str(", cell[0][20]");
    }
    body.push(';');
    let got = codes(&body);
    assert_eq!(got.len(), 1_000_000);
    assert!(got.iter().all(|c| *c == Code::IgnoreOverlap));
}
