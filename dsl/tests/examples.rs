//! The shipped family specs check clean, and lower to the IDs their Linux
//! bindings define. Expected values are worked out from the bindings by hand
//! (cited per test), not taken from the checker.

use iommugen_dsl::ir::*;
use iommugen_dsl::{check_source, check_sources};

fn load(name: &str) -> (String, String) {
    let path = format!("{}/../examples/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap();
    (name.to_owned(), text)
}

fn driver(name: &str) -> Driver {
    let mut all = drivers(name);
    assert_eq!(all.len(), 1);
    all.remove(0)
}

fn drivers(name: &str) -> Vec<Driver> {
    let (n, text) = load(name);
    let checked = check_source(&n, &text);
    assert!(
        checked.diagnostics.is_empty(),
        "{name}: {:#?}",
        checked.diagnostics
    );
    checked.spec.unwrap().drivers
}

/// Evaluates a field for a specifier, as `of_xlate` will.
fn field_value(f: &Field, cells: &[u32], props: &[(&str, u32)]) -> Option<u32> {
    f.sources.iter().find_map(|s| match s {
        Source::Cell { index, bits, .. } => cells.get(*index as usize).map(|w| bits.extract(*w)),
        Source::Property { name, bits, .. } => props
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| bits.extract(*v)),
        // No shipped spec reads a master's property.
        Source::MasterProperty { .. } => None,
        Source::Const { value, .. } => Some(*value),
    })
}

fn packed(d: &Driver, cells: &[u32], props: &[(&str, u32)]) -> Vec<u32> {
    d.ids
        .iter()
        .map(|p| {
            p.parts.iter().fold(0u32, |acc, part| {
                acc | field_value(&d.fields[part.field], cells, props).unwrap() << part.shift
            })
        })
        .collect()
}

/// The groups (by name) a specifier's fields satisfy, in order: the first
/// is the master's when it has this one ID.
fn groups_of(d: &Driver, cells: &[u32]) -> Vec<String> {
    fn eval(e: &iommugen_dsl::ir::Expr, f: &[u64]) -> u64 {
        use iommugen_dsl::ir::Expr;
        match e {
            Expr::Field(i) => f[*i],
            Expr::Lit(v) => *v,
            Expr::Not(x) => u64::from(eval(x, f) == 0),
            Expr::Binary(op, a, b) => op.apply(eval(a, f), eval(b, f)),
        }
    }
    let values: Vec<u64> = d
        .fields
        .iter()
        .map(|f| u64::from(field_value(f, cells, &[]).unwrap()))
        .collect();
    d.dma
        .groups
        .iter()
        .filter(|g| eval(&g.cond, &values) != 0)
        .map(|g| g.name.clone())
        .collect()
}

const K4: u64 = 4 << 10;
const M2: u64 = 2 << 20;
const G1: u64 = 1 << 30;

#[test]
fn all_examples_check_clean_together() {
    let files: Vec<(String, String)> = [
        "arm-smmu-v3.iommu",
        "arm-smmu.iommu",
        "mediatek-m4u.iommu",
        "rockchip-iommu.iommu",
        "apple-dart.iommu",
        "exynos-sysmmu.iommu",
        "ipmmu-vmsa.iommu",
        "qcom-iommu.iommu",
        "sun50i-iommu.iommu",
        "tegra-smmu.iommu",
        "virtio-iommu.iommu",
    ]
    .into_iter()
    .map(load)
    .collect();
    for (i, c) in check_sources(&files) {
        assert!(
            c.diagnostics.is_empty(),
            "{}: {:#?}",
            files[i].0,
            c.diagnostics
        );
        assert!(c.spec.is_some());
    }
}

