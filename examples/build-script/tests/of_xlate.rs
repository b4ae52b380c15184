//! The generated drivers' `of_xlate` and `init` on sample specifiers. Every
//! expected ID is worked out by hand from the Linux binding named at each
//! table (Documentation/devicetree/bindings/iommu/), not from our output.

use iommugen_example_build_script::generated::{
    apple_dart::AppleDart, arm_smmu::ArmSmmu, arm_smmu_v3::ArmSmmuV3, mediatek_m4u::MtkM4u,
    rockchip_iommu::RockchipIommu, virtio_iommu::VirtioIommu,
};
use iommugen_example_build_script::TABLES;
use iommugen_runtime::decl::{match_node, DriverError, InstanceData, IommuDriver};
use iommugen_runtime::fdt::{DeviceTree, Fdt, Node, NodeEntry, PhandleEntry};
use iommugen_runtime::fwspec::FwSpec;

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

/// The IDs `driver.of_xlate` gives for one specifier.
fn xlate(driver: &dyn IommuDriver, iommu: Node<'_>, args: &[u32]) -> Result<Vec<u32>, DriverError> {
    let mut fwspec: FwSpec = FwSpec::new();
    let mut sink = fwspec.sink(iommu.id()).unwrap();
    driver.of_xlate(iommu, InstanceData(0), args, &mut sink)?;
    Ok(fwspec.ids_for(iommu.id()).collect())
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
        // Linux keeps at most 32 larbs: larb 32 (cell 0x400) is refused,
        // not truncated to larb 0.
        assert_eq!(
            xlate(&MtkM4u, node, &[0x403]),
            Err(DriverError::CheckRejected { check: "larb < 32" })
        );
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
        ("rockchip,rk3568-iommu", "rockchip_iommu"),
        ("pci1af4,1057", "virtio_iommu"),
        ("apple,t8103-dart", "apple_dart"),
    ];
    for (compatible, driver) in cases {
        with_node(compatible, 1, None, |node| {
            let decl = match_node(TABLES, node).unwrap();
            assert_eq!(decl.driver.name(), driver);
        });
    }
}
