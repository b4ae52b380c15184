//! `main property "NAME";`: main and cache instances of a family.

use iommugen_dsl::{check_source, Code};

fn src(body: &str) -> String {
    format!(
        "driver d {{\n compatible \"v,i\";\n cells 1;\n field utlb: u32 = cell[0];\n id = utlb;\n{body}\n page-table arm-lpae-s1 {{ granule 4K; ias 32; oas 40; pool 8; }}\n init crate::p;\n}}\n"
    )
}

#[test]
fn lowers_to_the_property() {
    let checked = check_source("t.iommu", &src(" main property \"renesas,ipmmu-main\";"));
    assert!(checked.diagnostics.is_empty(), "{:#?}", checked.diagnostics);
    let d = &checked.spec.unwrap().drivers[0];
    let main = d.main.as_ref().expect("main");
    assert_eq!(main.property, "renesas,ipmmu-main");
    let text = src(" main property \"renesas,ipmmu-main\";");
    assert_eq!(
        &text[main.span.clone()],
        "main property \"renesas,ipmmu-main\";"
    );
    let plain = check_source("t.iommu", &src(""));
    assert!(plain.spec.unwrap().drivers[0].main.is_none());
}

#[test]
fn once_per_driver_and_not_restated_by_an_extension() {
    let twice = check_source(
        "t.iommu",
        &src(" main property \"a\";\n main property \"b\";"),
    );
    let codes: Vec<Code> = twice.diagnostics.iter().map(|d| d.code).collect();
    assert_eq!(codes, [Code::RepeatedItem]);
    let base = src(" main property \"renesas,ipmmu-main\";");
    let ext = check_source(
        "t.iommu",
        &format!("{base}driver e extends d {{ compatible \"v,j\"; }}\n"),
    );
    assert!(ext.diagnostics.is_empty(), "{:#?}", ext.diagnostics);
    let spec = ext.spec.unwrap();
    assert_eq!(spec.drivers[1].main, spec.drivers[0].main);
    let restated = check_source(
        "t.iommu",
        &format!("{base}driver e extends d {{ compatible \"v,j\"; main property \"x\"; }}\n"),
    );
    let codes: Vec<Code> = restated.diagnostics.iter().map(|d| d.code).collect();
    assert_eq!(codes, [Code::NotInExtension]);
}

#[test]
fn malformed_statements_are_syntax_errors() {
    for body in [" main \"p\";", " main property;", " main cell[0];"] {
        let codes: Vec<Code> = check_source("t.iommu", &src(body))
            .diagnostics
            .iter()
            .map(|d| d.code)
            .collect();
        assert_eq!(codes, [Code::Syntax], "{body}");
    }
}
