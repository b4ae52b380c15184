//! The NVIDIA Tegra30-generation SMMU's page tables (Linux
//! `drivers/iommu/tegra-smmu.c`, the SMMU inside the memory controller of
//! Tegra30, Tegra114, Tegra124, Tegra132 and Tegra210; bindings
//! `nvidia,tegra30-mc.yaml`, `nvidia,tegra124-mc.yaml` and
//! `nvidia,tegra210-mc.yaml`), as one
//! [`Format`].
//!
//! Geometry: a 32-bit IOVA; one page directory (PD) of 1024 32-bit PDEs
//! (4 KiB, each covering 4 MiB, IOVA bits 31:22) whose page frame number
//! goes in `SMMU_PTB_DATA`; page tables (PTs) of 1024 32-bit PTEs (4 KiB,
//! each mapping one 4 KiB page, IOVA bits 21:12). In the engine's numbering
//! the PD is level 2 and the PTs level 3, the pool slot is `Table4K` and
//! the root one slot. Linux advertises 4K pages only (`pgsize_bitmap =
//! SZ_4K`); the hardware's 4 MiB PDE sections are never written by Linux
//! and not by us, so there is nothing to split.
//!
//! Both entry kinds hold a page frame number (PA >> 12) in their low bits,
//! as wide as the SoC's physical address: 20 bits (bits 19:0) where the
//! memory controller has 32 address bits (Tegra30, Tegra114), 22 bits
//! (21:0) where it has 34 (Tegra124, Tegra132, Tegra210; Linux's
//! `mc->soc->num_address_bits` and `pfn_mask`). Above the PFN: bit 31
//! readable, bit 30 writable, bit 29 non-secure, and in a PDE bit 28
//! "next", which makes it point to a page table. Linux writes every PDE as
//! `PFN | R | W | NS | NEXT` and every PTE as `PFN | NS`, plus R and W as
//! the mapping allows; an unused entry is zero. We write the same. The
//! entries have no cache, execute or privilege bits, so `CACHE`, `MMIO`,
//! `NOEXEC` and `PRIV` leave no trace. Write-only is expressible.
//!
//! Because the PFN is stored shifted, consecutive PTEs differ by one, not
//! by the page size: `LINEAR_OA` is false and the engine builds each PTE.
//!
//! The walker reads tables through the memory controller without snooping
//! the CPU's caches: Linux cleans each PTE and PDE it writes
//! (`dma_sync_single_range_for_device`) and then flushes the SMMU's page
//! table cache for that line (`SMMU_PTC_FLUSH`, by address, at the
//! controller's atom size) and the TLB (by group of four pages after a PTE,
//! by 4 MiB section after a PDE). Hence `COHERENT = false` by default; the
//! cache and TLB flushes are the driver's `TlbOps` (`inv_range` and
//! `inv_walk` name the IOVA; [`PTC_ATOM`] says how wide a flushed line is).

use core::sync::atomic::AtomicU32;

use super::super::format::Format;
use crate::prot::Prot;

/// Entries in the page directory (IOVA bits 31:22).
pub const PD_ENTRIES: usize = 1024;
/// Entries in a page table (IOVA bits 21:12).
pub const PT_ENTRIES: usize = 1024;
/// Input address size: 32 bits.
pub const IAS: u32 = 32;
/// The only page size, 4 KiB.
pub const GRANULE_SHIFT: u32 = 12;
/// Leaf sizes: bit 12 only.
pub const SIZES: u64 = 1 << GRANULE_SHIFT;

/// Bit 31 of a PDE or PTE: the device may read.
pub const READABLE: u32 = 1 << 31;
/// Bit 30: the device may write.
pub const WRITABLE: u32 = 1 << 30;
/// Bit 29: the access is non-secure (Linux sets it on every entry).
pub const NONSECURE: u32 = 1 << 29;
/// PDE bit 28: the entry points to a page table (clear: a 4 MiB section,
/// which neither Linux nor the engine writes).
pub const NEXT: u32 = 1 << 28;
/// What every PDE the engine writes carries besides the PFN.
pub const PDE_ATTRS: u32 = READABLE | WRITABLE | NONSECURE | NEXT;
/// The attribute bits a PTE keeps (what [`Format::leaf_attrs`] returns).
pub const PTE_ATTRS: u32 = READABLE | WRITABLE | NONSECURE;

