//! The spec's page table on the host: the shipped engine with a format
//! type chosen from the spec, over [`Memory`], driven by the op script.
//!
//! Engine formats are compile-time types, so the command instantiates one
//! per *walk shape* (stage, granule, number of levels, stage-2
//! concatenation, 52-bit output) with the largest input size of that shape
//! and every leaf size the shape has. The spec's own limits are applied on
//! top: IOVAs and PAs are checked against its IAS and OAS, maps are cut
//! into the spec's sizes (largest first, as the engine does), and the root
//! is dumped only as far as the spec's IAS reaches, which is the table the
//! hardware would be given. Unmapping part of a block splits it with the
//! shape's sizes, which can include sizes the spec leaves out.
//!
//! Apple DART, Rockchip, Exynos and sun50i have one shape per generation or
//! encoding (Exynos: versions 1-4 and 5-7), used as the spec states it
//! (their IAS and page size are fixed; the simulation needs no cache
//! cleaning, so every shape walks coherently).

use iommugen_dsl::ir;
use iommugen_runtime::pgtable::{
    self, legal, AppleDart, ArmV7s, Desc, Exynos, Format, LiveWord, LpaeFormat, NoTlb,
    PageAllocPool, PageTable, Rockchip, Stage, Sun50i, TegraSmmu,
};
use iommugen_runtime::Prot;

use super::memory::Memory;
use super::script::Op;

/// What one op did.
pub enum Outcome {
    Map(Result<(), String>),
    Unmap(Result<u64, String>),
    Lookup(Option<u64>),
}

/// A live table: physical address, level from the root (1 = a root), raw
/// entry words (32-bit formats' entries zero-extended).
pub struct Table {
    pub addr: u64,
    pub level: u32,
    pub entries: Vec<u64>,
}

pub struct Run {
    pub entry_bits: u32,
    /// The root tables: one per TTBR for DART, else the one root the
    /// translation base register names.
    pub roots: Vec<u64>,
    pub outcomes: Vec<Outcome>,
    pub tables: Vec<Table>,
}

/// LPAE with a walk shape's parameters.
struct Shape<const S2: bool, const G: u32, const IAS: u32, const OA52: bool>;

impl<const S2: bool, const G: u32, const IAS: u32, const OA52: bool> LpaeFormat
    for Shape<S2, G, IAS, OA52>
{
    const STAGE: Stage = if S2 { Stage::Two } else { Stage::One };
    const GRANULE_SHIFT: u32 = G;
    const IAS: u32 = IAS;
    const OAS: u32 = if OA52 && G == 16 { 52 } else { 48 };
    const PAGE_SIZES: u64 = {
        // Leaves at every level the walk has (from its start level).
        let (bits, oas) = (G - 3, if OA52 && G == 16 { 52 } else { 48 });
        let needed = (IAS - G).div_ceil(bits);
        let top = IAS - G - (needed - 1) * bits;
        let start = if S2 && top <= 4 && needed > 1 {
            5 - needed
        } else {
            4 - needed
        };
        let mut sizes = 0;
        let mut level = 1;
        while level <= 3 {
            let shift = G + (3 - level) * bits;
            if level >= start && legal::lpae::leaf_level_allowed(G, oas, level) {
                sizes |= 1 << shift;
            }
            level += 1;
        }
        sizes
    };
    const COHERENT_WALK: bool = true;
}

/// Levels and stage-2 concatenation of a walk, as the engine derives them.
fn walk_shape(s2: bool, g: u32, ias: u32) -> (u32, bool) {
    let bits = g - 3;
    let needed = (ias - g).div_ceil(bits);
    let top = ias - g - (needed - 1) * bits;
    (needed, s2 && top <= 4 && needed > 1)
}

/// The largest input sizes of each walk shape of two or more levels, per
/// stage and granule (one-level walks have no pool-sized tables, so the
/// engine's pool cannot serve them).
fn shape_sizes(s2: bool, g: u32) -> &'static [u32] {
    match (s2, g) {
        (false, 12) => &[30, 39, 48],
        (false, 14) => &[36, 47, 48],
        (false, _) => &[42, 52],
        (true, 12) => &[30, 34, 39, 43, 48],
        (true, 14) => &[36, 40, 47, 48],
        (true, _) => &[42, 46, 52],
    }
}

