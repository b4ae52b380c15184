use iommugen_macros::iommu_driver;
use iommugen_runtime::decl::{DriverError, InstanceData, IommuDriver, IOMMU_DECLARATIONS};
use iommugen_runtime::fdt::Node;

fn probe(node: Node<'_>) -> Result<InstanceData, DriverError> {
    Ok(InstanceData(node.id().0 as usize))
}

/// virtio-iommu: one cell, the endpoint ID.
#[iommu_driver(
    compatible: ["virtio,pci-iommu", "pci1af4,1057"],
    cells: 1,
    field endpoint: u32 = cell[0],
    id: endpoint,
    pci: iommu_map,
    page_table: arm_lpae_s1 { granule: 4K, ias: 48, oas: 48, coherent_walk, pool: 16 },
    dma: { domain: per_device },
    init: crate::probe,
)]
pub struct VirtioIommu;

/// A Qualcomm-style IOMMU: the cell must name a context-bank child.
#[iommu_driver(
    compatible: ["acme,banked-iommu"],
    cells: 1,
    field asid: u32 = cell[0],
    child: ["acme,ctx-ns", "acme,ctx-sec"] where asid == property("acme,ctx-asid") else property("reg") >> 12,
    id: asid,
    master: one_instance,
    page_table: arm_lpae_s1 { granule: 4K, ias: 32, oas: 40, sizes: [4K], pool: 16 },
    init: crate::probe,
)]
pub struct Banked;

/// A MediaTek-style IOMMU: a master's ports all in one larb.
#[iommu_driver(
    compatible: ["acme,larb-iommu"],
    cells: 1,
    field larb: u5 = cell[0] >> 5 & 0x1f,
    field port: u5 = cell[0] & 0x1f,
    ignore: cell[0][31:10],
    id: larb << 5 | port,
    master: same(larb),
    page_table: arm_v7s { mtk_ext, oas: 35, pool: 256 },
    init: crate::probe,
)]
pub struct OneLarb;

/// A Renesas-style IOMMU: cache instances of a main instance.
#[iommu_driver(
    compatible: ["acme,cached-iommu"],
    cells: 1,
    field utlb: u32 = cell[0],
    check: utlb < 48,
    id: utlb,
    main: property("acme,main"),
    page_table: arm_lpae_s1 { granule: 4K, ias: 32, oas: 40, pool: 16 },
    init: crate::probe,
)]
pub struct Cached;

fn main() {
    assert_eq!(Banked::NAME, "banked");
    assert_eq!(Cached.name(), "cached");
    assert_eq!(VirtioIommu::NAME, "virtio_iommu");
    assert_eq!(VirtioIommu.name(), "virtio_iommu");
    assert_eq!(VirtioIommu::COMPATIBLES, ["virtio,pci-iommu", "pci1af4,1057"]);
    assert_eq!(VirtioIommu::CELLS, [1]);
    assert!(VirtioIommu::INFO.pci);
    let registered = IOMMU_DECLARATIONS
        .iter()
        .filter(|d| d.driver.name() == "virtio_iommu")
        .count();
    assert_eq!(registered, 2);
}