/// The generations the DSL names, oldest first, and the memory
/// controller's compatible string for each.
pub const GENERATIONS: [&str; 5] = ["tegra30", "tegra114", "tegra124", "tegra132", "tegra210"];
pub const COMPATIBLES: [&str; 5] = [
    "nvidia,tegra30-mc",
    "nvidia,tegra114-mc",
    "nvidia,tegra124-mc",
    "nvidia,tegra132-mc",
    "nvidia,tegra210-mc",
];
/// Physical address bits of each generation's memory controller (Linux's
/// `num_address_bits`): 32 for Tegra30 and Tegra114, 34 from Tegra124 on.
pub const GENERATION_PA_BITS: [u32; 5] = [32, 32, 34, 34, 34];
/// Bytes a page-table-cache flush by address covers (Linux's `atom_size`,
/// which rounds the flushed offset down): 16 on Tegra30, 32 on Tegra114,
/// Tegra124 and Tegra132, 64 on Tegra210.
pub const PTC_ATOM: [u32; 5] = [16, 32, 32, 32, 64];

/// Why a Tegra SMMU format's parameters are illegal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TegraSmmuError {
    /// The memory controllers have 32 or 34 address bits.
    PaBits,
}

impl core::fmt::Display for TegraSmmuError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            TegraSmmuError::PaBits => "Tegra SMMU physical addresses are 32 or 34 bits",
        })
    }
}

/// The whole legality rule, shared by the engine's compile-time check
/// ([`Format::VALID`]) and the DSL checker (through `legal::tegra_smmu`).
pub const fn check(pa_bits: u32) -> Result<(), TegraSmmuError> {
    match pa_bits {
        32 | 34 => Ok(()),
        _ => Err(TegraSmmuError::PaBits),
    }
}

/// The PFN field of an entry for `pa_bits`-bit physical addresses
/// (Linux's `pfn_mask`).
pub const fn pfn_mask(pa_bits: u32) -> u32 {
    ((1u64 << (pa_bits - GRANULE_SHIFT)) - 1) as u32
}

/// The index in [`GENERATIONS`] of a memory controller with this
/// compatible string.
pub fn generation_of_compatible(compatible: &str) -> Option<usize> {
    COMPATIBLES.iter().position(|&c| c == compatible)
}

/// The Tegra30-generation SMMU page-table format. `PA_BITS`: the memory
/// controller's address width (32 or 34); `COHERENT`: the walker snoops
/// CPU caches (no Tegra's does, hence the default).
#[derive(Clone, Copy, Debug, Default)]
pub struct TegraSmmu<const PA_BITS: u32 = 34, const COHERENT: bool = false>;

impl<const PA_BITS: u32, const COHERENT: bool> TegraSmmu<PA_BITS, COHERENT> {
    const PFN: u32 = pfn_mask(PA_BITS);

    /// The PFN field for `pa` (a multiple of 4 KiB below `1 << PA_BITS`).
    #[inline(always)]
    const fn pfn(pa: u64) -> u32 {
        (pa >> GRANULE_SHIFT) as u32 & Self::PFN
    }

    /// Inverse of [`pfn`](Self::pfn).
    #[inline(always)]
    const fn addr(d: u32) -> u64 {
        ((d & Self::PFN) as u64) << GRANULE_SHIFT
    }
}

