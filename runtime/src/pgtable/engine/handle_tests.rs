//! The shared single-page paths and CPU handles must never write through a
//! walk that outlived its table, and a handle's credits must leave every
//! count right: tables come back when the last holder lets go.

use super::PageTable;
use crate::pgtable::formats::lpae::S1G4K48Pages;
use crate::pgtable::pool::TablePool;
use crate::pgtable::{MapError, NoTlb, StaticPool, Table4K};
use crate::Prot;

const PAGE: u64 = 4096;
/// One last-level table's span.
const SPAN: u64 = 2 << 20;
const A: u64 = 0x4000_0000;
/// Another level-1 entry's span, so its tables are other tables.
const B: u64 = A + (1 << 30);

type Pool = StaticPool<Table4K, 8>;

fn rw() -> Prot {
    Prot::READ | Prot::WRITE
}

fn pool() -> Pool {
    let pool = Pool::new();
    pool.set_phys_base(0x8000_0000);
    pool
}

/// A slow call's walk outlives its table: the table retires by its count
/// and its slot becomes B's. Both single-page paths notice and change
/// nothing.
#[test]
fn a_stale_walk_writes_nothing() {
    let pool = pool();
    let pt: PageTable<S1G4K48Pages, _, _> = PageTable::new(&pool, NoTlb).unwrap();
    pt.map(A, 0x1_0000_0000, PAGE, rw()).unwrap();
    pt.map(A + PAGE, 0x1_0000_1000, PAGE, rw()).unwrap();
    // The slow call's walk: the retirement count, then the path.
    let epoch = pt.retirements::<true>();
    let (path, ptr) = pt.walk_to_last(A).unwrap();
    assert_eq!(pt.unmap(A, PAGE), PAGE);
    assert_eq!(pt.unmap(A + PAGE, PAGE), PAGE);
    pt.map(B, 0x2_0000_0000, PAGE, rw()).unwrap();
    pt.map(B + 2 * PAGE, 0x2_0000_2000, PAGE, rw()).unwrap();
    assert_eq!(
        pt.table_at(B, 3),
        Some(path[3]),
        "the slot is B's table now"
    );
    assert_eq!(pt.unmap_last_shared(&path, ptr, epoch, A + 2 * PAGE), None);
    assert_eq!(pt.iova_to_phys(B + 2 * PAGE), Some(0x2_0000_2000));
    assert!(!pt.map_last_shared(path[3], ptr, epoch, A + PAGE, 0x1_0000_1000, 0));
    assert_eq!(pt.iova_to_phys(B + PAGE), None);
    assert_eq!(pt.live_entries(B, 3), Some(2));
}

/// A handle's table is taken away by a whole-span unmap (the only way
/// while the handle holds credits) and its slot reused for B: the handle's
/// next calls walk again and leave B alone.
#[test]
fn a_handle_walks_again_after_a_whole_span_unmap() {
    let pool = pool();
    let pt: PageTable<S1G4K48Pages, _, _> = PageTable::new(&pool, NoTlb).unwrap();
    let mut h = pt.handle();
    h.map(A, 0x1_0000_0000, PAGE, rw()).unwrap();
    h.map(A + PAGE, 0x1_0000_1000, PAGE, rw()).unwrap();
    let stale = pt.table_at(A, 3).unwrap();
    // The span's new owner unmaps all of it: its pages are counted from
    // the entries (the count holds the handle's credits), not the count.
    assert_eq!(pt.unmap(A, SPAN), 2 * PAGE);
    pt.map(B, 0x2_0000_0000, PAGE, rw()).unwrap();
    pt.map(B + 2 * PAGE, 0x2_0000_2000, PAGE, rw()).unwrap();
    assert_eq!(pt.table_at(B, 3), Some(stale), "the slot is B's table now");
    assert_eq!(h.unmap(A + 2 * PAGE, PAGE), 0, "nothing of A's is mapped");
    assert_eq!(pt.iova_to_phys(B + 2 * PAGE), Some(0x2_0000_2000));
    h.map(A + PAGE, 0x1_0000_1000, PAGE, rw()).unwrap();
    assert_ne!(pt.table_at(A, 3), Some(stale));
    assert_eq!(pt.iova_to_phys(A + PAGE), Some(0x1_0000_1000));
    assert_eq!(pt.iova_to_phys(B + PAGE), None, "B's table untouched");
    assert_eq!(pt.live_entries(B, 3), Some(2));
    assert_eq!(h.unmap(A + PAGE, PAGE), PAGE);
    drop(h);
    assert_eq!(pt.unmap(B, PAGE), PAGE);
    assert_eq!(pt.unmap(B + 2 * PAGE, PAGE), PAGE);
    assert_eq!(pool.in_use(), 1, "only the root is left");
}

