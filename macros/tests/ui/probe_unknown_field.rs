use iommugen_macros::iommu_driver;

#[iommu_driver(
    compatible: ["acme,iommu"],
    cells: 1,
    field larb: u5 = cell[0] >> 5 & 0x1f,
    field port: u5 = cell[0] & 0x1f,
    ignore: cell[0][31:10],
    id: larb << 5 | port,
    master: same(lrab),
    page_table: arm_v7s { mtk_ext, oas: 35, pool: 256 },
    init: crate::probe,
)]
pub struct Acme;

fn main() {}