#[test]
fn smmu_v3_one_cell_stream_id() {
    let d = driver("arm-smmu-v3.iommu");
    assert_eq!(d.compatibles, ["arm,smmu-v3"]);
    assert_eq!(d.cells.allowed, [1]);
    // The StreamID is the whole cell.
    assert_eq!(packed(&d, &[0x1234], &[]), [0x1234]);
    assert_eq!(d.checks.len(), 1);
    assert_eq!(d.checks[0].text, "stream_id < 1 << 20");
    assert!(d.pci.is_some());
    let pt = d.translation.page_table().expect("tables");
    assert_eq!(
        (pt.format, pt.granule, pt.ias, pt.oas),
        (Format::ArmLpaeS1, Granule::K4, 48, 48)
    );
    assert_eq!(pt.page_sizes, [K4, M2, G1]);
    assert!(pt.coherent_walk);
    assert_eq!(pt.pool_tables, 256);
    // Linux: one default domain per IOMMU group, one group per SMMUv3 master.
    assert_eq!(d.dma.domain, DomainPolicy::PerDevice);
    assert_eq!(
        (d.dma.aperture_base, d.dma.aperture_size),
        (0x1000_0000, 0xf000_0000)
    );
    assert_eq!(d.init.to_path_string(), "crate::smmu::probe");
    assert_eq!(d.docs, ["Arm SMMUv3, stage-1 translation with 4K pages."]);
}

#[test]
fn arm_smmu_family_members_read_specifiers_as_arm_smmu() {
    // arm,smmu.yaml: NVIDIA's Tegra194/234 SMMU has #iommu-cells = <1> (the
    // stream ID, e.g. TEGRA194_SID_...); Qualcomm's apps SMMU <SID mask>.
    // Each member extends `arm_smmu`, so it packs exactly as Arm's does.
    let all = drivers("arm-smmu.iommu");
    let names: Vec<&str> = all.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "arm_smmu",
            "nvidia_smmu_500",
            "qcom_smmu",
            "qcom_adreno_smmu"
        ]
    );
    for (d, base) in all[1..].iter().zip(["arm_smmu", "arm_smmu", "qcom_smmu"]) {
        assert_eq!(d.extends.as_deref(), Some(base));
        assert_eq!(d.cells.allowed, [1, 2]);
        // One cell: SID with the node's stream-match-mask, or 0.
        assert_eq!(packed(d, &[0x0014], &[]), [0x14]);
        assert_eq!(
            packed(d, &[0x0014], &[("stream-match-mask", 0x7f80)]),
            [0x7f80_0014]
        );
        // Two cells (sdm845's UFS <0x100 0xf>): mask << 16 | SID.
        assert_eq!(packed(d, &[0x100, 0xf], &[]), [0x000f_0100]);
        assert!(d.pci.is_some());
    }
    assert!(all[1]
        .compatibles
        .contains(&"nvidia,tegra194-smmu".to_owned()));
    assert!(all[3].compatibles == ["qcom,adreno-smmu"]);
    // qcom_smmu_def_domain_type's client list: the GPU and the display
    // subsystems start in identity; everything else is translated.
    for d in &all[2..] {
        assert!(!d.dma.identity_default);
        for c in [
            "qcom,adreno",
            "qcom,mdss",
            "qcom,sdm845-mdss",
            "qcom,sc7280-mss-pil",
        ] {
            assert!(
                d.dma.identity_compatibles.iter().any(|x| x == c),
                "{} {c}",
                d.name
            );
        }
        assert_eq!(d.dma.identity_compatibles.len(), 19);
    }
    assert!(all[0].dma.identity_compatibles.is_empty());
    assert!(all[1].dma.identity_compatibles.is_empty());
}

#[test]
fn arm_smmu_mask_from_cell_property_or_zero() {
    let d = drivers("arm-smmu.iommu").remove(0);
    assert_eq!(d.name, "arm_smmu");
    assert_eq!(d.cells.allowed, [1, 2]);
    assert_eq!(d.compatibles.len(), 5);
    // arm,smmu.yaml: two cells = stream ID and SMR mask, packed mask << 16 | SID.
    assert_eq!(packed(&d, &[0x0042, 0x7f00], &[]), [0x7f00_0042]);
    // One cell: the mask comes from "stream-match-mask" ...
    assert_eq!(
        packed(&d, &[0x0042], &[("stream-match-mask", 0x7c00)]),
        [0x7c00_0042]
    );
    // ... or is 0 without it.
    assert_eq!(packed(&d, &[0x0042], &[]), [0x0000_0042]);
    // A cell wider than 16 bits keeps only the low 16 bits of each part,
    // as FIELD_PREP does; the spec declares the high halves dropped.
    assert_eq!(packed(&d, &[0x1_0042, 0x3_0001], &[]), [0x0001_0042]);
    for word in [
        Word::Cell(0),
        Word::Cell(1),
        Word::Property("stream-match-mask".into()),
    ] {
        assert_eq!(d.dropped_bits(&word), 0xffff_0000, "{word:?}");
    }
    assert_eq!(d.refused_cell_bits(2, 1), 0);
    assert_eq!(d.refused_property_bits("stream-match-mask"), 0);
    let mask = &d.fields[1];
    assert_eq!(mask.width, 16);
    assert!(matches!(
        mask.sources.last(),
        Some(Source::Const { value: 0, .. })
    ));
    // Not coherent; a domain per master (Linux's arm_smmu_device_group),
    // the whole input range above page 0.
    assert!(!d.translation.page_table().expect("tables").coherent_walk);
    assert_eq!(d.dma.domain, DomainPolicy::PerDevice);
    assert_eq!(
        (d.dma.aperture_base, d.dma.aperture_size),
        (K4, (1 << 48) - K4)
    );
}

