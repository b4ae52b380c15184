//! Grammar tests: what the parser builds, and how it recovers.

use iommugen_dsl::ast::*;
use iommugen_dsl::parse::{parse, parse_number};
use iommugen_dsl::Code;

fn one_driver(src: &str) -> DriverAst {
    let (ast, diags) = parse(src);
    assert!(diags.is_empty(), "unexpected diagnostics: {diags:#?}");
    assert_eq!(ast.drivers.len(), 1);
    ast.drivers.into_iter().next().unwrap()
}

fn item_expr(src_item: &str) -> ExprAst {
    let d = one_driver(&format!("driver d {{ {src_item} }}"));
    match &d.items[0].kind {
        ItemKind::Check(e) | ItemKind::Id(e) => e.clone(),
        other => panic!("not an expression item: {other:?}"),
    }
}

#[test]
fn numbers_take_units_bases_and_separators() {
    assert_eq!(parse_number("4K"), Some(4096));
    assert_eq!(parse_number("2M"), Some(2 * 1024 * 1024));
    assert_eq!(parse_number("1G"), Some(1 << 30));
    assert_eq!(parse_number("4T"), Some(4 << 40));
    assert_eq!(parse_number("0x1000_0000"), Some(0x1000_0000));
    assert_eq!(parse_number("0b101"), Some(5));
    assert_eq!(parse_number("1_000"), Some(1000));
    assert_eq!(parse_number("99999999999999999999"), None);
    assert_eq!(parse_number("16777216T"), None);
}

#[test]
fn docs_name_and_spans() {
    let src = "/// First line.\n///  Indented.\ndriver smmu { cells 1; }";
    let d = one_driver(src);
    assert_eq!(
        d.docs,
        vec!["First line.".to_owned(), " Indented.".to_owned()]
    );
    assert_eq!(d.name.name, "smmu");
    assert_eq!(&src[d.name.span.clone()], "smmu");
    assert_eq!(&src[d.items[0].span.clone()], "cells 1;");
    assert_eq!(&src[d.items[0].keyword.clone()], "cells");
    assert_eq!(&src[d.span.clone()], &src[src.find("driver").unwrap()..]);
}

#[test]
fn shift_binds_tighter_than_or_and_comparison() {
    // Rust precedence: `mask << 16 | sid` is `(mask << 16) | sid`.
    let e = item_expr("id = mask << 16 | sid;");
    let ExprAst::Binary(BinOp::BitOr, l, r, _) = &e else {
        panic!("top is not |: {e:?}")
    };
    assert!(matches!(**l, ExprAst::Binary(BinOp::Shl, _, _, _)));
    assert!(matches!(**r, ExprAst::Name(ref i) if i.name == "sid"));
    // `sid < 1 << 16` is `sid < (1 << 16)`.
    let e = item_expr("check sid < 1 << 16;");
    let ExprAst::Binary(BinOp::Lt, _, r, _) = &e else {
        panic!("top is not <")
    };
    assert!(matches!(**r, ExprAst::Binary(BinOp::Shl, _, _, _)));
}

#[test]
fn logic_and_parentheses() {
    let e = item_expr("check !(a == 1) && b != 2 || c >= 3;");
    assert_eq!(e.to_string(), "!(a == 1) && b != 2 || c >= 3");
    let ExprAst::Binary(BinOp::Or, l, _, _) = &e else {
        panic!("top is not ||")
    };
    assert!(matches!(**l, ExprAst::Binary(BinOp::And, _, _, _)));
    // Printing keeps the meaning of explicit grouping.
    assert_eq!(
        item_expr("check a - (b - c) > 0;").to_string(),
        "a - (b - c) > 0"
    );
}