macro_rules! lpae_dispatch {
    ($s2:expr, $g:expr, $ias:expr, $oa52:expr, $run:ident $args:tt; $(($S2:literal, $G:literal, [$($I:literal),*])),*) => {
        match ($s2, $g, $ias, $oa52) {
            $($(
                ($S2, $G, $I, false) => $run::<Shape<$S2, $G, $I, false>, $G> $args,
                ($S2, $G, $I, true) if $G == 16 => $run::<Shape<$S2, $G, $I, true>, $G> $args,
            )*)*
            _ => Err(format!("no simulated walk for this geometry (stage 2: {}, granule shift {}, IAS {})", $s2, $g, $ias)),
        }
    };
}

/// Builds the spec's table in `mem` and applies `ops`.
pub fn run(pt: &ir::PageTable, ops: &[Op], mem: &Memory) -> Result<Run, String> {
    match pt.format {
        ir::Format::ArmV7s { mtk_ext: false } => {
            apply::<ArmV7s<false, { legal::arm_v7s::SIZES }, true>, 10>(pt, ops, mem)
        }
        ir::Format::ArmV7s { mtk_ext: true } if u32::from(pt.ias) == legal::arm_v7s::MTK_IAS => {
            const IAS: u32 = legal::arm_v7s::MTK_IAS;
            apply::<ArmV7s<true, { legal::arm_v7s::SIZES }, true, IAS>, 10>(pt, ops, mem)
        }
        ir::Format::ArmV7s { mtk_ext: true } => {
            apply::<ArmV7s<true, { legal::arm_v7s::SIZES }, true>, 10>(pt, ops, mem)
        }
        ir::Format::AppleDart { generation } => {
            const IAS: u32 = legal::apple_dart::IAS;
            match generation.number() {
                1 => apply::<AppleDart<1, IAS>, 14>(pt, ops, mem),
                _ => apply::<AppleDart<2, IAS>, 14>(pt, ops, mem),
            }
        }
        ir::Format::Rockchip { version: 1 } => apply::<Rockchip<1, true>, 12>(pt, ops, mem),
        ir::Format::Rockchip { version: 2 } => apply::<Rockchip<2, true>, 12>(pt, ops, mem),
        ir::Format::Rockchip { version } => Err(format!("no Rockchip IOMMU version {version}")),
        // Only "before 5" or not changes the encoding.
        ir::Format::ExynosSysmmu { version: 1..=4 } => apply::<Exynos<1, true>, 10>(pt, ops, mem),
        ir::Format::ExynosSysmmu { version: 5..=7 } => apply::<Exynos<5, true>, 10>(pt, ops, mem),
        ir::Format::ExynosSysmmu { version } => Err(format!("no Exynos SysMMU version {version}")),
        ir::Format::Sun50i => apply::<Sun50i<true>, 10>(pt, ops, mem),
        ir::Format::TegraSmmu { generation } => match generation.pa_bits() {
            32 => apply::<TegraSmmu<32, true>, 12>(pt, ops, mem),
            _ => apply::<TegraSmmu<34, true>, 12>(pt, ops, mem),
        },
        ir::Format::ArmLpaeS1 | ir::Format::ArmLpaeS2 => {
            let s2 = pt.format == ir::Format::ArmLpaeS2;
            let g = pt.granule.shift();
            let ias = u32::from(pt.ias);
            let class = walk_shape(s2, g, ias);
            let shape = shape_sizes(s2, g)
                .iter()
                .copied()
                .find(|&i| i >= ias && walk_shape(s2, g, i) == class)
                .unwrap_or(0);
            let oa52 = pt.oas == 52;
            lpae_dispatch!(s2, g, shape, oa52, apply (pt, ops, mem);
                (false, 12, [30, 39, 48]), (false, 14, [36, 47, 48]), (false, 16, [42, 52]),
                (true, 12, [30, 34, 39, 43, 48]), (true, 14, [36, 40, 47, 48]),
                (true, 16, [42, 46, 52]))
        }
    }
}

/// Table-slot shift the engine's pool needs for `F` (LPAE: the granule;
/// ARMv7s, Exynos and sun50i: 1 KiB second-level tables; DART 16 KiB,
/// Rockchip and Tegra 4 KiB tables, the size of their pages).
pub fn slot_shift(pt: &ir::PageTable) -> u32 {
    match pt.format {
        ir::Format::ArmV7s { .. } | ir::Format::ExynosSysmmu { .. } | ir::Format::Sun50i => 10,
        _ => pt.granule.shift(),
    }
}

