//! The generated page-table types: constants from the spec, a working
//! engine over the static pool.

use iommugen_example_build_script::generated::arm_smmu_v3::{
    ArmSmmuV3, ArmSmmuV3Format, ARM_SMMU_V3_POOL,
};
use iommugen_example_build_script::generated::mediatek_m4u::MtkM4uFormat;
use iommugen_runtime::pgtable::{self, LpaeFormat, NoTlb, Stage, TablePool};
use iommugen_runtime::Prot;

#[test]
fn formats_carry_the_spec_geometry() {
    // arm-smmu-v3.iommu: stage 1, 4K, IAS/OAS 48, 4K/2M/1G.
    assert_eq!(ArmSmmuV3Format::STAGE, Stage::One);
    assert_eq!(ArmSmmuV3Format::GRANULE_SHIFT, 12);
    assert_eq!((ArmSmmuV3Format::IAS, ArmSmmuV3Format::OAS), (48, 48));
    assert_eq!(
        ArmSmmuV3Format::PAGE_SIZES,
        0x1000 | 0x20_0000 | 0x4000_0000
    );
    // mediatek-m4u.iommu: ARMv7 short descriptors, 32-bit IOVA, 35-bit PA
    // (MediaTek extension), 4K/64K/1M/16M.
    type Mtk = MtkM4uFormat;
    assert_eq!(
        (<Mtk as pgtable::Format>::IAS, <Mtk as pgtable::Format>::OAS),
        (32, 35)
    );
    const { assert!(Mtk::MTK_EXT) };
    assert_eq!(
        <Mtk as pgtable::Format>::PAGE_SIZES,
        0x1000 | 0x1_0000 | 0x10_0000 | 0x100_0000
    );
    // Walk coherency: `coherent-walk;` in arm-smmu-v3.iommu only.
    assert_eq!(
        (
            ArmSmmuV3Format::COHERENT_WALK,
            <Mtk as pgtable::Format>::COHERENT_WALK
        ),
        (true, false)
    );
}

#[test]
fn engine_maps_through_the_static_pool() {
    // Host pointers may exceed the OAS: place the pool at a physical base.
    ARM_SMMU_V3_POOL.set_phys_base(0x4000_0000);
    let table = ArmSmmuV3::page_table(NoTlb).unwrap();
    let rw = Prot::READ.union(Prot::WRITE);
    // One 2M block: IOVA 0x1020_0000 → PA 0x8000_0000.
    table.map(0x1020_0000, 0x8000_0000, 0x20_0000, rw).unwrap();
    assert_eq!(table.iova_to_phys(0x1020_1234), Some(0x8000_1234));
    assert_eq!(table.iova_to_phys(0x1040_0000), None);
    assert!(
        ARM_SMMU_V3_POOL.in_use() >= 3,
        "root plus level-1 and level-2 tables"
    );
    assert_eq!(table.unmap(0x1020_0000, 0x20_0000), 0x20_0000);
    assert_eq!(table.iova_to_phys(0x1020_1234), None);
}
