//! A reference walker for Rockchip IOMMU tables, written plainly from the
//! entry layouts Linux documents in `drivers/iommu/rockchip-iommu.c` (the
//! "directory table" and "page table" comments, v1 and v2). It shares no
//! code with the engine: it reads raw 32-bit entries through a callback.
//!
//! The walk: `MMU_DTE_ADDR` names a 4 KiB directory; IOVA bits 31:22 pick
//! one of its 1024 DTEs, which (if bit 0 is set) names a 4 KiB page table;
//! IOVA bits 21:12 pick one of its 1024 PTEs, which (if bit 0 is set) names
//! a 4 KiB page; IOVA bits 11:0 are the offset in it.

use alloc::vec::Vec;

/// What the walk is configured with.
#[derive(Clone, Copy, Debug)]
pub struct WalkConfig {
    /// 1: entries hold PA 31:12 only. 2: also PA 35:32 in bits 11:8 and
    /// PA 39:36 in bits 7:4.
    pub version: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// The DTE's valid bit is clear.
    Directory,
    /// The PTE's valid bit is clear.
    Page,
    /// While listing leaves: an entry the engine must never write (an
    /// invalid entry that is not zero, or reserved bits set) at input
    /// address `ia`.
    Malformed { ia: u64 },
}

/// Permissions of a page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Attrs {
    /// PTE bit 1.
    pub read: bool,
    /// PTE bit 2.
    pub write: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Translation {
    pub pa: u64,
    pub attrs: Attrs,
}

/// The physical address an entry names (its low 12 bits zero).
fn entry_address(cfg: &WalkConfig, e: u32) -> u64 {
    let mut pa = (e & 0xffff_f000) as u64;
    if cfg.version == 2 {
        pa |= (((e >> 8) & 0xf) as u64) << 32;
        pa |= (((e >> 4) & 0xf) as u64) << 36;
    }
    pa
}

fn attrs_of(pte: u32) -> Attrs {
    Attrs {
        read: pte & 0b010 != 0,
        write: pte & 0b100 != 0,
    }
}

/// Translate `ia` from the directory at `dte_addr`, reading entries with
/// `read(physical_address)`.
pub fn walk(
    cfg: &WalkConfig,
    dte_addr: u64,
    ia: u32,
    read: &dyn Fn(u64) -> u32,
) -> Result<Translation, Fault> {
    let dir = dte_addr & !0xfff;
    let dte = read(dir + u64::from(ia >> 22) * 4);
    if dte & 1 == 0 {
        return Err(Fault::Directory);
    }
    let pt = entry_address(cfg, dte);
    let pte = read(pt + u64::from((ia >> 12) & 0x3ff) * 4);
    if pte & 1 == 0 {
        return Err(Fault::Page);
    }
    Ok(Translation {
        pa: entry_address(cfg, pte) + u64::from(ia & 0xfff),
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

/// Bits of a valid entry outside its address and flags: the engine writes
/// none of them (v1: DTE 11:1, PTE 11:3; v2: DTE 3:1, PTE 3).
fn stray_bits(cfg: &WalkConfig, e: u32, is_pte: bool) -> u32 {
    let used = match (cfg.version == 2, is_pte) {
        (false, false) => 0xffff_f001,
        (false, true) => 0xffff_f007,
        (true, false) => 0xffff_fff1,
        (true, true) => 0xffff_fff7,
    };
    e & !used
}

/// Every mapped page reachable from `dte_addr`, in input-address order, and
/// the number of page tables seen. Invalid entries must be zero.
pub fn leaves(
    cfg: &WalkConfig,
    dte_addr: u64,
    read: &dyn Fn(u64) -> u32,
) -> Result<(Vec<Leaf>, usize), Fault> {
    let dir = dte_addr & !0xfff;
    let mut out = Vec::new();
    let mut tables = 0;
    for i in 0..1024u64 {
        let ia = i << 22;
        let dte = read(dir + i * 4);
        if dte == 0 {
            continue;
        }
        if dte & 1 == 0 || stray_bits(cfg, dte, false) != 0 {
            return Err(Fault::Malformed { ia });
        }
        tables += 1;
        let pt = entry_address(cfg, dte);
        for j in 0..1024u64 {
            let ia = ia + (j << 12);
            let pte = read(pt + j * 4);
            if pte == 0 {
                continue;
            }
            if pte & 1 == 0 || stray_bits(cfg, pte, true) != 0 {
                return Err(Fault::Malformed { ia });
            }
            out.push(Leaf {
                ia,
                size: 1 << 12,
                pa: entry_address(cfg, pte),
                attrs: attrs_of(pte),
            });
        }
    }
    Ok((out, tables))
}
