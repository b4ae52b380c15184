//! Descriptor encoding: the VMSAv8-64 long-descriptor bits and the mapping
//! from portable [`Prot`] flags to stage-1 and stage-2 leaf attributes.
//!
//! Memory attributes assumed at stage 1 (the driver programs MAIR with
//! [`MAIR`]): index 0 Normal non-cacheable, index 1 Normal write-back
//! read/write-allocate, index 2 Device-nGnRE.

use super::formats::lpae::{Geometry, LpaeFormat as Format, Stage};
use crate::prot::Prot;

/// Bits `[1:0]` of a table descriptor (levels 0-2) and of a page (level 3).
pub const TYPE_TABLE_OR_PAGE: u64 = 0b11;
/// Bits `[1:0]` of a block descriptor (levels 1-2).
pub const TYPE_BLOCK: u64 = 0b01;

/// The MAIR value stage-1 leaves assume: Attr0 = 0x44 (Normal NC),
/// Attr1 = 0xff (Normal WB RWA), Attr2 = 0x04 (Device-nGnRE).
pub const MAIR: u64 = 0x0004_ff44;
pub const ATTR_IDX_NC: u64 = 0;
pub const ATTR_IDX_WB: u64 = 1;
pub const ATTR_IDX_DEV: u64 = 2;

const ATTR_IDX_SHIFT: u32 = 2;
/// Stage 1 `AP[1]`: EL0 / unprivileged access allowed.
pub const S1_AP_UNPRIV: u64 = 1 << 6;
/// Stage 1 `AP[2]`: read-only.
pub const S1_AP_RDONLY: u64 = 1 << 7;
/// Shareability field `[9:8]`.
pub const SH_OUTER: u64 = 0b10 << 8;
pub const SH_INNER: u64 = 0b11 << 8;
/// Access flag; set so no access-flag fault occurs.
pub const AF: u64 = 1 << 10;
/// Stage 1 not-global: TLB entries are tagged with the ASID.
pub const S1_NG: u64 = 1 << 11;
/// Stage 1 PXN and UXN.
pub const S1_PXN: u64 = 1 << 53;
pub const S1_UXN: u64 = 1 << 54;
/// Stage 2 `S2AP[0]` read and `S2AP[1]` write.
pub const S2_READ: u64 = 1 << 6;
pub const S2_WRITE: u64 = 1 << 7;
/// Stage 2 `MemAttr[3:0]` at bits `[5:2]`.
pub const S2_MEMATTR_DEV_NGNRE: u64 = 0b0001 << 2;
pub const S2_MEMATTR_NC: u64 = 0b0101 << 2;
pub const S2_MEMATTR_WB: u64 = 0b1111 << 2;
/// Stage 2 `XN[1]` (execute-never at every level; `XN[0]` left 0).
pub const S2_XN: u64 = 1 << 54;

/// Leaf attribute bits for `prot` (no type bits, no address).
#[inline(always)]
pub const fn leaf_attrs<F: Format>(prot: Prot) -> u64 {
    let mut d = AF;
    match F::STAGE {
        Stage::One => {
            d |= S1_NG;
            let idx = if prot.contains(Prot::MMIO) {
                d |= SH_OUTER;
                ATTR_IDX_DEV
            } else if prot.contains(Prot::CACHE) {
                d |= SH_INNER;
                ATTR_IDX_WB
            } else {
                d |= SH_OUTER;
                ATTR_IDX_NC
            };
            d |= idx << ATTR_IDX_SHIFT;
            if !prot.contains(Prot::PRIV) {
                d |= S1_AP_UNPRIV;
            }
            // Stage 1 cannot express write-only: write implies read.
            if !prot.contains(Prot::WRITE) {
                d |= S1_AP_RDONLY;
            }
            if prot.contains(Prot::NOEXEC) {
                d |= S1_UXN | S1_PXN;
            }
        }
        Stage::Two => {
            d |= if prot.contains(Prot::MMIO) {
                SH_OUTER | S2_MEMATTR_DEV_NGNRE
            } else if prot.contains(Prot::CACHE) {
                SH_INNER | S2_MEMATTR_WB
            } else {
                SH_OUTER | S2_MEMATTR_NC
            };
            if prot.contains(Prot::READ) {
                d |= S2_READ;
            }
            if prot.contains(Prot::WRITE) {
                d |= S2_WRITE;
            }
            if prot.contains(Prot::NOEXEC) {
                d |= S2_XN;
            }
        }
    }
    d
}

/// Address field for `pa` (table or output address), `pa` granule-aligned.
#[inline(always)]
pub const fn encode_addr<F: Format>(pa: u64) -> u64 {
    if Geometry::<F>::OA52 {
        (pa & Geometry::<F>::OA_MASK) | ((pa >> 48) & 0xf) << 12
    } else {
        pa
    }
}

/// Inverse of [`encode_addr`].
#[inline(always)]
pub const fn decode_addr<F: Format>(d: u64) -> u64 {
    if Geometry::<F>::OA52 {
        (d & (((1u64 << 48) - 1) & !((1u64 << Geometry::<F>::G) - 1))) | ((d >> 12) & 0xf) << 48
    } else {
        d & Geometry::<F>::OA_MASK
    }
}

/// Type bits for a leaf at `level`.
#[inline(always)]
pub const fn leaf_type(level: u32) -> u64 {
    if level == 3 {
        TYPE_TABLE_OR_PAGE
    } else {
        TYPE_BLOCK
    }
}

/// Whether `d` at `level` points to a next-level table.
#[inline(always)]
pub const fn is_table(d: u64, level: u32) -> bool {
    level < 3 && d & 0b11 == TYPE_TABLE_OR_PAGE
}

/// A table descriptor for the table at `pa`.
#[inline(always)]
pub const fn table_desc<F: Format>(pa: u64) -> u64 {
    encode_addr::<F>(pa) | TYPE_TABLE_OR_PAGE
}

/// Attribute bits of a leaf descriptor (everything but address and type).
#[inline(always)]
pub const fn attrs_of<F: Format>(d: u64) -> u64 {
    d & !(Geometry::<F>::OA_MASK | 0b11)
}
