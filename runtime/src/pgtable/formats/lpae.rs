//! ARM VMSAv8-64 long descriptors (LPAE), stage 1 and 2, as one [`Format`].
//!
//! A driver's spec fixes stage, granule, input/output address sizes and the
//! page/block sizes; generated code implements [`LpaeFormat`] for a unit type and
//! every derived quantity (levels, start level, stage-2 concatenation, shifts)
//! folds to a constant in [`Geometry`]. Nothing about the format is read at
//! run time.

use core::marker::PhantomData;
use core::sync::atomic::AtomicU64;

use super::super::desc;
use super::super::format::Format;
use crate::prot::Prot;

/// Translation stage.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// Stage 1: AP/XN/AttrIndx attributes (MAIR-indexed).
    One,
    /// Stage 2: S2AP/MemAttr/XN attributes; the start level may be concatenated.
    Two,
}

/// Sizes (as `1 << bit` bitmaps) for [`LpaeFormat::PAGE_SIZES`].
pub mod sizes {
    pub const SZ_4K: u64 = 1 << 12;
    pub const SZ_16K: u64 = 1 << 14;
    pub const SZ_64K: u64 = 1 << 16;
    pub const SZ_2M: u64 = 1 << 21;
    pub const SZ_32M: u64 = 1 << 25;
    pub const SZ_512M: u64 = 1 << 29;
    pub const SZ_1G: u64 = 1 << 30;
}

/// A VMSAv8-64 long-descriptor table format, fixed at build time.
///
/// Implementations only set these constants; [`Geometry`] derives the rest
/// and rejects, at compile time, combinations the architecture forbids.
/// Every `LpaeFormat` is a [`Format`] (blanket implementation below).
pub trait LpaeFormat: 'static {
    const STAGE: Stage;
    /// log2 of the granule: 12 (4K), 14 (16K) or 16 (64K).
    const GRANULE_SHIFT: u32;
    /// Input (IOVA) address size in bits.
    const IAS: u32;
    /// Output (physical) address size in bits; 52 only with the 64K granule.
    const OAS: u32;
    /// Allowed page and block sizes: bit `n` set allows a `1 << n` mapping.
    /// Must contain the granule.
    const PAGE_SIZES: u64;
    /// The walker snoops CPU caches, so no cache clean after descriptor writes.
    const COHERENT_WALK: bool;
}

/// Quantities derived from an [`LpaeFormat`], all constants.
pub struct Geometry<F>(PhantomData<F>);

impl<F: LpaeFormat> Geometry<F> {
    /// Granule shift.
    pub const G: u32 = F::GRANULE_SHIFT;
    /// Index bits resolved per level (a table is one granule of 8-byte entries).
    pub const BITS: u32 = F::GRANULE_SHIFT - 3;
    /// Entries in a (non-root) table.
    pub const ENTRIES: usize = 1 << Self::BITS;
    /// Levels a non-concatenated walk needs for `IAS`.
    const NEEDED: u32 = (F::IAS - Self::G).div_ceil(Self::BITS);
    /// Index bits the top level would resolve without concatenation.
    const TOP_BITS: u32 = F::IAS - Self::G - (Self::NEEDED - 1) * Self::BITS;
    /// Stage 2 concatenates the start level whenever allowed (see
    /// [`start_level`]), which saves a level per walk.
    const CONCAT: bool =
        start_level(matches!(F::STAGE, Stage::Two), F::GRANULE_SHIFT, F::IAS) != 4 - Self::NEEDED;
    /// First level of the walk.
    pub const START: u32 = start_level(matches!(F::STAGE, Stage::Two), F::GRANULE_SHIFT, F::IAS);
    /// log2 of the number of concatenated root tables (0: a single table).
    pub const ROOT_ORDER: u32 = if Self::CONCAT { Self::TOP_BITS } else { 0 };
    /// Index bits resolved at the start level (over all concatenated tables).
    pub const ROOT_BITS: u32 = if Self::CONCAT {
        Self::BITS + Self::TOP_BITS
    } else {
        Self::TOP_BITS
    };
    /// Whether output addresses use bits `[51:48]` (FEAT_LPA, 64K granule).
    pub const OA52: bool = F::OAS == 52;
    /// Descriptor bits holding an output or next-table address.
    pub const OA_MASK: u64 =
        (((1u64 << 48) - 1) & !((1u64 << Self::G) - 1)) | if Self::OA52 { 0xf << 12 } else { 0 };

    /// Compile-time check of the format, forced by `PageTable::new`: the
    /// rules of [`check`], which the DSL checker applies too.
    pub const VALID: () = match check(
        matches!(F::STAGE, Stage::Two),
        F::GRANULE_SHIFT,
        F::IAS,
        F::OAS,
        F::PAGE_SIZES,
    ) {
        Ok(()) => {}
        Err(LpaeError::Granule) => panic!("granule must be 4K, 16K or 64K"),
        Err(LpaeError::Ias) => panic!("IAS out of range for the granule"),
        Err(LpaeError::Oas) => {
            panic!("OAS must be an architected PA size (52 only with the 64K granule)")
        }
        Err(LpaeError::NoGranuleSize) => panic!("page sizes must include the granule"),
        Err(LpaeError::Size) => {
            panic!("a page size is not a page or block size of this granule, IAS and OAS")
        }
    };