/// Credits: counts are right once the handle lets go, an emptied table
/// stays while a handle holds it and retires when it is let go.
#[test]
fn a_handle_gives_its_tables_back_when_dropped() {
    let pool = pool();
    let pt: PageTable<S1G4K48Pages, _, _> = PageTable::new(&pool, NoTlb).unwrap();
    let mut h = pt.handle();
    for i in 0..8 {
        h.map(A + i * PAGE, 0x1_0000_0000 + i * PAGE, PAGE, rw())
            .unwrap();
    }
    // A taken page is refused, and counts nothing.
    assert_eq!(
        h.map(A + 3 * PAGE, 0x9000, PAGE, rw()),
        Err(MapError::Overlap)
    );
    assert_eq!(h.unmap(A + 3 * PAGE, PAGE), PAGE);
    assert_eq!(h.unmap(A + 3 * PAGE, PAGE), 0, "already gone");
    // A multi-page call takes the table's general path.
    assert_eq!(h.unmap(A, 3 * PAGE), 3 * PAGE);
    drop(h);
    assert_eq!(pt.live_entries(A, 3), Some(4), "pages 4..8");
    let mut h = pt.handle();
    for i in 4..8 {
        assert_eq!(h.unmap(A + i * PAGE, PAGE), PAGE);
    }
    assert!(pt.table_at(A, 3).is_some(), "held by the handle");
    drop(h);
    assert_eq!(pt.table_at(A, 3), None, "retired when let go");
    assert_eq!(pool.in_use(), 1);
    // Refused arguments are the table's errors.
    let mut h = pt.handle();
    assert_eq!(h.map(A + 1, 0, PAGE, rw()), Err(MapError::Misaligned));
    assert_eq!(h.unmap(A, 0), 0);
}

/// More pages than credit batches, in and out, on two tables sharing a
/// way: surplus credits go back, a way reused for another table lets the
/// first go, and the counts stay the number of pages.
#[test]
fn credits_in_batches_and_ways_reused() {
    let pool = pool();
    let pt: PageTable<S1G4K48Pages, _, _> = PageTable::new(&pool, NoTlb).unwrap();
    let mut h = pt.handle();
    // Spans A and A + 4 spans fall in the same way.
    let other = A + 4 * SPAN;
    for i in 0..300 {
        h.map(A + i * PAGE, 0x1_0000_0000 + i * PAGE, PAGE, rw())
            .unwrap();
    }
    for i in 0..300 {
        h.map(other + i * PAGE, 0x2_0000_0000 + i * PAGE, PAGE, rw())
            .unwrap();
    }
    // The way moved to `other`: A's table was let go, its count exact.
    assert_eq!(pt.live_entries(A, 3), Some(300));
    for i in 0..299 {
        assert_eq!(h.unmap(A + i * PAGE, PAGE), PAGE);
    }
    assert_eq!(
        pt.iova_to_phys(A + 299 * PAGE),
        Some(0x1_0000_0000 + 299 * PAGE)
    );
    drop(h);
    assert_eq!(pt.live_entries(A, 3), Some(1));
    assert_eq!(pt.live_entries(other, 3), Some(300));
    assert_eq!(pt.unmap(A, SPAN), PAGE);
    assert_eq!(pt.unmap(other, SPAN), 300 * PAGE);
    assert_eq!(pool.in_use(), 1);
}
