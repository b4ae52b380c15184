//! The generated drivers' `of_xlate` and `init` on sample specifiers. Every
//! expected ID is worked out by hand from the Linux binding named at each
//! table (Documentation/devicetree/bindings/iommu/), not from our output.

use iommugen_example_build_script::generated::{
    apple_dart::{AppleDart, AppleT6000Dart, AppleT8110Dart},
    arm_smmu::{ArmSmmu, NvidiaSmmu500, QcomAdrenoSmmu, QcomSmmu},
    arm_smmu_v3::ArmSmmuV3,
    bits_zoo::{Fallback, Narrow, NarrowDropped, Packed, PerCount},
    exynos_sysmmu::ExynosSysmmu,
    ipmmu_vmsa::{IpmmuRcarGen3, IpmmuRcarGen4, IpmmuVmsa},
    mediatek_m4u::{MtkM4u, MtkM4u4gb, MtkMt8192M4u, MtkMt8195Infra, MtkMt8195Mm},
    rockchip_iommu::RockchipIommu,
    sun50i_iommu::Sun50iIommu,
    tegra_smmu::{Tegra114Smmu, Tegra124Smmu, Tegra210Smmu, Tegra30Smmu},
    virtio_iommu::VirtioIommu,
};
use iommugen_example_build_script::TABLES;
use iommugen_runtime::decl::{match_node, DriverError, InstanceData, IommuDriver, SpecWord};
use iommugen_runtime::fdt::{DeviceTree, Fdt, Node, NodeEntry, PhandleEntry};
use iommugen_runtime::fwspec::FwSpec;
use iommugen_runtime::master::Master;

/// One IOMMU node per entry: (name, compatible, #iommu-cells, stream-match-mask).
fn tree_blob(nodes: &[(&str, &str, u32, Option<u32>)]) -> Vec<u8> {
    let mut w = vm_fdt::FdtWriter::new().unwrap();
    let root = w.begin_node("").unwrap();
    w.property_u32("#address-cells", 2).unwrap();
    w.property_u32("#size-cells", 2).unwrap();
    for (i, (name, compatible, cells, mask)) in nodes.iter().enumerate() {
        let n = w.begin_node(name).unwrap();
        w.property_string("compatible", compatible).unwrap();
        w.property_u32("#iommu-cells", *cells).unwrap();
        w.property_u32("phandle", i as u32 + 1).unwrap();
        if let Some(mask) = mask {
            w.property_u32("stream-match-mask", *mask).unwrap();
        }
        w.end_node(n).unwrap();
    }
    w.end_node(root).unwrap();
    w.finish().unwrap()
}

