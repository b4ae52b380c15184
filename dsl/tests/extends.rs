//! `driver NAME extends BASE { … }`: the base's contract under the
//! extending driver's name and compatibles, and the located errors.

use iommugen_dsl::ir;
use iommugen_dsl::{check::check_ast, check_source, check_sources, parse::parse, Code};

const BASE: &str = "driver base {\n    compatible \"v,base\";\n    cells 1 | 2;\n    field sid: u16 = cell[0][15:0];\n    field mask: u16 = cell[1][15:0] else 0;\n    ignore cell[0][31:16], cell[1][31:16];\n    id = mask << 16 | sid;\n    pci iommu-map;\n    page-table arm-lpae-s1 { granule 4K; ias 48; oas 48; pool 8; }\n    init crate::base::probe;\n}\n";

fn spec(src: &str) -> ir::Spec {
    let c = check_source("t", src);
    c.spec.unwrap_or_else(|| panic!("{:#?}", c.diagnostics))
}

/// The codes and the text under each diagnostic's primary label.
fn located(src: &str) -> Vec<(Code, String)> {
    check_source("t", src)
        .diagnostics
        .iter()
        .map(|d| (d.code, src[d.labels[0].span.clone()].to_owned()))
        .collect()
}

/// What an extending driver must share with its base: everything but the
/// name, docs, compatibles, init, default domain, span and `extends`.
fn same_contract(a: &ir::Driver, b: &ir::Driver) {
    assert_eq!(a.cells, b.cells);
    assert_eq!(a.fields, b.fields);
    assert_eq!(a.dropped, b.dropped);
    assert_eq!(a.checks, b.checks);
    assert_eq!(a.ids, b.ids);
    assert_eq!(a.pci, b.pci);
    assert_eq!(a.translation, b.translation);
    let (mut x, mut y) = (a.dma.clone(), b.dma.clone());
    for d in [&mut x, &mut y] {
        d.identity_default = false;
        d.identity_compatibles.clear();
    }
    assert_eq!(x, y);
}

#[test]
fn an_extending_driver_takes_the_base_contract_and_its_own_compatibles() {
    let src = format!(
        "{BASE}/// Vendor.\ndriver vendor extends base {{\n    compatible \"v,one\", \"v,two\";\n}}\n"
    );
    let s = spec(&src);
    let (base, vendor) = (&s.drivers[0], &s.drivers[1]);
    same_contract(base, vendor);
    assert_eq!(vendor.name, "vendor");
    assert_eq!(vendor.docs, ["Vendor."]);
    assert_eq!(vendor.compatibles, ["v,one", "v,two"]);
    assert_eq!(vendor.extends.as_deref(), Some("base"));
    assert_eq!(vendor.init, base.init);
    assert_eq!(base.extends, None);
    assert_eq!(base.compatibles, ["v,base"]);
    assert_eq!(&src[vendor.span.clone()][..6], "driver");
}

#[test]
fn an_extending_driver_may_name_its_own_init() {
    let src = format!(
        "{BASE}driver vendor extends base {{ compatible \"v,one\"; init crate::vendor::probe; }}\n"
    );
    let s = spec(&src);
    assert_eq!(s.drivers[1].init.segments, ["crate", "vendor", "probe"]);
    same_contract(&s.drivers[0], &s.drivers[1]);
}

#[test]
fn extends_chains_through_an_extending_base() {
    let src = format!(
        "{BASE}driver b extends base {{ compatible \"v,b\"; init crate::b::probe; }}\ndriver c extends b {{ compatible \"v,c\"; }}\n"
    );
    let s = spec(&src);
    same_contract(&s.drivers[0], &s.drivers[2]);
    // c's base is b, whose init c inherits.
    assert_eq!(s.drivers[2].extends.as_deref(), Some("b"));
    assert_eq!(s.drivers[2].init.segments, ["crate", "b", "probe"]);
}

#[test]
fn an_unknown_base_is_located_with_a_suggestion() {
    let src = format!("{BASE}driver vendor extends bsae {{ compatible \"v,one\"; }}\n");
    assert_eq!(located(&src), [(Code::UnknownBase, "bsae".to_owned())]);
    let d = &check_source("t", &src).diagnostics[0];
    assert_eq!(d.help.as_deref(), Some("did you mean `base`?"));
}

#[test]
fn a_base_must_be_above_and_never_the_driver_itself() {
    // Below: not visible when `vendor` is read (so no cycle can form).
    let src = format!("driver vendor extends base {{ compatible \"v,one\"; }}\n{BASE}");
    assert_eq!(located(&src), [(Code::UnknownBase, "base".to_owned())]);
    let src = "driver a extends a { compatible \"v,a\"; }\n";
    assert_eq!(located(src), [(Code::UnknownBase, "a".to_owned())]);
    // Two drivers naming each other: the first has no base above it.
    let src =
        "driver a extends b { compatible \"v,a\"; }\ndriver b extends a { compatible \"v,b\"; }\n";
    assert_eq!(located(src), [(Code::UnknownBase, "b".to_owned())]);
}

#[test]
fn an_extending_driver_cannot_restate_the_contract() {
    let src = format!(
        "{BASE}driver vendor extends base {{\n    compatible \"v,one\";\n    cells 1;\n    field x: u8 = cell[0][7:0];\n    page-table arm-lpae-s1 {{ granule 4K; ias 48; oas 48; pool 8; }}\n}}\n"
    );
    assert_eq!(
        located(&src),
        [
            (Code::NotInExtension, "cells".to_owned()),
            (Code::NotInExtension, "field".to_owned()),
            (Code::NotInExtension, "page-table".to_owned()),
        ]
    );
    // The second label points at the base's name in the header.
    let d = &check_source("t", &src).diagnostics[0];
    assert_eq!(&src[d.labels[1].span.clone()], "base");
}