impl<const PA_BITS: u32, const COHERENT: bool> Format for TegraSmmu<PA_BITS, COHERENT> {
    type Desc = AtomicU32;
    const VALID: () = assert!(
        check(PA_BITS).is_ok(),
        "Tegra SMMU physical addresses are 32 or 34 bits"
    );
    const GRANULE_SHIFT: u32 = GRANULE_SHIFT;
    const IAS: u32 = IAS;
    const OAS: u32 = PA_BITS;
    // The PDE's PFN is as wide as the PTE's, so page tables may lie
    // anywhere the controller reaches.
    const TABLE_PA_BITS: u32 = PA_BITS;
    const PAGE_SIZES: u64 = SIZES;
    const COHERENT_WALK: bool = COHERENT;
    const START: u32 = 2;
    const SHIFT: [u32; 4] = [32, 32, 22, 12];
    const INDEX_BITS: [u32; 4] = [0, 0, 10, 10];
    const CONTIG: [u32; 4] = [0; 4];
    const ROOT_TABLES: u32 = 1;
    const LINEAR_OA: bool = false;

    #[inline(always)]
    fn attrs(prot: Prot) -> u64 {
        let mut a = NONSECURE;
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
        (Self::pfn(pa) | attrs as u32 & PTE_ATTRS) as u64
    }

    #[inline(always)]
    fn leaf_attrs(d: u64, _level: u32) -> u64 {
        (d as u32 & PTE_ATTRS) as u64
    }

    #[inline(always)]
    fn leaf_addr(d: u64, _level: u32) -> u64 {
        Self::addr(d as u32)
    }

    #[inline(always)]
    fn is_contig(_d: u64, _level: u32) -> bool {
        false
    }

    #[inline(always)]
    fn table(pa: u64, _level: u32) -> u64 {
        (Self::pfn(pa) | PDE_ATTRS) as u64
    }

    #[inline(always)]
    fn is_table(d: u64, level: u32) -> bool {
        level == 2 && d as u32 & NEXT != 0
    }

    #[inline(always)]
    fn table_addr(d: u64, _level: u32) -> u64 {
        Self::addr(d as u32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type T30 = TegraSmmu<32>;
    type T124 = TegraSmmu<34>;

    #[test]
    fn entries_are_linux_words() {
        // A read/write page at 0x8123_4000: PFN 0x81234 | R | W | NS.
        let a = T124::attrs(Prot::READ | Prot::WRITE);
        assert_eq!(T124::leaf(0x8123_4000, a, 3, false), 0xe008_1234);
        // A read-only page above 4 GiB (34-bit PA): PFN 0x3_0000 | R | NS.
        let r = T124::attrs(Prot::READ);
        assert_eq!(T124::leaf(0x3_0000_0000, r, 3, false), 0xa030_0000);
        // A page table at 0x8000_1000: PFN | R | W | NS | NEXT.
        assert_eq!(T124::table(0x8000_1000, 2), 0xf008_0001);
        assert!(T124::is_table(0xf008_0001, 2));
        assert!(!T124::is_table(0xe008_0001, 2), "no NEXT: not a table");
        // Tegra30's PFN is 20 bits: bits 20 and 21 are not the address.
        assert_eq!(T30::leaf_addr(0xe03f_ffff, 3), 0xffff_f000);
    }

    #[test]
    fn leaves_round_trip() {
        for pa in [0u64, 0x1000, 0xffff_f000, 0x2_0000_0000, 0x3_ffff_f000] {
            for prot in [Prot::READ, Prot::WRITE, Prot::READ | Prot::WRITE] {
                let d = T124::leaf(pa, T124::attrs(prot), 3, false);
                assert_eq!(T124::leaf_addr(d, 3), pa);
                assert_eq!(
                    T124::leaf(T124::leaf_addr(d, 3), T124::leaf_attrs(d, 3), 3, false),
                    d
                );
            }
        }
    }

    #[test]
    fn generations_fix_the_address_width() {
        for (i, &bits) in GENERATION_PA_BITS.iter().enumerate() {
            assert!(check(bits).is_ok(), "{}", GENERATIONS[i]);
            assert_eq!(generation_of_compatible(COMPATIBLES[i]), Some(i));
        }
        assert_eq!(check(33), Err(TegraSmmuError::PaBits));
        assert_eq!((pfn_mask(32), pfn_mask(34)), (0xf_ffff, 0x3f_ffff));
        assert_eq!(generation_of_compatible("nvidia,tegra20-mc"), None);
    }
}
