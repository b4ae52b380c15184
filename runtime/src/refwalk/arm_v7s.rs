//! A reference walker for ARMv7 short-descriptor tables, written plainly
//! from the Arm Architecture Reference Manual (ARMv7-A, "Short-descriptor
//! translation table format": first-level descriptors, second-level
//! descriptors, TEX remap with the simplified access-permission model) and
//! MediaTek's documented 4GB-mode extension. It shares no code with the
//! engine: it reads raw 32-bit descriptors through a callback.
//!
//! Configuration assumed (what a driver programs with this format):
//! TTBCR.N = 0 (TTBR0 covers 4 GiB, the first-level table is 16 KiB; 16
//! GiB and 64 KiB with MediaTek's 34-bit input),
//! SCTLR.TRE = 1 and AFE = 1 (TEX\[0\]:C:B index PRRR/NMRR, AP\[0\] is an
//! access flag), PRRR/NMRR as the format documents: index 1 Device, 4
//! Normal non-cacheable, 7 Normal write-back.

use alloc::vec::Vec;

/// What the walk is configured with.
#[derive(Clone, Copy, Debug)]
pub struct WalkConfig {
    /// MediaTek 4GB mode: leaves carry PA\[32\], PA\[33\], PA\[34\] in bits
    /// 9, 4, 5, and no permission bits are interpreted.
    pub mtk_ext: bool,
    /// Input address bits: 32, or 34 for MediaTek's IOVA_34_EN, where (as
    /// Linux's io-pgtable-arm-v7s sizes it) the first level alone grows, to
    /// `ias - 20` index bits, and the table to `4 << (ias - 20)` bytes.
    pub ias: u32,
}

impl WalkConfig {
    /// First-level entries.
    fn l1_entries(&self) -> u64 {
        1 << (self.ias - 20)
    }

    /// The first-level table's base in `ttbr` (aligned to its size).
    fn root(&self, ttbr: u64) -> u64 {
        ttbr & !(self.l1_entries() * 4 - 1)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// A fault (or, here, reserved 0b11) first-level descriptor.
    Level1,
    /// A fault second-level descriptor.
    Level2,
    /// While listing leaves: an encoding the engine must never write (stray
    /// bits in a fault entry, a large page or supersection whose 16 copies
    /// differ or do not start at a multiple of 16) at input address `ia`.
    Malformed { ia: u64 },
}

/// Permissions and attributes of a leaf.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Attrs {
    pub read: bool,
    pub write: bool,
    pub exec: bool,
    /// AP\[1\]: unprivileged access allowed.
    pub unpriv: bool,
    /// 0 Normal non-cacheable, 1 Normal write-back, 2 Device, 3 any other
    /// remap index.
    pub memtype: u8,
    /// AP\[0\] with AFE = 1.
    pub access_flag: bool,
    /// The S bit.
    pub shareable: bool,
    /// nG: TLB entries tagged with the ASID.
    pub not_global: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Translation {
    pub pa: u64,
    /// Bytes of the page, large page, section or supersection.
    pub size: u64,
    pub attrs: Attrs,
}

fn bit(d: u32, n: u32) -> bool {
    d & (1 << n) != 0
}

/// Memory type from TEX\[0\], C, B under the documented PRRR/NMRR.
fn memtype(tex0: bool, c: bool, b: bool) -> u8 {
    match (tex0 as u8) << 2 | (c as u8) << 1 | b as u8 {
        1 => 2,
        4 => 0,
        7 => 1,
        _ => 3,
    }
}

/// Attributes from the bits the manual places: `ap0`, `ap1`, `ap2`,
/// `tex0`, `s`, `ng` and `xn` are bit numbers within `d`.
#[allow(clippy::too_many_arguments)]
fn attrs(
    cfg: &WalkConfig,
    d: u32,
    ap0: u32,
    ap1: u32,
    ap2: u32,
    tex0: u32,
    s: u32,
    ng: u32,
    xn: u32,
) -> Attrs {
    let mem = memtype(bit(d, tex0), bit(d, 3), bit(d, 2));
    if cfg.mtk_ext {
        return Attrs {
            read: true,
            write: true,
            exec: true,
            unpriv: true,
            memtype: mem,
            access_flag: true,
            shareable: bit(d, s),
            not_global: bit(d, ng),
        };
    }
    Attrs {
        read: true,
        write: !bit(d, ap2),
        exec: !bit(d, xn),
        unpriv: bit(d, ap1),
        memtype: mem,
        access_flag: bit(d, ap0),
        shareable: bit(d, s),
        not_global: bit(d, ng),
    }
}

/// MediaTek's extra output-address bits of a leaf.
fn mtk_high(cfg: &WalkConfig, d: u32) -> u64 {
    if !cfg.mtk_ext {
        return 0;
    }
    (bit(d, 9) as u64) << 32 | (bit(d, 4) as u64) << 33 | (bit(d, 5) as u64) << 34
}

/// Decode a first-level leaf (section or supersection): (base, size, attrs).
fn l1_leaf(cfg: &WalkConfig, d: u32) -> (u64, u64, Attrs) {
    // Section: AP[0] 10, AP[1] 11, TEX 12..14, AP[2] 15, S 16, nG 17, XN 4.
    let a = attrs(cfg, d, 10, 11, 15, 12, 16, 17, 4);
    if bit(d, 18) {
        // Supersection: PA[31:24]; without the MediaTek extension the
        // architecture's extended base PA[35:32] = d[23:20], PA[39:36] = d[8:5].
        let mut pa = (d & 0xff00_0000) as u64;
        if cfg.mtk_ext {
            pa |= mtk_high(cfg, d);
        } else {
            pa |= (((d >> 20) & 0xf) as u64) << 32 | (((d >> 5) & 0xf) as u64) << 36;
        }
        (pa, 1 << 24, a)
    } else {
        ((d & 0xfff0_0000) as u64 | mtk_high(cfg, d), 1 << 20, a)
    }
}

/// Decode a second-level leaf: (base, size, attrs).
fn l2_leaf(cfg: &WalkConfig, d: u32) -> (u64, u64, Attrs) {
    if bit(d, 1) {
        // Small page: XN 0, AP[0] 4, AP[1] 5, TEX 6..8, AP[2] 9, S 10, nG 11.
        let a = attrs(cfg, d, 4, 5, 9, 6, 10, 11, 0);
        ((d & 0xffff_f000) as u64 | mtk_high(cfg, d), 1 << 12, a)
    } else {
        // Large page: AP[0] 4, AP[1] 5, AP[2] 9, S 10, nG 11, TEX 12..14, XN 15.
        let a = attrs(cfg, d, 4, 5, 9, 12, 10, 11, 15);
        ((d & 0xffff_0000) as u64 | mtk_high(cfg, d), 1 << 16, a)
    }
}

/// Translate `ia` (`cfg.ias` bits; a wider address faults at the first
/// level) by walking from the first-level table at `ttbr`, reading
/// descriptors with `read(physical_address)`.
pub fn walk(
    cfg: &WalkConfig,
    ttbr: u64,
    ia: u64,
    read: &dyn Fn(u64) -> u32,
) -> Result<Translation, Fault> {
    if ia >> cfg.ias != 0 {
        return Err(Fault::Level1);
    }
    let l1 = read(cfg.root(ttbr) | (ia >> 20) << 2);
    match l1 & 0b11 {
        0b01 => {
            let l2 = read((l1 & 0xffff_fc00) as u64 | ((ia >> 12) & 0xff) << 2);
            if l2 & 0b11 == 0 {
                return Err(Fault::Level2);
            }
            let (base, size, attrs) = l2_leaf(cfg, l2);
            Ok(Translation {
                pa: base | (ia & (size - 1)),
                size,
                attrs,
            })
        }
        0b10 => {
            let (base, size, attrs) = l1_leaf(cfg, l1);
            Ok(Translation {
                pa: base | (ia & (size - 1)),
                size,
                attrs,
            })
        }
        _ => Err(Fault::Level1),
    }
}

/// One leaf found by [`leaves`]: a large page or supersection is one leaf.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Leaf {
    pub ia: u64,
    pub size: u64,
    pub pa: u64,
    pub attrs: Attrs,
}