#[test]
fn mediatek_larb_and_port_in_one_cell() {
    let d = drivers("mediatek-m4u.iommu").remove(0);
    assert_eq!(d.name, "mtk_m4u");
    // MTK_M4U_ID(larb, port) = larb << 5 | port; MTK_M4U_ID(4, 3) = 131.
    let cell = (4 << 5) | 3;
    let larb = &d.fields[0];
    let port = &d.fields[1];
    assert_eq!(field_value(larb, &[cell], &[]), Some(4));
    assert_eq!(field_value(port, &[cell], &[]), Some(3));
    assert_eq!(packed(&d, &[cell], &[]), [cell]);
    assert!(matches!(
        larb.sources[0],
        Source::Cell {
            index: 0,
            bits: BitRange { lsb: 5, width: 5 },
            ..
        }
    ));
    // mtk_iommu reads the larb with MTK_M4U_TO_LARB, (id >> 5) & 0x1f, and
    // nothing reads bits 10 and up: the spec drops them, and the IR says so
    // for the device-tree lint.
    assert!(d.checks.is_empty());
    assert_eq!(d.dropped_bits(&Word::Cell(0)), 0xffff_fc00);
    assert_eq!(d.refused_cell_bits(1, 0), 0);
    // mt8183: ARMv7 short descriptors with MediaTek's 35-bit extension.
    let pt = d.translation.page_table().expect("tables");
    assert_eq!(pt.format, Format::ArmV7s { mtk_ext: true });
    assert_eq!((pt.granule, pt.ias, pt.oas), (Granule::K4, 32, 35));
    assert_eq!(pt.page_sizes, [K4, 64 << 10, 1 << 20, 16 << 20]);
    assert!(d.pci.is_none());
}

