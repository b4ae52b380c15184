//! The Rockchip IOMMU's page tables (Linux `drivers/iommu/rockchip-iommu.c`,
//! binding `rockchip,iommu.yaml`), as one [`Format`].
//!
//! Geometry: a 32-bit IOVA, a directory of 1024 32-bit entries (DTEs, 4
//! KiB, each covering 4 MiB) pointing to page tables of 1024 32-bit entries
//! (PTEs, 4 KiB, each mapping one 4 KiB page). There are no larger leaves:
//! Linux advertises 4K..4M to the IOMMU core only so that it is handed
//! whole page tables at a time, and writes 4K PTEs for all of them. In the
//! engine's numbering the directory is level 2 and the page tables level 3.
//!
//! Bit 0 of both entry kinds is "valid". A PTE's bit 1 allows reads and
//! bit 2 writes, in both versions: that is current Linux (v2 briefly had
//! them swapped until a 2022 fix aligned it with v1). Nothing else is set:
//! Linux writes neither v1's cache-override bits 8:3 nor v2's security bit
//! 3, so `CACHE`, `MMIO`, `NOEXEC` and `PRIV` leave no trace.
//!
//! Versions: 1 (`rockchip,iommu`, e.g. rk3288/rk3399) holds a 32-bit
//! physical address in bits 31:12 of either entry. 2
//! (`rockchip,rk3568-iommu`) reaches 40 bits: PA 31:12 in bits 31:12, PA
//! 35:32 in bits 11:8 and PA 39:36 in bits 7:4, alike for DTEs and PTEs (so
//! page tables may lie anywhere below 1 TiB; v1's must lie below 4 GiB,
//! where Linux allocates them with `GFP_DMA32`). Some RK356x blocks are
//! reported to walk v2 entries but need the directory below 4 GiB; place
//! their pool there (book, "Page-table formats").

use core::sync::atomic::AtomicU32;

use super::super::format::Format;
use crate::prot::Prot;

/// Bit 0 of a DTE or PTE: the entry is valid.
pub const VALID: u32 = 1 << 0;
/// PTE bit 1: the device may read the page.
pub const READABLE: u32 = 1 << 1;
/// PTE bit 2: the device may write the page.
pub const WRITABLE: u32 = 1 << 2;
/// The flag bits a leaf keeps (what [`Format::leaf_attrs`] returns).
pub const FLAGS: u32 = VALID | READABLE | WRITABLE;
/// Physical address bits 31:12, in place in both versions.
pub const ADDR_LO: u32 = 0xffff_f000;
/// Version 2: entry bits 11:8 hold PA 35:32 (shifted right by 24).
pub const V2_HI1_SHIFT: u32 = 8;
/// Version 2: entry bits 7:4 hold PA 39:36 (shifted right by 32).
pub const V2_HI2_SHIFT: u32 = 4;

/// The compatible string of each version, as the binding spells it.
pub const V1_COMPATIBLE: &str = "rockchip,iommu";
pub const V2_COMPATIBLE: &str = "rockchip,rk3568-iommu";

/// Why a Rockchip format's parameters are illegal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RockchipError {
    /// Only versions 1 and 2 exist.
    Version,
}

impl core::fmt::Display for RockchipError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            RockchipError::Version => "Rockchip IOMMU version must be 1 or 2",
        })
    }
}

/// The whole legality rule for a Rockchip format, shared by the engine's
/// compile-time check ([`Format::VALID`]) and the DSL checker.
pub const fn check(version: u32) -> Result<(), RockchipError> {
    match version {
        1 | 2 => Ok(()),
        _ => Err(RockchipError::Version),
    }
}

/// The table version a device with this compatible string walks, if it is
/// a Rockchip IOMMU (for the generator: a spec's compatible picks the
/// const parameter).
pub fn version_of_compatible(compatible: &str) -> Option<u32> {
    match compatible {
        V1_COMPATIBLE => Some(1),
        V2_COMPATIBLE => Some(2),
        _ => None,
    }
}

/// The version for a node's whole compatible list: the first entry Linux's
/// driver matches. Newer SoCs list their own string first and fall back to
/// `rockchip,rk3568-iommu` (rk3576, rk3588), which the binding requires.
pub fn version_of_compatibles<'a>(list: impl IntoIterator<Item = &'a str>) -> Option<u32> {
    list.into_iter().find_map(version_of_compatible)
}