fn apply<F: Format, const SHIFT: u32>(
    pt: &ir::PageTable,
    ops: &[Op],
    mem: &Memory,
) -> Result<Run, String> {
    let live: Vec<LiveWord> = (0..mem.slots()).map(|_| LiveWord::new()).collect();
    let pool = PageAllocPool::<_, SHIFT>::new(mem, super::memory::PHYS_BASE, &live);
    let mut table = PageTable::<F, _, NoTlb>::new(pool, NoTlb)
        .map_err(|e| format!("cannot allocate the root table: {e}"))?;
    let outcomes = ops
        .iter()
        .map(|op| match *op {
            Op::Map {
                iova,
                pa,
                size,
                prot,
                ..
            } => Outcome::Map(map(&mut table, pt, iova, pa, size, prot)),
            Op::Unmap { iova, size } => Outcome::Unmap(
                within(pt, iova, size, u32::from(pt.ias), "IOVA")
                    .map(|()| table.unmap_mut(iova, size)),
            ),
            Op::Lookup { iova } => Outcome::Lookup(table.iova_to_phys(iova)),
        })
        .collect();
    let root = table.root();
    // DART: every TTBR's table; elsewhere the base register names one root
    // (LPAE's concatenated stage-2 tables are one root to the hardware).
    let roots = if matches!(pt.format, ir::Format::AppleDart { .. }) {
        (0..F::ROOT_TABLES)
            .filter_map(|i| table.root_table(i))
            .collect()
    } else {
        vec![root]
    };
    let bytes = 1usize << <F::Desc as Desc>::SHIFT;
    let start = F::START;
    // The root as far as the spec's input range reaches.
    let root_entries =
        1usize << (u32::from(pt.ias) - F::SHIFT[start as usize]).min(F::INDEX_BITS[start as usize]);
    let mut tables = Vec::new();
    dump::<F>(mem, root, start, root_entries, bytes, &mut tables);
    Ok(Run {
        entry_bits: 8 << <F::Desc as Desc>::SHIFT,
        roots,
        outcomes,
        tables,
    })
}

/// Granule-aligned, non-empty and inside `bits` bits.
fn within(pt: &ir::PageTable, addr: u64, size: u64, bits: u32, what: &str) -> Result<(), String> {
    let g = pt.granule.bytes();
    if size == 0 {
        return Err("empty range".to_owned());
    }
    if (addr | size) % g != 0 {
        return Err(format!(
            "{what} or size not aligned to the {g:#x}-byte granule"
        ));
    }
    match addr.checked_add(size - 1) {
        Some(last) if bits >= 64 || last >> bits == 0 => Ok(()),
        _ => Err(format!(
            "{what} range ends beyond the {bits}-bit {}",
            if what == "IOVA" {
                "input range"
            } else {
                "output range"
            }
        )),
    }
}

/// All-or-nothing map cut into the spec's sizes, largest first.
fn map<F: Format, P: pgtable::TablePool>(
    table: &mut PageTable<F, P, NoTlb>,
    pt: &ir::PageTable,
    iova: u64,
    pa: u64,
    size: u64,
    prot: Prot,
) -> Result<(), String> {
    within(pt, iova, size, u32::from(pt.ias), "IOVA")?;
    within(pt, pa, size, u32::from(pt.oas), "PA")?;
    let mut done = 0;
    while done < size {
        let (i, p, left) = (iova + done, pa + done, size - done);
        let chunk = pt
            .page_sizes
            .iter()
            .rev()
            .copied()
            .find(|&s| s <= left && (i | p) % s == 0)
            .unwrap_or(pt.granule.bytes());
        if let Err(e) = table.map_mut(i, p, chunk, prot) {
            if done > 0 {
                table.unmap_mut(iova, done);
            }
            return Err(e.to_string());
        }
        done += chunk;
    }
    Ok(())
}

/// The table at `pa` (level `level` in the engine's numbering) and every
/// table below it, in walk order.
fn dump<F: Format>(
    mem: &Memory,
    pa: u64,
    level: u32,
    entries: usize,
    bytes: usize,
    out: &mut Vec<Table>,
) {
    let words: Vec<u64> = (0..entries)
        .map(|i| mem.read(pa + (i * bytes) as u64, bytes).unwrap_or(0))
        .collect();
    let next: Vec<u64> = if level < 3 {
        words
            .iter()
            .filter(|&&d| d != 0 && F::is_table(d, level))
            .map(|&d| F::table_addr(d, level))
            .collect()
    } else {
        Vec::new()
    };
    out.push(Table {
        addr: pa,
        level: level - F::START + 1,
        entries: words,
    });
    for t in next {
        dump::<F>(
            mem,
            t,
            level + 1,
            1 << F::INDEX_BITS[level as usize + 1],
            bytes,
            out,
        );
    }
}
