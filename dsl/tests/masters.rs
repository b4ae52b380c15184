//! `master property`, `allow masters` and `deny soc`: what they lower to,
//! and the located errors for bad lists. The names are the ones Linux's
//! Renesas IPMMU allow-list uses (drivers/iommu/ipmmu-vmsa.c).

use iommugen_dsl::ir::{self, Source, Word};
use iommugen_dsl::{check_source, Code};

fn driver(body: &str) -> String {
    format!(
        "driver d {{ compatible \"v,x\"; cells 1; field utlb: u32 = cell[0]; id = utlb;\n{body}\npage-table arm-lpae-s1 {{ granule 4K; ias 32; oas 40; pool 8; }}\ninit crate::d::probe; }}"
    )
}

fn checked(src: &str) -> Result<ir::Driver, Vec<(Code, String)>> {
    let c = check_source("t", src);
    let errors: Vec<(Code, String)> = c
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| {
            let l = d
                .labels
                .iter()
                .find(|l| l.primary)
                .expect("a primary label");
            (d.code, src[l.span.clone()].to_owned())
        })
        .collect();
    match c.spec {
        Some(mut s) if errors.is_empty() => Ok(s.drivers.remove(0)),
        _ => Err(errors),
    }
}

#[test]
fn lists_lower_in_order() {
    let d = checked(&driver(
        "allow masters \"ee100000.mmc\", \"ee120000.mmc\", \"firmware:optee\";\n\
         deny soc \"renesas,r8a774a1\", \"renesas,r8a7795\" revision \"ES2.*\";",
    ))
    .unwrap();
    let allow = d.masters.allow.as_ref().unwrap();
    assert_eq!(
        allow.names,
        ["ee100000.mmc", "ee120000.mmc", "firmware:optee"]
    );
    let deny: Vec<(&str, Option<&str>)> = d
        .masters
        .deny
        .iter()
        .map(|s| (s.machine.as_str(), s.revision.as_deref()))
        .collect();
    assert_eq!(
        deny,
        [
            ("renesas,r8a774a1", None),
            ("renesas,r8a7795", Some("ES2.*"))
        ]
    );
    assert!(d.masters.restricts());
    // Without the statements every master may attach.
    let open = checked(&driver("")).unwrap();
    assert_eq!(open.masters, ir::MasterPolicy::default());
    assert!(!open.masters.restricts());
}

#[test]
fn bad_lists_are_located_errors() {
    let cases: &[(&str, Code, &str)] = &[
        (
            "allow masters \"EE100000.mmc\";",
            Code::BadMasterName,
            "\"EE100000.mmc\"",
        ),
        (
            "allow masters \"0xee100000.mmc\";",
            Code::BadMasterName,
            "\"0xee100000.mmc\"",
        ),
        ("allow masters \"\";", Code::BadMasterName, "\"\""),
        (
            "allow masters \"/soc/mmc@ee100000\";",
            Code::BadMasterName,
            "\"/soc/mmc@ee100000\"",
        ),
        (
            "allow masters \"ee100000.mmc\", \"ee120000.mmc\", \"ee100000.mmc\";",
            Code::DuplicateListEntry,
            "\"ee100000.mmc\"",
        ),
        ("deny soc \"r8a7796\";", Code::BadDeniedSoc, "\"r8a7796\""),
        (
            "deny soc \"renesas,r8a7795\" revision \"\";",
            Code::BadDeniedSoc,
            "\"\"",
        ),
        (
            "deny soc \"renesas,r8a7796\", \"renesas,r8a7796\";",
            Code::DuplicateListEntry,
            "\"renesas,r8a7796\"",
        ),
        (
            "allow masters \"a.b\"; allow masters \"c.d\";",
            Code::RepeatedItem,
            "allow",
        ),
        // An empty list does not parse.
        ("allow masters;", Code::Syntax, ";"),
        ("deny soc;", Code::Syntax, ";"),
    ];
    for (body, code, at) in cases {
        let errors = checked(&driver(body)).expect_err(body);
        assert!(
            errors.iter().any(|(c, text)| c == code && text == at),
            "{body}: {errors:?}"
        );
    }
    // The same machine with and without a revision are two entries.
    assert!(checked(&driver(
        "deny soc \"renesas,r8a7795\", \"renesas,r8a7795\" revision \"ES2.*\";"
    ))
    .is_ok());
}

#[test]
fn an_extending_driver_takes_its_bases_lists() {
    let src = format!(
        "{}\ndriver e extends d {{ compatible \"v,y\"; }}\ndriver f extends d {{ compatible \"v,z\"; allow masters \"a.b\"; }}",
        driver("allow masters \"ee100000.mmc\";")
    );
    let c = check_source("t", &src);
    let codes: Vec<Code> = c.diagnostics.iter().map(|d| d.code).collect();
    assert_eq!(codes, [Code::NotInExtension], "{:?}", c.diagnostics);
    let c = check_source("t", &src.replace("allow masters \"a.b\";", ""));
    let spec = c.spec.unwrap();
    assert_eq!(spec.drivers[1].masters, spec.drivers[0].masters);
}

#[test]
fn master_property_is_a_source_and_an_ignored_word() {
    let d = checked(
        "driver d { compatible \"v,x\"; cells 1;\n\
         field utlb: u8 = cell[0][7:0];\n\
         field os: u4 = master property \"renesas,os-id\"[3:0] else 0;\n\
         ignore cell[0][31:8], master property \"renesas,os-id\"[31:4];\n\
         id = os << 8 | utlb;\n\
         page-table arm-lpae-s1 { granule 4K; ias 32; oas 40; pool 8; }\n\
         init crate::d::probe; }",
    )
    .unwrap();
    match &d.fields[1].sources[0] {
        Source::MasterProperty { name, bits, .. } => {
            assert_eq!(name, "renesas,os-id");
            assert_eq!((bits.lsb, bits.width), (0, 4));
        }
        other => panic!("{other:?}"),
    }
    let word = Word::MasterProperty("renesas,os-id".into());
    assert_eq!(d.dropped_bits(&word), 0xffff_fff0);
    // An IOMMU-node property of the same name is another word.
    assert_eq!(d.dropped_bits(&Word::Property("renesas,os-id".into())), 0);
    let refused = d.refused_bits(&[1]);
    assert_eq!(refused.master_property("renesas,os-id"), 0);
    assert_eq!(refused.property("renesas,os-id"), 0);
}

#[test]
fn master_property_errors() {
    // The last source may be absent: a PCI function has no node.
    let e = checked(&driver("field os: u4 = master property \"os\"[3:0];")).unwrap_err();
    assert!(
        e.iter().any(|(c, _)| *c == Code::FieldMayBeMissing),
        "{e:?}"
    );
    // `ignore` of a master property no field reads.
    let e = checked(&driver("ignore master property \"os\";")).unwrap_err();
    assert_eq!(
        e,
        [(Code::IgnoreUnreadProperty, "master property \"os\"".into())]
    );
    // Too narrow.
    let e = checked(&driver(
        "field os: u4 = master property \"os\" else 0; check os < 2;",
    ))
    .unwrap_err();
    assert!(e.iter().any(|(c, _)| *c == Code::FieldTooNarrow), "{e:?}");
}
