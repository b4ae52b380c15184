//! `master one instance;` and `master same FIELD;`: the probe policy,
//! rules over all of a master's IDs (Linux's `probe_device`).

use iommugen_dsl::{check_source, Code};

fn src(body: &str) -> String {
    format!(
        "driver d {{\n compatible \"v,i\";\n cells 1;\n field larb: u5 = cell[0] >> 5 & 0x1f;\n field port: u5 = cell[0] & 0x1f;\n ignore cell[0][31:10];\n id = larb << 5 | port;\n{body}\n page-table arm-lpae-s1 {{ granule 4K; ias 32; oas 40; pool 8; }}\n init crate::p;\n}}\n"
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
fn lowers_to_the_policy() {
    let text = src(" master one instance;\n master same larb;");
    let checked = check_source("t.iommu", &text);
    assert!(checked.diagnostics.is_empty(), "{:#?}", checked.diagnostics);
    let d = &checked.spec.unwrap().drivers[0];
    let one = d.probe.one_instance.as_ref().expect("one instance");
    assert_eq!(&text[one.clone()], "master one instance;");
    let same = d.probe.same.as_ref().expect("same");
    assert_eq!((same.field, same.name.as_str()), (0, "larb"));
    assert_eq!((same.shift, same.width, same.mask()), (5, 5, 0x3e0));
    assert_eq!(&text[same.span.clone()], "master same larb;");
    // No statement: every master is accepted.
    let none = check_source("t.iommu", &src("")).spec.unwrap();
    assert!(none.drivers[0].probe.is_empty());
}

#[test]
fn an_extending_driver_takes_its_bases_policy() {
    let text = format!(
        "{}driver e extends d {{\n compatible \"v,e\";\n}}\n",
        src(" master same larb;")
    );
    let checked = check_source("t.iommu", &text);
    assert!(checked.diagnostics.is_empty(), "{:#?}", checked.diagnostics);
    let spec = checked.spec.unwrap();
    assert_eq!(spec.drivers[1].probe, spec.drivers[0].probe);
    // And cannot state one of its own.
    let text = format!(
        "{}driver e extends d {{\n compatible \"v,e\";\n master one instance;\n}}\n",
        src("")
    );
    let checked = check_source("t.iommu", &text);
    let codes: Vec<Code> = checked.diagnostics.iter().map(|d| d.code).collect();
    assert_eq!(codes, [Code::NotInExtension]);
}

#[test]
fn errors_are_located() {
    let text = src(" master same lrab;");
    let checked = check_source("t.iommu", &text);
    let d = &checked.diagnostics[0];
    assert_eq!(d.code, Code::ProbeUnknownField);
    assert_eq!(&text[d.labels[0].span.clone()], "lrab");
    assert_eq!(d.help.as_deref(), Some("did you mean `larb`?"));
    assert!(checked.spec.is_none());

    let text = src(" master one instance;\n master one instance;");
    let checked = check_source("t.iommu", &text);
    let d = &checked.diagnostics[0];
    assert_eq!(d.code, Code::ProbeRepeated);
    let second = text.rfind("master one").unwrap();
    assert_eq!(d.labels[0].span.start, second);
    assert_eq!(d.labels[1].span.start, text.find("master one").unwrap());

    assert_eq!(
        codes(" master same larb;\n master same port;"),
        [Code::ProbeRepeated]
    );
    // One of each form is fine.
    assert_eq!(codes(" master one instance;\n master same port;"), []);
}

#[test]
fn the_field_must_sit_in_every_id_at_one_place() {
    // A second ID without the larb.
    let text = src(" id = port;\n master same larb;");
    let checked = check_source("t.iommu", &text);
    let d = &checked.diagnostics[0];
    assert_eq!(d.code, Code::ProbeFieldNotInId);
    assert_eq!(&text[d.labels[0].span.clone()], "larb");
    assert_eq!(&text[d.labels[1].span.clone()], "id = port;");
    // At another place in a second ID.
    assert_eq!(
        codes(" id = larb << 8 | port;\n master same larb;"),
        [Code::ProbeFieldNotInId]
    );
    // A driver that packs no ID.
    let text = "driver d {\n compatible \"v,i\";\n cells 1;\n field x: u32 = cell[0];\n check x < 8;\n master same x;\n page-table arm-lpae-s1 { granule 4K; ias 32; oas 40; pool 8; }\n init crate::p;\n}\n";
    let checked = check_source("t.iommu", text);
    let codes: Vec<Code> = checked.diagnostics.iter().map(|d| d.code).collect();
    assert_eq!(codes, [Code::ProbeFieldNotInId]);
}

#[test]
fn syntax_errors_are_e0001() {
    assert_eq!(codes(" master two instances;"), [Code::Syntax]);
    assert_eq!(codes(" master same;"), [Code::Syntax]);
}
