//! The Allwinner H6 (sun50i) IOMMU's page tables (Linux
//! `drivers/iommu/sun50i-iommu.c`, binding `allwinner,sun50i-h6-iommu.yaml`),
//! as one [`Format`].
//!
//! Geometry: a 32-bit IOVA; one directory table (DT) of 4096 32-bit entries
//! (DTEs, 16 KiB, each covering 1 MiB) whose address goes in
//! `IOMMU_TTB_REG`; page tables (PTs) of 256 32-bit entries (PTEs, 1 KiB,
//! each mapping one 4 KiB page). IOVA bits 31:20 index the DT, 19:12 the
//! PT. There are no larger leaves (Linux advertises 4K only). In the
//! engine's numbering the DT is level 2 and the PTs level 3: the same shape
//! as ARMv7 short descriptors, so the pool is one of [`Table1K`] slots and
//! the DT takes 16 of them.
//!
//! A DTE holds the PT address in bits 31:10 and is valid when bits 1:0 are
//! exactly `01`. A PTE holds the page address in bits 31:12, an "authority
//! control index" (ACI) in bits 7:4 and is valid when bit 1 is set; bit 0,
//! 3:2 and 11:8 are reserved. Physical addresses are 32 bits everywhere.
//!
//! Permissions are indirect: the ACI names one of 16 authority domains,
//! and per-domain registers (`IOMMU_DM_AUT_CTRL_REG`) say which masters
//! may read or write. We use Linux's indices (1 none, 2 read, 3 write, 4
//! read/write; 0 is left alone) so tables mean the same under either
//! driver, and [`AUT_CTRL`] gives the register values that make them mean
//! that. The engine never writes index 1: it refuses a mapping with
//! neither read nor write. Cache, MMIO, no-exec and privilege requests
//! leave no trace (the entries have no such bits).
//!
//! The walker does not snoop CPU caches: Linux cleans every table write
//! (`dma_sync_single_for_device`), hence `COHERENT = false` by default.
//!
//! [`Table1K`]: crate::pgtable::Table1K

use core::sync::atomic::AtomicU32;

use super::super::format::Format;
use crate::prot::Prot;

/// The binding's compatible string.
pub const COMPATIBLE: &str = "allwinner,sun50i-h6-iommu";

/// Entries in the directory (IOVA bits 31:20).
pub const DT_ENTRIES: usize = 4096;
/// Entries in a page table (IOVA bits 19:12).
pub const PT_ENTRIES: usize = 256;
/// Input and output address size: 32 bits.
pub const IAS: u32 = 32;
pub const OAS: u32 = 32;
/// The only page size, 4 KiB.
pub const GRANULE_SHIFT: u32 = 12;
/// Leaf sizes: bit 12 only.
pub const SIZES: u64 = 1 << GRANULE_SHIFT;

/// DTE bits 31:10: the page table's physical address (1 KiB aligned).
pub const DTE_ADDR: u32 = 0xffff_fc00;
/// DTE bits 1:0; the entry is valid when they equal [`DTE_VALID`].
pub const DTE_TYPE: u32 = 0b11;
pub const DTE_VALID: u32 = 0b01;

/// PTE bits 31:12: the page's physical address.
pub const PTE_ADDR: u32 = 0xffff_f000;
/// PTE bit 1: the entry is valid.
pub const PTE_VALID: u32 = 1 << 1;
/// PTE bits 7:4: the authority control index.
pub const ACI_SHIFT: u32 = 4;
pub const ACI_MASK: u32 = 0xf << ACI_SHIFT;

/// Authority domains, as Linux numbers them. Domain 0 is the hardware's
/// default and is not used.
pub const ACI_NONE: u32 = 1;
pub const ACI_RD: u32 = 2;
pub const ACI_WR: u32 = 3;
pub const ACI_RD_WR: u32 = 4;

/// The bits of a leaf the engine keeps as its attributes.
pub const LEAF_FLAGS: u32 = ACI_MASK | PTE_VALID;

/// Masters with permission bits in each authority register (0 to 5).
pub const MASTERS: u32 = 6;

/// `IOMMU_DM_AUT_CTRL_REG(d)`: domains `2k` and `2k + 1` share the register
/// at `0xb0 + 4k`, even domain in bits 15:0, odd in 31:16; master `m` has
/// "read unavailable" at bit `2m` and "write unavailable" at `2m + 1`.
pub const fn aut_ctrl_offset(domain: u32) -> u32 {
    0xb0 + (domain / 2) * 4
}