/// mediatek,iommu.yaml: every M4U keeps the mt8183's MTK_M4U_ID cell
/// (35-bit output; mt8173 and mt2712 with Linux's 4GB mode, 33 bits); the
/// mt8192's and mt8195's multimedia M4Us add a 34-bit IOVA split into
/// Linux's IOVA regions, each a group with its own aperture.
#[test]
fn mediatek_family_cells_and_outputs() {
    let all = drivers("mediatek-m4u.iommu");
    let base = &all[0];
    let by = |n: &str| all.iter().find(|d| d.name == n).unwrap();
    // mt8192-larb-port.h: M4U_PORT_L0_DISP_RDMA0 = MTK_M4U_ID(0, 3) = 3;
    // mt8195-memory-port.h: MTK_IFAIOMMU_PERI_ID(30) = MTK_M4U_ID(0, 30) = 30;
    // mt8173-larb-port.h: MTK_M4U_ID(5, 4) = 0xa4.
    for (name, cell) in [
        ("mtk_mt8192_m4u", 3u32),
        ("mtk_mt8195_mm", 0x263),
        ("mtk_mt8195_infra", 30),
        ("mtk_m4u_4gb", 0xa4),
    ] {
        let d = by(name);
        assert_eq!(d.cells.allowed, [1], "{name}");
        assert_eq!(packed(d, &[cell], &[]), [cell], "{name}");
        let shape =
            |d: &Driver| -> Vec<_> { d.fields.iter().map(|f| (f.name.clone(), f.width)).collect() };
        assert_eq!(shape(d), shape(base), "{name}");
        assert_eq!(d.dropped_bits(&Word::Cell(0)), 0xffff_fc00, "{name}");
    }
    // mtk_iommu's single IOVA region: 0 .. 4 GiB - 8 MiB
    // (MTK_IOMMU_IOVA_SZ_4G), page 0 never handed out by iommu-dma.
    for d in &all {
        assert_eq!(
            (d.dma.aperture_base, d.dma.aperture_size),
            (0x1000, 0xff80_0000 - 0x1000),
            "{}",
            d.name
        );
    }
    // IOVA_34_EN on the multimedia M4Us only.
    for (name, ias) in [
        ("mtk_m4u", 32),
        ("mtk_mt8192_m4u", 34),
        ("mtk_mt8195_mm", 34),
        ("mtk_mt8195_infra", 32),
    ] {
        assert_eq!(
            by(name).translation.page_table().unwrap().ias,
            ias,
            "{name}"
        );
    }
    // mt8192_larb_region_msk and mt8192_multi_dom: (larb, port) -> the
    // region; ports mt8192-larb-port.h names: larb13 ports 9/10 and larb14
    // ports 4/5 are the CCU's.
    let mt8192 = by("mtk_mt8192_m4u");
    assert_eq!(mt8192.dma.domain, iommugen_dsl::ir::DomainPolicy::PerGroup);
    let region =
        |d: &Driver, larb: u32, port: u32| groups_of(d, &[larb << 5 | port]).into_iter().next();
    for (larb, port, want) in [
        (0, 3, Some("region0")),
        (1, 0, Some("region0")),
        (4, 2, Some("region1")),
        (7, 0, Some("region1")),
        (2, 0, Some("region2")),
        (13, 0, Some("region2")),
        (13, 9, Some("ccu0")),
        (13, 10, Some("ccu0")),
        (14, 4, Some("ccu1")),
        (14, 3, Some("region2")),
        (20, 1, Some("region2")),
        (3, 0, None),
        (6, 0, None),
        (21, 0, None),
    ] {
        assert_eq!(
            region(mt8192, larb, port).as_deref(),
            want,
            "larb {larb} port {port}"
        );
    }
    let aperture = |d: &Driver, name: &str| {
        d.dma
            .groups
            .iter()
            .find(|g| g.name == name)
            .unwrap()
            .aperture
    };
    assert_eq!(
        aperture(mt8192, "region1"),
        Some((0x1_0000_0000, 0xff80_0000))
    );
    assert_eq!(
        aperture(mt8192, "region2"),
        Some((0x2_0000_0000, 0xff80_0000))
    );
    assert_eq!(aperture(mt8192, "ccu0"), Some((0x2_4000_0000, 0x400_0000)));
    assert_eq!(aperture(mt8192, "ccu1"), Some((0x2_4400_0000, 0x400_0000)));
    // mt8195_larb_region_msk.
    let mt8195 = by("mtk_mt8195_mm");
    for (larb, port, want) in [
        (0, 0, Some("region0")),
        (3, 5, Some("region0")),
        (19, 0, Some("region1")),
        (24, 0, Some("region1")),
        (4, 0, Some("region2")),
        (17, 0, Some("region2")),
        (25, 0, Some("region2")),
        (28, 0, Some("region2")),
        (18, 1, Some("ccu0")),
        (18, 3, Some("ccu1")),
        (18, 4, None),
        (29, 0, None),
    ] {
        assert_eq!(
            region(mt8195, larb, port).as_deref(),
            want,
            "larb {larb} port {port}"
        );
    }
    // The infra IOMMU's USB bank (ports 20 to 31) is a group of its own.
    let infra = by("mtk_mt8195_infra");
    assert_eq!(region(infra, 0, 20).as_deref(), Some("usb"));
    assert_eq!(region(infra, 0, 16), None);
    let four_gb = by("mtk_m4u_4gb");
    assert_eq!(four_gb.extends, None);
    let pt = four_gb.translation.page_table().expect("tables");
    assert_eq!(pt.format, Format::ArmV7s { mtk_ext: true });
    assert_eq!(pt.oas, 33);
    assert_eq!(
        four_gb.compatibles,
        ["mediatek,mt8173-m4u", "mediatek,mt2712-m4u"]
    );
}

