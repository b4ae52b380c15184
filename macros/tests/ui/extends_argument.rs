use iommugen_macros::iommu_driver;

#[iommu_driver(
    compatible: ["acme,iommu"],
    cells: 0,
    extends: acme_iommu,
    page_table: arm_lpae_s1 { granule: 4K, ias: 40, oas: 40, pool: 8 },
    init: crate::probe,
)]
pub struct Acme;

fn main() {}
