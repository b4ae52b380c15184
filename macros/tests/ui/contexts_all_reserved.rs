use iommugen_macros::iommu_driver;

#[iommu_driver(
    compatible: ["acme,iommu"],
    cells: 1,
    field utlb: u32 = cell[0],
    id: utlb,
    contexts: 8 reserved 8,
    page_table: arm_lpae_s1 { granule: 4K, ias: 32, oas: 40, pool: 8 },
    init: crate::probe,
)]
pub struct Acme;

fn main() {}