/// rockchip,iommu.yaml: `rockchip,iommu` walks version-1 tables (32-bit
/// PA), `rockchip,rk3568-iommu` version 2 (40-bit PA), so the spec has one
/// driver per compatible.
#[test]
fn rockchip_has_no_cells_and_no_ids() {
    let all = drivers("rockchip-iommu.iommu");
    let found: Vec<(&str, &[String])> = all
        .iter()
        .map(|d| (d.name.as_str(), d.compatibles.as_slice()))
        .collect();
    assert_eq!(
        found,
        [
            ("rockchip_iommu", &["rockchip,iommu".to_owned()][..]),
            (
                "rockchip_rk3568_iommu",
                &["rockchip,rk3568-iommu".to_owned()][..]
            )
        ]
    );
    for (d, (version, oas)) in all.iter().zip([(1, 32), (2, 40)]) {
        assert_eq!(d.cells.allowed, [0]);
        assert!(d.fields.is_empty());
        assert!(d.ids.is_empty());
        // rk_iommu_device_group: the IOMMU's one group.
        assert_eq!(d.dma.domain, DomainPolicy::PerInstance);
        // Default aperture: [4K, 4G) for a 32-bit input range.
        assert_eq!(
            (d.dma.aperture_base, d.dma.aperture_size),
            (K4, (1 << 32) - K4)
        );
        let pt = d.translation.page_table().expect("tables");
        assert_eq!(
            (
                pt.format,
                pt.oas,
                pt.page_sizes.as_slice(),
                pt.coherent_walk
            ),
            (Format::Rockchip { version }, oas, &[K4][..], false)
        );
    }
}

/// samsung,sysmmu.yaml: no cells, one master per SysMMU; the spec is for
/// version 5 parts (PA >> 4 in entries: 36-bit PA).
#[test]
fn exynos_has_no_cells_and_version_5_tables() {
    let d = driver("exynos-sysmmu.iommu");
    assert_eq!(d.compatibles, ["samsung,exynos-sysmmu"]);
    assert_eq!(d.cells.allowed, [0]);
    assert!(d.fields.is_empty() && d.ids.is_empty());
    assert_eq!(d.dma.domain, DomainPolicy::PerDevice);
    let pt = d.translation.page_table().expect("tables");
    assert_eq!(
        (
            pt.format,
            pt.ias,
            pt.oas,
            pt.page_sizes.as_slice(),
            pt.coherent_walk
        ),
        (
            Format::ExynosSysmmu { version: 5 },
            32,
            36,
            &[K4, 64 << 10, 1 << 20][..],
            false
        )
    );
}

/// allwinner,sun50i-h6-iommu.yaml: one cell, the master ID, taken whole;
/// the H6 has six masters.
#[test]
fn sun50i_master_id() {
    let d = driver("sun50i-iommu.iommu");
    assert_eq!(
        d.compatibles,
        ["allwinner,sun50i-h6-iommu", "allwinner,sun20i-d1-iommu"]
    );
    assert_eq!(d.cells.allowed, [1]);
    assert_eq!(packed(&d, &[5], &[]), [5]);
    assert_eq!(field_value(&d.fields[0], &[6], &[]), Some(6));
    assert_eq!(d.checks[0].text, "master < 6");
    let pt = d.translation.page_table().expect("tables");
    assert_eq!(
        (
            pt.format,
            pt.ias,
            pt.oas,
            pt.page_sizes.as_slice(),
            pt.coherent_walk
        ),
        (Format::Sun50i, 32, 32, &[K4][..], false)
    );
}

