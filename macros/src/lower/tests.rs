use super::*;
use iommugen_dsl::ir;
use quote::quote;

#[test]
fn snake_case_names() {
    assert_eq!(snake("ArmSmmuV3"), "arm_smmu_v3");
    assert_eq!(snake("MtkM4u"), "mtk_m4u");
    assert_eq!(snake("Dart"), "dart");
}

#[test]
fn lowers_to_the_dsl() {
    let args = quote! {
        compatible: ["arm,mmu-500", "arm,smmu-v2"],
        cells: 1 | 2,
        field stream_id: u16 = cell[0][15:0],
        field mask: u16 = cell[1][15:0] else property("stream-match-mask")[15:0] else 0,
        id: mask << 16 | stream_id,
        pci: iommu_map,
        page_table: arm_lpae_s1 { granule: 4K, ias: 48, oas: 48, sizes: [4K, 2M], coherent_walk, pool: 64 },
        dma: { domain: per_device },
        init: crate::smmu::probe,
    };
    let ty = Ident::new("ArmSmmu", Span::call_site());
    let (synth, _) = lower(args, &ty, &[]).unwrap();
    let checked = iommugen_dsl::check_source("attr", &synth.text);
    assert!(
        !checked.has_errors(),
        "{}\n{:?}",
        synth.text,
        checked.diagnostics
    );
    let spec = checked.spec.unwrap();
    let d = &spec.drivers[0];
    assert_eq!(d.name, "arm_smmu");
    assert_eq!(d.compatibles, ["arm,mmu-500", "arm,smmu-v2"]);
    assert_eq!(d.cells.allowed, [1, 2]);
    let pt = d.translation.page_table().expect("tables");
    assert_eq!(pt.page_sizes, [4096, 2 << 20]);
    assert!(pt.coherent_walk);
    assert_eq!(pt.pool_tables, 64);
}

/// A `check` nested a hundred thousand groups deep lowers without
/// recursing past the limit and is refused with E0004 on the group where
/// the limit is passed (mapped back to its token).
#[test]
fn deep_check_arguments_are_refused_not_overflowed() {
    use proc_macro2::{Delimiter, Group, TokenTree};
    let mut expr = quote!(stream_id);
    for _ in 0..100_000 {
        expr = TokenStream::from(TokenTree::Group(Group::new(Delimiter::Parenthesis, expr)));
    }
    let args = quote! {
        compatible: ["arm,smmu-v3"],
        cells: 1,
        field stream_id: u32 = cell[0],
        check: #expr < 16,
        id: stream_id,
        page_table: arm_lpae_s1 { granule: 4K, ias: 48, oas: 48, pool: 64 },
        init: crate::smmu::probe,
    };
    let ty = Ident::new("Smmu", Span::call_site());
    let (synth, _) = lower(args, &ty, &[]).unwrap();
    let checked = iommugen_dsl::check_source("attr", &synth.text);
    let codes: Vec<_> = checked.diagnostics.iter().map(|d| d.code).collect();
    assert_eq!(codes, [iommugen_dsl::Code::TooDeep], "{:.300}", synth.text);
    let at = checked.diagnostics[0].primary_span().unwrap();
    assert_eq!(&synth.text[at.clone()], "(");
    // The 65th `(` of the check: 64 enclose it.
    let check = synth.text.find("check").unwrap();
    assert_eq!(
        synth.text[check..at.start].matches('(').count(),
        iommugen_dsl::depth::MAX_EXPR_DEPTH
    );
}

/// The IR with every span and doc line cleared, for comparing routes.
fn strip(mut d: iommugen_dsl::ir::Driver) -> iommugen_dsl::ir::Driver {
    use iommugen_dsl::ir::Source;
    d.span = 0..0;
    d.docs.clear();
    d.cells.span = 0..0;
    for f in &mut d.fields {
        f.span = 0..0;
        for s in &mut f.sources {
            match s {
                Source::Cell { span, .. }
                | Source::Property { span, .. }
                | Source::MasterProperty { span, .. }
                | Source::Const { span, .. } => *span = 0..0,
            }
        }
    }
    for x in &mut d.dropped {
        x.span = 0..0;
    }
    for c in &mut d.checks {
        c.span = 0..0;
    }
    for c in &mut d.children {
        c.span = 0..0;
        for k in &mut c.key {
            k.span = 0..0;
        }
    }
    for p in &mut d.ids {
        p.span = 0..0;
    }
    if let Some(p) = &mut d.pci {
        p.span = 0..0;
    }
    match &mut d.translation {
        ir::Translation::Tables(pt) => pt.span = 0..0,
        ir::Translation::Requests(r) => r.span = 0..0,
    }
    if let Some(m) = &mut d.main {
        m.span = 0..0;
    }
    if let Some(c) = &mut d.contexts {
        c.span = 0..0;
    }
    if let Some(s) = &mut d.probe.one_instance {
        *s = 0..0;
    }
    if let Some(s) = &mut d.probe.same {
        s.span = 0..0;
    }
    d.dma.span = 0..0;
    for g in &mut d.dma.groups {
        g.span = 0..0;
    }
    d.init.span = 0..0;
    if let Some(a) = &mut d.masters.allow {
        a.span = 0..0;
    }
    for s in &mut d.masters.deny {
        s.span = 0..0;
    }
    d
}

