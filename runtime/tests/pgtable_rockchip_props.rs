//! Rockchip IOMMU tables through the generic harness (`formats/`): random
//! map / unmap / lookup sequences (unmaps cut multi-page and multi-table
//! mappings anywhere), and a whole page table cut everywhere. Both
//! versions; v2 with tables above 4 GiB and output ranges that cross a
//! 64 GiB boundary (both high address fields change).

mod formats;

use formats::driver::{cut_everywhere, ops, run};
use formats::{FormatUnderTest, Leaves, Span};
use iommugen_runtime::pgtable::{Rockchip, StaticPool, Table4K};
use iommugen_runtime::refwalk::rockchip::{leaves, walk, Attrs, WalkConfig};
use iommugen_runtime::Prot;
use proptest::prelude::*;

/// A page, 16 pages, a whole page table (4 MiB).
const UNITS: [u64; 3] = [1 << 12, 1 << 16, 1 << 22];
const WINDOW: u64 = 4 * UNITS[2];

struct Rk<const V: u32>;

impl<const V: u32> FormatUnderTest for Rk<V> {
    type F = Rockchip<V>;
    type Mem = Table4K;
    type Word = u32;
    type Attrs = Attrs;
    /// The one-page directory.
    const ROOT_SLOTS: usize = 1;
    /// v1: below 4 GiB, as v1 requires; v2: above 4 GiB with both high
    /// fields of every table address non-zero (PA 39:36 = 7, 35:32 = 0xf).
    const POOL_PA: u64 = if V == 2 { 0x7f_c000_0000 } else { 0x4000_0000 };
    const UNITS: &'static [u64] = &UNITS;
    /// 1024 pages per page table (no blocks to cut).
    const TABLE_SPAN: u64 = UNITS[2];
    /// Four directory entries at the top of the 32-bit input.
    const WINDOW_BASE: u64 = (1 << 32) - WINDOW;
    /// v1: near the top of 4 GiB; v2: ending at 0x90_0000_0000, so outputs
    /// shifted past it have PA 39:36 go 8 -> 9 and PA 35:32 0xf -> 0.
    const PA_BASE: u64 = if V == 2 {
        0x90_0000_0000 - WINDOW
    } else {
        (1 << 32) - 3 * WINDOW
    };
    const PA_SHIFTS: &'static [u64] = &[0, 0x41_000, 0x82_000, 0xc3_000, 0x104_000];

    /// From the driver's documented PTE flags: read and write as asked,
    /// nothing else expressible.
    fn expected(prot: Prot) -> Attrs {
        Attrs {
            read: prot.contains(Prot::READ),
            write: prot.contains(Prot::WRITE),
        }
    }

    fn walk(root: u64, ia: u64, read: &dyn Fn(u64) -> u32) -> Option<(u64, Attrs)> {
        let cfg = WalkConfig { version: V };
        let t = walk(&cfg, root, u32::try_from(ia).ok()?, read).ok()?;
        Some((t.pa, t.attrs))
    }

    fn leaves(root: u64, read: &dyn Fn(u64) -> u32) -> Leaves<Attrs> {
        let (found, tables) =
            leaves(&WalkConfig { version: V }, root, read).map_err(|f| format!("{f:?}"))?;
        let spans = found.iter().map(|l| Span {
            ia: l.ia,
            size: l.size,
            pa: l.pa,
            attrs: l.attrs,
        });
        Ok((spans.collect(), tables))
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: if cfg!(miri) { 2 } else { 256 },
        ..ProptestConfig::default()
    })]
    #[test]
    fn rockchip_v1_random_ops(ops in ops::<Rk<1>>()) {
        // The directory and up to three page tables for a four-table
        // window: maps that span all four run out of tables.
        static POOL: StaticPool<Table4K, 4> = StaticPool::new();
        run::<Rk<1>, 4>(&POOL, &ops);
    }

    #[test]
    fn rockchip_v2_random_ops(ops in ops::<Rk<2>>()) {
        static POOL: StaticPool<Table4K, 4> = StaticPool::new();
        run::<Rk<2>, 4>(&POOL, &ops);
    }
}

/// A 4 MiB mapping (one full page table, v2, output above 4 GiB) cut by a
/// one-page hole at every 256 KiB step: the table goes only with its last
/// page.
#[test]
fn full_table_cut_everywhere() {
    static POOL: StaticPool<Table4K, 4> = StaticPool::new();
    let step = if cfg!(miri) { 1 << 21 } else { 1 << 18 };
    cut_everywhere::<Rk<2>, 4>(&POOL, (0x1000_0000, 0x3_ffe0_0000, UNITS[2]), (step, 0), 1);
}