#[test]
fn field_sources_with_bits_shift_mask_and_defaults() {
    let src = r#"driver d { field m: u16 = cell[1][15:0] else property "stream-match-mask"[15:0] else cell[0] >> 5 & 0x1f else 0; }"#;
    let d = one_driver(src);
    let ItemKind::Field(f) = &d.items[0].kind else {
        panic!("not a field")
    };
    assert_eq!(f.name.name, "m");
    assert_eq!(f.width.value, 16);
    assert_eq!(&src[f.width.span.clone()], "u16");
    assert_eq!(f.sources.len(), 4);
    assert!(matches!(&f.sources[0].base, SourceBase::Cell(n) if n.value == 1));
    let bits = f.sources[0].bits.as_ref().unwrap();
    assert_eq!((bits.hi.value, bits.lo.as_ref().unwrap().value), (15, 0));
    assert!(
        matches!(&f.sources[1].base, SourceBase::Property(s) if s.value == "stream-match-mask")
    );
    assert_eq!(f.sources[2].shr.as_ref().unwrap().value, 5);
    assert_eq!(f.sources[2].mask.as_ref().unwrap().value, 0x1f);
    assert!(matches!(&f.sources[3].base, SourceBase::Const(n) if n.value == 0));
    assert_eq!(&src[f.sources[2].span.clone()], "cell[0] >> 5 & 0x1f");
}

#[test]
fn blocks_and_statements() {
    let src = r#"driver d {
        compatible "a,b", "c,d";
        cells 1 | 2;
        pci iommu-map;
        page-table arm-lpae-s2 { granule 64K; ias 52; oas 52; sizes 64K, 512M 4T; coherent-walk; pool 16; }
        dma { domain per-device; aperture 4K..1G; }
        init crate::a::b;
    }"#;
    let d = one_driver(src);
    let kinds: Vec<&str> = d.items.iter().map(|i| i.kind.keyword()).collect();
    assert_eq!(
        kinds,
        ["compatible", "cells", "pci", "page-table", "dma", "init"]
    );
    let ItemKind::Compatible(c) = &d.items[0].kind else {
        panic!()
    };
    assert_eq!(
        c.iter().map(|s| s.value.as_str()).collect::<Vec<_>>(),
        ["a,b", "c,d"]
    );
    let ItemKind::Cells(n) = &d.items[1].kind else {
        panic!()
    };
    assert_eq!(n.iter().map(|n| n.value).collect::<Vec<_>>(), [1, 2]);
    let ItemKind::PageTable(pt) = &d.items[3].kind else {
        panic!()
    };
    assert_eq!(pt.format.name, "arm-lpae-s2");
    let pk: Vec<&str> = pt.items.iter().map(|i| i.kind.keyword()).collect();
    assert_eq!(
        pk,
        ["granule", "ias", "oas", "sizes", "coherent-walk", "pool"]
    );
    let PtKind::Sizes(s) = &pt.items[3].kind else {
        panic!()
    };
    assert_eq!(
        s.iter().map(|n| n.value).collect::<Vec<_>>(),
        [64 << 10, 512 << 20, 4 << 40]
    );
    let ItemKind::Dma(dma) = &d.items[4].kind else {
        panic!()
    };
    assert!(
        matches!(&dma[1].kind, DmaKind::Aperture { start, end } if start.value == 4096 && end.value == 1 << 30)
    );
    let ItemKind::Init(path) = &d.items[5].kind else {
        panic!()
    };
    assert_eq!(
        path.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(),
        ["crate", "a", "b"]
    );
}

#[test]
fn comments_and_strings_do_not_confuse_item_boundaries() {
    let src = "// a ; comment {\n/* block ; } */ driver d { compatible \"x;}{\"; // ;\n cells 1; }";
    let d = one_driver(src);
    let ItemKind::Compatible(c) = &d.items[0].kind else {
        panic!()
    };
    assert_eq!(c[0].value, "x;}{");
    assert_eq!(d.items.len(), 2);
}

