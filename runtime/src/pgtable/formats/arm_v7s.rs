//! ARMv7 short descriptors (VMSAv7 "Short-descriptor translation table
//! format", as used by IOMMUs through Linux's io-pgtable-arm-v7s), as one
//! [`Format`].
//!
//! Geometry: a 32-bit IOVA, a first-level table of 4096 32-bit entries
//! (16 KiB, each mapping 1 MiB; 16384 entries, 64 KiB, for MediaTek's
//! 34-bit IOVA) and second-level tables of 256 entries
//! (1 KiB, each mapping 4 KiB). Leaves: 4K small pages, 64K large pages (16
//! identical second-level entries), 1M sections and 16M supersections (16
//! identical first-level entries). In the engine's numbering the first
//! level is 2 and the second 3.
//!
//! Attributes follow the simplified access model (AP\[0\] is the access
//! flag) with TEX remap in mind, as Linux programs PRRR/NMRR: normal memory
//! has TEX\[0\] set (remap index 4 non-cacheable, 7 with C and B
//! write-back), MMIO has TEX 0 and B (index 1, device). Every leaf is
//! shareable and not-global.
//!
//! With `MTK_EXT` (MediaTek's "4GB mode" extension) leaves carry physical
//! address bits 32, 33 and 34 in descriptor bits 9, 4 and 5, giving a
//! 35-bit output. Those bits overlap AP\[2\], XN and AP\[1:0\] of some leaf
//! kinds, so (like Linux, which requires `NO_PERMS` with the extension) no
//! permission bits are written then: every mapping is read/write and
//! executable. Table pointers have no extension bits, so second-level
//! tables must lie below 4 GiB in either mode (`TABLE_PA_BITS` = 32).

use core::sync::atomic::AtomicU32;

use super::super::format::Format;
use crate::prot::Prot;

/// Descriptor type bits `[1:0]`: a first-level entry pointing to a table.
pub const L1_TYPE_TABLE: u32 = 0b01;
/// First-level section or supersection (bit 1; bit 0, PXN, left 0).
pub const L1_TYPE_SECTION: u32 = 0b10;
/// First-level: this section is one of a 16-entry supersection.
pub const L1_SUPERSECTION: u32 = 1 << 18;
/// Second-level small page (bit 1; bit 0 is its XN).
pub const L2_TYPE_SMALL: u32 = 0b10;
/// Second-level large page (bits `[1:0]` = 01).
pub const L2_TYPE_LARGE: u32 = 0b01;

/// Bufferable and cacheable bits, in the same place at every level.
pub const B: u32 = 1 << 2;
pub const C: u32 = 1 << 3;
/// Execute-never: first level bit 4, small page bit 0, large page bit 15.
pub const L1_XN: u32 = 1 << 4;
pub const SMALL_XN: u32 = 1 << 0;
pub const LARGE_XN: u32 = 1 << 15;
/// Start of the 8-bit attribute block (AP0, AP1, TEX\[2:0\], AP2, S, nG):
/// bit 10 at the first level, bit 4 at the second.
pub const L1_ATTR_SHIFT: u32 = 10;
pub const L2_ATTR_SHIFT: u32 = 4;
/// Inside the attribute block.
pub const ATTR_AF: u32 = 1 << 0;
pub const ATTR_UNPRIV: u32 = 1 << 1;
pub const ATTR_TEX0: u32 = 1 << 2;
pub const ATTR_TEX_MASK: u32 = 0b111 << 2;
pub const ATTR_RDONLY: u32 = 1 << 5;
pub const ATTR_S: u32 = 1 << 6;
pub const ATTR_NG: u32 = 1 << 7;
/// A large page keeps TEX at bits `[14:12]` instead of `[8:6]`.
pub const LARGE_TEX_SHIFT: u32 = 12;
pub const SMALL_TEX_SHIFT: u32 = 6;

/// MediaTek: physical address bits 32, 33, 34 in these descriptor bits.
pub const MTK_PA32: u32 = 1 << 9;
pub const MTK_PA33: u32 = 1 << 4;
pub const MTK_PA34: u32 = 1 << 5;

/// The sizes io-pgtable-arm-v7s offers: 4K, 64K, 1M, 16M.
pub const ALL_SIZES: u64 = (1 << 12) | (1 << 16) | (1 << 20) | (1 << 24);

