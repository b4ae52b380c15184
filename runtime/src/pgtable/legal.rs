//! Which parameters each page-table format can express, as `const fn`s.
//!
//! One table per format, shared by the DSL checker (which turns a `false`
//! into a located error) and the engine's compile-time checks (which turn
//! it into a build error), so a spec the checker accepts always builds.
//! Every format the DSL names has an engine format here.

/// The formats the DSL names, by their DSL spelling.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FormatName {
    ArmLpaeS1,
    ArmLpaeS2,
    ArmV7s,
    AppleDart,
    Rockchip,
    ExynosSysmmu,
    Sun50i,
    TegraSmmu,
}

impl FormatName {
    /// Every format, in the order the DSL reference lists them.
    pub const ALL: [FormatName; 8] = [
        FormatName::ArmLpaeS1,
        FormatName::ArmLpaeS2,
        FormatName::ArmV7s,
        FormatName::AppleDart,
        FormatName::Rockchip,
        FormatName::ExynosSysmmu,
        FormatName::Sun50i,
        FormatName::TegraSmmu,
    ];

    /// The name a `page-table` block gives.
    pub const fn dsl_name(self) -> &'static str {
        match self {
            FormatName::ArmLpaeS1 => "arm-lpae-s1",
            FormatName::ArmLpaeS2 => "arm-lpae-s2",
            FormatName::ArmV7s => "arm-v7s",
            FormatName::AppleDart => "apple-dart",
            FormatName::Rockchip => "rockchip",
            FormatName::ExynosSysmmu => "exynos-sysmmu",
            FormatName::Sun50i => "sun50i",
            FormatName::TegraSmmu => "tegra-smmu",
        }
    }
}

/// VMSAv8-64 long descriptors without FEAT_LPA2 (Arm ARM D8).
pub mod lpae {
    /// Granule shifts: 4K, 16K, 64K.
    pub const GRANULE_SHIFTS: [u32; 3] = [12, 14, 16];
    /// Output sizes PARange / SMMU OAS encode.
    pub const OUTPUT_SIZES: [u32; 7] = [32, 36, 40, 42, 44, 48, 52];
    /// TnSZ is at most 39 without FEAT_TTST.
    pub const MIN_IAS: u32 = 25;

    /// Largest input size: 52 bits with the 64K granule (FEAT_LVA), else 48.
    pub const fn max_ias(granule_shift: u32) -> u32 {
        if granule_shift == 16 {
            52
        } else {
            48
        }
    }

    /// Whether `oas` is architected for the granule (52 needs 64K: FEAT_LPA).
    pub const fn oas_allowed(granule_shift: u32, oas: u32) -> bool {
        let mut i = 0;
        while i < OUTPUT_SIZES.len() {
            if OUTPUT_SIZES[i] == oas {
                return oas != 52 || granule_shift == 16;
            }
            i += 1;
        }
        false
    }

    /// Whether a leaf (page or block) exists at `level`: the engine's own
    /// rule (pages at 3, blocks at 2, level-1 blocks with 4K and with 64K
    /// at a 52-bit output).
    pub use crate::pgtable::formats::lpae::leaf_level_allowed;
}

/// ARMv7 short descriptors as IOMMUs use them (two levels, 32-bit IOVA).
pub mod arm_v7s {
    /// Always 4K small pages.
    pub const GRANULE_SHIFT: u32 = 12;
    /// The input size: 4096 first-level entries of 1M.
    pub const IAS: u32 = 32;
    /// MediaTek's wider input (IOVA_34_EN), only with the extension:
    /// 16384 first-level entries.
    pub const MTK_IAS: u32 = 34;
    use crate::pgtable::{ArmV7s, Format};

    /// Smallest pool that holds one walk at input size `ias` (32 or 34):
    /// the first level (16 or 64 slots of 1 KiB) and one second-level table.
    pub const fn pool_min(ias: u32) -> u64 {
        if ias == MTK_IAS {
            super::one_walk_in_1k_slots::<ArmV7s<true, SIZES, true, MTK_IAS>>()
        } else {
            super::one_walk_in_1k_slots::<ArmV7s>()
        }
    }
    const _: () = assert!(pool_min(IAS) == 17 && pool_min(MTK_IAS) == 65);

