use super::*;

/// Formats `src`, which must be free of syntax errors, and checks that
/// formatting the result again changes nothing.
fn fmt(src: &str) -> String {
    let f = format_source(src);
    assert!(f.errors.is_empty(), "{src:?}: {:?}", f.errors);
    assert!(f.kept.is_empty(), "{src:?}: kept {:?}", f.kept);
    let again = format_source(&f.text);
    assert_eq!(again.text, f.text, "not idempotent on {src:?}");
    f.text
}

const CANONICAL: &str = "\
/// Doc.
driver d {
    compatible \"a,b\", \"c\";
    cells 1 | 2;
    field sid: u16 = cell[0][15:0];
    field m: u16 = cell[1][15:0] else property \"p\"[15:0] else 0;
    field larb: u5 = cell[0] >> 5 & 0x1f;
    field os: u4 = master property \"os\"[3:0] else 0;
    ignore cell[0][31:16], cell[1], master property \"os\"[31:4];
    check !(sid == 0x1000) && m - 1 < 4K;
    id = m << 16 | sid;
    pci iommu-map;
    allow masters \"ee100000.mmc\", \"firmware:optee\";
    deny soc \"renesas,r8a7795\" revision \"ES2.*\", \"renesas,r8a7796\";
    contexts 8 reserved 1;
    master one instance;
    master same sid;
    page-table arm-lpae-s1 {
        granule 4K;
        sizes 4K, 2M 1G;
        coherent-walk;
    }
    dma {
        domain per-device;
        aperture 0x1000..0xffff_ffff;
    }
    init crate::d::probe;
}
";

#[test]
fn canonical_text_is_a_fixed_point() {
    assert_eq!(fmt(CANONICAL), CANONICAL);
}

#[test]
fn squeezed_and_stretched_text_comes_out_canonical() {
    // Every space removed where the language allows it.
    let squeezed =
        "/// Doc.\ndriver d{compatible \"a,b\",\"c\";cells 1|2;field sid:u16=cell[0][15:0];\
        field m:u16=cell[1][15:0]else property \"p\"[15:0]else 0;field larb:u5=cell[0]>>5&0x1f;\
        field os:u4=master property \"os\"[3:0]else 0;\
        ignore cell[0][31:16],cell[1],master property \"os\"[31:4];check!(sid==0x1000)&&m-1<4K;\
        id=m<<16|sid;pci iommu-map;allow masters \"ee100000.mmc\",\"firmware:optee\";\
        deny soc \"renesas,r8a7795\"revision \"ES2.*\",\"renesas,r8a7796\";\
        contexts 8 reserved 1;master one instance;master same sid;page-table arm-lpae-s1{granule 4K;sizes 4K,2M 1G;coherent-walk;}\
        dma{domain per-device;aperture 0x1000..0xffff_ffff;}init crate::d::probe;}";
    assert_eq!(fmt(squeezed), CANONICAL);
    // Spaces and line ends everywhere they may go, tabs and CRLF.
    let (doc, body) = squeezed.split_at(squeezed.find('\n').unwrap_or(0) + 1);
    let mut stretched = doc.to_owned();
    for t in lex::lex(body) {
        stretched.push_str(t.text(body));
        stretched.push_str(" \t\r\n  ");
    }
    // Dashed words are single words in the grammar: join them again.
    let stretched = stretched.replace(" \t\r\n  - \t\r\n  ", "-");
    assert_eq!(fmt(&stretched), CANONICAL);
}

#[test]
fn blocks_on_one_line_open_up() {
    assert_eq!(
        fmt("driver d { page-table arm-lpae-s1 { granule 4K; ias 32; } init a; }"),
        "driver d {\n    page-table arm-lpae-s1 {\n        granule 4K;\n        ias 32;\n    }\n    init a;\n}\n"
    );
}

#[test]
fn numbers_and_strings_stay_as_written() {
    let out = fmt("driver d { cells 0b1_0; }");
    assert!(out.contains("cells 0b1_0;"), "{out}");
    let out = fmt("driver d { compatible \"x\\\"  y\"; check a < 0x1F + 1_000; }");
    assert!(out.contains("\"x\\\"  y\""), "{out}");
    assert!(out.contains("0x1F + 1_000"), "{out}");
}

#[test]
fn comments_stay_where_they_were() {
    let src = "// file header\n\n\n/* block */ driver d { // after brace\n  // own line\n  cells 1; // trailing\n\n\n\n  /* before */ id = a; /* after */\n  field x: u8 = cell[0] // inside\n  else 0;\n  ignore cell[0] /* mid */ [7:4];\n} // end\n// next\ndriver e { cells 0;\n\n}\n// last";
    let want = "// file header\n\n/* block */ driver d { // after brace\n    // own line\n    cells 1; // trailing\n\n    /* before */ id = a; /* after */\n    field x: u8 = cell[0] // inside\n        else 0;\n    ignore cell[0] /* mid */ [7:4];\n} // end\n\n// next\ndriver e {\n    cells 0;\n}\n\n// last\n";
    assert_eq!(fmt(src), want);
}

