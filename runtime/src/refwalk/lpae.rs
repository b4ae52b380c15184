//! A reference translation-table walker, written plainly from the Arm
//! Architecture Reference Manual (VMSAv8-64, "Translation table walk" and
//! "Translation table descriptor formats"). It shares no code with the
//! engine: it reads raw 64-bit descriptors through a closure and follows the
//! manual's steps one by one, favouring obviousness over speed.

use alloc::vec::Vec;

/// What the walk is configured with (TCR/VTCR fields in spirit).
#[derive(Clone, Copy, Debug)]
pub struct WalkConfig {
    pub stage2: bool,
    /// Granule size in bytes: 4096, 16384 or 65536.
    pub granule: u64,
    /// Input address size (64 - T0SZ).
    pub ias: u32,
    /// Output (physical) address size (PS field).
    pub oas: u32,
    /// Level at which the walk starts (SL0 for stage 2, from T0SZ for stage 1).
    pub start_level: u32,
    /// Number of concatenated tables at the start level (stage 2), 1 if none.
    pub concat: u64,
}

impl WalkConfig {
    /// Work out the start level and concatenation as the manual's tables do:
    /// stage 1 starts at the highest level that resolves the top IA bits;
    /// stage 2 may instead start one level lower with up to 16 tables
    /// concatenated (done here whenever the top level would have <= 16
    /// entries, which is the choice the engine claims to make).
    pub fn new(stage2: bool, granule: u64, ias: u32, oas: u32) -> WalkConfig {
        let page_bits = match granule {
            4096 => 12,
            16384 => 14,
            65536 => 16,
            _ => panic!("bad granule"),
        };
        let stride = page_bits - 3;
        // Levels 3, 2, 1, 0 cover bits up to page_bits + stride * k.
        let mut levels = 1;
        while page_bits + stride * levels < ias {
            levels += 1;
        }
        let mut start_level = 4 - levels;
        let top_bits = ias - (page_bits + stride * (levels - 1));
        let mut concat = 1;
        if stage2 && levels > 1 && top_bits <= 4 {
            start_level += 1;
            concat = 1u64 << top_bits;
        }
        WalkConfig {
            stage2,
            granule,
            ias,
            oas,
            start_level,
            concat,
        }
    }

    fn page_bits(&self) -> u32 {
        self.granule.trailing_zeros()
    }

    fn stride(&self) -> u32 {
        self.page_bits() - 3
    }

    /// Lowest input-address bit resolved by `level`.
    pub fn level_shift(&self, level: u32) -> u32 {
        self.page_bits() + self.stride() * (3 - level)
    }

    /// Whether a block descriptor is permitted at `level` (no FEAT_LPA2):
    /// 4K: levels 1 and 2; 16K: level 2; 64K: level 2, and level 1 (4TB)
    /// when the output address is 52 bits (FEAT_LPA).
    fn block_allowed(&self, level: u32) -> bool {
        match self.granule {
            4096 => level == 1 || level == 2,
            65536 => level == 2 || (level == 1 && self.oas == 52),
            _ => level == 2,
        }
    }