    /// Leaf sizes: 4K small, 64K large, 1M section, 16M supersection.
    pub const SIZES: u64 = crate::pgtable::formats::arm_v7s::ALL_SIZES;
    /// Smallest output size (no extension).
    pub const MIN_OAS: u32 = 32;

    /// Largest output size: 32 bits, or 35 with MediaTek's extension
    /// (Linux's `IO_PGTABLE_QUIRK_ARM_MTK_EXT`: PA bits 32-34 in leaves).
    pub const fn max_oas(mtk_ext: bool) -> u32 {
        if mtk_ext {
            <ArmV7s<true> as Format>::OAS
        } else {
            <ArmV7s<false> as Format>::OAS
        }
    }
}

/// Apple DART (io-pgtable-dart): two levels of 64-bit entries, several TTBRs.
pub mod apple_dart {
    use crate::pgtable::formats::apple_dart as engine;
    use crate::pgtable::{AppleDart, Format};

    /// Generations by DSL name: t8103 (DART1) and t6000 (DART2); the
    /// engine's generation number is the index plus one.
    pub const GENERATIONS: [&str; 2] = ["t8103", "t6000"];
    /// The DARTs of these SoCs use 16K pages.
    pub const GRANULE_SHIFT: u32 = 14;
    /// 32-bit IOVA, as the SoCs' drivers set the streams up.
    pub const IAS: u32 = 32;
    /// Pages only, no blocks.
    pub const SIZES: u64 = engine::PAGE_16K;
    /// TTBRs the hardware has per stream.
    pub const TTBRS: u32 = engine::MAX_TTBRS;
    /// Root tables (TTBRs in use) the engine allocates at [`IAS`].
    pub const ROOT_TABLES: u32 = <AppleDart<1, IAS> as Format>::ROOT_TABLES;
    /// Smallest pool that holds one walk: the root tables and one leaf table.
    pub const POOL_MIN: u64 = ROOT_TABLES as u64 + 1;
    // The engine accepts what the DSL fixes, for every generation.
    const _: () = assert!(
        engine::check(number(0), IAS, SIZES).is_ok()
            && engine::check(number(1), IAS, SIZES).is_ok()
            && GRANULE_SHIFT == engine::PAGE_16K.trailing_zeros()
    );

    /// The engine's generation number (1 or 2) of `GENERATIONS[g]`.
    pub const fn number(generation: usize) -> u8 {
        generation as u8 + 1
    }

    /// Output size of generation `GENERATIONS[g]`: 36 (DART1) or 42 (DART2).
    pub const fn oas(generation: usize) -> u32 {
        engine::oas(number(generation))
    }
}

/// Rockchip IOMMU: directory and page tables of 32-bit entries.
pub mod rockchip {
    use crate::pgtable::formats::rockchip as engine;

    pub const GRANULE_SHIFT: u32 = 12;
    pub const IAS: u32 = 32;
    /// 4K pages only.
    pub const SIZES: u64 = 1 << 12;
    /// Smallest pool that holds one walk: the directory and one page table.
    pub const POOL_MIN: u64 = 2;

    /// Output size of version `v` (1 or 2): 32 bits, or 40 with v2's packing;
    /// 0 for a version that does not exist.
    pub const fn oas(v: u64) -> u32 {
        if v > 2 || engine::check(v as u32).is_err() {
            0
        } else {
            engine::pa_bits(v as u32)
        }
    }
}

/// Samsung Exynos SysMMU: 1M sections, 64K large and 4K small pages (the
/// engine's `formats::exynos`, whose constants and rule these are).
pub mod exynos_sysmmu {
    use crate::pgtable::formats::exynos;
    use crate::pgtable::{Exynos, Format};

    pub const GRANULE_SHIFT: u32 = <Exynos as Format>::GRANULE_SHIFT;
    pub const IAS: u32 = <Exynos as Format>::IAS;
    pub const SIZES: u64 = exynos::SIZES;
    /// Smallest pool that holds one walk: the 16 KiB first level (16 slots
    /// of 1 KiB) and one 1 KiB second-level table.
    pub const POOL_MIN: u64 = 17;
    const _: () = assert!(POOL_MIN == super::one_walk_in_1k_slots::<Exynos>());

