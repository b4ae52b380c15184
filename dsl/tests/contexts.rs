//! `contexts N reserved K;`: translation contexts per main instance
//! (Renesas IPMMU's number_of_contexts and reserved_context).

use iommugen_dsl::{check_source, Code};

fn src(body: &str) -> String {
    format!(
        "driver d {{\n compatible \"v,i\";\n cells 1;\n field utlb: u32 = cell[0];\n id = utlb;\n{body}\n page-table arm-lpae-s1 {{ granule 4K; ias 32; oas 40; pool 8; }}\n init crate::p;\n}}\n"
    )
}

fn codes(body: &str) -> Vec<Code> {
    check_source("t.iommu", &src(body))
        .diagnostics
        .iter()
        .map(|d| d.code)
        .collect()
}

#[test]
fn lowers_to_the_counts() {
    let text = src(" contexts 8 reserved 1;");
    let checked = check_source("t.iommu", &text);
    assert!(checked.diagnostics.is_empty(), "{:#?}", checked.diagnostics);
    let d = &checked.spec.unwrap().drivers[0];
    let c = d.contexts.as_ref().expect("contexts");
    assert_eq!((c.total, c.reserved, c.usable()), (8, 1, 7));
    assert_eq!(&text[c.span.clone()], "contexts 8 reserved 1;");
    // `reserved` left out: none kept back (Gen2's one context).
    let one = check_source("t.iommu", &src(" contexts 1;")).spec.unwrap();
    let c = one.drivers[0].contexts.as_ref().expect("contexts");
    assert_eq!((c.total, c.reserved), (1, 0));
    let none = check_source("t.iommu", &src("")).spec.unwrap();
    assert!(none.drivers[0].contexts.is_none());
}

#[test]
fn errors_point_at_the_count() {
    let text = src(" contexts 0;");
    let checked = check_source("t.iommu", &text);
    let d = &checked.diagnostics[0];
    assert_eq!(d.code, Code::NoContexts);
    assert_eq!(&text[d.labels[0].span.clone()], "0");

    let text = src(" contexts 8 reserved 9;");
    let checked = check_source("t.iommu", &text);
    let d = &checked.diagnostics[0];
    assert_eq!(d.code, Code::AllContextsReserved);
    assert_eq!(&text[d.labels[0].span.clone()], "9");
    assert_eq!(&text[d.labels[1].span.clone()], "8");
    assert!(checked.spec.is_none());

    assert_eq!(
        codes(" contexts 4 reserved 4;"),
        [Code::AllContextsReserved]
    );
    assert_eq!(codes(" contexts 0x1_0000_0000;"), [Code::ContextsTooMany]);
    assert_eq!(codes(" contexts 2 reserved 1;"), []);
}

#[test]
fn once_per_driver_and_not_restated_by_an_extension() {
    assert_eq!(
        codes(" contexts 8 reserved 1;\n contexts 16 reserved 1;"),
        [Code::RepeatedItem]
    );
    let base = src(" contexts 8 reserved 1;");
    let ext = check_source(
        "t.iommu",
        &format!("{base}driver e extends d {{ compatible \"v,j\"; }}\n"),
    );
    assert!(ext.diagnostics.is_empty(), "{:#?}", ext.diagnostics);
    let spec = ext.spec.unwrap();
    assert_eq!(spec.drivers[1].contexts, spec.drivers[0].contexts);
    let restated = check_source(
        "t.iommu",
        &format!("{base}driver e extends d {{ compatible \"v,j\"; contexts 4; }}\n"),
    );
    let codes: Vec<Code> = restated.diagnostics.iter().map(|d| d.code).collect();
    assert_eq!(codes, [Code::NotInExtension]);
}

#[test]
fn malformed_statements_are_syntax_errors() {
    for body in [
        " contexts;",
        " contexts 8 reserved;",
        " contexts reserved 1;",
        " contexts 8 1;",
        " contexts 8 reservedx 1;",
    ] {
        assert_eq!(codes(body), [Code::Syntax], "{body}");
    }
}