/// The attribute form of `examples/arm-smmu-v3.iommu`,
/// `examples/mediatek-m4u.iommu` and `examples/arm-smmu.iommu` (whose
/// `ignore` is a list) lowers to the very IR of the spec.
#[test]
fn attribute_and_spec_give_the_same_ir() {
    let cases = [
        (
            "arm-smmu.iommu",
            "ArmSmmu",
            quote! {
                compatible: ["arm,smmu-v1", "arm,smmu-v2", "arm,mmu-400", "arm,mmu-401", "arm,mmu-500"],
                cells: 1 | 2,
                field stream_id: u16 = cell[0][15:0],
                field mask: u16 = cell[1][15:0] else property("stream-match-mask")[15:0] else 0,
                ignore: [cell[0][31:16], cell[1][31:16], property("stream-match-mask")[31:16]],
                id: mask << 16 | stream_id,
                pci: iommu_map,
                page_table: arm_lpae_s1 { granule: 4K, ias: 48, oas: 48, sizes: [4K, 2M, 1G], pool: 256 },
                dma: { domain: per_device },
                init: crate::arm_smmu::probe,
            },
        ),
        (
            "arm-smmu-v3.iommu",
            "ArmSmmuV3",
            quote! {
                compatible: ["arm,smmu-v3"],
                cells: 1,
                field stream_id: u32 = cell[0],
                check: stream_id < 1 << 20,
                id: stream_id,
                pci: iommu_map,
                page_table: arm_lpae_s1 {
                    granule: 4K, ias: 48, oas: 48, sizes: [4K, 2M, 1G], coherent_walk, pool: 256
                },
                dma: { domain: per_device, aperture: 0x1000_0000..0x1_0000_0000 },
                init: crate::smmu::probe,
            },
        ),
        (
            "mediatek-m4u.iommu",
            "MtkM4u",
            quote! {
                compatible: ["mediatek,mt8183-m4u"],
                cells: 1,
                field larb: u5 = cell[0] >> 5 & 0x1f,
                field port: u5 = cell[0] & 0x1f,
                ignore: cell[0][31:10],
                id: larb << 5 | port,
                master: same(larb),
                page_table: arm_v7s { mtk_ext, oas: 35, sizes: [4K, 64K, 1M, 16M], pool: 256 },
                dma: { domain: per_instance, aperture: 0x1000..0xff80_0000 },
                init: crate::mtk::probe,
            },
        ),
        (
            "apple-dart.iommu",
            "AppleDart",
            quote! {
                compatible: ["apple,t8103-dart"],
                cells: 1,
                field stream: u32 = cell[0],
                check: stream < 16,
                id: stream,
                page_table: apple_dart { generation: t8103, pool: 64 },
                dma: { domain: per_device },
                init: crate::dart::probe,
            },
        ),
        (
            "rockchip-iommu.iommu#1",
            "RockchipRk3568Iommu",
            quote! {
                compatible: ["rockchip,rk3568-iommu"],
                cells: 0,
                page_table: rockchip { version: 2, pool: 32 },
                dma: { domain: per_instance },
                init: crate::rockchip::probe,
            },
        ),
        (
            "exynos-sysmmu.iommu",
            "ExynosSysmmu",
            quote! {
                compatible: ["samsung,exynos-sysmmu"],
                cells: 0,
                page_table: exynos_sysmmu { version: 5, pool: 64 },
                dma: { domain: per_device },
                init: crate::exynos::probe,
            },
        ),
        (
            "sun50i-iommu.iommu",
            "Sun50iIommu",
            quote! {
                compatible: ["allwinner,sun50i-h6-iommu", "allwinner,sun20i-d1-iommu"],
                cells: 1,
                field master: u32 = cell[0],
                check: master < 6,
                id: master,
                page_table: sun50i { pool: 64 },
                dma: { domain: per_instance },
                init: crate::sun50i::probe,
            },
        ),
        (
            "tegra-smmu.iommu",
            "Tegra30Smmu",
            quote! {
                compatible: ["nvidia,tegra30-mc"],
                cells: 1,
                field swgroup: u32 = cell[0],
                id: swgroup,
                page_table: tegra_smmu { generation: tegra30, pool: 64 },
                dma: {
                    domain: per_device,
                    group: drm where swgroup == 1 || swgroup == 2 || swgroup == 4 || swgroup == 9 || swgroup == 10,
                    default: identity,
                },
                init: crate::tegra::probe,
            },
        ),
        (
            "tegra-smmu.iommu#2",
            "Tegra124Smmu",
            quote! {
                compatible: ["nvidia,tegra124-mc", "nvidia,tegra132-mc"],
                cells: 1,
                field swgroup: u32 = cell[0],
                id: swgroup,
                page_table: tegra_smmu { generation: tegra124, pool: 64 },
                dma: {
                    domain: per_device,
                    group: drm where swgroup == 1 || swgroup == 2 || swgroup == 24,
                    default: identity,
                },
                init: crate::tegra::probe,
            },
        ),
        (
            "qcom-iommu.iommu",
            "QcomIommu",
            quote! {
                compatible: ["qcom,msm-iommu-v1", "qcom,msm-iommu-v2"],
                compatible: ["qcom,msm8916-iommu", "qcom,msm8953-iommu", "qcom,msm8976-iommu"],
                cells: 1,
                field asid: u32 = cell[0],
                child: [
                    "qcom,msm-iommu-v1-ns", "qcom,msm-iommu-v1-sec",
                    "qcom,msm-iommu-v2-ns", "qcom,msm-iommu-v2-sec"
                ] where asid == property("qcom,ctx-asid") else property("reg") >> 12,
                id: asid,
                master: one_instance,
                page_table: arm_lpae_s1 { granule: 4K, ias: 32, oas: 40, sizes: [4K], pool: 64 },
                dma: { domain: per_device },
                init: crate::qcom_iommu::probe,
            },
        ),
        (
            "ipmmu-vmsa.iommu#1",
            "IpmmuRcarGen3",
            quote! {
                compatible: [
                    "renesas,ipmmu-r8a7795", "renesas,ipmmu-r8a7796", "renesas,ipmmu-r8a77961",
                    "renesas,ipmmu-r8a77965", "renesas,ipmmu-r8a77970", "renesas,ipmmu-r8a77980",
                    "renesas,ipmmu-r8a77990", "renesas,ipmmu-r8a77995",
                    "renesas,ipmmu-r8a774a1", "renesas,ipmmu-r8a774b1", "renesas,ipmmu-r8a774c0",
                    "renesas,ipmmu-r8a774e1"
                ],
                cells: 1,
                field utlb: u32 = cell[0],
                check: utlb < 48,
                id: utlb,
                main: property("renesas,ipmmu-main"),
                contexts: 8 reserved 1,
                page_table: arm_lpae_s1 { granule: 4K, ias: 32, oas: 40, sizes: [4K, 2M, 1G], pool: 64 },
                init: crate::ipmmu::probe,
                pci: iommu_map,
                allow_masters: ["ee100000.mmc", "ee120000.mmc", "ee140000.mmc", "ee160000.mmc"],
                deny_soc: [
                    "renesas,r8a774a1", "renesas,r8a7795" revision "ES2.*", "renesas,r8a7796"
                ],
            },
        ),
    ];
    for (file, ty, args) in cases {
        // `FILE#N`: the spec's driver N (default the first).
        let (file, index) = match file.split_once('#') {
            Some((f, n)) => (f, n.parse::<usize>().unwrap()),
            None => (file, 0),
        };
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../examples")
            .join(file);
        let text = std::fs::read_to_string(path).unwrap();
        let from_spec = iommugen_dsl::check_source(file, &text).spec.unwrap();
        let ty = Ident::new(ty, Span::call_site());
        let (synth, _) = lower(args, &ty, &[]).unwrap();
        let from_attr = iommugen_dsl::check_source("attr", &synth.text)
            .spec
            .unwrap();
        assert_eq!(
            strip(from_attr.drivers[0].clone()),
            strip(from_spec.drivers[index].clone()),
            "{file}"
        );
    }
}