    /// Output size of major version `v` (1 to 7): 32 bits, or 36 from v5
    /// on (entries hold PA >> 4); 0 for a version that does not exist.
    pub const fn oas(v: u64) -> u32 {
        if v > u32::MAX as u64 {
            return 0;
        }
        match exynos::check(v as u32) {
            Ok(()) => exynos::pa_bits(v as u32),
            Err(_) => 0,
        }
    }
}

/// Allwinner sun50i (H6) IOMMU: a 4096-entry directory and 256-entry page
/// tables of 32-bit entries, 4K pages only, 32-bit IOVA and physical
/// addresses (Linux `sun50i-iommu.c`). The engine's constants, so checker
/// and runtime agree.
pub mod sun50i {
    pub use crate::pgtable::formats::sun50i::{GRANULE_SHIFT, IAS, OAS, SIZES};
    /// Smallest pool that holds one walk: the 16 KiB directory (16 slots of
    /// 1 KiB) and one 1 KiB page table.
    pub const POOL_MIN: u64 = 17;
    const _: () = assert!(POOL_MIN == super::one_walk_in_1k_slots::<crate::pgtable::Sun50i>());
}

/// NVIDIA Tegra30-generation SMMU: a 1024-entry page directory and
/// 1024-entry page tables of 32-bit entries, 4K pages only, 32-bit IOVA;
/// the generation fixes the physical address width (Linux
/// `tegra-smmu.c` and the memory controller's `num_address_bits`).
pub mod tegra_smmu {
    use crate::pgtable::formats::tegra_smmu as engine;

    pub use engine::{GENERATIONS, GRANULE_SHIFT, IAS, SIZES};
    /// Smallest pool that holds one walk: the directory and one page table.
    pub const POOL_MIN: u64 = 2;
    // Every generation's width is one the engine accepts.
    const _: () = {
        let mut i = 0;
        while i < GENERATIONS.len() {
            assert!(engine::check(engine::GENERATION_PA_BITS[i]).is_ok());
            i += 1;
        }
    };

    /// Output size of generation `GENERATIONS[g]`: 32 or 34 bits.
    pub const fn oas(generation: usize) -> u32 {
        engine::GENERATION_PA_BITS[generation]
    }
}

/// 1 KiB pool slots one walk of a two-level format of 32-bit entries
/// takes: its root table and one second-level table (as the engine sizes
/// them from the format's geometry).
const fn one_walk_in_1k_slots<F: crate::pgtable::Format>() -> u64 {
    let start = F::START as usize;
    let root = (1u64 << F::INDEX_BITS[start]) * 4;
    let leaf = (1u64 << F::INDEX_BITS[start + 1]) * 4;
    root / 1024 + leaf.div_ceil(1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dart_and_rockchip_values_come_from_the_engine() {
        assert_eq!((apple_dart::oas(0), apple_dart::oas(1)), (36, 42));
        assert_eq!(apple_dart::number(1), 2);
        // A 32-bit IOVA needs one TTBR: one root and one leaf table.
        assert_eq!((apple_dart::ROOT_TABLES, apple_dart::POOL_MIN), (1, 2));
        assert_eq!(apple_dart::TTBRS, 4);
        let rk: [u32; 4] = [0, 1, 2, 3].map(rockchip::oas);
        assert_eq!(rk, [0, 32, 40, 0]);
        assert_eq!(
            rockchip::oas(1 << 32 | 1),
            0,
            "no truncation to a real version"
        );
        let ex: [u32; 9] = [0, 1, 2, 3, 4, 5, 6, 7, 8].map(exynos_sysmmu::oas);
        assert_eq!(ex, [0, 32, 32, 32, 32, 36, 36, 36, 0]);
        assert_eq!((exynos_sysmmu::POOL_MIN, sun50i::POOL_MIN), (17, 17));
        let tegra: [u32; 5] = [0, 1, 2, 3, 4].map(tegra_smmu::oas);
        assert_eq!(tegra, [32, 32, 34, 34, 34]);
    }
}