    /// Shift of the address bits a level-`level` entry maps.
    #[inline(always)]
    pub const fn shift(level: u32) -> u32 {
        Self::G + (3 - level) * Self::BITS
    }

    /// Whether the architecture allows a leaf (page or block) at `level`;
    /// see [`leaf_level_allowed`].
    #[inline(always)]
    pub const fn leaf_level(level: u32) -> bool {
        leaf_level_allowed(Self::G, F::OAS, level)
    }

    /// Whether the format may place a leaf at `level`.
    #[inline(always)]
    pub const fn leaf_allowed(level: u32) -> bool {
        Self::leaf_level(level) && F::PAGE_SIZES & (1 << Self::shift(level)) != 0
    }

    /// Index of `iova` in the level-`level` table that maps it.
    #[inline(always)]
    pub const fn index(level: u32, iova: u64) -> usize {
        let bits = if level == Self::START {
            Self::ROOT_BITS
        } else {
            Self::BITS
        };
        ((iova >> Self::shift(level)) & ((1 << bits) - 1)) as usize
    }

    /// Entries in the table at `level`.
    #[inline(always)]
    pub const fn entries(level: u32) -> usize {
        if level == Self::START {
            1 << Self::ROOT_BITS
        } else {
            Self::ENTRIES
        }
    }
}

/// Why [`check`] refuses an LPAE format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LpaeError {
    /// Not the 4K, 16K or 64K granule.
    Granule,
    /// Input size below 25 bits or above 48 (52 with the 64K granule).
    Ias,
    /// Not 32, 36, 40, 42, 44, 48, or 52 with the 64K granule.
    Oas,
    /// The page sizes lack the granule.
    NoGranuleSize,
    /// A page size is no leaf size of a level the walk has (see
    /// [`leaf_level_allowed`], [`start_level`]).
    Size,
}

/// First level of an LPAE walk for `ias` bits with the `1 << granule_shift`
/// granule. Stage 2 starts one level lower, with up to 16 concatenated
/// tables, whenever the top level would have at most 16 entries (Arm ARM,
/// "Concatenated translation tables"). Total: an input size needing more
/// than four levels gives 0 (and [`check`] refuses it).
pub const fn start_level(stage2: bool, granule_shift: u32, ias: u32) -> u32 {
    let bits = if granule_shift > 3 {
        granule_shift - 3
    } else {
        1
    };
    let over = ias.saturating_sub(granule_shift);
    let needed = if over == 0 { 1 } else { over.div_ceil(bits) };
    let top_bits = over.saturating_sub((needed - 1) * bits);
    if stage2 && top_bits <= 4 && needed > 1 {
        5u32.saturating_sub(needed)
    } else {
        4u32.saturating_sub(needed)
    }
}

/// The whole legality rule for an LPAE format, shared by the engine's
/// compile-time check ([`Geometry::VALID`]) and the DSL checker.
pub const fn check(stage2: bool, g: u32, ias: u32, oas: u32, sizes: u64) -> Result<(), LpaeError> {
    if !(g == 12 || g == 14 || g == 16) {
        return Err(LpaeError::Granule);
    }
    let max_ias = if g == 16 { 52 } else { 48 };
    if ias < 25 || ias > max_ias {
        return Err(LpaeError::Ias);
    }
    let architected = matches!(oas, 32 | 36 | 40 | 42 | 44 | 48) || (oas == 52 && g == 16);
    if !architected {
        return Err(LpaeError::Oas);
    }
    if sizes & (1 << g) == 0 {
        return Err(LpaeError::NoGranuleSize);
    }
    let start = start_level(stage2, g, ias);
    let mut bits = sizes;
    while bits != 0 {
        let s = bits.trailing_zeros();
        bits &= bits - 1;
        let mut ok = false;
        let mut l = start;
        while l <= 3 {
            if g + (3 - l) * (g - 3) == s && leaf_level_allowed(g, oas, l) {
                ok = true;
            }
            l += 1;
        }
        if !ok {
            return Err(LpaeError::Size);
        }
    }
    Ok(())
}

/// Whether VMSAv8-64 (without FEAT_LPA2) has a leaf at `level` for the
/// granule `1 << granule_shift` and output size `oas`: pages at level 3,
/// blocks at level 2, level-1 blocks with the 4K granule (1G) and with the
/// 64K granule when the output address is 52 bits (4T, FEAT_LPA).
///
/// The one rule the DSL checker and the engine's compile-time check share.
pub const fn leaf_level_allowed(granule_shift: u32, oas: u32, level: u32) -> bool {
    match level {
        2 | 3 => true,
        1 => granule_shift == 12 || (granule_shift == 16 && oas == 52),
        _ => false,
    }
}

