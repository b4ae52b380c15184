//! Which parameters each page-table format can express, as `const fn`s.
//!
//! One table per format, shared by the DSL checker (which turns a `false`
//! into a located error) and the engine's compile-time checks (which turn
//! it into a build error), so a spec the checker accepts always builds.
//! Formats the engine does not walk yet ([`implemented`] is `false`) are
//! listed too, so the checker can validate their parameters before saying
//! that the runtime lacks them.

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
}

impl FormatName {
    /// Every format, in the order the DSL reference lists them.
    pub const ALL: [FormatName; 7] = [
        FormatName::ArmLpaeS1,
        FormatName::ArmLpaeS2,
        FormatName::ArmV7s,
        FormatName::AppleDart,
        FormatName::Rockchip,
        FormatName::ExynosSysmmu,
        FormatName::Sun50i,
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
        }
    }
}

/// Whether this runtime's engine walks `f` (has a `Format` for it).
pub const fn implemented(f: FormatName) -> bool {
    matches!(
        f,
        FormatName::ArmLpaeS1 | FormatName::ArmLpaeS2 | FormatName::ArmV7s
    )
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
    /// The only input size: 4096 first-level entries of 1M.
    pub const IAS: u32 = 32;
    use crate::pgtable::{ArmV7s, Format};

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
    /// Generations by DSL name: t8103 (DART1) and t6000 (DART2).
    pub const GENERATIONS: [&str; 2] = ["t8103", "t6000"];
    /// The DARTs of these SoCs use 16K pages.
    pub const GRANULE_SHIFT: u32 = 14;
    /// 32-bit IOVA.
    pub const IAS: u32 = 32;
    /// Pages only, no blocks.
    pub const SIZES: u64 = 1 << 14;
    /// TTBRs per stream.
    pub const ROOT_TABLES: u32 = 4;

    /// Output size of generation `GENERATIONS[g]`: 36 (DART1) or 42 (DART2).
    pub const fn oas(generation: usize) -> u32 {
        if generation == 0 {
            36
        } else {
            42
        }
    }
}

/// Rockchip IOMMU: directory and page tables of 32-bit entries.
pub mod rockchip {
    pub const GRANULE_SHIFT: u32 = 12;
    pub const IAS: u32 = 32;
    /// 4K pages only.
    pub const SIZES: u64 = 1 << 12;

    /// Output size of version `v` (1 or 2): 32 bits, or 40 with v2's packing;
    /// 0 for a version that does not exist.
    pub const fn oas(v: u64) -> u32 {
        match v {
            1 => 32,
            2 => 40,
            _ => 0,
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
}