/// Every leaf reachable from `ttbr`, in input-address order, and the
/// number of second-level tables seen. Each 16-entry large page or
/// supersection is checked to be 16 identical copies at a multiple of 16.
pub fn leaves(
    cfg: &WalkConfig,
    ttbr: u64,
    read: &dyn Fn(u64) -> u32,
) -> Result<(Vec<Leaf>, usize), Fault> {
    let mut out = Vec::new();
    let mut tables = 0;
    let root = cfg.root(ttbr);
    let mut i = 0u64;
    while i < cfg.l1_entries() {
        let ia = i << 20;
        let d = read(root + i * 4);
        match d & 0b11 {
            0b00 if d == 0 => i += 1,
            0b01 => {
                tables += 1;
                second_level(cfg, (d & 0xffff_fc00) as u64, ia, read, &mut out)?;
                i += 1;
            }
            0b10 if bit(d, 18) => {
                same_16(i, |k| read(root + k * 4), d, ia)?;
                let (pa, size, attrs) = l1_leaf(cfg, d);
                out.push(Leaf {
                    ia,
                    size,
                    pa,
                    attrs,
                });
                i += 16;
            }
            0b10 => {
                let (pa, size, attrs) = l1_leaf(cfg, d);
                out.push(Leaf {
                    ia,
                    size,
                    pa,
                    attrs,
                });
                i += 1;
            }
            _ => return Err(Fault::Malformed { ia }),
        }
    }
    Ok((out, tables))
}

/// The entries `first..first + 16` (by index, through `at`) all equal `d`,
/// and `first` is a multiple of 16.
fn same_16(first: u64, at: impl Fn(u64) -> u32, d: u32, ia: u64) -> Result<(), Fault> {
    if first % 16 != 0 || (first..first + 16).any(|k| at(k) != d) {
        return Err(Fault::Malformed { ia });
    }
    Ok(())
}

fn second_level(
    cfg: &WalkConfig,
    table: u64,
    base: u64,
    read: &dyn Fn(u64) -> u32,
    out: &mut Vec<Leaf>,
) -> Result<(), Fault> {
    let mut j = 0u64;
    while j < 256 {
        let ia = base + (j << 12);
        let d = read(table + j * 4);
        if d == 0 {
            j += 1;
            continue;
        }
        if d & 0b11 == 0 {
            return Err(Fault::Malformed { ia });
        }
        let (pa, size, attrs) = l2_leaf(cfg, d);
        if size == 1 << 16 {
            same_16(j, |k| read(table + k * 4), d, ia)?;
            j += 16;
        } else {
            j += 1;
        }
        out.push(Leaf {
            ia,
            size,
            pa,
            attrs,
        });
    }
    Ok(())
}
