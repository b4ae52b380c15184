//! Apple DART translation tables (the IOMMUs of Apple silicon, Linux's
//! `io-pgtable-dart` formats `APPLE_DART` and `APPLE_DART2`), as one
//! [`Format`] with the hardware generation as a const parameter.
//!
//! Geometry with 16K pages: 64-bit entries, two levels of 2048-entry
//! (16 KiB) tables. The second level maps 16 KiB pages (IOVA bits
//! `[24:14]`), the first level points to second-level tables (bits
//! `[35:25]`); each root table (one per TTBR) therefore covers 64 GiB, and
//! IOVA bits from 36 up select the TTBR. The hardware has four TTBRs, so
//! the input size is at most 38 bits (36 for DART1, whose input may not
//! exceed its output); the Apple SoCs' drivers use 32 bits,
//! one TTBR and only the first 128 entries of its table. In the engine's
//! numbering the first level is 2 and the second 3; the root tables are
//! laid out contiguously as one root.
//!
//! There are no blocks: every leaf is one 16 KiB page, so unmapping any
//! page-aligned range never splits anything (Linux likewise maps and
//! unmaps only single pages with this format).
//!
//! Entries (both levels): bit 0 valid; the address field holds the
//! physical address bits `[35:12]` in place (DART1, `apple,t8103-dart`, 36
//! bit output) or physical bits `[41:14]` shifted right by 4 into entry
//! bits `[37:10]` (DART2, `apple,t6000-dart`, 42-bit output). Leaves add
//! the sub-page window (start `[63:52]` = 0, end `[51:40]` = 0xfff: the
//! whole page) and protection: DART1 bit 1 "sub-page protection disable"
//! (always set), bit 7 no-write, bit 8 no-read; DART2 bit 1 "no cache"
//! (set unless [`Prot::CACHE`]), bit 2 no-write, bit 3 no-read. Execute,
//! privilege and MMIO attributes do not exist in the format.
//!
//! The table walker is cache-coherent (Linux refuses a DART format
//! without `coherent_walk`).

use core::sync::atomic::AtomicU64;

use super::super::format::Format;
use crate::prot::Prot;

/// Entry bit 0: the entry is valid (tables and pages alike).
pub const VALID: u64 = 1 << 0;
/// DART1 leaf: sub-page protection disabled.
pub const DART1_SP_DIS: u64 = 1 << 1;
/// DART1 leaf: writes fault.
pub const DART1_NO_WRITE: u64 = 1 << 7;
/// DART1 leaf: reads fault.
pub const DART1_NO_READ: u64 = 1 << 8;
/// DART2 leaf: the access is not cached.
pub const DART2_NO_CACHE: u64 = 1 << 1;
/// DART2 leaf: writes fault.
pub const DART2_NO_WRITE: u64 = 1 << 2;
/// DART2 leaf: reads fault.
pub const DART2_NO_READ: u64 = 1 << 3;
/// Leaf sub-page window (the part of the page that may be accessed):
/// `[63:52]` start, `[51:40]` end.
pub const SUBPAGE_START_SHIFT: u32 = 52;
pub const SUBPAGE_END_SHIFT: u32 = 40;
/// The window's end field fully open (the whole page accessible).
pub const SUBPAGE_WHOLE: u64 = 0xfff << SUBPAGE_END_SHIFT;
/// DART1: the address field is the physical address bits `[35:12]`.
pub const DART1_PA_MASK: u64 = 0x0000_000f_ffff_f000;
/// DART2: entry bits `[37:10]` hold physical address bits `[41:14]`.
pub const DART2_FIELD_MASK: u64 = 0x0000_003f_ffff_fc00;
/// DART2: how far the physical address is shifted right into the field.
pub const DART2_PA_SHIFT: u32 = 4;

/// The page size (the format's only leaf size).
pub const PAGE_16K: u64 = 1 << 14;
/// Most TTBRs a DART has for one stream (bounds the input size).
pub const MAX_TTBRS: u32 = 4;

/// Why a DART configuration is not legal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DartError {
    /// The generation is neither 1 (t8103) nor 2 (t6000).
    Generation,
    /// The input size is below 25 bits, above the output size (Linux
    /// refuses that), or needs more than four TTBRs (above 38 bits).
    Ias,
    /// Page sizes other than exactly 16 KiB.
    Size,
}

/// The whole legality rule for a DART format, shared by the engine's
/// compile-time check ([`AppleDart`]'s `VALID`) and the DSL checker.
pub const fn check(generation: u8, ias: u32, sizes: u64) -> Result<(), DartError> {
    if generation != 1 && generation != 2 {
        return Err(DartError::Generation);
    }
    if ias < 25 || ias > 36 + MAX_TTBRS.trailing_zeros() || ias > oas(generation) {
        return Err(DartError::Ias);
    }
    if sizes != PAGE_16K {
        return Err(DartError::Size);
    }
    Ok(())
}

/// Output address size of a generation: 36 bits (DART1) or 42 (DART2).
pub const fn oas(generation: u8) -> u32 {
    if generation == 2 {
        42
    } else {
        36
    }
}

/// An Apple DART format with 16K pages. `GEN`: 1 (`apple,t8103-dart`) or
/// 2 (`apple,t6000-dart`); `IAS`: input address bits, 25 to 36 (DART1) or
/// 38 (DART2); the SoCs' drivers use 32.
#[derive(Clone, Copy, Debug, Default)]
pub struct AppleDart<const GEN: u8 = 1, const IAS: u32 = 32>;