/// The bits of domain `domain` denying `read` and/or `write` to every master.
pub const fn aut_ctrl_bits(domain: u32, deny_read: bool, deny_write: bool) -> u32 {
    let mut v = 0;
    let mut m = 0;
    while m < MASTERS {
        let base = (domain & 1) * 16 + m * 2;
        if deny_read {
            v |= 1 << base;
        }
        if deny_write {
            v |= 1 << (base + 1);
        }
        m += 1;
    }
    v
}

/// (register offset, value) pairs a driver writes so the ACIs mean what
/// this format says: domain 1 denies both, 2 denies writes, 3 denies reads.
/// Domain 4 (register 0xb8) is not written, as in Linux, which relies on
/// its reset value denying nothing. Domains 2 and 3 share
/// register 0xb4, so both go in one value: 0x0555_0aaa. (Linux writes 0xb4
/// twice, one domain at a time, so its second write clears the first and
/// its read-only domain ends up allowing writes.) Domain 0's half of 0xb0
/// is written as 0, as Linux does.
pub const AUT_CTRL: [(u32, u32); 2] = [
    (
        aut_ctrl_offset(ACI_NONE),
        aut_ctrl_bits(ACI_NONE, true, true),
    ),
    (
        aut_ctrl_offset(ACI_RD),
        aut_ctrl_bits(ACI_RD, false, true) | aut_ctrl_bits(ACI_WR, true, false),
    ),
];

/// The authority index for `prot`, as Linux's `sun50i_mk_pte` picks it.
pub const fn aci_of(prot: Prot) -> u32 {
    match (prot.contains(Prot::READ), prot.contains(Prot::WRITE)) {
        (true, true) => ACI_RD_WR,
        (true, false) => ACI_RD,
        (false, true) => ACI_WR,
        (false, false) => ACI_NONE,
    }
}

/// The Allwinner H6 IOMMU page-table format. `COHERENT`: the walker
/// snoops CPU caches (the H6's does not, hence the default).
#[derive(Clone, Copy, Debug, Default)]
pub struct Sun50i<const COHERENT: bool = false>;

impl<const COHERENT: bool> Format for Sun50i<COHERENT> {
    type Desc = AtomicU32;
    const GRANULE_SHIFT: u32 = GRANULE_SHIFT;
    const IAS: u32 = IAS;
    const OAS: u32 = OAS;
    const TABLE_PA_BITS: u32 = 32;
    const PAGE_SIZES: u64 = SIZES;
    const COHERENT_WALK: bool = COHERENT;
    const START: u32 = 2;
    const SHIFT: [u32; 4] = [32, 32, 20, 12];
    const INDEX_BITS: [u32; 4] = [0, 0, 12, 8];
    const CONTIG: [u32; 4] = [0; 4];
    const ROOT_TABLES: u32 = 1;
    const LINEAR_OA: bool = true;

    #[inline(always)]
    fn attrs(prot: Prot) -> u64 {
        (aci_of(prot) << ACI_SHIFT | PTE_VALID) as u64
    }

    #[inline(always)]
    fn leaf(pa: u64, attrs: u64, _level: u32, _contig: bool) -> u64 {
        (pa as u32 & PTE_ADDR | attrs as u32 & LEAF_FLAGS) as u64
    }

    #[inline(always)]
    fn leaf_attrs(d: u64, _level: u32) -> u64 {
        (d as u32 & LEAF_FLAGS) as u64
    }

    #[inline(always)]
    fn leaf_addr(d: u64, _level: u32) -> u64 {
        (d as u32 & PTE_ADDR) as u64
    }

    #[inline(always)]
    fn is_contig(_d: u64, _level: u32) -> bool {
        false
    }

    #[inline(always)]
    fn table(pa: u64, _level: u32) -> u64 {
        (pa as u32 & DTE_ADDR | DTE_VALID) as u64
    }

    #[inline(always)]
    fn is_table(d: u64, level: u32) -> bool {
        level == 2 && d as u32 & DTE_TYPE == DTE_VALID
    }

    #[inline(always)]
    fn table_addr(d: u64, _level: u32) -> u64 {
        (d as u32 & DTE_ADDR) as u64
    }
}