/// LPAE as a [`Format`]: 64-bit descriptors, the last level at 3, and
/// every quantity from [`Geometry`]. No contiguous leaves (the contiguous
/// hint is not used).
impl<C: LpaeFormat> Format for C {
    type Desc = AtomicU64;
    const GRANULE_SHIFT: u32 = <C as LpaeFormat>::GRANULE_SHIFT;
    const IAS: u32 = <C as LpaeFormat>::IAS;
    const OAS: u32 = <C as LpaeFormat>::OAS;
    const TABLE_PA_BITS: u32 = <C as LpaeFormat>::OAS;
    const PAGE_SIZES: u64 = <C as LpaeFormat>::PAGE_SIZES;
    const COHERENT_WALK: bool = <C as LpaeFormat>::COHERENT_WALK;
    const VALID: () = Geometry::<C>::VALID;
    const START: u32 = Geometry::<C>::START;
    const SHIFT: [u32; 4] = [
        Geometry::<C>::shift(0),
        Geometry::<C>::shift(1),
        Geometry::<C>::shift(2),
        Geometry::<C>::shift(3),
    ];
    const INDEX_BITS: [u32; 4] = {
        let mut b = [Geometry::<C>::BITS; 4];
        b[Geometry::<C>::START as usize] = Geometry::<C>::ROOT_BITS;
        b
    };
    const CONTIG: [u32; 4] = [0; 4];
    const ROOT_TABLES: u32 = 1 << Geometry::<C>::ROOT_ORDER;
    const LINEAR_OA: bool = !Geometry::<C>::OA52;

    #[inline(always)]
    fn attrs(prot: Prot) -> u64 {
        desc::leaf_attrs::<C>(prot)
    }
    #[inline(always)]
    fn leaf(pa: u64, attrs: u64, level: u32, _contig: bool) -> u64 {
        desc::encode_addr::<C>(pa) | attrs | desc::leaf_type(level)
    }
    #[inline(always)]
    fn leaf_attrs(d: u64, _level: u32) -> u64 {
        desc::attrs_of::<C>(d)
    }
    #[inline(always)]
    fn leaf_addr(d: u64, _level: u32) -> u64 {
        desc::decode_addr::<C>(d)
    }
    #[inline(always)]
    fn is_contig(_d: u64, _level: u32) -> bool {
        false
    }
    #[inline(always)]
    fn table(pa: u64, _level: u32) -> u64 {
        desc::table_desc::<C>(pa)
    }
    #[inline(always)]
    fn is_table(d: u64, level: u32) -> bool {
        desc::is_table(d, level)
    }
    #[inline(always)]
    fn table_addr(d: u64, _level: u32) -> u64 {
        desc::decode_addr::<C>(d)
    }
}

macro_rules! ready_format {
    ($(#[$m:meta])* $name:ident, $stage:expr, $g:expr, $ias:expr, $oas:expr, $sizes:expr) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug)]
        pub struct $name;
        impl LpaeFormat for $name {
            const STAGE: Stage = $stage;
            const GRANULE_SHIFT: u32 = $g;
            const IAS: u32 = $ias;
            const OAS: u32 = $oas;
            const PAGE_SIZES: u64 = $sizes;
            const COHERENT_WALK: bool = true;
        }
    };
}

use sizes::*;

ready_format!(
    /// Stage 1, 4K granule, 48-bit IAS and OAS, 4K/2M/1G (a typical SMMUv3).
    S1G4K48, Stage::One, 12, 48, 48, SZ_4K | SZ_2M | SZ_1G
);
ready_format!(
    /// Stage 1, 4K granule, 48-bit IAS, 4K pages only.
    S1G4K48Pages, Stage::One, 12, 48, 48, SZ_4K
);
ready_format!(
    /// Stage 1, 16K granule, 47-bit IAS, 40-bit OAS, 16K/32M.
    S1G16K47, Stage::One, 14, 47, 40, SZ_16K | SZ_32M
);
ready_format!(
    /// Stage 1, 64K granule, 52-bit IAS and OAS (FEAT_LVA/FEAT_LPA), 64K/512M.
    S1G64K52, Stage::One, 16, 52, 52, SZ_64K | SZ_512M
);
ready_format!(
    /// Stage 2, 4K granule, 40-bit IAS (two concatenated level-1 tables), 4K/2M/1G.
    S2G4K40, Stage::Two, 12, 40, 40, SZ_4K | SZ_2M | SZ_1G
);
ready_format!(
    /// Stage 2, 16K granule, 48-bit IAS (two concatenated level-1 tables), 16K/32M.
    S2G16K48, Stage::Two, 14, 48, 48, SZ_16K | SZ_32M
);
ready_format!(
    /// Stage 2, 64K granule, 44-bit IAS (four concatenated level-2 tables), 64K/512M.
    S2G64K44, Stage::Two, 16, 44, 48, SZ_64K | SZ_512M
);
