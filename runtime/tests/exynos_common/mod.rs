//! The Exynos SysMMU's adapter to the generic harness (`formats/`), shared
//! by the vectors and the property tests, so that both read raw tables,
//! keep the model and check one against the other with the same code.
//! The crate root declares `mod formats;` beside this module.
#![allow(dead_code)]

use iommugen_runtime::pgtable::{Exynos, StaticPool, Table1K};
use iommugen_runtime::refwalk::exynos::{leaves, walk, Attrs, WalkConfig};
use iommugen_runtime::Prot;

use crate::formats::{self, FormatUnderTest, Leaves, Span};

/// Physical base of the v1-v4 test pools: 16 KiB aligned (the first-level
/// table is the pool's first allocation) and below 4 GiB.
pub const POOL_PA_V1: u64 = 0x4000_0000;
/// Physical base of the v5+ test pools: above 4 GiB (PA bits 35:32 = 0xb),
/// so every table pointer needs the shifted encoding.
pub const POOL_PA_V5: u64 = 0xb_8000_0000;

pub fn pool_pa(version: u32) -> u64 {
    if version >= 5 {
        POOL_PA_V5
    } else {
        POOL_PA_V1
    }
}

/// The permissions a mapping with `prot` must have, from Linux's
/// protection tables (book, "Page-table formats"), not from the code:
/// before v5 write-only becomes read/write.
pub fn expected_attrs(version: u32, prot: Prot) -> Attrs {
    let write = prot.contains(Prot::WRITE);
    Attrs {
        read: prot.contains(Prot::READ) || (version < 5 && write),
        write,
    }
}

/// What should be mapped, with the walker's attributes.
pub type Model = formats::Model<Attrs>;

/// Reads one entry from a pool's memory by physical address.
pub fn reader<const N: usize>(pool: &StaticPool<Table1K, N>) -> impl Fn(u64) -> u32 + '_ {
    formats::reader32(pool)
}

/// Every entry of the pool, to compare table memory before and after.
pub fn snapshot<const N: usize>(pool: &StaticPool<Table1K, N>) -> Vec<u32> {
    formats::snapshot(pool)
}

/// Range units: a small page, a large page, a section (the largest leaf;
/// the property window is four sections).
pub const UNITS: [u64; 3] = [1 << 12, 1 << 16, 1 << 20];
/// The property tests' window: four sections.
const WINDOW: u64 = 4 * UNITS[2];

/// A System MMU of major version `V` (only "below 5 or not" changes the
/// entries, but each version is its own engine type).
pub struct Sysmmu<const V: u32>;

impl<const V: u32> Sysmmu<V> {
    const CFG: WalkConfig = WalkConfig { version: V };

    /// The one check (`formats::check`) for this version: raw tables hold
    /// exactly `model`, the pool the reachable tables and the 16-slot
    /// first level, and engine, walker and model agree on samples.
    pub fn check<const N: usize>(
        root: u64,
        pool: &StaticPool<Table1K, N>,
        model: &Model,
        engine: &dyn Fn(u64) -> Option<u64>,
    ) {
        formats::check::<Self, N>(root, pool, model, engine);
    }
}

impl<const V: u32> FormatUnderTest for Sysmmu<V> {
    type F = Exynos<V>;
    type Mem = Table1K;
    type Word = u32;
    type Attrs = Attrs;
    /// The 16 KiB first level.
    const ROOT_SLOTS: usize = 16;
    const POOL_PA: u64 = if V >= 5 { POOL_PA_V5 } else { POOL_PA_V1 };
    const UNITS: &'static [u64] = &UNITS;
    /// 256 small pages per second-level table: a section.
    const TABLE_SPAN: u64 = UNITS[2];
    /// The last four first-level entries (IOVA bits 31:20 = 0xffc-0xfff).
    const WINDOW_BASE: u64 = (1 << 32) - WINDOW;
    /// v1-v4: below 4 GiB with room for every shift; v5+: ending at
    /// 0x9_0000_0000, so shifted outputs cross into PA bit 32 set anew
    /// (entry bit 28 flips with every bit below it).
    const PA_BASE: u64 = if V >= 5 {
        0x9_0000_0000 - WINDOW
    } else {
        (1 << 32) - 2 * WINDOW
    };
    /// Sections (0, three sections on), large pages only (64 KiB off),
    /// small pages only (4 KiB off).
    const PA_SHIFTS: &'static [u64] = &[0, 0x1000, 0x1_0000, 0x30_0000];

    fn expected(prot: Prot) -> Attrs {
        expected_attrs(V, prot)
    }

    fn walk(root: u64, ia: u64, read: &dyn Fn(u64) -> u32) -> Option<(u64, Attrs)> {
        let t = walk(&Self::CFG, root, u32::try_from(ia).ok()?, read).ok()?;
        Some((t.pa, t.attrs))
    }

    fn leaves(root: u64, read: &dyn Fn(u64) -> u32) -> Leaves<Attrs> {
        let (found, tables) = leaves(&Self::CFG, root, read).map_err(|f| format!("{f:?}"))?;
        let spans = found.iter().map(|l| Span {
            ia: l.ia,
            size: l.size,
            pa: l.pa,
            attrs: l.attrs,
        });
        Ok((spans.collect(), tables))
    }
}