/// An ARMv7 short-descriptor format. `MTK_EXT`: MediaTek's 35-bit output
/// extension; `SIZES`: allowed leaf sizes (a subset of [`ALL_SIZES`],
/// must include 4K); `COHERENT`: the walker snoops CPU caches; `IA_BITS`:
/// the IOVA size, 32, or 34 with `MTK_EXT` (MediaTek's IOVA_34_EN: Linux's
/// io-pgtable-arm-v7s widens only the first level, to `ias - 20` index
/// bits, so its table is 64 KiB of 16384 entries).
#[derive(Clone, Copy, Debug, Default)]
pub struct ArmV7s<
    const MTK_EXT: bool = false,
    const SIZES: u64 = ALL_SIZES,
    const COHERENT: bool = true,
    const IA_BITS: u32 = 32,
>;

impl<const MTK_EXT: bool, const SIZES: u64, const COHERENT: bool, const IA_BITS: u32>
    ArmV7s<MTK_EXT, SIZES, COHERENT, IA_BITS>
{
    /// Whether leaves carry MediaTek's PA bits 32-34 (and no permissions).
    pub const MTK_EXT: bool = MTK_EXT;

    /// The 8-bit attribute block for `prot`.
    #[inline(always)]
    const fn block(prot: Prot) -> u32 {
        let mut a = ATTR_S | ATTR_NG;
        if !prot.contains(Prot::MMIO) {
            a |= ATTR_TEX0;
        }
        if !MTK_EXT {
            a |= ATTR_AF;
            if !prot.contains(Prot::PRIV) {
                a |= ATTR_UNPRIV;
            }
            // Read is implied: the short format cannot express write-only.
            if !prot.contains(Prot::WRITE) {
                a |= ATTR_RDONLY;
            }
        }
        a
    }

    /// B/C bits for `prot`.
    #[inline(always)]
    const fn bc(prot: Prot) -> u32 {
        if prot.contains(Prot::MMIO) {
            B
        } else if prot.contains(Prot::CACHE) {
            B | C
        } else {
            0
        }
    }

    /// Neutral attributes: the section form in the low half, the small-page
    /// form in the high half (type and address bits left out).
    #[inline(always)]
    const fn neutral(prot: Prot) -> u64 {
        let xn = prot.contains(Prot::NOEXEC) && !MTK_EXT;
        let bc = Self::bc(prot);
        let blk = Self::block(prot);
        let l1 = bc | (blk << L1_ATTR_SHIFT) | if xn { L1_XN } else { 0 };
        let l2 = bc | (blk << L2_ATTR_SHIFT) | if xn { SMALL_XN } else { 0 };
        l1 as u64 | (l2 as u64) << 32
    }

    /// What `prot` a leaf at `level` was made from (inverse of `neutral`
    /// for every `prot` it encodes).
    #[inline(always)]
    const fn prot_of(d: u32, level: u32) -> Prot {
        let (blk, xn, tex) = if level == 2 {
            let blk = (d >> L1_ATTR_SHIFT) & 0xff;
            (blk, d & L1_XN != 0, blk & ATTR_TEX_MASK)
        } else if d & 0b10 != 0 {
            let blk = (d >> L2_ATTR_SHIFT) & 0xff;
            (blk, d & SMALL_XN != 0, blk & ATTR_TEX_MASK)
        } else {
            let blk = (d >> L2_ATTR_SHIFT) & 0xff;
            (
                blk,
                d & LARGE_XN != 0,
                ((d >> LARGE_TEX_SHIFT) & 0b111) << 2,
            )
        };
        let mut p = Prot::READ;
        if MTK_EXT || blk & ATTR_RDONLY == 0 {
            p = p.union(Prot::WRITE);
        }
        if !MTK_EXT && blk & ATTR_UNPRIV == 0 {
            p = p.union(Prot::PRIV);
        }
        if !MTK_EXT && xn {
            p = p.union(Prot::NOEXEC);
        }
        if tex == 0 {
            p = p.union(Prot::MMIO);
        } else if d & C != 0 {
            p = p.union(Prot::CACHE);
        }
        p
    }

    /// Address bits of a leaf for `pa` whose low bits the leaf kind keeps
    /// under `mask`.
    #[inline(always)]
    const fn oa(pa: u64, mask: u32) -> u32 {
        let mut d = pa as u32 & mask;
        if MTK_EXT {
            if pa & (1 << 32) != 0 {
                d |= MTK_PA32;
            }
            if pa & (1 << 33) != 0 {
                d |= MTK_PA33;
            }
            if pa & (1 << 34) != 0 {
                d |= MTK_PA34;
            }
        }
        d
    }

    /// Inverse of [`oa`](Self::oa).
    #[inline(always)]
    const fn pa_of(d: u32, mask: u32) -> u64 {
        let mut pa = (d & mask) as u64;
        if MTK_EXT {
            if d & MTK_PA32 != 0 {
                pa |= 1 << 32;
            }
            if d & MTK_PA33 != 0 {
                pa |= 1 << 33;
            }
            if d & MTK_PA34 != 0 {
                pa |= 1 << 34;
            }
        }
        pa
    }
}

