//! The Samsung Exynos System MMU's page tables (Linux
//! `drivers/iommu/exynos-iommu.c`, binding `samsung,sysmmu.yaml`), as one
//! [`Format`].
//!
//! Geometry: a 32-bit IOVA; a first-level table of 4096 32-bit entries (16
//! KiB, each covering 1 MiB) holding 1 MiB sections or pointers to
//! second-level tables of 256 entries (1 KiB, each mapping 4 KiB) that hold
//! 4 KiB small pages or 64 KiB large pages (16 identical entries). ARMv7's
//! short-descriptor layout, minus supersections and everything but access
//! permissions. In the engine's numbering the first level is 2, the second 3.
//!
//! Entry type bits `[1:0]`: first level 01 table, 10 section (00 and 11
//! fault); second level 01 large page, 1x small page, 00 fault.
//!
//! Versions (the major number the `MMU_VERSION` register reports; one
//! compatible covers them all): 1 to 4 hold the physical address itself, so
//! output and tables are below 4 GiB. From 5 on every entry holds the address
//! shifted right by 4, giving a 36-bit output, and table pointers too (36-bit
//! tables). Permissions follow Linux, which sets only read/write bits and
//! enables their check (`CFG_EAP`) on every version:
//! * v1-v4: ARM's AP\[0\] (section bit 10, page bit 4) makes the mapping
//!   accessible and AP\[2\] (section bit 15, page bit 9) read-only.
//!   Write-only cannot be expressed and becomes read/write, as in Linux.
//! * v5+: a two-bit field, read in its low bit and write in its high bit
//!   (section bits 5:4, page bits 3:2); write-only is expressible.
//!
//! `CACHE`, `MMIO`, `NOEXEC` and `PRIV` leave no trace (Linux masks the
//! protection to read and write). Linux fills empty first-level entries with
//! a pointer to one shared zeroed second-level table (a System MMU v3.3
//! prefetch workaround); we write zero instead, since zero is the engine's
//! invalid entry and the hardware faults on it. The engine issues no
//! invalidation on `map`, so a v3.3+ driver should invalidate the range it
//! mapped, as Linux flushes that cache when it replaces the shared pointer
//! (book, "Page-table formats"). Partial unmaps of a section or large page
//! split it, where Linux refuses them.

use core::sync::atomic::AtomicU32;

use super::super::format::Format;
use crate::prot::Prot;

/// Type bits `[1:0]` of an entry.
pub const TYPE_MASK: u32 = 0b11;
/// First level: a pointer to a second-level table.
pub const L1_TABLE: u32 = 0b01;
/// First level: a 1 MiB section.
pub const L1_SECTION: u32 = 0b10;
/// Second level: one of the 16 entries of a 64 KiB large page.
pub const L2_LARGE: u32 = 0b01;
/// Second level: a 4 KiB small page (bit 1; the engine leaves bit 0 clear).
pub const L2_SMALL: u32 = 0b10;

/// v1-v4 section: accessible (AP\[0\]).
pub const V1_SECT_ACCESS: u32 = 1 << 10;
/// v1-v4 section: read-only (AP\[2\]).
pub const V1_SECT_RDONLY: u32 = 1 << 15;
/// v1-v4 small or large page: accessible (AP\[0\]).
pub const V1_PAGE_ACCESS: u32 = 1 << 4;
/// v1-v4 small or large page: read-only (AP\[2\]).
pub const V1_PAGE_RDONLY: u32 = 1 << 9;
/// v5+ section: readable, writable.
pub const V5_SECT_READ: u32 = 1 << 4;
pub const V5_SECT_WRITE: u32 = 1 << 5;
/// v5+ small or large page: readable, writable.
pub const V5_PAGE_READ: u32 = 1 << 2;
pub const V5_PAGE_WRITE: u32 = 1 << 3;

/// From v5 on, entries hold the physical address shifted right by this.
pub const V5_ENTRY_SHIFT: u32 = 4;
/// The first version with shifted (36-bit) entries.
pub const FIRST_V5: u32 = 5;
/// The last major version Linux's driver knows (v7, e.g. Exynos850).
pub const LAST_VERSION: u32 = 7;

