//! The Allwinner H6 (sun50i) IOMMU's adapter to the generic harness
//! (`formats/`), shared by the vectors and the property tests, so that
//! both read raw tables, keep the model and check one against the other
//! with the same code. The crate root declares `mod formats;` beside this
//! module.
#![allow(dead_code)]

use iommugen_runtime::pgtable::{StaticPool, Sun50i, Table1K};
use iommugen_runtime::refwalk::sun50i::{leaves, walk, Attrs, WalkConfig};
use iommugen_runtime::Prot;

use crate::formats::{self, FormatUnderTest, Leaves, Span};

/// Physical base of the test pools: 16 KiB aligned (the directory is the
/// pool's first allocation, 16 slots) and below 4 GiB.
pub const POOL_PA: u64 = 0x4000_0000;

pub const CFG: WalkConfig = WalkConfig {};

/// The permissions a mapping with `prot` must have, from the documented
/// domain set-up (book, "Page-table formats"), not from the code.
pub fn expected_attrs(prot: Prot) -> Attrs {
    Attrs {
        read: prot.contains(Prot::READ),
        write: prot.contains(Prot::WRITE),
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

/// The one check (`formats::check`): raw tables hold exactly `model`, the
/// pool the reachable page tables and the 16-slot directory, and engine,
/// walker and model agree on samples.
pub fn check<const N: usize>(
    root: u64,
    pool: &StaticPool<Table1K, N>,
    model: &Model,
    engine: &dyn Fn(u64) -> Option<u64>,
) {
    formats::check::<H6, N>(root, pool, model, engine);
}

/// Range units: a page, 16 pages, a whole page table (1 MiB; the property
/// window is four of them). There are no leaves but the page.
pub const UNITS: [u64; 3] = [1 << 12, 1 << 16, 1 << 20];
/// The property tests' window: four page tables.
const WINDOW: u64 = 4 * UNITS[2];

/// The H6 IOMMU (the format has no variants).
pub struct H6;

impl FormatUnderTest for H6 {
    type F = Sun50i;
    type Mem = Table1K;
    type Word = u32;
    type Attrs = Attrs;
    /// The 16 KiB directory.
    const ROOT_SLOTS: usize = 16;
    const POOL_PA: u64 = POOL_PA;
    const UNITS: &'static [u64] = &UNITS;
    /// 256 pages per page table (no blocks to cut).
    const TABLE_SPAN: u64 = UNITS[2];
    /// The last four DTEs (IOVA bits 31:20 = 0xffc-0xfff).
    const WINDOW_BASE: u64 = (1 << 32) - WINDOW;
    /// Below 4 GiB with room for every shift.
    const PA_BASE: u64 = (1 << 32) - 2 * WINDOW;
    /// Outputs as aligned as the input, or a page, five pages or a page
    /// table off it.
    const PA_SHIFTS: &'static [u64] = &[0, 0x1000, 0x5000, 0x10_0000];

    fn expected(prot: Prot) -> Attrs {
        expected_attrs(prot)
    }

    fn walk(root: u64, ia: u64, read: &dyn Fn(u64) -> u32) -> Option<(u64, Attrs)> {
        let t = walk(&CFG, root, u32::try_from(ia).ok()?, read).ok()?;
        Some((t.pa, t.attrs))
    }

    fn leaves(root: u64, read: &dyn Fn(u64) -> u32) -> Leaves<Attrs> {
        let (found, tables) = leaves(&CFG, root, read).map_err(|f| format!("{f:?}"))?;
        let spans = found.iter().map(|l| Span {
            ia: l.ia,
            size: l.size,
            pa: l.pa,
            attrs: l.attrs,
        });
        Ok((spans.collect(), tables))
    }
}