/// nvidia,tegra30-mc.yaml, nvidia,tegra124-mc.yaml, nvidia,tegra210-mc.yaml: one cell, the
/// swgroup (include/dt-bindings/memory/tegra124-mc.h: TEGRA_SWGROUP_DC 1,
/// DCB 2, HC 6, GPU 19, VIC 24, VI 25), taken whole as Linux's
/// tegra_smmu_of_xlate does; no value is refused. The generation fixes the
/// PA width: 32 bits for Tegra30/114, 34 from Tegra124 on.
#[test]
fn tegra_swgroup_ids() {
    let ds = drivers("tegra-smmu.iommu");
    let names: Vec<&str> = ds.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "tegra30_smmu",
            "tegra114_smmu",
            "tegra124_smmu",
            "tegra210_smmu"
        ]
    );
    assert_eq!(
        ds[2].compatibles,
        ["nvidia,tegra124-mc", "nvidia,tegra132-mc"]
    );
    // Linux's SoC group tables (tegra30.c, tegra114.c, tegra124.c,
    // tegra210.c) in each SoC's swgroup numbers.
    for (d, generation, oas, group, members) in [
        (
            &ds[0],
            TegraGeneration::Tegra30,
            32,
            "drm",
            &[1u32, 2, 4, 9, 10][..],
        ),
        (
            &ds[1],
            TegraGeneration::Tegra114,
            32,
            "drm",
            &[1, 2, 4, 6][..],
        ),
        (
            &ds[2],
            TegraGeneration::Tegra124,
            34,
            "drm",
            &[1, 2, 24][..],
        ),
        (
            &ds[3],
            TegraGeneration::Tegra210,
            34,
            "display",
            &[1, 2][..],
        ),
    ] {
        assert_eq!(d.cells.allowed, [1]);
        for swgroup in 0..64 {
            assert_eq!(packed(d, &[swgroup], &[]), [swgroup]);
            let want: Vec<String> = if members.contains(&swgroup) {
                vec![group.to_owned()]
            } else {
                vec![]
            };
            assert_eq!(groups_of(d, &[swgroup]), want, "{} {swgroup}", d.name);
        }
        // tegra_smmu_def_domain_type: identity for every master.
        assert!(d.dma.identity_default, "{}", d.name);
        assert_eq!(d.dma.domain, iommugen_dsl::ir::DomainPolicy::PerDevice);
        // Nothing refused: a number no SoC table names is stored too.
        assert!(d.checks.is_empty());
        assert_eq!(packed(d, &[0xffff_ffff], &[]), [0xffff_ffff]);
        let pt = d.translation.page_table().expect("tables");
        assert_eq!(
            (
                pt.format,
                pt.ias,
                pt.oas,
                pt.page_sizes.as_slice(),
                pt.coherent_walk
            ),
            (Format::TegraSmmu { generation }, 32, oas, &[K4][..], false)
        );
    }
}

#[test]
fn apple_dart_stream_index() {
    let d = drivers("apple-dart.iommu").remove(0);
    assert_eq!(d.name, "apple_dart");
    assert_eq!(d.cells.allowed, [1]);
    assert_eq!(packed(&d, &[5], &[]), [5]);
    // The whole cell is the field, so stream 16 is seen (and refused by the
    // check) rather than wrapped to stream 0.
    assert_eq!(field_value(&d.fields[0], &[16], &[]), Some(16));
    assert_eq!(d.checks[0].text, "stream < 16");
    // apple,dart.yaml: t8103 is the first DART generation: 16K pages
    // only, 32-bit IOVA, 36-bit PA.
    let pt = d.translation.page_table().expect("tables");
    assert_eq!(
        pt.format,
        Format::AppleDart {
            generation: DartGeneration::T8103
        }
    );
    assert_eq!(
        (pt.granule, pt.ias, pt.oas, pt.page_sizes.as_slice()),
        (Granule::K16, 32, 36, &[16 << 10][..])
    );
}

#[test]
fn apple_t6000_and_t8110_darts_walk_dart2() {
    // apple,dart.yaml; Linux's apple_dart_hw_t6000 (16 streams) and
    // apple_dart_hw_t8110 (up to 256 streams), both APPLE_DART2 entries.
    let all = drivers("apple-dart.iommu");
    for (name, compatible, check) in [
        ("apple_t6000_dart", "apple,t6000-dart", "stream < 16"),
        ("apple_t8110_dart", "apple,t8110-dart", "stream < 256"),
    ] {
        let d = all.iter().find(|d| d.name == name).unwrap();
        assert_eq!(d.compatibles, [compatible]);
        assert_eq!(d.cells.allowed, [1]);
        assert_eq!(packed(d, &[7], &[]), [7]);
        assert_eq!(d.checks[0].text, check);
        let pt = d.translation.page_table().expect("tables");
        assert_eq!(
            pt.format,
            Format::AppleDart {
                generation: DartGeneration::T6000
            }
        );
        // DART2: 16K pages, 32-bit IOVA, 42-bit PA field.
        assert_eq!((pt.granule, pt.ias, pt.oas), (Granule::K16, 32, 42));
    }
}