/// Neutral attributes: what the device may do (after the version's
/// collapse of write-only into read/write).
const A_READ: u32 = 1 << 0;
const A_WRITE: u32 = 1 << 1;

/// Leaf sizes: 4K small pages, 64K large pages, 1M sections (Linux's
/// `pgsize_bitmap`; no 16M supersections).
pub const SIZES: u64 = (1 << 12) | (1 << 16) | (1 << 20);

/// The compatible string of every version (the version is read from the
/// hardware, so it cannot be derived from the device tree).
pub const COMPATIBLE: &str = "samsung,exynos-sysmmu";

/// Why an Exynos format's parameters are illegal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExynosError {
    /// Only major versions 1 to 7 are known.
    Version,
}

impl core::fmt::Display for ExynosError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            ExynosError::Version => "Exynos SysMMU version must be 1 to 7",
        })
    }
}

/// The whole legality rule for an Exynos format, shared by the engine's
/// compile-time check ([`Format::VALID`]) and the DSL checker.
pub const fn check(version: u32) -> Result<(), ExynosError> {
    if version >= 1 && version <= LAST_VERSION {
        Ok(())
    } else {
        Err(ExynosError::Version)
    }
}

/// How far right entries of `version` shift the physical address.
pub const fn entry_shift(version: u32) -> u32 {
    if version >= FIRST_V5 {
        V5_ENTRY_SHIFT
    } else {
        0
    }
}

/// Physical address bits (output and tables) an entry of `version` holds.
pub const fn pa_bits(version: u32) -> u32 {
    32 + entry_shift(version)
}

/// An Exynos SysMMU page-table format. `VERSION`: the major version (1 to
/// 7; only "below 5" or not changes the encoding); `COHERENT`: the walker
/// snoops CPU caches (Linux cleans every entry write, hence the default);
/// `LEAVES`: the leaf sizes mappings may use (a subset of [`SIZES`] with
/// the 4K page; a spec's `sizes`).
#[derive(Clone, Copy, Debug, Default)]
pub struct Exynos<const VERSION: u32 = 1, const COHERENT: bool = false, const LEAVES: u64 = SIZES>;

impl<const VERSION: u32, const COHERENT: bool, const LEAVES: u64>
    Exynos<VERSION, COHERENT, LEAVES>
{
    const SHIFT: u32 = entry_shift(VERSION);
    const V5: bool = VERSION >= FIRST_V5;

    /// Entry bits holding the address of a `1 << size_log2` aligned block.
    #[inline(always)]
    const fn addr_mask(size_log2: u32) -> u32 {
        ((((1u64 << pa_bits(VERSION)) - 1) >> size_log2 << size_log2) >> Self::SHIFT) as u32
    }

    /// The entry's address field for `pa` aligned to `1 << size_log2`.
    #[inline(always)]
    const fn encode(pa: u64, size_log2: u32) -> u32 {
        (pa >> Self::SHIFT) as u32 & Self::addr_mask(size_log2)
    }

    /// Inverse of [`encode`](Self::encode).
    #[inline(always)]
    const fn decode(d: u32, size_log2: u32) -> u64 {
        ((d & Self::addr_mask(size_log2)) as u64) << Self::SHIFT
    }

    /// Permission bits of a leaf at `level` for neutral attributes `a`.
    #[inline(always)]
    const fn perms(a: u32, level: u32) -> u32 {
        let write = a & A_WRITE != 0;
        let read = a & A_READ != 0;
        match (Self::V5, level == 2) {
            (false, true) => V1_SECT_ACCESS | if write { 0 } else { V1_SECT_RDONLY },
            (false, false) => V1_PAGE_ACCESS | if write { 0 } else { V1_PAGE_RDONLY },
            (true, true) => {
                (if read { V5_SECT_READ } else { 0 }) | if write { V5_SECT_WRITE } else { 0 }
            }
            (true, false) => {
                (if read { V5_PAGE_READ } else { 0 }) | if write { V5_PAGE_WRITE } else { 0 }
            }
        }
    }

    /// log2 of the block a leaf at `level` names.
    #[inline(always)]
    const fn leaf_log2(level: u32, contig: bool) -> u32 {
        match (level == 2, contig) {
            (true, _) => 20,
            (false, true) => 16,
            (false, false) => 12,
        }
    }
}

