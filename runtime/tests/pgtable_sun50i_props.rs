//! Allwinner H6 (sun50i) IOMMU tables through the generic harness
//! (`formats/`, adapter in `sun50i_common/`): random map / unmap / lookup
//! sequences of 4 KiB pages (the only leaf; unmaps cut multi-page and
//! multi-table mappings anywhere), with a pool that runs out of page
//! tables, and a whole page table cut everywhere.

mod formats;
mod sun50i_common;

use formats::driver::{cut_everywhere, ops, run};
use iommugen_runtime::pgtable::{StaticPool, Table1K};
use proptest::prelude::*;
use sun50i_common::{H6, UNITS};

proptest! {
    #![proptest_config(ProptestConfig {
        cases: if cfg!(miri) { 2 } else { 256 },
        ..ProptestConfig::default()
    })]
    #[test]
    fn sun50i_random_ops(ops in ops::<H6>()) {
        // The directory (16 slots) and three page tables for a window of
        // four: maps that span all four run out of tables.
        static POOL: StaticPool<Table1K, { 16 + 3 }> = StaticPool::new();
        run::<H6, { 16 + 3 }>(&POOL, &ops);
    }
}

/// A whole page table (1 MiB) mapped in one call, a one-page hole at
/// every 16 KiB step: the table stays until its last page goes.
#[test]
fn full_table_cut_everywhere() {
    static POOL: StaticPool<Table1K, 17> = StaticPool::new();
    let step = if cfg!(miri) { 1 << 18 } else { 1 << 14 };
    cut_everywhere::<H6, 17>(&POOL, (0x0070_0000, 0x9ab0_0000, UNITS[2]), (step, 0), 1);
}
