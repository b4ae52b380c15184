//! Byte-order marks and CRLF line ends are accepted on every path, with
//! spans and columns that still point at the right text.

use iommugen_dsl::encoding::decode;
use iommugen_dsl::parse::{parse, parse_pest_only};
use iommugen_dsl::render::{json_value, line_col};
use iommugen_dsl::{check_source, Code};

const GOOD: &str = "/// Docs.\ndriver d {\n    compatible \"v,d\"; // comment\n    cells 1 | 2;\n    field sid: u16 = cell[0][15:0];\n    /* block\n       comment */\n    id = sid;\n    check sid < 0x100;\n    page-table arm-lpae-s1 {\n        granule 4K;\n        ias 48; oas 48; pool 64;\n    }\n    init crate::d::probe;\n}\n";

fn crlf(s: &str) -> String {
    s.replace('\n', "\r\n")
}

#[test]
fn crlf_checks_like_lf_on_both_paths() {
    let lf = check_source("t", GOOD);
    let crlf_src = crlf(GOOD);
    let cr = check_source("t", &crlf_src);
    assert!(!cr.has_errors(), "{:?}", cr.diagnostics);
    let (lf_spec, cr_spec) = (lf.spec.unwrap(), cr.spec.unwrap());
    assert_eq!(lf_spec.drivers[0].docs, cr_spec.drivers[0].docs);
    assert_eq!(
        lf_spec.drivers[0].checks[0].text,
        cr_spec.drivers[0].checks[0].text
    );
    assert_eq!(parse(&crlf_src), parse_pest_only(&crlf_src));
    // Spans cover the same text.
    let d = &cr_spec.drivers[0];
    assert_eq!(&crlf_src[d.checks[0].span.clone()], "check sid < 0x100;");
}

#[test]
fn crlf_errors_are_at_the_right_line_and_column() {
    let src = crlf(&GOOD.replace("cells 1 | 2;", "cells 1 2;"));
    let checked = check_source("t", &src);
    assert_eq!(checked.diagnostics.len(), 1, "{:?}", checked.diagnostics);
    let d = &checked.diagnostics[0];
    assert_eq!(d.code, Code::Syntax);
    let span = d.primary_span().unwrap();
    assert_eq!(&src[span.clone()], "2");
    assert_eq!(line_col(&src, span.start), (4, 13));
    // The pest-only path agrees (this statement goes through pest anyway).
    assert_eq!(parse(&src).1, parse_pest_only(&src).1);
}

#[test]
fn a_bom_is_accepted_by_the_parser_and_dropped_by_decode() {
    for body in [GOOD.to_owned(), crlf(GOOD)] {
        let with_bom = format!("\u{feff}{body}");
        let checked = check_source("t", &with_bom);
        assert!(!checked.has_errors(), "{:?}", checked.diagnostics);
        assert_eq!(parse(&with_bom), parse_pest_only(&with_bom));
        // Spans are byte offsets into the text given, BOM included.
        let name = &checked.spec.unwrap().drivers[0].span;
        assert_eq!(&with_bom[name.clone()][..8], "driver d");
        // Read from a file: the BOM goes, columns are what an editor shows.
        let decoded = decode(with_bom.clone().into_bytes());
        assert_eq!(decoded.error, None);
        assert_eq!(decoded.text, body);
    }
    let broken = decode(format!("\u{feff}{}", GOOD.replace("driver d {", "driver {")).into_bytes());
    let checked = check_source("t", &broken.text);
    let v = json_value(&checked.diagnostics[0], "t", &broken.text);
    assert_eq!(
        (
            v["labels"][0]["line"].as_u64(),
            v["labels"][0]["column"].as_u64()
        ),
        (Some(2), Some(8))
    );
}

#[test]
fn a_bom_later_in_the_file_is_not_whitespace() {
    let src = GOOD.replace("    id = sid;", "\u{feff}    id = sid;");
    assert!(check_source("t", &src).has_errors());
}

#[test]
fn invalid_utf8_is_located_at_its_first_bad_byte() {
    // A megabyte of valid text first, then a lone continuation byte.
    let mut bytes = GOOD.as_bytes().to_vec();
    bytes.extend(std::iter::repeat_n(b'/', 2));
    bytes.extend(std::iter::repeat_n(b'x', 1 << 20));
    bytes.extend(b"\n  \x80\n");
    let decoded = decode(bytes);
    let e = decoded.error.unwrap();
    assert_eq!(e.code, Code::InvalidUtf8);
    assert!(
        e.message.contains("byte 0x80 at line 17, column 3"),
        "{}",
        e.message
    );
    let span = e.primary_span().unwrap();
    assert_eq!(&decoded.text[span], "\u{fffd}");
}
