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

fn main() {
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
