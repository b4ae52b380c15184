//! The `iommugen` facade: a spec through `iommugen::include_spec!` and a
//! driver through `#[iommugen::iommu_driver]`, both reaching the runtime as
//! `::iommugen::runtime` with no direct dependency on `iommugen-runtime`'s
//! name.

use iommugen::runtime::decl::{DriverError, InstanceData, IommuDriver, IOMMU_DECLARATIONS};
use iommugen::runtime::fdt::Node;

mod smmu {
    use super::*;
    pub fn probe(node: Node<'_>) -> Result<InstanceData, DriverError> {
        Ok(InstanceData(node.id().0 as usize))
    }
}

iommugen::include_spec!("examples/arm-smmu-v3.iommu", register);

/// A Rockchip-style IOMMU: one master, no cells.
#[iommugen::iommu_driver(
    runtime: ::iommugen::runtime,
    compatible: ["acme,one-master-iommu"],
    cells: 0,
    page_table: arm_lpae_s1 { granule: 4K, ias: 32, oas: 40, pool: 8 },
    init: crate::smmu::probe,
)]
pub struct OneMaster;

#[test]
fn spec_and_attribute_through_the_facade() {
    let table = arm_smmu_v3::DECLARATIONS;
    assert_eq!(table.len(), 1);
    assert_eq!(table[0].compatible, "arm,smmu-v3");
    assert_eq!(table[0].driver.name(), "arm_smmu_v3");
    assert_eq!(OneMaster.name(), "one_master");
    assert_eq!(OneMaster::CELLS, [0]);
}

#[test]
fn both_routes_register_in_the_linker_section() {
    let names: Vec<(&str, &str)> = IOMMU_DECLARATIONS
        .iter()
        .map(|d| (d.compatible, d.driver.name()))
        .collect();
    // From `include_spec!(.., register)` and from the attribute.
    assert!(names.contains(&("arm,smmu-v3", "arm_smmu_v3")), "{names:?}");
    assert!(
        names.contains(&("acme,one-master-iommu", "one_master")),
        "{names:?}"
    );
}

iommugen::iommu_table!(static LISTED = [OneMaster, arm_smmu_v3::ArmSmmuV3]);

#[test]
fn iommu_table_through_the_facade() {
    let rows: Vec<&str> = LISTED.iter().map(|d| d.compatible).collect();
    assert_eq!(rows, ["acme,one-master-iommu", "arm,smmu-v3"]);
}
