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

#[test]
fn dart_and_rockchip_use_their_own_formats() {
    use iommugen_example_build_script::generated::apple_dart::AppleDartFormat;
    use iommugen_example_build_script::generated::apple_dart::{AppleDart, APPLE_DART_POOL};
    use iommugen_example_build_script::generated::rockchip_iommu::{
        RockchipIommu, RockchipIommuFormat, RockchipRk3568Iommu, RockchipRk3568IommuFormat,
        ROCKCHIP_IOMMU_POOL, ROCKCHIP_RK3568_IOMMU_POOL,
    };
    use pgtable::Format;
    // apple-dart.iommu: DART1 (t8103), 16K pages, 32-bit IOVA, 36-bit PA.
    assert_eq!(
        (
            <AppleDartFormat as Format>::GRANULE_SHIFT,
            <AppleDartFormat as Format>::IAS,
            <AppleDartFormat as Format>::OAS,
            <AppleDartFormat as Format>::PAGE_SIZES
        ),
        (14, 32, 36, 1 << 14)
    );
    // rockchip-iommu.iommu: v1 32-bit and v2 40-bit PA, 4K pages.
    assert_eq!(<RockchipIommuFormat as Format>::OAS, 32);
    assert_eq!(<RockchipRk3568IommuFormat as Format>::OAS, 40);
    const { assert!(!<RockchipIommuFormat as Format>::COHERENT_WALK) };

    let rw = Prot::READ.union(Prot::WRITE);
    APPLE_DART_POOL.set_phys_base(0x4000_0000);
    let dart = AppleDart::page_table(NoTlb).unwrap();
    dart.map(0x8000, 0xf_0000_4000, 0x4000, rw).unwrap();
    assert_eq!(dart.iova_to_phys(0x8123), Some(0xf_0000_4123));
    assert_eq!(dart.iova_to_phys(0xc000), None);

    ROCKCHIP_IOMMU_POOL.set_phys_base(0x4000_0000);
    let v1 = RockchipIommu::page_table(NoTlb).unwrap();
    v1.map(0x1000, 0xfff0_0000, 0x1000, rw).unwrap();
    assert_eq!(v1.iova_to_phys(0x1004), Some(0xfff0_0004));
    assert!(v1.map(0x2000, 0x1_0000_0000, 0x1000, rw).is_err());

    ROCKCHIP_RK3568_IOMMU_POOL.set_phys_base(0x4000_0000);
    let v2 = RockchipRk3568Iommu::page_table(NoTlb).unwrap();
    v2.map(0x1000, 0xab_cdef_1000, 0x1000, rw).unwrap();
    assert_eq!(v2.iova_to_phys(0x1008), Some(0xab_cdef_1008));
}

#[test]
fn exynos_and_sun50i_use_their_own_formats() {
    use iommugen_example_build_script::generated::exynos_sysmmu::{
        ExynosSysmmu, ExynosSysmmuFormat, EXYNOS_SYSMMU_POOL,
    };
    use iommugen_example_build_script::generated::sun50i_iommu::{
        Sun50iIommu, Sun50iIommuFormat, SUN50I_IOMMU_POOL,
    };
    use pgtable::Format;
    // exynos-sysmmu.iommu: version 5, 36-bit PA, 4K/64K/1M leaves, and a
    // walker that needs its entries cleaned to memory.
    assert_eq!(
        (
            <ExynosSysmmuFormat as Format>::IAS,
            <ExynosSysmmuFormat as Format>::OAS,
            <ExynosSysmmuFormat as Format>::PAGE_SIZES
        ),
        (32, 36, (1 << 12) | (1 << 16) | (1 << 20))
    );
    const { assert!(!<ExynosSysmmuFormat as Format>::COHERENT_WALK) };
    // sun50i-iommu.iommu: 4K pages, 32-bit PA.
    assert_eq!(
        (
            <Sun50iIommuFormat as Format>::OAS,
            <Sun50iIommuFormat as Format>::PAGE_SIZES
        ),
        (32, 1 << 12)
    );

    let rw = Prot::READ.union(Prot::WRITE);
    EXYNOS_SYSMMU_POOL.set_phys_base(0x4000_0000);
    let ex = ExynosSysmmu::page_table(NoTlb).unwrap();
    ex.map(0x10_0000, 0x8_4010_0000, 0x10_0000, rw).unwrap();
    assert_eq!(ex.iova_to_phys(0x1a_bcde), Some(0x8_401a_bcde));
    assert_eq!(ex.iova_to_phys(0x20_0000), None);

    SUN50I_IOMMU_POOL.set_phys_base(0x4000_0000);
    let sun = Sun50iIommu::page_table(NoTlb).unwrap();
    sun.map(0x1000, 0xfff0_0000, 0x1000, rw).unwrap();
    assert_eq!(sun.iova_to_phys(0x1004), Some(0xfff0_0004));
    assert!(sun.map(0x2000, 0x1_0000_0000, 0x1000, rw).is_err());
}

/// tegra-smmu.iommu: 32-bit PA for Tegra30/114, 34-bit from Tegra124 on;
/// 4K pages only; a walker that needs its entries cleaned.
#[test]
fn tegra_widths_follow_the_generation() {
    use iommugen_example_build_script::generated::tegra_smmu::{
        Tegra124Smmu, Tegra124SmmuFormat, Tegra30Smmu, Tegra30SmmuFormat, TEGRA124_SMMU_POOL,
        TEGRA30_SMMU_POOL,
    };
    use pgtable::Format;
    assert_eq!(
        (
            <Tegra30SmmuFormat as Format>::OAS,
            <Tegra124SmmuFormat as Format>::OAS,
            <Tegra124SmmuFormat as Format>::PAGE_SIZES
        ),
        (32, 34, 1 << 12)
    );
    const { assert!(!<Tegra124SmmuFormat as Format>::COHERENT_WALK) };
    let rw = Prot::READ.union(Prot::WRITE);
    TEGRA30_SMMU_POOL.set_phys_base(0x8000_0000);
    let t30 = Tegra30Smmu::page_table(NoTlb).unwrap();
    t30.map(0x1000, 0xffff_f000, 0x1000, rw).unwrap();
    assert_eq!(t30.iova_to_phys(0x1004), Some(0xffff_f004));
    assert!(t30.map(0x2000, 0x1_0000_0000, 0x1000, rw).is_err());
    // Tegra124 with its tables above 4 GiB and a page near 16 GiB.
    TEGRA124_SMMU_POOL.set_phys_base(0x2_0000_0000);
    let t124 = Tegra124Smmu::page_table(NoTlb).unwrap();
    t124.map(0x1000, 0x3_ffff_f000, 0x1000, rw).unwrap();
    assert_eq!(t124.iova_to_phys(0x1004), Some(0x3_ffff_f004));
    assert!(t124.map(0x2000, 0x4_0000_0000, 0x1000, rw).is_err());
}
