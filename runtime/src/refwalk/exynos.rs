//! A reference walker for Samsung Exynos System MMU tables, written plainly
//! from the entry layouts of Linux's `drivers/iommu/exynos-iommu.c` (its
//! entry-kind tests, the per-version protection tables and the v5 "entries
//! hold the address shifted right by 4" rule) and the binding's statement
//! that the tables are ARMv7's short-descriptor format with only access
//! permissions. It shares no code with the engine: it reads raw 32-bit
//! entries through a callback.
//!
//! The walk: the first-level table (16 KiB) is indexed by IOVA bits 31:20.
//! Its entry's bits 1:0 say: 10 a 1 MiB section, 01 a pointer to a 1 KiB
//! second-level table, 00 or 11 a fault. The second-level table is indexed
//! by IOVA bits 19:12; bits 1:0 of its entry: 01 one of the 16 copies of a
//! 64 KiB large page, 10 or 11 a 4 KiB small page, 00 a fault.

use alloc::vec::Vec;

/// What the walk is configured with.
#[derive(Clone, Copy, Debug)]
pub struct WalkConfig {
    /// The System MMU's major version: from 5 on, entries hold the
    /// physical address shifted right by 4 and the permission bits move.
    pub version: u32,
}

impl WalkConfig {
    fn shifted(&self) -> bool {
        self.version >= 5
    }