#[test]
fn virtio_iommu_endpoint_id() {
    let d = driver("virtio-iommu.iommu");
    assert_eq!(packed(&d, &[0x0800], &[]), [0x0800]);
    assert!(d.pci.is_some());
    // Requests to the host, not tables: no format, no pool.
    match &d.translation {
        Translation::Requests(r) => {
            assert_eq!(r.protocol, Protocol::VirtioIommu);
            assert_eq!((r.granule, r.ias), (Granule::K4, 48));
            assert_eq!(r.page_sizes, [K4]);
        }
        Translation::Tables(pt) => panic!("virtio-iommu walks no tables, got {pt:?}"),
    }
    // The default aperture is the 48-bit range but the first page.
    assert_eq!(
        (d.dma.aperture_base, d.dma.aperture_size),
        (K4, (1 << 48) - K4)
    );
}

/// Their Linux drivers keep the whole cell (arm-smmu-v3, apple-dart,
/// virtio-iommu): the specs read all 32 bits, so nothing is dropped and
/// nothing is refused for being unread; range limits are `check`s.
#[test]
fn whole_cell_drivers_drop_no_bits() {
    for name in [
        "arm-smmu-v3.iommu",
        "apple-dart.iommu",
        "qcom-iommu.iommu",
        "virtio-iommu.iommu",
    ] {
        for d in drivers(name) {
            assert!(d.dropped.is_empty(), "{name}");
            assert_eq!(d.read_cell_bits(1, 0), u32::MAX, "{name}");
            assert_eq!(d.refused_cell_bits(1, 0), 0, "{name}");
        }
    }
}

