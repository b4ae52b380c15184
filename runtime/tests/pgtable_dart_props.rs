//! Apple DART through the generic harness (`formats/`): random map / unmap
//! / lookup sequences (unmaps cutting into ranges mapped in one call; the
//! format has no blocks, so no cut splits anything), and a whole
//! second-level table cut everywhere. DART1 with one TTBR, DART2 with four
//! (a window across the TTBR 0/1 boundary).

mod formats;

use formats::driver::{cut_everywhere, ops, run};
use formats::{FormatUnderTest, Leaves, Span};
use iommugen_runtime::pgtable::{AppleDart, Format, StaticPool, Table16K};
use iommugen_runtime::refwalk::apple_dart::{leaves, walk, Attrs, WalkConfig};
use iommugen_runtime::Prot;
use proptest::prelude::*;

const PAGE: u64 = 1 << 14;
/// A page, 32 pages, and a whole second-level table (32 MiB).
const UNITS: [u64; 3] = [PAGE, 32 * PAGE, 2048 * PAGE];

struct Dart<const G: u8, const IAS: u32>;

impl<const G: u8, const IAS: u32> Dart<G, IAS> {
    const CFG: WalkConfig = WalkConfig {
        generation: G,
        ias: IAS,
    };

    /// The TTBRs of the contiguous root: one first-level table each.
    fn ttbrs(root: u64) -> Vec<u64> {
        let n = <AppleDart<G, IAS> as Format>::ROOT_TABLES;
        (0..u64::from(n)).map(|i| root + i * PAGE).collect()
    }
}

impl<const G: u8, const IAS: u32> FormatUnderTest for Dart<G, IAS> {
    type F = AppleDart<G, IAS>;
    type Mem = Table16K;
    type Word = u64;
    type Attrs = Attrs;
    /// One first-level table per TTBR: 2^(IAS - 36), at least one.
    const ROOT_SLOTS: usize = if IAS > 36 { 1 << (IAS - 36) } else { 1 };
    /// 16 KiB aligned, above 4 GiB (table pointers use the high address
    /// bits) and below 2^36.
    const POOL_PA: u64 = 0x8_0000_0000;
    const UNITS: &'static [u64] = &UNITS;
    /// 2048 16 KiB pages per second-level table (no blocks to cut).
    const TABLE_SPAN: u64 = UNITS[2];
    /// DART1: the top of the 32-bit input; DART2: two tables' worth each
    /// side of the TTBR 0/1 boundary.
    const WINDOW_BASE: u64 = if G == 1 {
        (1 << 32) - 4 * UNITS[2]
    } else {
        (1 << 36) - 2 * UNITS[2]
    };
    /// Near the top of the output range.
    const PA_BASE: u64 = (1 << <AppleDart<G, IAS> as Format>::OAS) - 8 * UNITS[2];
    const PA_SHIFTS: &'static [u64] = &[0, PAGE, 2 * PAGE];

    /// From the Linux drivers' documented bits: read and write as asked;
    /// DART2 is uncached unless CACHE; DART1 always disables sub-page
    /// protection; every page spans its whole sub-page window.
    fn expected(prot: Prot) -> Attrs {
        Attrs {
            read: prot.contains(Prot::READ),
            write: prot.contains(Prot::WRITE),
            no_cache: G == 2 && !prot.contains(Prot::CACHE),
            subpage_disabled: G == 1,
            subpage: (0, 0xfff),
        }
    }

    fn walk(root: u64, ia: u64, read: &dyn Fn(u64) -> u64) -> Option<(u64, Attrs)> {
        let t = walk(&Self::CFG, &Self::ttbrs(root), ia, read).ok()?;
        Some((t.pa, t.attrs))
    }

    fn leaves(root: u64, read: &dyn Fn(u64) -> u64) -> Leaves<Attrs> {
        let (found, tables) =
            leaves(&Self::CFG, &Self::ttbrs(root), read).map_err(|f| format!("{f:?}"))?;
        let spans = found.iter().map(|l| Span {
            ia: l.ia,
            size: PAGE,
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
    fn dart1_random_ops(ops in ops::<Dart<1, 32>>()) {
        // One root and three second-level tables for a four-table window:
        // maps run out of tables.
        static POOL: StaticPool<Table16K, 4> = StaticPool::new();
        run::<Dart<1, 32>, 4>(&POOL, &ops);
    }

    #[test]
    fn dart2_four_ttbrs_random_ops(ops in ops::<Dart<2, 38>>()) {
        // Four root tables and three second-level tables.
        static POOL: StaticPool<Table16K, 7> = StaticPool::new();
        run::<Dart<2, 38>, 7>(&POOL, &ops);
    }
}

/// A whole second-level table mapped in one call (DART2, behind TTBR 1),
/// a one-page hole at every 2 MiB step: the table stays until its last page.
#[test]
fn full_table_cut_everywhere() {
    static POOL: StaticPool<Table16K, 6> = StaticPool::new();
    let step = if cfg!(miri) { 16 << 20 } else { 2 << 20 };
    let range = (1 << 36, 0x2_0000_0000, UNITS[2]);
    cut_everywhere::<Dart<2, 38>, 6>(&POOL, range, (step, 0x4000), 1);
}
