//! Tegra30-generation SMMU tables through the generic harness (`formats/`):
//! random map / unmap / lookup sequences with a pool that runs out of page
//! tables (unmaps cut multi-page and multi-table mappings anywhere), and a
//! whole page table cut everywhere. Both address widths: 32 bits
//! (Tegra30, Tegra114) below 4 GiB, and 34 bits (Tegra124 and later) with
//! tables above 4 GiB and outputs that cross the 4 GiB and 8 GiB lines
//! (PFN bits 20 and 21 change).

mod formats;

use formats::driver::{cut_everywhere, ops, run};
use formats::{FormatUnderTest, Leaves, Span};
use iommugen_runtime::pgtable::{StaticPool, Table4K, TegraSmmu};
use iommugen_runtime::refwalk::tegra_smmu::{leaves, walk, Attrs, WalkConfig};
use iommugen_runtime::Prot;
use proptest::prelude::*;

/// A page, 16 pages, a whole page table (4 MiB).
const UNITS: [u64; 3] = [1 << 12, 1 << 16, 1 << 22];
const WINDOW: u64 = 4 * UNITS[2];

struct Tegra<const PA_BITS: u32>;

impl<const PA_BITS: u32> FormatUnderTest for Tegra<PA_BITS> {
    type F = TegraSmmu<PA_BITS>;
    type Mem = Table4K;
    type Word = u32;
    type Attrs = Attrs;
    /// The one-page directory.
    const ROOT_SLOTS: usize = 1;
    /// 32 bits: below 4 GiB; 34 bits: just below 16 GiB, so every table's
    /// PFN has bits 20 and 21 set.
    const POOL_PA: u64 = if PA_BITS == 34 {
        0x3_ff00_0000
    } else {
        0x4000_0000
    };
    const UNITS: &'static [u64] = &UNITS;
    /// 1024 pages per page table (no blocks to cut).
    const TABLE_SPAN: u64 = UNITS[2];
    /// The top four directory entries of the 32-bit input.
    const WINDOW_BASE: u64 = (1 << 32) - WINDOW;
    /// 32 bits: near the top of 4 GiB; 34 bits: ending at 8 GiB, so
    /// shifted outputs cross into PFN bit 21.
    const PA_BASE: u64 = if PA_BITS == 34 {
        0x2_0000_0000 - WINDOW
    } else {
        (1 << 32) - 3 * WINDOW
    };
    const PA_SHIFTS: &'static [u64] = &[0, 0x41_000, 0x82_000, 0xc3_000, 0x104_000];

    /// From the driver's PTE bits: read and write as asked, and the
    /// non-secure bit on every page.
    fn expected(prot: Prot) -> Attrs {
        Attrs {
            read: prot.contains(Prot::READ),
            write: prot.contains(Prot::WRITE),
            nonsecure: true,
        }
    }

    fn walk(root: u64, ia: u64, read: &dyn Fn(u64) -> u32) -> Option<(u64, Attrs)> {
        let cfg = WalkConfig { pa_bits: PA_BITS };
        let t = walk(&cfg, root, u32::try_from(ia).ok()?, read).ok()?;
        Some((t.pa, t.attrs))
    }

    fn leaves(root: u64, read: &dyn Fn(u64) -> u32) -> Leaves<Attrs> {
        let (found, tables) =
            leaves(&WalkConfig { pa_bits: PA_BITS }, root, read).map_err(|f| format!("{f:?}"))?;
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
    fn tegra_32bit_random_ops(ops in ops::<Tegra<32>>()) {
        // The directory and up to three page tables for a four-table
        // window: maps that span all four run out of tables.
        static POOL: StaticPool<Table4K, 4> = StaticPool::new();
        run::<Tegra<32>, 4>(&POOL, &ops);
    }

    #[test]
    fn tegra_34bit_random_ops(ops in ops::<Tegra<34>>()) {
        static POOL: StaticPool<Table4K, 4> = StaticPool::new();
        run::<Tegra<34>, 4>(&POOL, &ops);
    }
}

/// A 4 MiB mapping (one full page table, 34-bit output above 8 GiB) cut by
/// a one-page hole at every 256 KiB step: the table goes only with its
/// last page.
#[test]
fn full_table_cut_everywhere() {
    static POOL: StaticPool<Table4K, 4> = StaticPool::new();
    let step = if cfg!(miri) { 1 << 21 } else { 1 << 18 };
    cut_everywhere::<Tegra<34>, 4>(&POOL, (0x1000_0000, 0x2_ffe0_0000, UNITS[2]), (step, 0), 1);
}