/// The one-pass masks the generator and the interpreter use agree with the
/// per-call accessors, on every shipped and test spec.
#[test]
fn precomputed_refusals_match_the_accessors() {
    let zoo = format!(
        "{}/../examples/build-script/specs",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut texts: Vec<(String, String)> = [
        "apple-dart.iommu",
        "arm-smmu.iommu",
        "arm-smmu-v3.iommu",
        "exynos-sysmmu.iommu",
        "ipmmu-vmsa.iommu",
        "mediatek-m4u.iommu",
        "qcom-iommu.iommu",
        "rockchip-iommu.iommu",
        "sun50i-iommu.iommu",
        "tegra-smmu.iommu",
        "virtio-iommu.iommu",
    ]
    .iter()
    .map(|n| load(n))
    .collect();
    for n in ["bits-zoo.iommu", "check-zoo.iommu"] {
        texts.push((
            n.into(),
            std::fs::read_to_string(format!("{zoo}/{n}")).unwrap(),
        ));
    }
    for (name, text) in texts {
        for d in check_source(&name, &text).spec.unwrap().drivers {
            let counts: Vec<u32> = (0..=4).collect();
            let pre = d.refused_bits(&counts);
            for &n in &counts {
                for i in 0..n {
                    assert_eq!(
                        pre.cell(n, i),
                        d.refused_cell_bits(n, i),
                        "{} {n} {i}",
                        d.name
                    );
                }
            }
            for p in ["stream-match-mask", "nope"] {
                let want = if d.read_property_bits(p) == 0 {
                    0
                } else {
                    d.refused_property_bits(p)
                };
                assert_eq!(pre.property(p), want, "{} {p}", d.name);
            }
        }
    }
}

/// renesas,ipmmu-vmsa.yaml: one cell, the master's uTLB, taken whole; each
/// generation refuses a uTLB past its count (Linux's num_utlbs: 32, 48, 64).
#[test]
fn ipmmu_utlb_per_generation() {
    let all = drivers("ipmmu-vmsa.iommu");
    let got: Vec<(&str, &str, usize)> = all
        .iter()
        .map(|d| {
            (
                d.name.as_str(),
                d.checks[0].text.as_str(),
                d.compatibles.len(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("ipmmu_vmsa", "utlb < 32", 1),
            ("ipmmu_rcar_gen3", "utlb < 48", 12),
            ("ipmmu_rcar_gen4", "utlb < 64", 2)
        ]
    );
    assert!(all[1]
        .compatibles
        .iter()
        .any(|c| c == "renesas,ipmmu-r8a77961"));
    for d in &all {
        assert_eq!(d.cells.allowed, [1]);
        // <&ipmmu_ds1 16>: uTLB 16 is ID 16.
        assert_eq!(packed(d, &[16], &[]), [16]);
        let pt = d.translation.page_table().expect("tables");
        assert_eq!(
            (pt.format, pt.granule, pt.ias, pt.oas, pt.coherent_walk),
            (Format::ArmLpaeS1, Granule::K4, 32, 40, false)
        );
        assert_eq!(pt.page_sizes, [K4, M2, G1]);
        // Linux puts every master of one IPMMU in one group (ipmmu_find_group).
        assert_eq!(d.dma.domain, DomainPolicy::PerInstance);
        // Gen3/Gen4 (has_cache_leaf_nodes): cache IPMMUs name the main one
        // with renesas,ipmmu-main; Gen2 has none.
        let main = d.main.as_ref().map(|m| m.property.as_str());
        let want = (d.name != "ipmmu_vmsa").then_some("renesas,ipmmu-main");
        assert_eq!(main, want, "{}", d.name);
        assert_eq!(d.init.to_path_string(), "crate::ipmmu::probe");
    }
    // ipmmu-vmsa.c: R-Car Gen3/Gen4 and RZ/G2 (soc_needs_opt_in) admit PCI
    // functions and devices_allowlist's SDHI controllers; soc_denylist
    // refuses r8a774a1, r8a7795 ES2.* and r8a7796. Gen2 admits every master.
    let sdhi = [
        "ee100000.mmc",
        "ee120000.mmc",
        "ee140000.mmc",
        "ee160000.mmc",
    ];
    assert!(!all[0].masters.restricts() && all[0].pci.is_none());
    for d in &all[1..] {
        assert_eq!(
            d.masters.allow.as_ref().map(|a| a.names.clone()),
            Some(sdhi.map(String::from).to_vec())
        );
        assert!(d.pci.is_some(), "{}", d.name);
    }
    let deny: Vec<(&str, Option<&str>)> = all[1]
        .masters
        .deny
        .iter()
        .map(|s| (s.machine.as_str(), s.revision.as_deref()))
        .collect();
    assert_eq!(
        deny,
        [
            ("renesas,r8a774a1", None),
            ("renesas,r8a7795", Some("ES2.*")),
            ("renesas,r8a7796", None)
        ]
    );
    assert!(all[2].masters.deny.is_empty());
}

/// qcom,iommu.yaml: one cell, the context bank's number, which must name
/// an enabled child bank (compatible "qcom,msm-iommu-v1-ns" and the like)
/// whose `qcom,ctx-asid`, else `reg` offset / 0x1000, is that number
/// (qcom_iommu.c's get_asid); the ID is the number. ARM_32_LPAE_S1 with
/// ias 32, oas 40, and only 4K pages left of the driver's 4K|64K|1M|16M.
#[test]
fn qcom_iommu_context_bank_number() {
    let d = driver("qcom-iommu.iommu");
    assert_eq!(d.cells.allowed, [1]);
    for c in [
        "qcom,msm-iommu-v1",
        "qcom,msm-iommu-v2",
        "qcom,msm8916-iommu",
    ] {
        assert!(d.compatibles.iter().any(|x| x == c), "{c}");
    }
    // <&apps_iommu 4> (mdp): bank 4 is ID 4.
    assert_eq!(packed(&d, &[4], &[]), [4]);
    assert!(d.checks.is_empty());
    let [child] = &d.children[..] else {
        panic!("{:#?}", d.children)
    };
    assert_eq!(
        child.compatibles,
        [
            "qcom,msm-iommu-v1-ns",
            "qcom,msm-iommu-v1-sec",
            "qcom,msm-iommu-v2-ns",
            "qcom,msm-iommu-v2-sec"
        ]
    );
    assert_eq!(d.fields[child.field].name, "asid");
    let keys: Vec<&str> = child.key.iter().map(|k| k.property.as_str()).collect();
    assert_eq!(keys, ["qcom,ctx-asid", "reg"]);
    // iommu-ctx@4000 { reg = <0x4000 0x1000>; }: bank 4.
    assert_eq!(child.key[1].value(0x4000), 4);
    // iommu-ctx@15000 { qcom,ctx-asid = <20>; }: taken whole.
    assert_eq!(child.key[0].value(20), 20);
    let pt = d.translation.page_table().expect("tables");
    assert_eq!(
        (pt.format, pt.granule, pt.ias, pt.oas, pt.coherent_walk),
        (Format::ArmLpaeS1, Granule::K4, 32, 40, false)
    );
    assert_eq!(pt.page_sizes, [K4]);
    // generic_device_group: a group per master.
    assert_eq!(d.dma.domain, DomainPolicy::PerDevice);
}
