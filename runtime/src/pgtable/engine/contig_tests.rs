//! The engine on 32-bit entries and contiguous groups (ARMv7s), small
//! enough for miri: maps of every leaf size through both entry points,
//! partial unmaps that split groups and sections, the pool back to the
//! root.

use super::PageTable;
use crate::pgtable::{ArmV7s, NoTlb, StaticPool, Table1K, TablePool};
use crate::Prot;

const RW: Prot = Prot::READ.union(Prot::WRITE);

#[test]
fn every_leaf_size_maps_splits_and_frees() {
    static POOL: StaticPool<Table1K, 24> = StaticPool::new();
    POOL.set_phys_base(0x4000_0000);
    let mut pt: PageTable<ArmV7s, _, _> = PageTable::new(&POOL, NoTlb).unwrap();
    // 16M supersection, 1M section, 64K large page, 4K page.
    let cases = [
        (0x0100_0000u64, 1u64 << 24),
        (0x0200_0000, 1 << 20),
        (0x0300_0000, 1 << 16),
        (0x0400_0000, 1 << 12),
    ];
    for (i, &(ia, size)) in cases.iter().enumerate() {
        let pa = ia + 0x1000_0000;
        if i % 2 == 0 {
            pt.map(ia, pa, size, RW).unwrap();
        } else {
            pt.map_mut(ia, pa, size, RW).unwrap();
        }
        assert_eq!(pt.iova_to_phys(ia + size - 1), Some(pa + size - 1));
    }
    // Cut a page out of the middle of each: groups split in place,
    // sections into a second-level table.
    for &(ia, size) in &cases[..3] {
        let hole = ia + size / 2;
        assert_eq!(pt.unmap_mut(hole, 1 << 12), 1 << 12);
        assert_eq!(pt.iova_to_phys(hole), None);
        assert_eq!(
            pt.iova_to_phys(hole + (1 << 12)),
            Some(hole + (1 << 12) + 0x1000_0000)
        );
    }
    for &(ia, size) in &cases {
        let want = if size == 1 << 12 {
            size
        } else {
            size - (1 << 12)
        };
        assert_eq!(pt.unmap(ia, size), want);
    }
    assert_eq!(POOL.in_use(), 16);
    drop(pt);
    assert_eq!(POOL.in_use(), 0);
}
