//! A reference walker for Allwinner H6 (sun50i) IOMMU tables, written
//! plainly from the entry layouts Linux documents in
//! `drivers/iommu/sun50i-iommu.c` (the DTE and PTE diagrams and the
//! authority-domain comment). It shares no code with the engine: it reads
//! raw 32-bit entries through a callback.
//!
//! The walk: `IOMMU_TTB_REG` names a 16 KiB directory; IOVA bits 31:20 pick
//! one of its 4096 DTEs, which (if bits 1:0 are `01`) names a 1 KiB page
//! table in bits 31:10; IOVA bits 19:12 pick one of its 256 PTEs, which (if
//! bit 1 is set) names a 4 KiB page in bits 31:12; IOVA bits 11:0 are the
//! offset in it. PTE bits 7:4 name the authority domain whose registers
//! grant the access; domains 1-4 are set up as none, read, write and
//! read/write (Linux's numbering).

use alloc::vec::Vec;

/// What the walk is configured with. The format has no variants; the
/// struct is here so every walker is called alike.
#[derive(Clone, Copy, Debug, Default)]
pub struct WalkConfig {}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// The DTE's bits 1:0 are not `01`.
    Directory,
    /// The PTE's valid bit (1) is clear.
    Page,
    /// The PTE names authority domain `aci`, which is not one of the four
    /// set up (0 or 5-15): what it grants depends on registers the tables
    /// do not show.
    Domain { aci: u32 },
    /// While listing leaves: an entry the engine must never write (an
    /// invalid entry that is not zero, reserved bits set, or an unknown
    /// domain) at input address `ia`.
    Malformed { ia: u64 },
}

/// Permissions of a page, from its authority domain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Attrs {
    pub read: bool,
    pub write: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Translation {
    pub pa: u64,
    pub attrs: Attrs,
}

fn dte_valid(dte: u32) -> bool {
    dte & 0b11 == 0b01
}

fn pte_valid(pte: u32) -> bool {
    pte & 0b10 != 0
}

/// The permissions of authority domain `aci`, if it is one of the four.
fn domain(aci: u32) -> Option<Attrs> {
    let (read, write) = match aci {
        1 => (false, false),
        2 => (true, false),
        3 => (false, true),
        4 => (true, true),
        _ => return None,
    };
    Some(Attrs { read, write })
}

/// Translate `ia` from the directory at `ttb`, reading entries with
/// `read(physical_address)`.
pub fn walk(
    _cfg: &WalkConfig,
    ttb: u64,
    ia: u32,
    read: &dyn Fn(u64) -> u32,
) -> Result<Translation, Fault> {
    let dte = read(ttb + u64::from(ia >> 20) * 4);
    if !dte_valid(dte) {
        return Err(Fault::Directory);
    }
    let pt = u64::from(dte & 0xffff_fc00);
    let pte = read(pt + u64::from((ia >> 12) & 0xff) * 4);
    if !pte_valid(pte) {
        return Err(Fault::Page);
    }
    let aci = (pte >> 4) & 0xf;
    let attrs = domain(aci).ok_or(Fault::Domain { aci })?;
    Ok(Translation {
        pa: u64::from(pte & 0xffff_f000) + u64::from(ia & 0xfff),
        attrs,
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

/// Every mapped page reachable from `ttb`, in input-address order, and the
/// number of page tables seen. Invalid entries must be zero and reserved
/// bits clear (DTE 9:2; PTE 11:8, 3:2 and 0).
pub fn leaves(
    _cfg: &WalkConfig,
    ttb: u64,
    read: &dyn Fn(u64) -> u32,
) -> Result<(Vec<Leaf>, usize), Fault> {
    let mut out = Vec::new();
    let mut tables = 0;
    for i in 0..4096u64 {
        let ia = i << 20;
        let dte = read(ttb + i * 4);
        if dte == 0 {
            continue;
        }
        if !dte_valid(dte) || dte & 0x3fc != 0 {
            return Err(Fault::Malformed { ia });
        }
        tables += 1;
        let pt = u64::from(dte & 0xffff_fc00);
        for j in 0..256u64 {
            let ia = ia + (j << 12);
            let pte = read(pt + j * 4);
            if pte == 0 {
                continue;
            }
            if !pte_valid(pte) || pte & 0xf0d != 0 {
                return Err(Fault::Malformed { ia });
            }
            let attrs = domain((pte >> 4) & 0xf).ok_or(Fault::Malformed { ia })?;
            out.push(Leaf {
                ia,
                size: 1 << 12,
                pa: u64::from(pte & 0xffff_f000),
                attrs,
            });
        }
    }
    Ok((out, tables))
}