/// `master property(..)` and the master lists lower to the DSL's forms.
#[test]
fn master_sources_and_lists_lower() {
    let args = quote! {
        compatible: ["v,x"],
        cells: 1,
        field sid: u16 = cell[0][15:0],
        field os: u4 = master property("os-id")[3:0] else 0,
        id: os << 16 | sid,
        allow_masters: ["ee100000.mmc", "firmware:optee"],
        deny_soc: ["renesas,r8a7796", "renesas,r8a7795" revision "ES2.*"],
        page_table: arm_lpae_s1 { granule: 4K, ias: 32, oas: 40, pool: 8 },
        init: crate::p::probe,
    };
    let ty = Ident::new("Acme", Span::call_site());
    let (synth, _) = lower(args, &ty, &[]).unwrap();
    let checked = iommugen_dsl::check_source("attr", &synth.text);
    assert!(
        !checked.has_errors(),
        "{}\n{:?}",
        synth.text,
        checked.diagnostics
    );
    let d = checked.spec.unwrap().drivers.remove(0);
    assert!(matches!(
        &d.fields[1].sources[0],
        ir::Source::MasterProperty { name, .. } if name == "os-id"
    ));
    let allow = d.masters.allow.unwrap();
    assert_eq!(allow.names, ["ee100000.mmc", "firmware:optee"]);
    let deny: Vec<_> = d
        .masters
        .deny
        .iter()
        .map(|s| (s.machine.as_str(), s.revision.as_deref()))
        .collect();
    assert_eq!(
        deny,
        [
            ("renesas,r8a7796", None),
            ("renesas,r8a7795", Some("ES2.*"))
        ]
    );
}
