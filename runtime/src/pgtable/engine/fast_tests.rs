//! The exclusive single-page fast paths (walk hint hit) must behave exactly
//! like the general path: counts, retirement, TLB calls, overlap errors.

use core::cell::Cell;

use super::PageTable;
use crate::pgtable::formats::lpae::S1G4K48Pages;
use crate::pgtable::pool::TablePool;
use crate::pgtable::{MapError, StaticPool, Table4K, TlbOps};
use crate::Prot;

const PAGE: u64 = 4096;
/// Start of one last-level table's span (2 MiB aligned), away from 0.
const BASE: u64 = 0x4000_0000;

/// Counts each maintenance call and keeps the last range invalidated.
#[derive(Default)]
struct Recorder {
    ranges: Cell<u32>,
    walks: Cell<u32>,
    syncs: Cell<u32>,
    last: Cell<(u64, u64, u64, bool)>,
}

impl TlbOps for Recorder {
    fn inv_range(&self, iova: u64, size: u64, granule: u64, leaf: bool) {
        self.ranges.set(self.ranges.get() + 1);
        self.last.set((iova, size, granule, leaf));
    }
    fn inv_walk(&self, _: u64, _: u64, _: u64) {
        self.walks.set(self.walks.get() + 1);
    }
    fn sync(&self) {
        self.syncs.set(self.syncs.get() + 1);
    }
}

impl Recorder {
    fn counts(&self) -> (u32, u32, u32) {
        (self.ranges.get(), self.walks.get(), self.syncs.get())
    }
}

type Pt<'a> = PageTable<S1G4K48Pages, &'a StaticPool<Table4K, 8>, &'a Recorder>;

fn rw() -> Prot {
    Prot::READ | Prot::WRITE
}

#[test]
fn hinted_single_pages_count_retire_and_gather() {
    let pool: StaticPool<Table4K, 8> = StaticPool::new();
    pool.set_phys_base(0x8000_0000);
    let tlb = Recorder::default();
    let mut pt: Pt = PageTable::new(&pool, &tlb).unwrap();
    // Root + L1 + L2 + L3 for the first page; the next three hit the hint.
    for i in 0..4 {
        pt.map_mut(BASE + i * PAGE, 0x1_0000_0000 + i * PAGE, PAGE, rw())
            .unwrap();
    }
    assert_eq!(pool.in_use(), 4);
    assert_eq!(pt.live_entries(BASE, 3), Some(4));
    assert_eq!(pt.iova_to_phys(BASE + 2 * PAGE + 5), Some(0x1_0000_2005));
    // A taken entry on the hinted path is still an overlap, and changes nothing.
    assert_eq!(
        pt.map_mut(BASE + PAGE, 0x2_0000_0000, PAGE, rw()),
        Err(MapError::Overlap)
    );
    assert_eq!(pt.live_entries(BASE, 3), Some(4));
    assert_eq!(
        tlb.counts(),
        (0, 0, 0),
        "maps into empty entries need no TLB work"
    );

    // Each unmap of a page in a table that stays non-empty: one leaf range, one sync.
    for i in 0..3 {
        assert_eq!(pt.unmap_mut(BASE + i * PAGE, PAGE), PAGE);
        assert_eq!(tlb.counts(), (i as u32 + 1, 0, i as u32 + 1));
        assert_eq!(tlb.last.get(), (BASE + i * PAGE, PAGE, PAGE, true));
        assert_eq!(pt.live_entries(BASE, 3), Some(3 - i));
        assert_eq!(pt.iova_to_phys(BASE + i * PAGE), None);
    }
    // Unmapping an empty entry unmaps nothing.
    assert_eq!(pt.unmap_mut(BASE, PAGE), 0);
    // The last page empties the table: it and its empty ancestors below the
    // root are unlinked, each with a walk invalidation, then one sync.
    let before = tlb.counts();
    assert_eq!(pt.unmap_mut(BASE + 3 * PAGE, PAGE), PAGE);
    let after = tlb.counts();
    assert_eq!(after.0 - before.0, 1, "one leaf range");
    assert_eq!(after.1 - before.1, 3, "L3, L2 and L1 tables unlinked");
    assert_eq!(after.2 - before.2, 1, "one sync");
    assert_eq!(pool.in_use(), 1, "only the root is left");
    // The hint was dropped with the tables: the next map walks and allocates.
    pt.map_mut(BASE, 0x3_0000_0000, PAGE, rw()).unwrap();
    assert_eq!(pool.in_use(), 4);
    assert_eq!(pt.iova_to_phys(BASE), Some(0x3_0000_0000));
}