/// DART1 as `apple,t8103-dart` is driven: 32-bit IOVA, one TTBR.
pub type Dart1 = AppleDart<1, 32>;
/// DART2 as `apple,t6000-dart` is driven: 32-bit IOVA, one TTBR.
pub type Dart2 = AppleDart<2, 32>;

impl<const GEN: u8, const IAS: u32> AppleDart<GEN, IAS> {
    /// The generation's address field for physical address `pa`.
    #[inline(always)]
    const fn field(pa: u64) -> u64 {
        if GEN == 2 {
            (pa >> DART2_PA_SHIFT) & DART2_FIELD_MASK
        } else {
            pa & DART1_PA_MASK
        }
    }

    /// Inverse of [`field`](Self::field).
    #[inline(always)]
    const fn pa_of(d: u64) -> u64 {
        if GEN == 2 {
            (d & DART2_FIELD_MASK) << DART2_PA_SHIFT
        } else {
            d & DART1_PA_MASK
        }
    }

    /// Every leaf bit except the address field, for `prot`.
    #[inline(always)]
    const fn leaf_bits(prot: Prot) -> u64 {
        let mut d = VALID | SUBPAGE_WHOLE;
        let (no_read, no_write) = if GEN == 2 {
            if !prot.contains(Prot::CACHE) {
                d |= DART2_NO_CACHE;
            }
            (DART2_NO_READ, DART2_NO_WRITE)
        } else {
            d |= DART1_SP_DIS;
            (DART1_NO_READ, DART1_NO_WRITE)
        };
        if !prot.contains(Prot::READ) {
            d |= no_read;
        }
        if !prot.contains(Prot::WRITE) {
            d |= no_write;
        }
        d
    }

    /// The address-field mask of this generation.
    const FIELD: u64 = if GEN == 2 {
        DART2_FIELD_MASK
    } else {
        DART1_PA_MASK
    };
}

impl<const GEN: u8, const IAS: u32> Format for AppleDart<GEN, IAS> {
    type Desc = AtomicU64;
    const VALID: () = assert!(
        check(GEN, IAS, PAGE_16K).is_ok(),
        "Apple DART: generation 1 (IAS 25 to 36) or 2 (IAS 25 to 38), 16K pages"
    );
    const GRANULE_SHIFT: u32 = 14;
    const IAS: u32 = IAS;
    const OAS: u32 = oas(GEN);
    const TABLE_PA_BITS: u32 = oas(GEN);
    const PAGE_SIZES: u64 = PAGE_16K;
    const COHERENT_WALK: bool = true;
    const START: u32 = 2;
    const SHIFT: [u32; 4] = [36, 36, 25, 14];
    /// The first level resolves bits 25 up to the IAS, over all TTBRs.
    const INDEX_BITS: [u32; 4] = [0, 0, IAS.saturating_sub(25), 11];
    const CONTIG: [u32; 4] = [0; 4];
    const ROOT_TABLES: u32 = 1 << IAS.saturating_sub(36);
    /// DART2 stores the address shifted, so consecutive pages' entries
    /// differ by 1 KiB, not 16 KiB.
    const LINEAR_OA: bool = GEN == 1;

    #[inline(always)]
    fn attrs(prot: Prot) -> u64 {
        Self::leaf_bits(prot)
    }

    #[inline(always)]
    fn leaf(pa: u64, attrs: u64, _level: u32, _contig: bool) -> u64 {
        attrs | Self::field(pa)
    }

    #[inline(always)]
    fn leaf_attrs(d: u64, _level: u32) -> u64 {
        d & !Self::FIELD
    }

    #[inline(always)]
    fn leaf_addr(d: u64, _level: u32) -> u64 {
        Self::pa_of(d)
    }

    #[inline(always)]
    fn is_contig(_d: u64, _level: u32) -> bool {
        false
    }

    #[inline(always)]
    fn table(pa: u64, _level: u32) -> u64 {
        Self::field(pa) | VALID
    }

    /// Valid first-level entries are always tables, second-level always
    /// pages (the engine also asks about empty entries: not tables).
    #[inline(always)]
    fn is_table(d: u64, level: u32) -> bool {
        level == 2 && d & VALID != 0
    }

    #[inline(always)]
    fn table_addr(d: u64, _level: u32) -> u64 {
        Self::pa_of(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legality() {
        assert_eq!(check(1, 32, PAGE_16K), Ok(()));
        assert_eq!(check(2, 38, PAGE_16K), Ok(()));
        assert_eq!(check(3, 32, PAGE_16K), Err(DartError::Generation));
        assert_eq!(check(0, 32, PAGE_16K), Err(DartError::Generation));
        assert_eq!(check(2, 39, PAGE_16K), Err(DartError::Ias));
        assert_eq!(check(1, 37, PAGE_16K), Err(DartError::Ias));
        assert_eq!(check(1, 24, PAGE_16K), Err(DartError::Ias));
        assert_eq!(check(1, 32, 1 << 12), Err(DartError::Size));
        assert_eq!(check(2, 32, PAGE_16K | 1 << 25), Err(DartError::Size));
    }
}
