//! Exynos SysMMU tables through the generic harness (`formats/`, adapter in
//! `exynos_common/`): random map / unmap / lookup sequences over all three
//! leaf sizes, including partial unmaps of 1 MiB sections and 64 KiB large
//! pages, which the engine splits (Linux refuses them: a warning and 0
//! bytes), and a section cut everywhere. v1 (entries hold the address,
//! tables below 4 GiB), v5 and v7 (entries hold PA >> 4, tables above
//! 4 GiB).
//!
//! Empty first-level entries: Linux points them at one shared zeroed
//! second-level table (a v3.3 prefetch workaround); the engine writes
//! zero. The walker's `leaves` takes a zero entry as empty and counts every
//! table pointer, so pointers to a shared table would break the check that
//! the pool holds exactly the reachable tables.

mod exynos_common;
mod formats;

use exynos_common::{Sysmmu, UNITS};
use formats::driver::{cut_everywhere, ops, run};
use iommugen_runtime::pgtable::{StaticPool, Table1K};
use proptest::prelude::*;

/// The first level (16 slots) and three second-level tables for a window
/// of four sections: small-page maps over all four, and splits with three
/// tables taken, run out of tables.
const SLOTS: usize = 16 + 3;

proptest! {
    #![proptest_config(ProptestConfig {
        cases: if cfg!(miri) { 2 } else { 256 },
        ..ProptestConfig::default()
    })]
    #[test]
    fn exynos_v1_random_ops(ops in ops::<Sysmmu<1>>()) {
        static POOL: StaticPool<Table1K, SLOTS> = StaticPool::new();
        run::<Sysmmu<1>, SLOTS>(&POOL, &ops);
    }

    #[test]
    fn exynos_v5_random_ops(ops in ops::<Sysmmu<5>>()) {
        static POOL: StaticPool<Table1K, SLOTS> = StaticPool::new();
        run::<Sysmmu<5>, SLOTS>(&POOL, &ops);
    }

    #[test]
    fn exynos_v7_random_ops(ops in ops::<Sysmmu<7>>()) {
        static POOL: StaticPool<Table1K, SLOTS> = StaticPool::new();
        run::<Sysmmu<7>, SLOTS>(&POOL, &ops);
    }
}

/// A 1 MiB section cut by a one-page hole at every 64 KiB step (three
/// pages into each large-page group): each cut turns it into one
/// second-level table, which goes with the rest. v1 and v5.
#[test]
fn section_cut_everywhere() {
    let step = if cfg!(miri) { 1 << 19 } else { 1 << 16 };
    static P1: StaticPool<Table1K, 17> = StaticPool::new();
    cut_everywhere::<Sysmmu<1>, 17>(&P1, (0x1230_0000, 0x8760_0000, UNITS[2]), (step, 0x3000), 1);
    static P5: StaticPool<Table1K, 17> = StaticPool::new();
    let range = (0x1230_0000, 0xf_fff0_0000, UNITS[2]);
    cut_everywhere::<Sysmmu<5>, 17>(&P5, range, (step, 0x3000), 1);
}

/// Splits that find the pool empty, by hand through the same driver: the
/// engine unmaps the prefix before the block it cannot split and stops
/// (the driver accepts that only with no table free). Three pages in
/// sections 0-2 of the window take the three tables, a section at 3: a
/// cut at its start unmaps nothing; a range from the page before it into
/// it unmaps that page only. Then, with sections at 2 and 3 and two
/// tables taken, a range from inside 2 into 3 splits 2 (the last table)
/// and stops at 3.
#[test]
fn splits_without_a_table_unmap_a_prefix() {
    use formats::driver::Op;
    let page = |anchor, off| Op::Map {
        unit: 0,
        anchor,
        off,
        len: 1,
        pshift: 0,
        prot: 3,
        excl: false,
    };
    let sections = |anchor, len| Op::Map {
        unit: 2,
        anchor,
        off: 0,
        len,
        pshift: 0,
        prot: 1,
        excl: true,
    };
    let unmap = |unit, off, len, excl| Op::Unmap {
        unit,
        anchor: 3,
        off,
        len,
        excl,
    };
    let exhausted = [
        page(0, 0),
        page(1, 0),
        page(3, -1),
        sections(3, 1),
        unmap(0, 1, 1, false),
        unmap(0, -1, 2, true),
    ];
    let start_split = [
        page(0, 0),
        page(1, 0),
        sections(2, 2),
        unmap(1, -1, 2, false),
    ];
    static P1: StaticPool<Table1K, SLOTS> = StaticPool::new();
    static P5: StaticPool<Table1K, SLOTS> = StaticPool::new();
    for ops in [&exhausted[..], &start_split[..]] {
        run::<Sysmmu<1>, SLOTS>(&P1, ops);
        run::<Sysmmu<5>, SLOTS>(&P5, ops);
    }
}
