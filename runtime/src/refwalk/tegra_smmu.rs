//! A reference walker for NVIDIA Tegra30-generation SMMU tables, written
//! plainly from the entry layout Linux's `drivers/iommu/tegra-smmu.c`
//! defines (the `SMMU_PDE_*` / `SMMU_PTE_*` bits, `SMMU_PDE_SHIFT`,
//! `pfn_mask`). It shares no code with the engine: it reads raw 32-bit
//! entries through a callback.
//!
//! The walk: `SMMU_PTB_DATA` names a 4 KiB page directory by its page
//! frame number; IOVA bits 31:22 pick one of its 1024 PDEs. A PDE with bit
//! 28 ("next") set names a 4 KiB page table by the PFN in its low bits;
//! IOVA bits 21:12 pick one of its 1024 PTEs, whose low bits are the page's
//! PFN and whose bits 31 and 30 allow reads and writes; IOVA bits 11:0 are
//! the offset. The PFN is `pa_bits - 12` bits wide (20 or 22). Bit 29 is
//! the non-secure attribute.

use alloc::vec::Vec;

/// The SoC's physical address width.
#[derive(Clone, Copy, Debug)]
pub struct WalkConfig {
    /// 32 (Tegra30, Tegra114) or 34 (Tegra124, Tegra132, Tegra210).
    pub pa_bits: u32,
}

impl Default for WalkConfig {
    fn default() -> Self {
        WalkConfig { pa_bits: 34 }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// The PDE is zero, or has no "next" bit (a 4 MiB section, which this
    /// walker does not translate because Linux never writes one).
    Directory,
    /// The PTE allows neither reads nor writes.
    Page,
    /// While listing leaves: an entry Linux's layout does not produce (a
    /// non-zero PDE that is not `PFN | R | W | NS | NEXT`, a non-zero PTE
    /// with bits between the PFN and bit 29, without NS, or with neither R
    /// nor W) at input address `ia`.
    Malformed { ia: u64 },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Attrs {
    pub read: bool,
    pub write: bool,
    pub nonsecure: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Translation {
    pub pa: u64,
    pub attrs: Attrs,
}

const R: u32 = 1 << 31;
const W: u32 = 1 << 30;
const NS: u32 = 1 << 29;
const NEXT: u32 = 1 << 28;

fn pfn_bits(cfg: &WalkConfig) -> u32 {
    (1u32 << (cfg.pa_bits - 12)) - 1
}

fn frame(cfg: &WalkConfig, e: u32) -> u64 {
    u64::from(e & pfn_bits(cfg)) * 4096
}

fn attrs_of(e: u32) -> Attrs {
    Attrs {
        read: e & R != 0,
        write: e & W != 0,
        nonsecure: e & NS != 0,
    }
}

/// Translate `ia` from the directory at `pd`, reading entries with
/// `read(physical_address)`.
pub fn walk(
    cfg: &WalkConfig,
    pd: u64,
    ia: u32,
    read: &dyn Fn(u64) -> u32,
) -> Result<Translation, Fault> {
    let pde = read(pd + u64::from(ia >> 22) * 4);
    if pde & NEXT == 0 {
        return Err(Fault::Directory);
    }
    let pte = read(frame(cfg, pde) + u64::from((ia >> 12) & 0x3ff) * 4);
    if pte & (R | W) == 0 {
        return Err(Fault::Page);
    }
    Ok(Translation {
        pa: frame(cfg, pte) + u64::from(ia & 0xfff),
        attrs: attrs_of(pte),
    })
}

/// One mapped page found by [`leaves`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Leaf {
    pub ia: u64,
    pub size: u64,
    pub pa: u64,
    pub attrs: Attrs,
}

/// Every mapped page reachable from `pd`, in input-address order, and the
/// number of page tables seen. Invalid entries must be zero.
pub fn leaves(
    cfg: &WalkConfig,
    pd: u64,
    read: &dyn Fn(u64) -> u32,
) -> Result<(Vec<Leaf>, usize), Fault> {
    let pfn = pfn_bits(cfg);
    // The bits between the PFN and the attributes are reserved.
    let pte_reserved = !(pfn | R | W | NS);
    let pde_reserved = pte_reserved & !NEXT;
    let mut out = Vec::new();
    let mut tables = 0;
    for i in 0..1024u64 {
        let ia = i << 22;
        let pde = read(pd + i * 4);
        if pde == 0 {
            continue;
        }
        if pde & pde_reserved != 0 || pde & (R | W | NS | NEXT) != R | W | NS | NEXT {
            return Err(Fault::Malformed { ia });
        }
        tables += 1;
        let pt = frame(cfg, pde);
        for j in 0..1024u64 {
            let ia = ia + (j << 12);
            let pte = read(pt + j * 4);
            if pte == 0 {
                continue;
            }
            if pte & pte_reserved != 0 || pte & NS == 0 || pte & (R | W) == 0 {
                return Err(Fault::Malformed { ia });
            }
            out.push(Leaf {
                ia,
                size: 1 << 12,
                pa: frame(cfg, pte),
                attrs: attrs_of(pte),
            });
        }
    }
    Ok((out, tables))
}
