use iommugen_macros::iommu_driver;

#[iommu_driver(
    compatible: ["acme,iommu"],
    cells: 1,
    field utlb: u32 = cell[0],
    id: utlb,
    allow_masters: ["ee100000.mmc", "EE120000.mmc"],
    page_table: arm_lpae_s1 { granule: 4K, ias: 32, oas: 40, pool: 8 },
    init: crate::probe,
)]
pub struct Acme;

fn main() {}