/// Address masks per leaf kind.
const SECTION_MASK: u32 = 0xfff0_0000;
const SUPER_MASK: u32 = 0xff00_0000;
const SMALL_MASK: u32 = 0xffff_f000;
const LARGE_MASK: u32 = 0xffff_0000;
const TABLE_MASK: u32 = 0xffff_fc00;

impl<const MTK_EXT: bool, const SIZES: u64, const COHERENT: bool, const IA_BITS: u32> Format
    for ArmV7s<MTK_EXT, SIZES, COHERENT, IA_BITS>
{
    type Desc = AtomicU32;
    const VALID: () = {
        assert!(
            SIZES & !ALL_SIZES == 0 && SIZES & (1 << 12) != 0,
            "ARMv7 short descriptors map 4K (required), 64K, 1M and 16M"
        );
        assert!(
            IA_BITS == 32 || (IA_BITS == 34 && MTK_EXT),
            "short descriptors take a 32-bit IOVA, or 34 bits with MediaTek's extension"
        );
    };
    const GRANULE_SHIFT: u32 = 12;
    const IAS: u32 = IA_BITS;
    const OAS: u32 = if MTK_EXT { 35 } else { 32 };
    const TABLE_PA_BITS: u32 = 32;
    const PAGE_SIZES: u64 = SIZES;
    const COHERENT_WALK: bool = COHERENT;
    const START: u32 = 2;
    const SHIFT: [u32; 4] = [IA_BITS, IA_BITS, 20, 12];
    const INDEX_BITS: [u32; 4] = [0, 0, IA_BITS - 20, 8];
    const CONTIG: [u32; 4] = [0, 0, 4, 4];
    const ROOT_TABLES: u32 = 1;
    const LINEAR_OA: bool = !MTK_EXT;

    #[inline(always)]
    fn attrs(prot: Prot) -> u64 {
        Self::neutral(prot)
    }

    #[inline(always)]
    fn leaf(pa: u64, attrs: u64, level: u32, contig: bool) -> u64 {
        let d = if level == 2 {
            let a = attrs as u32 | L1_TYPE_SECTION;
            if contig {
                a | L1_SUPERSECTION | Self::oa(pa, SUPER_MASK)
            } else {
                a | Self::oa(pa, SECTION_MASK)
            }
        } else {
            let a = (attrs >> 32) as u32;
            if contig {
                // Move XN from bit 0 to 15 and TEX from [8:6] to [14:12].
                let tex = (a >> SMALL_TEX_SHIFT) & 0b111;
                let xn = a & SMALL_XN;
                let rest = a & !(SMALL_XN | (0b111 << SMALL_TEX_SHIFT));
                rest | (tex << LARGE_TEX_SHIFT)
                    | (xn << 15)
                    | L2_TYPE_LARGE
                    | Self::oa(pa, LARGE_MASK)
            } else {
                a | L2_TYPE_SMALL | Self::oa(pa, SMALL_MASK)
            }
        };
        d as u64
    }

    #[inline(always)]
    fn leaf_attrs(d: u64, level: u32) -> u64 {
        Self::neutral(Self::prot_of(d as u32, level))
    }

    #[inline(always)]
    fn leaf_addr(d: u64, level: u32) -> u64 {
        let d = d as u32;
        let mask = match (level == 2, Self::is_contig(d as u64, level)) {
            (true, false) => SECTION_MASK,
            (true, true) => SUPER_MASK,
            (false, false) => SMALL_MASK,
            (false, true) => LARGE_MASK,
        };
        Self::pa_of(d, mask)
    }

    #[inline(always)]
    fn is_contig(d: u64, level: u32) -> bool {
        if level == 2 {
            d & 0b11 != L1_TYPE_TABLE as u64 && d & L1_SUPERSECTION as u64 != 0
        } else {
            d & 0b11 == L2_TYPE_LARGE as u64
        }
    }

    #[inline(always)]
    fn table(pa: u64, _level: u32) -> u64 {
        (pa as u32 & TABLE_MASK | L1_TYPE_TABLE) as u64
    }

    #[inline(always)]
    fn is_table(d: u64, level: u32) -> bool {
        level == 2 && d & 0b11 == L1_TYPE_TABLE as u64
    }

    #[inline(always)]
    fn table_addr(d: u64, _level: u32) -> u64 {
        (d as u32 & TABLE_MASK) as u64
    }
}