    /// The physical address of bits `[31:low]` of entry `e`.
    fn address(&self, e: u32, low: u32) -> u64 {
        let field = u64::from(e >> low) << low;
        if self.shifted() {
            field << 4
        } else {
            field
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// The first-level entry is a fault (type 00 or 11).
    Level1,
    /// The second-level entry is a fault (type 00).
    Level2,
    /// While listing leaves: an encoding the engine must never write (a
    /// non-zero fault entry, bits outside the address, permission and type
    /// fields, a small page of type 11, a mapping with no access, a large
    /// page whose 16 copies differ or do not start at a multiple of 16) at
    /// input address `ia`.
    Malformed { ia: u64 },
}

/// Permissions of a leaf.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Attrs {
    pub read: bool,
    pub write: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Translation {
    pub pa: u64,
    /// Bytes of the small page, large page or section.
    pub size: u64,
    pub attrs: Attrs,
}

fn bit(e: u32, n: u32) -> bool {
    e & (1 << n) != 0
}

/// Permissions of a leaf entry; `section` picks the first-level layout.
/// v1-v4: bit 10 (section) or 4 (page) grants access, bit 15 or 9 makes it
/// read-only. v5+: bits 5:4 (section) or 3:2 (page), read low, write high.
fn attrs(cfg: &WalkConfig, e: u32, section: bool) -> Attrs {
    if cfg.shifted() {
        let (r, w) = if section { (4, 5) } else { (2, 3) };
        Attrs {
            read: bit(e, r),
            write: bit(e, w),
        }
    } else {
        let (access, rdonly) = if section { (10, 15) } else { (4, 9) };
        Attrs {
            read: bit(e, access),
            write: bit(e, access) && !bit(e, rdonly),
        }
    }
}

/// Decode a second-level leaf: (base, size, attrs).
fn page(cfg: &WalkConfig, e: u32) -> (u64, u64, Attrs) {
    // Address fields before the shift: small page [31:12], large [31:16];
    // shifted, the same addresses start 4 bits lower.
    let large = e & 0b11 == 0b01;
    let low = match (large, cfg.shifted()) {
        (false, false) => 12,
        (true, false) => 16,
        (false, true) => 8,
        (true, true) => 12,
    };
    let size = if large { 1 << 16 } else { 1 << 12 };
    (cfg.address(e, low), size, attrs(cfg, e, false))
}

/// Decode a section: (base, size, attrs). Address field [31:20], or
/// [31:16] shifted.
fn section(cfg: &WalkConfig, e: u32) -> (u64, u64, Attrs) {
    let low = if cfg.shifted() { 16 } else { 20 };
    (cfg.address(e, low), 1 << 20, attrs(cfg, e, true))
}

/// The second-level table a table entry names: address field [31:10], or
/// [31:6] shifted.
fn table_base(cfg: &WalkConfig, e: u32) -> u64 {
    cfg.address(e, if cfg.shifted() { 6 } else { 10 })
}

/// Translate `ia` from the first-level table at `root`, reading entries
/// with `read(physical_address)`.
pub fn walk(
    cfg: &WalkConfig,
    root: u64,
    ia: u32,
    read: &dyn Fn(u64) -> u32,
) -> Result<Translation, Fault> {
    let l1 = read((root & !0x3fff) + (u64::from(ia >> 20) << 2));
    let (base, size, attrs) = match l1 & 0b11 {
        0b10 => section(cfg, l1),
        0b01 => {
            let l2 = read(table_base(cfg, l1) + (u64::from((ia >> 12) & 0xff) << 2));
            if l2 & 0b11 == 0 {
                return Err(Fault::Level2);
            }
            page(cfg, l2)
        }
        _ => return Err(Fault::Level1),
    };
    Ok(Translation {
        pa: base + (u64::from(ia) & (size - 1)),
        size,
        attrs,
    })
}

/// One leaf found by [`leaves`]: a large page is one leaf.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Leaf {
    pub ia: u64,
    pub size: u64,
    pub pa: u64,
    pub attrs: Attrs,
}

/// Bits an entry may have set, by kind, for what the engine writes: the
/// address field, the version's permission bits and the type.
fn allowed_bits(cfg: &WalkConfig, kind: Kind) -> u32 {
    match (kind, cfg.shifted()) {
        (Kind::Table, false) => 0xffff_fc03,
        (Kind::Table, true) => 0xffff_ffc3,
        (Kind::Section, false) => 0xfff0_0000 | 1 << 15 | 1 << 10 | 0b11,
        (Kind::Section, true) => 0xffff_0000 | 0b11 << 4 | 0b11,
        (Kind::Large, false) => 0xffff_0000 | 1 << 9 | 1 << 4 | 0b11,
        (Kind::Large, true) => 0xffff_f000 | 0b11 << 2 | 0b11,
        (Kind::Small, false) => 0xffff_f000 | 1 << 9 | 1 << 4 | 0b11,
        (Kind::Small, true) => 0xffff_ff00 | 0b11 << 2 | 0b11,
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Table,
    Section,
    Large,
    Small,
}

/// A leaf entry is one the engine could have written.
fn well_formed(cfg: &WalkConfig, e: u32, kind: Kind, a: Attrs) -> bool {
    e & !allowed_bits(cfg, kind) == 0 && (a.read || a.write) && (kind != Kind::Small || e & 1 == 0)
}

/// Every leaf reachable from `root`, in input-address order, and the number
/// of second-level tables seen. Fault entries must be zero.
pub fn leaves(
    cfg: &WalkConfig,
    root: u64,
    read: &dyn Fn(u64) -> u32,
) -> Result<(Vec<Leaf>, usize), Fault> {
    let root = root & !0x3fff;
    let mut out = Vec::new();
    let mut tables = 0;
    for i in 0..4096u64 {
        let ia = i << 20;
        let e = read(root + i * 4);
        match e & 0b11 {
            _ if e == 0 => {}
            0b10 => {
                let (pa, size, attrs) = section(cfg, e);
                if !well_formed(cfg, e, Kind::Section, attrs) {
                    return Err(Fault::Malformed { ia });
                }
                out.push(Leaf {
                    ia,
                    size,
                    pa,
                    attrs,
                });
            }
            0b01 => {
                if e & !allowed_bits(cfg, Kind::Table) != 0 {
                    return Err(Fault::Malformed { ia });
                }
                tables += 1;
                second_level(cfg, table_base(cfg, e), ia, read, &mut out)?;
            }
            _ => return Err(Fault::Malformed { ia }),
        }
    }
    Ok((out, tables))
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
        let e = read(table + j * 4);
        if e == 0 {
            j += 1;
            continue;
        }
        if e & 0b11 == 0 {
            return Err(Fault::Malformed { ia });
        }
        let (pa, size, attrs) = page(cfg, e);
        let kind = if size == 1 << 16 {
            Kind::Large
        } else {
            Kind::Small
        };
        if !well_formed(cfg, e, kind, attrs) {
            return Err(Fault::Malformed { ia });
        }
        if kind == Kind::Large {
            // Sixteen identical copies, starting at a multiple of 16.
            if j % 16 != 0 || (j..j + 16).any(|k| read(table + k * 4) != e) {
                return Err(Fault::Malformed { ia });
            }
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