/// An extension's `dma` block may give its own default domain (it reads
/// no field) and nothing else; its extenders inherit it.
#[test]
fn an_extending_driver_may_give_its_own_default_domain() {
    let src = format!(
        "{BASE}driver vendor extends base {{\n    compatible \"v,one\";\n    dma {{ default identity for compatible \"v,gpu\", \"v,display\"; }}\n}}\ndriver sub extends vendor {{ compatible \"v,two\"; }}\n"
    );
    let s = spec(&src);
    for d in &s.drivers[1..] {
        assert_eq!(
            d.dma.identity_compatibles,
            ["v,gpu", "v,display"],
            "{}",
            d.name
        );
        assert!(!d.dma.identity_default);
        same_contract(&s.drivers[0], d);
    }
    assert!(s.drivers[0].dma.identity_compatibles.is_empty());
    let all = format!(
        "{BASE}driver vendor extends base {{ compatible \"v,one\"; dma {{ default identity; }} }}\n"
    );
    assert!(spec(&all).drivers[1].dma.identity_default);
    let bad = format!(
        "{BASE}driver vendor extends base {{\n    compatible \"v,one\";\n    dma {{ domain per-device; default identty; }}\n}}\n"
    );
    assert_eq!(
        located(&bad),
        [
            (Code::NotInExtension, "domain".to_owned()),
            (Code::UnknownDefaultDomain, "identty".to_owned()),
        ]
    );
}

#[test]
fn an_extending_driver_needs_compatibles_of_its_own() {
    let src = format!("{BASE}driver vendor extends base {{ init crate::v::probe; }}\n");
    assert_eq!(located(&src), [(Code::MissingItem, "vendor".to_owned())]);
    // Its strings are its own claims: the base's string again is E0601.
    let src = format!("{BASE}driver vendor extends base {{ compatible \"v,base\"; }}\n");
    assert_eq!(
        located(&src),
        [(Code::DuplicateCompatible, "\"v,base\"".to_owned())]
    );
}

#[test]
fn a_broken_base_gives_its_extenders_no_second_report() {
    let broken = BASE.replace("cells 1 | 2;", "cells 1;");
    let src = format!("{broken}driver vendor extends base {{ compatible \"v,one\"; }}\n");
    let c = check_source("t", &src);
    assert!(c.spec.is_none());
    // Only the base's own errors (cell[1] beyond `cells 1`, the ignore of it).
    assert!(c
        .diagnostics
        .iter()
        .all(|d| d.labels[0].span.end <= broken.len()));
    assert!(!c.diagnostics.is_empty());
}

#[test]
fn bases_in_other_files_are_not_visible() {
    let files = vec![
        ("a.iommu".to_owned(), BASE.to_owned()),
        (
            "b.iommu".to_owned(),
            "driver vendor extends base { compatible \"v,one\"; }\n".to_owned(),
        ),
    ];
    let out = check_sources(&files);
    assert!(out[0].1.diagnostics.is_empty());
    let codes: Vec<Code> = out[1].1.diagnostics.iter().map(|d| d.code).collect();
    assert_eq!(codes, [Code::UnknownBase]);
}

#[test]
fn the_tree_and_the_stream_agree() {
    let src = format!(
        "{BASE}driver b extends base {{ compatible \"v,b\"; }}\ndriver c extends nope {{ compatible \"v,c\"; field x: u8 = 0; }}\n"
    );
    let (tree, mut diags) = parse(&src);
    let whole = check_ast(&tree);
    diags.extend(whole.diagnostics);
    // Reported in source order: the header's base before the body's field.
    diags.sort_by_key(|d| d.labels[0].span.start);
    let streamed = check_source("t", &src);
    assert_eq!(
        diags.iter().map(|d| d.code).collect::<Vec<_>>(),
        streamed
            .diagnostics
            .iter()
            .map(|d| d.code)
            .collect::<Vec<_>>()
    );
    assert_eq!(
        streamed
            .diagnostics
            .iter()
            .map(|d| d.code)
            .collect::<Vec<_>>(),
        [Code::UnknownBase, Code::NotInExtension]
    );
    assert_eq!(
        tree.drivers[1].extends.as_ref().map(|b| b.name.as_str()),
        Some("base")
    );
}

#[test]
fn the_shipped_family_extends_arm_smmu() {
    let src = include_str!("../../examples/arm-smmu.iommu");
    let s = spec(src);
    let base = s.drivers.iter().find(|d| d.name == "arm_smmu").unwrap();
    for (name, from) in [
        ("nvidia_smmu_500", "arm_smmu"),
        ("qcom_smmu", "arm_smmu"),
        ("qcom_adreno_smmu", "qcom_smmu"),
    ] {
        let d = s.drivers.iter().find(|d| d.name == name).unwrap();
        assert_eq!(d.extends.as_deref(), Some(from), "{name}");
        same_contract(base, d);
    }
    let nvidia = s
        .drivers
        .iter()
        .find(|d| d.name == "nvidia_smmu_500")
        .unwrap();
    assert_eq!(
        nvidia.compatibles,
        [
            "nvidia,smmu-500",
            "nvidia,tegra194-smmu",
            "nvidia,tegra234-smmu"
        ]
    );
    assert_eq!(nvidia.init.segments, ["crate", "nvidia_smmu", "probe"]);
    let qcom = s.drivers.iter().find(|d| d.name == "qcom_smmu").unwrap();
    for c in [
        "qcom,smmu-v2",
        "qcom,smmu-500",
        "qcom,sdm845-smmu-500",
        "qcom,sc7280-smmu-500",
    ] {
        assert!(qcom.compatibles.iter().any(|q| q == c), "{c}");
    }
}