#[test]
fn own_line_comment_inside_a_statement_is_indented_as_a_continuation() {
    let src = "driver d {\nfield x: u8 = cell[0]\n// why\nelse 0;\n}";
    assert_eq!(
        fmt(src),
        "driver d {\n    field x: u8 = cell[0]\n        // why\n        else 0;\n}\n"
    );
}

#[test]
fn two_statements_on_a_line_split_and_blank_lines_collapse() {
    assert_eq!(
        fmt("\n\ndriver d {\n\n cells 1; init a; /* c */ id = x;\n\n\n\n check x;\n\n}\n\n\n\ndriver e {}\n\n\n"),
        "driver d {\n    cells 1;\n    init a; /* c */\n    id = x;\n\n    check x;\n}\n\ndriver e {}\n"
    );
}

#[test]
fn drivers_get_one_blank_line_between_them() {
    assert_eq!(
        fmt("driver a {} driver b {}\n/// doc\ndriver c {}"),
        "driver a {}\n\ndriver b {}\n\n/// doc\ndriver c {}\n"
    );
}

#[test]
fn a_byte_order_mark_is_kept_and_crlf_becomes_lf() {
    assert_eq!(
        fmt("\u{feff}driver d {\r\n  cells 1;\r\n}\r\n"),
        "\u{feff}driver d {\n    cells 1;\n}\n"
    );
}

#[test]
fn empty_and_comment_only_files() {
    assert_eq!(fmt(""), "");
    assert_eq!(fmt(" \n\n\t\n"), "");
    assert_eq!(fmt("  // only   \n\n"), "// only\n");
}

#[test]
fn syntax_errors_leave_the_source_unchanged() {
    for src in [
        "driver d { cells 1 }",
        "driver d { cells 1;",
        "driver d { cells 1; }}",
        "driver d { granule 4K; }",
        "driver d { check ((((a)))) + ; }",
    ] {
        let f = format_source(src);
        assert!(f.has_errors(), "{src:?}");
        assert_eq!(f.text, src);
    }
}

#[test]
fn a_printer_that_changes_tokens_is_caught_per_item() {
    // A broken printer: drops every item's last token.
    fn lossy(src: &str, els: &[El]) -> String {
        let text = print::item(src, els);
        let cut = els.last().map_or(0, |e| e.span.len());
        text[..text.len() - cut].to_owned()
    }
    let src = "driver a {cells 1;}\n// between\ndriver b {cells 2;}";
    let (text, kept) = layout(src, lossy);
    assert_eq!(
        text,
        "driver a {cells 1;}\n\n// between\ndriver b {cells 2;}\n"
    );
    assert_eq!(kept, [0..19, 31..src.len()]);
    // The real printer passes the same check.
    let (text, kept) = layout(src, print::item);
    assert!(kept.is_empty());
    assert!(text.starts_with("driver a {\n    cells 1;\n}\n"));
}

/// A `child` statement's `where` always starts a continuation line, one
/// level deeper, however the source lays it out.
#[test]
fn child_statement_breaks_before_where() {
    let two = "driver d {\n    child \"q,ns\", \"q,sec\"\n        where asid == property \"qcom,ctx-asid\" else property \"reg\" >> 12;\n}\n";
    assert_eq!(fmt(two), two);
    let one = two.replace("\n        where", " where");
    assert_eq!(fmt(&one), two);
    let squeezed = "driver d{child \"q,ns\",\"q,sec\"\n where asid==property \"qcom,ctx-asid\"else property \"reg\">>12;}";
    assert_eq!(fmt(squeezed), two);
}

/// A statement past 100 columns goes on to continuation lines at its last
/// `,` (lists) or before its last `where`, `||` or `&&` (conditions) that
/// keeps the line within 100 columns, however the source wrapped it.
#[test]
fn long_statements_wrap_at_lists_and_conditions() {
    let names: Vec<String> = (0..12).map(|i| format!("\"vendor,device-{i}\"")).collect();
    let flat = format!(
        "driver d {{\n    dma {{\n        default identity for compatible {};\n    }}\n}}\n",
        names.join(", ")
    );
    let out = fmt(&flat);
    assert!(out.lines().all(|l| l.len() <= 100), "{out}");
    assert!(out.lines().count() > 6, "{out}");
    // Continuations are one level deeper than the statement.
    assert!(out.contains(",\n            \"vendor,device-"), "{out}");
    assert_eq!(fmt(&out), out);
    // The source's own line ends inside the statement do not matter.
    let stretched = flat.replace(", ", ",\n");
    assert_eq!(fmt(&stretched), out);
    let cond = (0..20)
        .map(|i| format!("a == {i}"))
        .collect::<Vec<_>>()
        .join(" || ");
    let group = format!("driver d {{\n    dma {{\n        group g where {cond};\n    }}\n}}\n");
    let out = fmt(&group);
    assert!(out.lines().all(|l| l.len() <= 100), "{out}");
    assert!(out.contains("\n            || a == "), "{out}");
    assert_eq!(fmt(&out), out);
}