#[test]
fn string_escapes() {
    let d = one_driver(r#"driver d { compatible "a\"b\\c"; }"#);
    let ItemKind::Compatible(c) = &d.items[0].kind else {
        panic!()
    };
    assert_eq!(c[0].value, "a\"b\\c");
}

#[test]
fn recovery_reports_each_broken_statement_once() {
    let src = "driver d {\n cells 1 |;\n field x u8 = cell[0];\n check x <;\n pci iommu-map;\n}\ndriver e { cells ; }";
    let (ast, diags) = parse(src);
    assert_eq!(diags.len(), 4, "{diags:#?}");
    assert!(diags.iter().all(|d| d.code == Code::Syntax));
    // The statements that parsed survive, and so does the second driver.
    assert_eq!(ast.drivers.len(), 2);
    assert_eq!(ast.drivers[0].items.len(), 1);
    assert_eq!(ast.drivers[0].unparsed_fields[0].name, "x");
    let lines: Vec<usize> = diags
        .iter()
        .map(|d| iommugen_dsl::render::line_col(src, d.labels[0].span.start).0)
        .collect();
    assert_eq!(lines, [2, 3, 4, 7]);
}

#[test]
fn missing_semicolon_resumes_at_next_item() {
    let src = "driver d {\n cells 1\n pci iommu-map;\n}";
    let (ast, diags) = parse(src);
    assert_eq!(diags.len(), 1);
    assert_eq!(&src[diags[0].labels[0].span.clone()], "pci");
    // `pci` was not swallowed by the broken `cells`.
    assert!(ast.drivers[0].items.iter().any(|i| i.kind == ItemKind::Pci));
}

#[test]
fn unclosed_driver_ends_at_next_driver() {
    let src = "driver a {\n cells 1;\ndriver b { cells 2; }";
    let (ast, diags) = parse(src);
    assert_eq!(diags.len(), 1);
    assert_eq!(diags[0].code, Code::UnclosedBlock);
    let names: Vec<&str> = ast.drivers.iter().map(|d| d.name.name.as_str()).collect();
    assert_eq!(names, ["a", "b"]);
}

#[test]
fn unknown_items_at_each_level() {
    let (_, diags) = parse(
        "cells 1;\ndriver d { colour red; page-table arm-lpae-s1 { grain 4K; } dma { pool 3; } }",
    );
    let msgs: Vec<&str> = diags.iter().map(|d| d.message.as_str()).collect();
    assert_eq!(
        msgs,
        [
            "unknown item `cells` at the top level",
            "unknown item `colour` in a driver",
            "unknown item `grain` in `page-table`",
            "unknown item `pool` in `dma`",
        ]
    );
    assert!(diags.iter().all(|d| d.code == Code::UnknownItem));
}

#[test]
fn keywords_need_a_word_boundary() {
    // `cellar` is not `cell` followed by `ar`.
    let (_, diags) = parse("driver d { field x: u8 = cellar[0]; }");
    assert_eq!(diags.len(), 1);
    assert_eq!(diags[0].code, Code::Syntax);
}

#[test]
fn non_ascii_outside_strings_is_a_syntax_error_not_a_panic() {
    let (_, diags) = parse("driver d { cells é; compatible \"é\"; }");
    assert_eq!(diags.len(), 1);
    assert_eq!(diags[0].code, Code::Syntax);
    assert!(
        diags[0].message.contains("found `é`"),
        "{}",
        diags[0].message
    );
}

#[test]
fn a_comment_left_open_at_the_end_is_an_error() {
    let src = "driver d { cells 1; }\n/* never closed";
    let (_, diags) = parse(src);
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert_eq!(diags[0].code, Code::Syntax);
    assert_eq!(&src[diags[0].labels[0].span.clone()], "/*");
    // Closed comments, and `/**/`, are trivia as before.
    for ok in ["driver d { cells 1; }\n/* closed */", "/**/", "// line"] {
        assert!(parse(ok).1.is_empty(), "{ok}");
    }
    // `/*/` opens a comment it never closes.
    assert_eq!(parse("/*/").1.len(), 1);
}

#[test]
fn extends_names_the_base_with_its_span() {
    let src = "driver vendor extends base { compatible \"v,x\"; }";
    let d = one_driver(src);
    let base = d.extends.expect("extends");
    assert_eq!(base.name, "base");
    assert_eq!(&src[base.span], "base");
}
