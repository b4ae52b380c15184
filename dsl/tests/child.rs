//! `child "COMPAT", … where FIELD == KEY else KEY …;`: what the checker
//! accepts, refuses, and lowers to `ir::ChildMatch`.

use iommugen_dsl::ir::BitRange;
use iommugen_dsl::{check_source, Code};

fn src(body: &str) -> String {
    format!(
        "driver d {{\n compatible \"v,i\";\n cells 1;\n field asid: u32 = cell[0];\n{body}\n id = asid;\n page-table arm-lpae-s1 {{ granule 4K; ias 32; oas 40; pool 8; }}\n init crate::p;\n}}\n"
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
fn lowers_compatibles_field_and_keys() {
    let checked = check_source(
        "t.iommu",
        &src(" child \"q,ns\", \"q,sec\" where asid == property \"qcom,ctx-asid\" else property \"reg\"[15:0] >> 12 & 0x7;"),
    );
    assert!(checked.diagnostics.is_empty(), "{:#?}", checked.diagnostics);
    let d = &checked.spec.unwrap().drivers[0];
    assert_eq!(d.children.len(), 1);
    let c = &d.children[0];
    assert_eq!(c.compatibles, ["q,ns", "q,sec"]);
    assert_eq!(d.fields[c.field].name, "asid");
    let keys: Vec<(&str, BitRange)> = c
        .key
        .iter()
        .map(|k| (k.property.as_str(), k.bits))
        .collect();
    assert_eq!(
        keys,
        [
            ("qcom,ctx-asid", BitRange::WHOLE),
            // [15:0], then >> 12, then & 0x7: bits 12 to 14.
            ("reg", BitRange { lsb: 12, width: 3 }),
        ]
    );
    assert_eq!(c.key[1].value(0x5000), 5);
    assert_eq!(c.key[1].value(0xd000), 5, "bit 15 is masked off");
    assert_eq!(
        c.text,
        "\"q,ns\", \"q,sec\" where asid == property \"qcom,ctx-asid\" else property \"reg\"[15:0] >> 12 & 0x7"
    );
}

#[test]
fn a_field_only_a_child_statement_uses_is_not_unused() {
    let body = " field bank: u8 = cell[0][7:0];\n ignore cell[0][31:8];\n child \"q\" where bank == property \"reg\" >> 12;";
    let s = src(body)
        .replace(" field asid: u32 = cell[0];\n", "")
        .replace(" id = asid;\n", "");
    let checked = check_source("t.iommu", &s);
    assert!(checked.diagnostics.is_empty(), "{:#?}", checked.diagnostics);
}

#[test]
fn keys_must_be_properties_of_the_child() {
    assert_eq!(
        codes(" child \"q\" where asid == cell[0];"),
        [Code::ChildKeyNotProperty]
    );
    assert_eq!(
        codes(" child \"q\" where asid == property \"reg\" else 3;"),
        [Code::ChildKeyNotProperty]
    );
}

#[test]
fn unknown_fields_and_bad_bits_are_located() {
    let checked = check_source(
        "t.iommu",
        &src(" child \"q\" where asdi == property \"reg\";"),
    );
    let d = &checked.diagnostics[0];
    assert_eq!(d.code, Code::UnknownField);
    assert!(d.help.as_deref().unwrap_or("").contains("asid"), "{d:?}");
    assert_eq!(
        codes(" child \"q\" where asid == property \"reg\"[40:0];"),
        [Code::BadBitRange]
    );
    assert_eq!(
        codes(" child \"q\" where asid == property \"reg\" & 0xf0;"),
        [Code::BadMask]
    );
    assert_eq!(
        codes(" child \"q\" where asid == property \"reg\" >> 32;"),
        [Code::BadBitRange]
    );
}

#[test]
fn an_extending_driver_takes_its_bases_child_statement() {
    let base = src(" child \"q\" where asid == property \"reg\" >> 12;");
    let ok = format!("{base}driver e extends d {{ compatible \"v,j\"; }}\n");
    let checked = check_source("t.iommu", &ok);
    assert!(checked.diagnostics.is_empty(), "{:#?}", checked.diagnostics);
    let spec = checked.spec.unwrap();
    assert_eq!(spec.drivers[1].children, spec.drivers[0].children);
    let restated = format!(
        "{base}driver e extends d {{ compatible \"v,j\"; child \"q\" where asid == property \"reg\"; }}\n"
    );
    let codes: Vec<Code> = check_source("t.iommu", &restated)
        .diagnostics
        .iter()
        .map(|d| d.code)
        .collect();
    assert_eq!(codes, [Code::NotInExtension]);
}