/// Physical address bits an entry of `version` can hold.
pub const fn pa_bits(version: u32) -> u32 {
    if version == 2 {
        40
    } else {
        32
    }
}

/// A Rockchip IOMMU page-table format. `VERSION`: 1 or 2 (the address
/// encoding); `COHERENT`: the walker snoops CPU caches (Rockchip's do not,
/// hence the default, and Linux cleans every table write).
#[derive(Clone, Copy, Debug, Default)]
pub struct Rockchip<const VERSION: u32 = 1, const COHERENT: bool = false>;

impl<const VERSION: u32, const COHERENT: bool> Rockchip<VERSION, COHERENT> {
    /// The version's address field for `pa` (a multiple of 4 KiB, within
    /// [`pa_bits`]).
    #[inline(always)]
    const fn encode(pa: u64) -> u32 {
        let lo = pa as u32 & ADDR_LO;
        if VERSION == 2 {
            let hi1 = ((pa >> 32) & 0xf) as u32;
            let hi2 = ((pa >> 36) & 0xf) as u32;
            lo | hi1 << V2_HI1_SHIFT | hi2 << V2_HI2_SHIFT
        } else {
            lo
        }
    }

    /// Inverse of [`encode`](Self::encode).
    #[inline(always)]
    const fn decode(d: u32) -> u64 {
        let lo = (d & ADDR_LO) as u64;
        if VERSION == 2 {
            let hi1 = ((d >> V2_HI1_SHIFT) & 0xf) as u64;
            let hi2 = ((d >> V2_HI2_SHIFT) & 0xf) as u64;
            lo | hi1 << 32 | hi2 << 36
        } else {
            lo
        }
    }
}

impl<const VERSION: u32, const COHERENT: bool> Format for Rockchip<VERSION, COHERENT> {
    type Desc = AtomicU32;
    const VALID: () = assert!(
        check(VERSION).is_ok(),
        "Rockchip IOMMU version must be 1 or 2"
    );
    const GRANULE_SHIFT: u32 = 12;
    const IAS: u32 = 32;
    const OAS: u32 = pa_bits(VERSION);
    const TABLE_PA_BITS: u32 = pa_bits(VERSION);
    const PAGE_SIZES: u64 = 1 << 12;
    const COHERENT_WALK: bool = COHERENT;
    const START: u32 = 2;
    const SHIFT: [u32; 4] = [32, 32, 22, 12];
    const INDEX_BITS: [u32; 4] = [0, 0, 10, 10];
    const CONTIG: [u32; 4] = [0; 4];
    const ROOT_TABLES: u32 = 1;
    // v2 moves PA bits 32 and up into the low bits, so a run of PTEs is
    // one add per entry only inside one 4 GiB block.
    const LINEAR_OA: bool = VERSION != 2;
    const LINEAR_OA_WITHIN: u32 = if VERSION == 2 { 32 } else { 0 };

    #[inline(always)]
    fn attrs(prot: Prot) -> u64 {
        let mut a = VALID;
        if prot.contains(Prot::READ) {
            a |= READABLE;
        }
        if prot.contains(Prot::WRITE) {
            a |= WRITABLE;
        }
        a as u64
    }

    #[inline(always)]
    fn leaf(pa: u64, attrs: u64, _level: u32, _contig: bool) -> u64 {
        (Self::encode(pa) | (attrs as u32 & FLAGS)) as u64
    }

    #[inline(always)]
    fn leaf_attrs(d: u64, _level: u32) -> u64 {
        (d as u32 & FLAGS) as u64
    }

    #[inline(always)]
    fn leaf_addr(d: u64, _level: u32) -> u64 {
        Self::decode(d as u32)
    }

    #[inline(always)]
    fn is_contig(_d: u64, _level: u32) -> bool {
        false
    }

    #[inline(always)]
    fn table(pa: u64, _level: u32) -> u64 {
        (Self::encode(pa) | VALID) as u64
    }

    #[inline(always)]
    fn is_table(d: u64, level: u32) -> bool {
        // Every valid directory entry points to a page table.
        level == 2 && d as u32 & VALID != 0
    }

    #[inline(always)]
    fn table_addr(d: u64, _level: u32) -> u64 {
        Self::decode(d as u32)
    }
}