    /// Output address held in a descriptor whose address field starts at
    /// bit `lsb`: bits [47:lsb], plus for a 52-bit OAS with 64K granule bits
    /// [51:48] from descriptor bits [15:12].
    fn output_address(&self, desc: u64, lsb: u32) -> u64 {
        let mut addr = 0u64;
        for bit in lsb..48 {
            if desc & (1u64 << bit) != 0 {
                addr |= 1u64 << bit;
            }
        }
        if self.oas == 52 && self.granule == 65536 {
            for i in 0..4 {
                if desc & (1u64 << (12 + i)) != 0 {
                    addr |= 1u64 << (48 + i);
                }
            }
        }
        addr
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Input address beyond the configured size (level 0 translation fault).
    InputRange,
    /// Invalid or reserved descriptor at `level`.
    Translation { level: u32 },
    /// An output or next-table address beyond the OAS at `level`.
    AddressSize { level: u32 },
    /// While listing leaves: an encoding the engine must never write (a
    /// reserved type, stray bits in an invalid entry, a block where none is
    /// allowed) at `level` for input address `ia`.
    Malformed { level: u32, ia: u64 },
}

/// Permissions and attributes of a leaf, decoded per stage.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Attrs {
    pub read: bool,
    pub write: bool,
    /// Executable by the device (neither XN nor, at stage 1, UXN/PXN set).
    pub exec: bool,
    /// Stage 1: unprivileged access allowed (`AP[1]`); stage 2: always true.
    pub unpriv: bool,
    /// Memory type: 0 Normal non-cacheable, 1 Normal write-back, 2 Device.
    pub memtype: u8,
    pub access_flag: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Translation {
    pub pa: u64,
    pub level: u32,
    /// Size of the page or block the address was found in.
    pub size: u64,
    pub attrs: Attrs,
}

/// Decode leaf attributes as the manual defines them.
pub fn decode_attrs(cfg: &WalkConfig, desc: u64) -> Attrs {
    let bit = |n: u32| desc & (1u64 << n) != 0;
    let access_flag = bit(10);
    if cfg.stage2 {
        // S2AP[1:0] at [7:6]: bit 6 read, bit 7 write. MemAttr[3:0] at [5:2]:
        // 0b00xx Device, 0b0101 Normal NC/NC, 0b1111 Normal WB/WB.
        let memattr = (desc >> 2) & 0xf;
        let memtype = if memattr >> 2 == 0 {
            2
        } else if memattr == 0b1111 {
            1
        } else {
            0
        };
        Attrs {
            read: bit(6),
            write: bit(7),
            exec: !bit(54),
            unpriv: true,
            memtype,
            access_flag,
        }
    } else {
        // AP[2:1] at [7:6]: AP[2] read-only, AP[1] EL0 access. AttrIndx
        // [4:2] indexes MAIR, which the engine documents as
        // {0: Normal NC, 1: Normal WB, 2: Device}.
        let attr_index = (desc >> 2) & 0b111;
        Attrs {
            read: true,
            write: !bit(7),
            exec: !bit(54) && !bit(53),
            unpriv: bit(6),
            memtype: attr_index as u8,
            access_flag,
        }
    }
}

/// Translate `ia` by walking tables rooted at `root`, reading descriptors
/// with `read(physical_address)`.
pub fn walk(
    cfg: &WalkConfig,
    root: u64,
    ia: u64,
    read: &dyn Fn(u64) -> u64,
) -> Result<Translation, Fault> {
    if cfg.ias < 64 && ia >> cfg.ias != 0 {
        return Err(Fault::InputRange);
    }
    let mut table = root;
    let mut level = cfg.start_level;
    loop {
        let shift = cfg.level_shift(level);
        // Index bits: the stride, except at the start level, which resolves
        // everything up to the IAS (including concatenated tables).
        let top = if level == cfg.start_level {
            cfg.ias
        } else {
            shift + cfg.stride()
        };
        let index = (ia >> shift) & ((1u64 << (top - shift)) - 1);
        let desc = read(table + index * 8);
        if desc & 1 == 0 {
            return Err(Fault::Translation { level });
        }
        let is_table_or_page = desc & 2 != 0;
        if level == 3 {
            if !is_table_or_page {
                // 0b01 at level 3 is reserved: a translation fault.
                return Err(Fault::Translation { level });
            }
            let out = cfg.output_address(desc, cfg.page_bits());
            if cfg.oas < 64 && out >> cfg.oas != 0 {
                return Err(Fault::AddressSize { level });
            }
            let size = cfg.granule;
            return Ok(Translation {
                pa: out | (ia & (size - 1)),
                level,
                size,
                attrs: decode_attrs(cfg, desc),
            });
        }
        if is_table_or_page {
            let next = cfg.output_address(desc, cfg.page_bits());
            if cfg.oas < 64 && next >> cfg.oas != 0 {
                return Err(Fault::AddressSize { level });
            }
            table = next;
            level += 1;
            continue;
        }
        if !cfg.block_allowed(level) {
            return Err(Fault::Translation { level });
        }
        let out = cfg.output_address(desc, shift);
        if cfg.oas < 64 && out >> cfg.oas != 0 {
            return Err(Fault::AddressSize { level });
        }
        let size = 1u64 << shift;
        return Ok(Translation {
            pa: out | (ia & (size - 1)),
            level,
            size,
            attrs: decode_attrs(cfg, desc),
        });
    }
}

/// One leaf found by [`leaves`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Leaf {
    pub ia: u64,
    pub size: u64,
    pub pa: u64,
    pub level: u32,
    pub attrs: Attrs,
}

/// Every valid leaf reachable from `root`, in input-address order, and the
/// number of tables (besides the root) seen. Invalid (zero) descriptors
/// are skipped; an encoding the engine must never write is an error.
pub fn leaves(
    cfg: &WalkConfig,
    root: u64,
    read: &dyn Fn(u64) -> u64,
) -> Result<(Vec<Leaf>, usize), Fault> {
    let mut out = Vec::new();
    let mut tables = 0;
    let top_entries = 1u64 << (cfg.ias - cfg.level_shift(cfg.start_level));
    visit(
        cfg,
        root,
        cfg.start_level,
        0,
        top_entries,
        read,
        &mut out,
        &mut tables,
    )?;
    Ok((out, tables))
}

#[allow(clippy::too_many_arguments)]
fn visit(
    cfg: &WalkConfig,
    table: u64,
    level: u32,
    base: u64,
    entries: u64,
    read: &dyn Fn(u64) -> u64,
    out: &mut Vec<Leaf>,
    tables: &mut usize,
) -> Result<(), Fault> {
    let shift = cfg.level_shift(level);
    for index in 0..entries {
        let desc = read(table + index * 8);
        let ia = base + (index << shift);
        if desc & 1 == 0 {
            if desc != 0 {
                return Err(Fault::Malformed { level, ia });
            }
            continue;
        }
        let is_table_or_page = desc & 2 != 0;
        if level < 3 && is_table_or_page {
            *tables += 1;
            let next = cfg.output_address(desc, cfg.page_bits());
            // Depth is bounded: at most four levels.
            visit(cfg, next, level + 1, ia, cfg.granule / 8, read, out, tables)?;
            continue;
        }
        if (level < 3 && !cfg.block_allowed(level)) || (level == 3 && !is_table_or_page) {
            return Err(Fault::Malformed { level, ia });
        }
        out.push(Leaf {
            ia,
            size: 1u64 << shift,
            pa: cfg.output_address(desc, shift),
            level,
            attrs: decode_attrs(cfg, desc),
        });
    }
    Ok(())
}