/// Two streams whose last-level tables share a way of the hint (their
/// spans are `WAYS` tables apart): every call misses the last-level hint
/// and starts at the hinted level-2 table. Tables fill, retire and come
/// back exactly as through full walks, and retiring a last-level table
/// under a level-2 start unlinks only it.
#[test]
fn level2_hinted_walks_fill_and_retire() {
    const SPAN: u64 = (2 << 20) * super::hint::WAYS as u64;
    let pool: StaticPool<Table4K, 8> = StaticPool::new();
    pool.set_phys_base(0x8000_0000);
    let tlb = Recorder::default();
    let mut pt: Pt = PageTable::new(&pool, &tlb).unwrap();
    for i in 0..8 {
        for s in 0..2 {
            let ia = BASE + s * SPAN + i * PAGE;
            pt.map_mut(ia, 0x1_0000_0000 + ia, PAGE, rw()).unwrap();
        }
    }
    // Root, L1, L2 and one L3 per stream.
    assert_eq!(pool.in_use(), 5);
    assert_eq!(pt.live_entries(BASE, 2), Some(2));
    assert_eq!(pt.live_entries(BASE, 3), Some(8));
    assert_eq!(pt.live_entries(BASE + SPAN, 3), Some(8));
    assert_eq!(
        pt.map_mut(BASE + SPAN + PAGE, 0, PAGE, rw()),
        Err(MapError::Overlap)
    );
    // Empty the second stream's table, alternating with unmaps of the
    // first: the second table retires alone, the level-2 table stays.
    for i in 0..8 {
        assert_eq!(pt.unmap_mut(BASE + SPAN + i * PAGE, PAGE), PAGE);
        if i < 4 {
            assert_eq!(pt.unmap_mut(BASE + i * PAGE, PAGE), PAGE);
        }
    }
    assert_eq!(pool.in_use(), 4);
    assert_eq!(pt.live_entries(BASE, 2), Some(1));
    assert_eq!(pt.live_entries(BASE, 3), Some(4));
    assert_eq!(pt.iova_to_phys(BASE + SPAN), None);
    assert_eq!(
        pt.iova_to_phys(BASE + 5 * PAGE),
        Some(0x1_0000_0000 + BASE + 5 * PAGE)
    );
    // A map in the retired span walks (the hint was dropped) and gets a
    // fresh table under the same level-2 table.
    pt.map_mut(BASE + SPAN, 0x5000, PAGE, rw()).unwrap();
    assert_eq!(pool.in_use(), 5);
    assert_eq!(pt.live_entries(BASE, 2), Some(2));
    // Everything out, alternating spans: back to the root alone.
    for i in 4..8 {
        assert_eq!(pt.unmap_mut(BASE + i * PAGE, PAGE), PAGE);
    }
    assert_eq!(pt.unmap_mut(BASE + SPAN, PAGE), PAGE);
    assert_eq!(pool.in_use(), 1);
}

/// Streams in neighbouring last-level tables keep a way each and take the
/// single-page fast paths in turn; a table retired from its way's hinted
/// path unlinks only it, and the other ways were dropped with it.
#[test]
fn streams_in_neighbouring_tables_keep_their_ways() {
    const SPAN: u64 = 2 << 20;
    let streams = super::hint::WAYS as u64;
    let pool: StaticPool<Table4K, 8> = StaticPool::new();
    pool.set_phys_base(0x8000_0000);
    let tlb = Recorder::default();
    let mut pt: Pt = PageTable::new(&pool, &tlb).unwrap();
    for i in 0..16 {
        for s in 0..streams {
            let ia = BASE + s * SPAN + i * PAGE;
            pt.map_mut(ia, 0x1_0000_0000 + ia, PAGE, rw()).unwrap();
        }
    }
    // Root, L1, L2 and one L3 per stream.
    assert_eq!(pool.in_use(), 3 + streams as usize);
    for s in 0..streams {
        assert_eq!(pt.live_entries(BASE + s * SPAN, 3), Some(16));
        // A taken entry through a hinted way is still an overlap.
        assert_eq!(
            pt.map_mut(BASE + s * SPAN + 3 * PAGE, 0, PAGE, rw()),
            Err(MapError::Overlap)
        );
    }
    assert_eq!(tlb.counts(), (0, 0, 0));
    // Unmap the streams in turn; stream 1 empties first and retires alone.
    for i in 0..16 {
        for s in 0..streams {
            if s == 1 || i < 8 {
                assert_eq!(pt.unmap_mut(BASE + s * SPAN + i * PAGE, PAGE), PAGE);
            }
        }
    }
    assert_eq!(pool.in_use(), 2 + streams as usize);
    assert_eq!(pt.live_entries(BASE + SPAN, 3), None);
    assert_eq!(pt.live_entries(BASE, 2), Some(streams - 1));
    for s in (0..streams).filter(|&s| s != 1) {
        assert_eq!(pt.live_entries(BASE + s * SPAN, 3), Some(8));
        let ia = BASE + s * SPAN + 9 * PAGE;
        assert_eq!(pt.iova_to_phys(ia), Some(0x1_0000_0000 + ia));
    }
    // Everything out: back to the root alone.
    for s in 0..streams {
        assert_eq!(
            pt.unmap_mut(BASE + s * SPAN, SPAN),
            if s == 1 { 0 } else { 8 * PAGE }
        );
    }
    assert_eq!(pool.in_use(), 1);
}