/// log2 of a second-level table's size (and alignment).
const TABLE_LOG2: u32 = 10;

impl<const VERSION: u32, const COHERENT: bool, const LEAVES: u64> Format
    for Exynos<VERSION, COHERENT, LEAVES>
{
    type Desc = AtomicU32;
    const VALID: () = assert!(
        check(VERSION).is_ok() && LEAVES & !SIZES == 0 && LEAVES & (1 << 12) != 0,
        "Exynos SysMMU version must be 1 to 7, leaf sizes 4K, 64K, 1M with 4K"
    );
    const GRANULE_SHIFT: u32 = 12;
    const IAS: u32 = 32;
    const OAS: u32 = pa_bits(VERSION);
    const TABLE_PA_BITS: u32 = pa_bits(VERSION);
    const PAGE_SIZES: u64 = LEAVES;
    const COHERENT_WALK: bool = COHERENT;
    const START: u32 = 2;
    const SHIFT: [u32; 4] = [32, 32, 20, 12];
    const INDEX_BITS: [u32; 4] = [0, 0, 12, 8];
    const CONTIG: [u32; 4] = [0, 0, 0, 4];
    const ROOT_TABLES: u32 = 1;
    // Shifted entries of consecutive blocks differ by the block size >> 4.
    const LINEAR_OA: bool = !Self::V5;

    #[inline(always)]
    fn attrs(prot: Prot) -> u64 {
        let mut a = 0;
        if prot.contains(Prot::READ) {
            a |= A_READ;
        }
        if prot.contains(Prot::WRITE) {
            a |= A_WRITE;
            // Before v5 a writable mapping is always readable too.
            if !Self::V5 {
                a |= A_READ;
            }
        }
        a as u64
    }

    #[inline(always)]
    fn leaf(pa: u64, attrs: u64, level: u32, contig: bool) -> u64 {
        let ty = match (level == 2, contig) {
            (true, _) => L1_SECTION,
            (false, true) => L2_LARGE,
            (false, false) => L2_SMALL,
        };
        let addr = Self::encode(pa, Self::leaf_log2(level, contig));
        (addr | Self::perms(attrs as u32, level) | ty) as u64
    }

    #[inline(always)]
    fn leaf_attrs(d: u64, level: u32) -> u64 {
        let d = d as u32;
        let a = match (Self::V5, level == 2) {
            (false, true) => A_READ | if d & V1_SECT_RDONLY == 0 { A_WRITE } else { 0 },
            (false, false) => A_READ | if d & V1_PAGE_RDONLY == 0 { A_WRITE } else { 0 },
            (true, true) => {
                (if d & V5_SECT_READ != 0 { A_READ } else { 0 })
                    | if d & V5_SECT_WRITE != 0 { A_WRITE } else { 0 }
            }
            (true, false) => {
                (if d & V5_PAGE_READ != 0 { A_READ } else { 0 })
                    | if d & V5_PAGE_WRITE != 0 { A_WRITE } else { 0 }
            }
        };
        a as u64
    }

    #[inline(always)]
    fn leaf_addr(d: u64, level: u32) -> u64 {
        Self::decode(d as u32, Self::leaf_log2(level, Self::is_contig(d, level)))
    }

    #[inline(always)]
    fn is_contig(d: u64, level: u32) -> bool {
        level == 3 && d as u32 & TYPE_MASK == L2_LARGE
    }

    #[inline(always)]
    fn table(pa: u64, _level: u32) -> u64 {
        (Self::encode(pa, TABLE_LOG2) | L1_TABLE) as u64
    }

    #[inline(always)]
    fn is_table(d: u64, level: u32) -> bool {
        level == 2 && d as u32 & TYPE_MASK == L1_TABLE
    }

    #[inline(always)]
    fn table_addr(d: u64, _level: u32) -> u64 {
        Self::decode(d as u32, TABLE_LOG2)
    }
}