fn with_node<R>(
    compatible: &str,
    cells: u32,
    mask: Option<u32>,
    f: impl FnOnce(Node<'_>) -> R,
) -> R {
    let blob = tree_blob(&[("iommu@1000", compatible, cells, mask)]);
    let fdt = Fdt::new(&blob).unwrap();
    let (n, p) = DeviceTree::measure(&fdt).unwrap();
    let mut nodes = vec![NodeEntry::EMPTY; n];
    let mut phandles = vec![PhandleEntry::EMPTY; p];
    let tree = DeviceTree::new(fdt, &mut nodes, &mut phandles).unwrap();
    f(tree.find_path("/iommu@1000").unwrap())
}

/// The IDs `driver.of_xlate` gives for one specifier of a platform master
/// named as R-Car's SDHI0 (`ee100000.mmc`, on every shipped allow-list).
fn xlate(driver: &dyn IommuDriver, iommu: Node<'_>, args: &[u32]) -> Result<Vec<u32>, DriverError> {
    xlate_as(
        driver,
        &Master::platform(iommu, Some("ee100000.mmc")),
        iommu,
        args,
    )
}

/// The IDs `driver.of_xlate` gives for one specifier of `master`.
fn xlate_as(
    driver: &dyn IommuDriver,
    master: &Master<'_>,
    iommu: Node<'_>,
    args: &[u32],
) -> Result<Vec<u32>, DriverError> {
    let mut fwspec: FwSpec = FwSpec::new();
    let mut sink = fwspec.sink(iommu.id()).unwrap();
    driver.of_xlate(master, iommu, InstanceData(0), args, &mut sink)?;
    Ok(fwspec.ids_for(iommu.id()).collect())
}

/// The name of the first of `driver`'s groups the ID of the one-cell
/// specifier `cell` satisfies.
fn grouped<'d>(driver: &'d dyn IommuDriver, iommu: Node<'_>, cell: u32) -> Option<&'d str> {
    let mut fwspec: FwSpec = FwSpec::new();
    let mut sink = fwspec.sink(iommu.id()).unwrap();
    driver
        .of_xlate(
            &Master::platform(iommu, Some("ee100000.mmc")),
            iommu,
            InstanceData(0),
            &[cell],
            &mut sink,
        )
        .ok()?;
    iommugen_runtime::ops::group_of(driver, fwspec.groups_for(iommu.id())).map(|(_, g)| g.name)
}

/// arm,smmu.yaml: the first cell is the stream ID, the optional second the
/// SMR mask; with one cell the mask is the node's `stream-match-mask` or 0.
/// Linux keeps `mask << 16 | stream ID` (the SMR register layout).
#[test]
fn arm_smmu_ids_follow_the_smr_layout() {
    // (specifier, stream-match-mask, expected ID)
    let table: &[(&[u32], Option<u32>, u32)] = &[
        (&[0x0c00], None, 0x0000_0c00),
        (&[0x0c00], Some(0x7c00), 0x7c00_0c00),
        (&[0x0011, 0x0003], None, 0x0003_0011),
        // An explicit mask cell wins over the property.
        (&[0x0011, 0x0003], Some(0x7c00), 0x0003_0011),
        // Both halves are 15-bit SMR fields kept to 16 bits, as FIELD_PREP does.
        (&[0x1_0011, 0x2_0000], None, 0x0000_0011),
    ];
    for &(args, mask, want) in table {
        let cells = args.len() as u32;
        with_node("arm,mmu-500", cells, mask, |node| {
            assert_eq!(
                xlate(&ArmSmmu, node, args),
                Ok(vec![want]),
                "{args:x?} mask {mask:x?}"
            );
        });
    }
    with_node("arm,mmu-500", 1, None, |node| {
        assert_eq!(
            xlate(&ArmSmmu, node, &[1, 2, 3]),
            Err(DriverError::WrongCellCount { got: 3 })
        );
        assert_eq!(
            xlate(&ArmSmmu, node, &[]),
            Err(DriverError::WrongCellCount { got: 0 })
        );
    });
}

/// arm,smmu.yaml: NVIDIA's and Qualcomm's members extend `arm_smmu`, so a
/// specifier gives the same ID whichever claims the node; the table of
/// declarations picks the member by its own compatible.
#[test]
fn arm_smmu_family_members_read_as_arm_smmu() {
    let members: [(&str, &dyn IommuDriver, &str); 5] = [
        ("nvidia,tegra194-smmu", &NvidiaSmmu500, "nvidia_smmu_500"),
        ("nvidia,tegra234-smmu", &NvidiaSmmu500, "nvidia_smmu_500"),
        ("qcom,sdm845-smmu-500", &QcomSmmu, "qcom_smmu"),
        ("qcom,sc7280-smmu-500", &QcomSmmu, "qcom_smmu"),
        ("qcom,adreno-smmu", &QcomAdrenoSmmu, "qcom_adreno_smmu"),
    ];
    for (compatible, driver, name) in members {
        // Tegra194 (#iommu-cells = <1>): TEGRA194_SID_... is the stream ID.
        with_node(compatible, 1, None, |node| {
            assert_eq!(xlate(driver, node, &[0x1c]), Ok(vec![0x1c]), "{compatible}");
            let claimed = match_node(TABLES, node).unwrap();
            assert_eq!(claimed.driver.name(), name);
        });
        with_node(compatible, 1, Some(0x7f80), |node| {
            assert_eq!(xlate(driver, node, &[0x1c]), Ok(vec![0x7f80_001c]));
        });
        // sdm845's UFS <0x100 0xf>: mask << 16 | SID.
        with_node(compatible, 2, None, |node| {
            assert_eq!(xlate(driver, node, &[0x100, 0xf]), Ok(vec![0x000f_0100]));
            assert_eq!(
                xlate(driver, node, &[1, 2, 3]),
                Err(DriverError::WrongCellCount { got: 3 })
            );
        });
    }
    // Each member claims its own strings, not the base's.
    assert_eq!(NvidiaSmmu500::COMPATIBLES[0], "nvidia,smmu-500");
    assert!(QcomSmmu::COMPATIBLES.contains(&"qcom,smmu-500"));
    // qcom_smmu_def_domain_type's client list, in the generated
    // `identity_for`: a display subsystem or GPU starts in identity, a UFS
    // controller does not, and Arm's own driver has no list.
    for (compatible, identity) in [
        ("qcom,sdm845-mdss", true),
        ("qcom,adreno", true),
        ("qcom,sdm845-ufshc", false),
    ] {
        with_node(compatible, 1, None, |node| {
            assert_eq!(QcomSmmu.identity_for(node), identity, "{compatible}");
            assert_eq!(QcomAdrenoSmmu.identity_for(node), identity, "{compatible}");
            assert!(!ArmSmmu.identity_for(node));
        });
    }
}

/// arm,smmu-v3.yaml: one cell, the StreamID; this driver's linear stream
/// table holds 2^20 entries.
#[test]
fn smmu_v3_stream_ids_and_the_table_limit() {
    with_node("arm,smmu-v3", 1, None, |node| {
        assert_eq!(xlate(&ArmSmmuV3, node, &[0x42]), Ok(vec![0x42]));
        assert_eq!(xlate(&ArmSmmuV3, node, &[0xf_ffff]), Ok(vec![0xf_ffff]));
        assert_eq!(
            xlate(&ArmSmmuV3, node, &[0x10_0000]),
            Err(DriverError::CheckRejected {
                check: "stream_id < 1 << 20"
            })
        );
        assert_eq!(
            xlate(&ArmSmmuV3, node, &[1, 2]),
            Err(DriverError::WrongCellCount { got: 2 })
        );
    });
}

/// mediatek,iommu.yaml with dt-bindings/memory/mtk-memory-port.h:
/// MTK_M4U_ID(larb, port) = larb << 5 | port.
#[test]
fn mediatek_larb_and_port() {
    // (larb, port, the cell MTK_M4U_ID gives, worked out by hand)
    let table = [
        (0u32, 0u32, 0x000u32),
        (2, 4, 0x044),
        (5, 31, 0x0bf),
        (31, 31, 0x3ff),
    ];
    with_node("mediatek,mt8183-m4u", 1, None, |node| {
        for (larb, port, cell) in table {
            assert_eq!(
                xlate(&MtkM4u, node, &[cell]),
                Ok(vec![cell]),
                "larb {larb} port {port}"
            );
        }
        // mtk_iommu reads the larb as (id >> 5) & 0x1f and the port as
        // id & 0x1f; bits 10 and up (an IOVA region or bus type on newer
        // SoCs) are dropped, and the spec declares them so.
        assert_eq!(xlate(&MtkM4u, node, &[0x403]), Ok(vec![0x003]));
        assert_eq!(xlate(&MtkM4u, node, &[0x3_0044]), Ok(vec![0x044]));
    });
}

/// rockchip,iommu.yaml: `#iommu-cells = <0>`; the phandle alone names the
/// master, so no IDs.
#[test]
fn rockchip_keeps_no_ids() {
    with_node("rockchip,iommu", 0, None, |node| {
        assert_eq!(xlate(&RockchipIommu, node, &[]), Ok(vec![]));
        assert_eq!(
            xlate(&RockchipIommu, node, &[7]),
            Err(DriverError::WrongCellCount { got: 1 })
        );
    });
}

/// apple,dart.yaml: one cell, the stream index (16 streams on t8103).
#[test]
fn apple_dart_stream_index() {
    with_node("apple,t8103-dart", 1, None, |node| {
        for sid in [0u32, 5, 15] {
            assert_eq!(xlate(&AppleDart, node, &[sid]), Ok(vec![sid]));
        }
        // The t8103 DART has 16 streams: index 16 is refused, not wrapped to 0.
        assert_eq!(
            xlate(&AppleDart, node, &[16]),
            Err(DriverError::CheckRejected {
                check: "stream < 16"
            })
        );
    });
}

/// mediatek,iommu.yaml: every M4U generation keeps the MTK_M4U_ID cell
/// whole; bits above the larb (10 and up) are dropped, as mtk_iommu does.
#[test]
fn mediatek_family_keeps_the_m4u_id() {
    let members: [(&str, &dyn IommuDriver); 6] = [
        ("mediatek,mt8192-m4u", &MtkMt8192M4u),
        ("mediatek,mt8195-iommu-vdo", &MtkMt8195Mm),
        ("mediatek,mt8195-iommu-vpp", &MtkMt8195Mm),
        ("mediatek,mt8195-iommu-infra", &MtkMt8195Infra),
        ("mediatek,mt8173-m4u", &MtkM4u4gb),
        ("mediatek,mt2712-m4u", &MtkM4u4gb),
    ];
    for (compatible, driver) in members {
        with_node(compatible, 1, None, |node| {
            assert_eq!(
                match_node(TABLES, node).unwrap().driver.name(),
                driver.name()
            );
            // MTK_M4U_ID(0, 3), MTK_M4U_ID(5, 4), MTK_IFAIOMMU_PERI_ID(30).
            for cell in [3u32, 0xa4, 30] {
                assert_eq!(xlate(driver, node, &[cell]), Ok(vec![cell]), "{compatible}");
            }
            assert_eq!(xlate(driver, node, &[0x400 | 0xa4]), Ok(vec![0xa4]));
            assert_eq!(
                xlate(driver, node, &[1, 2]),
                Err(DriverError::WrongCellCount { got: 2 })
            );
        });
    }
    // The generated region groups (mt8192_larb_region_msk): larb 4 is
    // region 1 (4 GiB up), larb 13 port 9 the CCU0 window, larb 3 none.
    with_node("mediatek,mt8192-m4u", 1, None, |node| {
        assert_eq!(grouped(&MtkMt8192M4u, node, 4 << 5), Some("region1"));
        assert_eq!(grouped(&MtkMt8192M4u, node, 13 << 5 | 9), Some("ccu0"));
        assert_eq!(grouped(&MtkMt8192M4u, node, 13 << 5 | 8), Some("region2"));
        assert_eq!(grouped(&MtkMt8192M4u, node, 3 << 5), None);
        let ccu0 = MtkMt8192M4u.group(3).unwrap();
        assert_eq!(
            (ccu0.name, ccu0.aperture_base, ccu0.aperture_size),
            ("ccu0", 0x2_4000_0000, 0x400_0000)
        );
    });
}

/// apple,dart.yaml: the t6000 DART has the t8103's 16 streams, the t8110
/// up to 256 (Linux's max_sid_count); the cell is the stream index.
#[test]
fn apple_t6000_and_t8110_dart_stream_limits() {
    let cases: [(&str, &dyn IommuDriver, u32, &str); 2] = [
        ("apple,t6000-dart", &AppleT6000Dart, 16, "stream < 16"),
        ("apple,t8110-dart", &AppleT8110Dart, 256, "stream < 256"),
    ];
    for (compatible, driver, streams, check) in cases {
        with_node(compatible, 1, None, |node| {
            for sid in [0, 1, streams - 1] {
                assert_eq!(xlate(driver, node, &[sid]), Ok(vec![sid]), "{compatible}");
            }
            assert_eq!(
                xlate(driver, node, &[streams]),
                Err(DriverError::CheckRejected { check })
            );
            assert_eq!(
                xlate(driver, node, &[1, 2]),
                Err(DriverError::WrongCellCount { got: 2 })
            );
            assert_eq!(
                match_node(TABLES, node).unwrap().driver.name(),
                driver.name()
            );
        });
    }
}

/// samsung,sysmmu.yaml: `#iommu-cells = <0>`; a master lists each of its
/// SysMMUs by phandle alone.
#[test]
fn exynos_keeps_no_ids() {
    with_node("samsung,exynos-sysmmu", 0, None, |node| {
        assert_eq!(xlate(&ExynosSysmmu, node, &[]), Ok(vec![]));
        assert_eq!(
            xlate(&ExynosSysmmu, node, &[1]),
            Err(DriverError::WrongCellCount { got: 1 })
        );
    });
}

/// allwinner,sun50i-h6-iommu.yaml: one cell, the master ID (six masters
/// on the H6: 0 to 5).
#[test]
fn sun50i_master_id() {
    with_node("allwinner,sun50i-h6-iommu", 1, None, |node| {
        for id in [0u32, 3, 5] {
            assert_eq!(xlate(&Sun50iIommu, node, &[id]), Ok(vec![id]));
        }
        assert_eq!(
            xlate(&Sun50iIommu, node, &[6]),
            Err(DriverError::CheckRejected {
                check: "master < 6"
            })
        );
    });
}

/// nvidia,tegra30-mc.yaml / nvidia,tegra124-mc.yaml: the memory
/// controller is the IOMMU; one cell, the swgroup
/// (include/dt-bindings/memory/tegra124-mc.h: TEGRA_SWGROUP_DC 1, DCB 2,
/// HC 6, GPU 19, VIC 24, VI 25), stored whole as tegra_smmu_of_xlate
/// does, nothing refused. Each controller is claimed by the driver of its
/// address width.
#[test]
fn tegra_swgroup_is_the_id() {
    let drivers: [(&dyn IommuDriver, &str, &str); 5] = [
        (&Tegra30Smmu, "nvidia,tegra30-mc", "tegra30_smmu"),
        (&Tegra114Smmu, "nvidia,tegra114-mc", "tegra114_smmu"),
        (&Tegra124Smmu, "nvidia,tegra124-mc", "tegra124_smmu"),
        (&Tegra124Smmu, "nvidia,tegra132-mc", "tegra124_smmu"),
        (&Tegra210Smmu, "nvidia,tegra210-mc", "tegra210_smmu"),
    ];
    for (driver, compatible, name) in drivers {
        with_node(compatible, 1, None, |node| {
            for swgroup in [1u32, 2, 6, 19, 24, 25] {
                assert_eq!(xlate(driver, node, &[swgroup]), Ok(vec![swgroup]));
            }
            assert_eq!(xlate(driver, node, &[0xffff_ffff]), Ok(vec![0xffff_ffff]));
            assert_eq!(
                xlate(driver, node, &[1, 2]),
                Err(DriverError::WrongCellCount { got: 2 })
            );
            let claimed = match_node(TABLES, node).unwrap();
            assert_eq!(claimed.driver.name(), name, "{compatible}");
            // tegra_smmu_def_domain_type: identity; DC (1) and DCB (2) are
            // in every SoC's display group, HC (6 on Tegra124) in none.
            assert!(driver.info().identity_default);
            assert_eq!(
                grouped(driver, node, 1),
                Some(driver.group(0).unwrap().name)
            );
            assert_eq!(
                grouped(driver, node, 2),
                Some(driver.group(0).unwrap().name)
            );
            assert!(driver.group(1).is_none());
        });
    }
    // Tegra20's memory controller has a GART, not this SMMU.
    with_node("nvidia,tegra20-mc-gart", 1, None, |node| {
        assert!(match_node(TABLES, node).is_none());
    });
}

/// renesas,ipmmu-vmsa.yaml: one cell, the master's uTLB, kept whole; a
/// uTLB past the generation's count (32, 48, 64) is refused. Gen3 and Gen4
/// masters sit behind a cache IPMMU (`renesas,ipmmu-main`); Linux does not
/// register the main one as an IOMMU, so it takes no master.
#[test]
fn ipmmu_utlb_per_generation() {
    let gens: [(&dyn IommuDriver, &str, u32, &'static str, bool); 3] = [
        (&IpmmuVmsa, "renesas,ipmmu-vmsa", 32, "utlb < 32", false),
        (
            &IpmmuRcarGen3,
            "renesas,ipmmu-r8a77961",
            48,
            "utlb < 48",
            true,
        ),
        (
            &IpmmuRcarGen4,
            "renesas,rcar-gen4-ipmmu-vmsa",
            64,
            "utlb < 64",
            true,
        ),
    ];
    for (driver, compatible, count, check, has_caches) in gens {
        with_ipmmus(compatible, |main, cache| {
            let node = if has_caches { cache } else { main };
            for utlb in [0, 16, count - 1] {
                assert_eq!(xlate(driver, node, &[utlb]), Ok(vec![utlb]));
            }
            assert_eq!(
                xlate(driver, node, &[count]),
                Err(DriverError::CheckRejected { check })
            );
            assert_eq!(
                xlate(driver, node, &[1, 2]),
                Err(DriverError::WrongCellCount { got: 2 })
            );
            assert!(driver.init(main).is_ok() && driver.init(cache).is_ok());
            if has_caches {
                assert_eq!(
                    xlate(driver, main, &[0]),
                    Err(DriverError::MainInstance {
                        property: "renesas,ipmmu-main"
                    })
                );
            }
        });
    }
}

/// A cache IPMMU whose tree has no main IPMMU never comes up (Linux's
/// ipmmu_probe defers until ipmmu_find_root finds one).
#[test]
fn ipmmu_cache_without_main_is_not_initialised() {
    with_ipmmus("renesas,ipmmu-r8a7795", |_, cache| {
        // The main node is there: fine.
        assert!(IpmmuRcarGen3.init(cache).is_ok());
    });
    let blob = ipmmu_blob("renesas,ipmmu-r8a7795", false);
    with_blob(&blob, |tree| {
        let cache = tree.find_path("/iommu@2000").unwrap();
        assert_eq!(
            IpmmuRcarGen3.init(cache),
            Err(DriverError::NoMainInstance {
                property: "renesas,ipmmu-main"
            })
        );
    });
}

/// A tree with `/iommu@2000`, a cache IPMMU with `renesas,ipmmu-main =
/// <1 0>`, and, when `with_main`, `/iommu@1000`, the main IPMMU (phandle 1).
fn ipmmu_blob(compatible: &str, with_main: bool) -> Vec<u8> {
    let mut w = vm_fdt::FdtWriter::new().unwrap();
    let root = w.begin_node("").unwrap();
    if with_main {
        let n = w.begin_node("iommu@1000").unwrap();
        w.property_string("compatible", compatible).unwrap();
        w.property_u32("#iommu-cells", 1).unwrap();
        w.property_u32("phandle", 1).unwrap();
        w.end_node(n).unwrap();
    }
    let n = w.begin_node("iommu@2000").unwrap();
    w.property_string("compatible", compatible).unwrap();
    w.property_u32("#iommu-cells", 1).unwrap();
    w.property_array_u32("renesas,ipmmu-main", &[1, 0]).unwrap();
    w.end_node(n).unwrap();
    w.end_node(root).unwrap();
    w.finish().unwrap()
}

fn with_blob<R>(blob: &[u8], f: impl FnOnce(&DeviceTree<'_>) -> R) -> R {
    let fdt = Fdt::new(blob).unwrap();
    let (n, p) = DeviceTree::measure(&fdt).unwrap();
    let mut nodes = vec![NodeEntry::EMPTY; n];
    let mut phandles = vec![PhandleEntry::EMPTY; p];
    let tree = DeviceTree::new(fdt, &mut nodes, &mut phandles).unwrap();
    f(&tree)
}

/// Runs `f` on the main and the cache IPMMU of [`ipmmu_blob`].
fn with_ipmmus<R>(compatible: &str, f: impl FnOnce(Node<'_>, Node<'_>) -> R) -> R {
    let blob = ipmmu_blob(compatible, true);
    with_blob(&blob, |tree| {
        f(
            tree.find_path("/iommu@1000").unwrap(),
            tree.find_path("/iommu@2000").unwrap(),
        )
    })
}

/// virtio/iommu.yaml: one cell, the endpoint ID (for PCI, the ID
/// `iommu-map` gives).
#[test]
fn virtio_endpoint_id() {
    with_node("virtio,pci-iommu", 1, None, |node| {
        assert_eq!(xlate(&VirtioIommu, node, &[0x8]), Ok(vec![0x8]));
        assert_eq!(
            xlate(&VirtioIommu, node, &[0xffff_ffff]),
            Ok(vec![0xffff_ffff])
        );
    });
}

#[test]
fn init_checks_iommu_cells_then_runs_the_hook() {
    with_node("arm,mmu-500", 2, None, |node| {
        assert_eq!(ArmSmmu.init(node), Ok(InstanceData(node.id().0 as usize)));
    });
    with_node("arm,mmu-500", 3, None, |node| {
        assert_eq!(
            ArmSmmu.init(node),
            Err(DriverError::WrongCellCount { got: 3 })
        );
    });
    with_node("rockchip,iommu", 1, None, |node| {
        assert_eq!(
            RockchipIommu.init(node),
            Err(DriverError::WrongCellCount { got: 1 })
        );
    });
}

#[test]
fn declaration_tables_match_by_compatible() {
    let cases = [
        ("arm,mmu-401", "arm_smmu"),
        ("arm,smmu-v3", "arm_smmu_v3"),
        ("mediatek,mt8183-m4u", "mtk_m4u"),
        ("rockchip,iommu", "rockchip_iommu"),
        ("rockchip,rk3568-iommu", "rockchip_rk3568_iommu"),
        ("pci1af4,1057", "virtio_iommu"),
        ("apple,t8103-dart", "apple_dart"),
        ("samsung,exynos-sysmmu", "exynos_sysmmu"),
        ("allwinner,sun50i-h6-iommu", "sun50i_iommu"),
        ("allwinner,sun20i-d1-iommu", "sun50i_iommu"),
        ("renesas,ipmmu-vmsa", "ipmmu_vmsa"),
        ("renesas,ipmmu-r8a7795", "ipmmu_rcar_gen3"),
        ("renesas,ipmmu-r8a774e1", "ipmmu_rcar_gen3"),
        ("renesas,ipmmu-r8a779a0", "ipmmu_rcar_gen4"),
    ];
    for (compatible, driver) in cases {
        with_node(compatible, 1, None, |node| {
            let decl = match_node(TABLES, node).unwrap();
            assert_eq!(decl.driver.name(), driver);
        });
    }
}

/// The bug of issue 9: `field x: u6 = cell[0][5:0];` alone read
/// `<&iommu 64>` as ID 0, another master's. Now the bits no field reads are
/// refused, naming the cell and the bits.
#[test]
fn unread_bits_are_refused_not_truncated() {
    with_node("iommugen,bits-narrow", 1, None, |node| {
        assert_eq!(xlate(&Narrow, node, &[63]), Ok(vec![63]));
        assert_eq!(
            xlate(&Narrow, node, &[64]),
            Err(DriverError::UnreadBits {
                word: SpecWord::Cell(0),
                bits: 0x40
            })
        );
        assert_eq!(
            xlate(&Narrow, node, &[0x8000_0001]),
            Err(DriverError::UnreadBits {
                word: SpecWord::Cell(0),
                bits: 0x8000_0000
            })
        );
    });
}

/// With `ignore cell[0][31:6];` the spec says the driver drops the bits, so
/// 64 is ID 0 by declaration.
#[test]
fn ignored_bits_are_dropped() {
    with_node("iommugen,bits-narrow-dropped", 1, None, |node| {
        assert_eq!(xlate(&NarrowDropped, node, &[64]), Ok(vec![0]));
        assert_eq!(xlate(&NarrowDropped, node, &[0xffff_ffc5]), Ok(vec![5]));
    });
}

/// Two fields of one cell: what either reads (bits 0 to 9) is read; larb 32
/// (bit 10) is refused instead of becoming larb 0.
#[test]
fn packed_fields_read_the_union_of_their_bits() {
    with_node("iommugen,bits-packed", 1, None, |node| {
        assert_eq!(xlate(&Packed, node, &[0x3ff]), Ok(vec![0x3ff]));
        assert_eq!(
            xlate(&Packed, node, &[0x403]),
            Err(DriverError::UnreadBits {
                word: SpecWord::Cell(0),
                bits: 0x400
            })
        );
    });
}

/// A fallback chain: cell 1's high half is refused; the property's high
/// half only when the mask is taken from it (one cell), not when cell 1
/// wins.
#[test]
fn fallback_sources_refuse_what_they_take() {
    with_node("iommugen,bits-fallback", 2, Some(0x1_0000), |node| {
        assert_eq!(
            xlate(&Fallback, node, &[0x11, 0x2_0003]),
            Err(DriverError::UnreadBits {
                word: SpecWord::Cell(1),
                bits: 0x2_0000
            })
        );
        // Two cells: the property is not read, so its bits do not matter.
        assert_eq!(xlate(&Fallback, node, &[0x11, 0x3]), Ok(vec![0x3_0011]));
        // One cell: the mask comes from the property, whose bit 16 is unread.
        assert_eq!(
            xlate(&Fallback, node, &[0x11]),
            Err(DriverError::UnreadBits {
                word: SpecWord::Property("stream-match-mask"),
                bits: 0x1_0000
            })
        );
    });
    with_node("iommugen,bits-fallback", 1, Some(0x7c00), |node| {
        assert_eq!(xlate(&Fallback, node, &[0x11]), Ok(vec![0x7c00_0011]));
    });
}

/// What is read of a cell depends on how many cells the specifier has.
#[test]
fn read_bits_follow_the_cell_count() {
    with_node("iommugen,bits-per-count", 2, None, |node| {
        // One cell: `hi` is cell 0's bits 8 to 15.
        assert_eq!(xlate(&PerCount, node, &[0x1234]), Ok(vec![0x1234]));
        // Two cells: `hi` is cell 1, so cell 0's bits 8 to 15 go unread.
        assert_eq!(xlate(&PerCount, node, &[0x34, 0x12]), Ok(vec![0x1234]));
        assert_eq!(
            xlate(&PerCount, node, &[0x1234, 0x56]),
            Err(DriverError::UnreadBits {
                word: SpecWord::Cell(0),
                bits: 0x1200
            })
        );
        // Cell 1's bits 8 and up are declared dropped.
        assert_eq!(xlate(&PerCount, node, &[0x34, 0xff12]), Ok(vec![0x1234]));
    });
}
