//! A reference walker for Apple DART translation tables with 16K pages,
//! written plainly from what the Linux DART drivers and the `apple,dart`
//! binding document about the hardware. It shares no code with the engine:
//! it reads raw 64-bit entries through a callback.
//!
//! The walk: IOVA bits from 36 up pick one of the stream's TTBRs; bits
//! `[35:25]` index its 2048-entry first-level table, whose valid entry
//! (bit 0) points to a 2048-entry second-level table; bits `[24:14]` index
//! that, whose valid entry maps one 16 KiB page. Both levels store the next
//! address the same way: DART1 keeps physical bits `[35:12]` in place,
//! DART2 keeps physical bits `[41:14]` in entry bits `[37:10]`.

use alloc::vec::Vec;

/// What the walk is configured with.
#[derive(Clone, Copy, Debug)]
pub struct WalkConfig {
    /// 1 (t8103) or 2 (t6000).
    pub generation: u8,
    /// Input address bits the stream is set up for.
    pub ias: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// The IOVA is beyond the input size or its TTBR is not given.
    Range,
    /// The first-level entry is not valid.
    Level1,
    /// The second-level entry is not valid.
    Level2,
    /// While listing leaves: an entry the engine must never write (stray
    /// bits in an invalid entry or in a table pointer, a partial sub-page
    /// window) at input address `ia`.
    Malformed { ia: u64 },
}

/// Permissions and attributes of a page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Attrs {
    pub read: bool,
    pub write: bool,
    /// DART2 bit 1 ("no cache"); always false for DART1.
    pub no_cache: bool,
    /// DART1 bit 1 (sub-page protection disabled); always false for DART2.
    pub subpage_disabled: bool,
    /// The sub-page window: start `[63:52]`, end `[51:40]`.
    pub subpage: (u16, u16),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Translation {
    pub pa: u64,
    pub attrs: Attrs,
}

const PAGE: u64 = 1 << 14;
const ENTRIES: u64 = 2048;

fn bit(d: u64, n: u32) -> bool {
    d & (1 << n) != 0
}

/// The physical address an entry names (table or page).
fn next_address(cfg: &WalkConfig, d: u64) -> u64 {
    if cfg.generation == 2 {
        // Entry bits 37..10 are physical bits 41..14.
        ((d >> 10) & ((1 << 28) - 1)) << 14
    } else {
        // Entry bits 35..12 are physical bits 35..12.
        ((d >> 12) & ((1 << 24) - 1)) << 12
    }
}

/// Bits a page entry may carry besides its address.
fn page_attrs(cfg: &WalkConfig, d: u64) -> Attrs {
    let subpage = (((d >> 52) & 0xfff) as u16, ((d >> 40) & 0xfff) as u16);
    if cfg.generation == 2 {
        Attrs {
            read: !bit(d, 3),
            write: !bit(d, 2),
            no_cache: bit(d, 1),
            subpage_disabled: false,
            subpage,
        }
    } else {
        Attrs {
            read: !bit(d, 8),
            write: !bit(d, 7),
            no_cache: false,
            subpage_disabled: bit(d, 1),
            subpage,
        }
    }
}

/// Translate `ia` through the stream's `ttbrs` (16 KiB-aligned first-level
/// tables), reading entries with `read(physical_address)`.
pub fn walk(
    cfg: &WalkConfig,
    ttbrs: &[u64],
    ia: u64,
    read: &dyn Fn(u64) -> u64,
) -> Result<Translation, Fault> {
    if cfg.ias < 64 && ia >> cfg.ias != 0 {
        return Err(Fault::Range);
    }
    let ttbr = *ttbrs.get((ia >> 36) as usize).ok_or(Fault::Range)?;
    let l1 = read(ttbr + ((ia >> 25) & (ENTRIES - 1)) * 8);
    if !bit(l1, 0) {
        return Err(Fault::Level1);
    }
    let l2 = read(next_address(cfg, l1) + ((ia >> 14) & (ENTRIES - 1)) * 8);
    if !bit(l2, 0) {
        return Err(Fault::Level2);
    }
    Ok(Translation {
        pa: next_address(cfg, l2) | (ia & (PAGE - 1)),
        attrs: page_attrs(cfg, l2),
    })
}

/// One page found by [`leaves`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Leaf {
    pub ia: u64,
    pub pa: u64,
    pub attrs: Attrs,
}

/// Every page reachable from `ttbrs` below the input size, in IOVA order,
/// and the number of second-level tables seen. Entries of the first level
/// beyond the input size must be zero.
pub fn leaves(
    cfg: &WalkConfig,
    ttbrs: &[u64],
    read: &dyn Fn(u64) -> u64,
) -> Result<(Vec<Leaf>, usize), Fault> {
    let mut out = Vec::new();
    let mut tables = 0;
    for (t, &ttbr) in ttbrs.iter().enumerate() {
        for i in 0..ENTRIES {
            let ia = ((t as u64) << 36) | (i << 25);
            let d = read(ttbr + i * 8);
            if d == 0 {
                continue;
            }
            let in_range = cfg.ias >= 64 || ia >> cfg.ias == 0;
            // A table pointer is its address and the valid bit, nothing else.
            let addr_bits = if cfg.generation == 2 {
                ((1u64 << 28) - 1) << 10
            } else {
                ((1u64 << 24) - 1) << 12
            };
            if !in_range || !bit(d, 0) || d & !(addr_bits | 1) != 0 {
                return Err(Fault::Malformed { ia });
            }
            tables += 1;
            let table = next_address(cfg, d);
            for j in 0..ENTRIES {
                let ia = ia | (j << 14);
                let e = read(table + j * 8);
                if e == 0 {
                    continue;
                }
                let attrs = page_attrs(cfg, e);
                if !bit(e, 0) || attrs.subpage != (0, 0xfff) {
                    return Err(Fault::Malformed { ia });
                }
                out.push(Leaf {
                    ia,
                    pa: next_address(cfg, e),
                    attrs,
                });
            }
        }
    }
    Ok((out, tables))
}
