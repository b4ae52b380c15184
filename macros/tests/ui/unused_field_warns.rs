// A checker warning (W0001, unused field) surfaces as a compiler warning at
// the field; `deny` turns it into this error.
#![deny(deprecated)]

use iommugen_macros::iommu_driver;
use iommugen_runtime::decl::{DriverError, InstanceData};
use iommugen_runtime::fdt::Node;

fn probe(node: Node<'_>) -> Result<InstanceData, DriverError> {
    Ok(InstanceData(node.id().0 as usize))
}

#[iommu_driver(
    compatible: ["acme,iommu"],
    cells: 1,
    field sid: u16 = cell[0][15:0],
    field spare: u8 = 7,
    id: sid,
    page_table: arm_lpae_s1 { granule: 4K, ias: 40, oas: 40, pool: 8 },
    init: crate::probe,
)]
pub struct Acme;

fn main() {}
