//! A handle's remembered walks must never outlive their tables: a table
//! retired (and reused elsewhere) after a handle walked to it is walked
//! again, by the map and the unmap paths alike.

use super::PageTable;
use crate::pgtable::formats::lpae::S1G4K48Pages;
use crate::pgtable::pool::TablePool;
use crate::pgtable::{NoTlb, StaticPool, Table4K};
use crate::Prot;

const PAGE: u64 = 4096;
const A: u64 = 0x4000_0000;
/// Another level-1 entry's span, so its tables are other tables.
const B: u64 = A + (1 << 30);

fn rw() -> Prot {
    Prot::READ | Prot::WRITE
}

#[test]
fn a_handle_walks_again_after_its_table_is_reused_elsewhere() {
    let pool: StaticPool<Table4K, 8> = StaticPool::new();
    pool.set_phys_base(0x8000_0000);
    let pt: PageTable<S1G4K48Pages, _, _> = PageTable::new(&pool, NoTlb).unwrap();
    let mut h = pt.handle();
    h.map(A, 0x1_0000_0000, PAGE, rw()).unwrap();
    h.map(A + PAGE, 0x1_0000_1000, PAGE, rw()).unwrap();
    let stale = pt.table_at(A, 3).unwrap();
    // A slow call's walk for A's span, as the handle remembers it: the
    // retirement count, then the path.
    let epoch = pt.retirements::<true>();
    let (path, ptr) = pt.walk_to_last(A).unwrap();
    // Another CPU unmaps A's pages (their tables retire) and maps B, which
    // reuses the last-level table's slot.
    let mut other = pt.handle();
    assert_eq!(other.unmap(A, PAGE), PAGE);
    assert_eq!(other.unmap(A + PAGE, PAGE), PAGE);
    other.map(B, 0x2_0000_0000, PAGE, rw()).unwrap();
    other.map(B + 2 * PAGE, 0x2_0000_2000, PAGE, rw()).unwrap();
    assert_eq!(pt.table_at(B, 3), Some(stale), "the slot is B's table now");
    // The slow call goes on with the path it walked: both single-page
    // paths notice the retirement and change nothing.
    assert_eq!(pt.unmap_last_shared(&path, ptr, epoch, A + 2 * PAGE), None);
    assert_eq!(pt.iova_to_phys(B + 2 * PAGE), Some(0x2_0000_2000));
    assert!(!pt.map_last_shared(path[3], ptr, epoch, A + PAGE, 0x1_0000_1000, 0));
    assert_eq!(pt.iova_to_phys(B + PAGE), None);
    assert_eq!(pt.live_entries(B, 3), Some(2));
    // The first handle remembers `stale` for A's span. Its unmap of a page
    // that is not mapped (entry 2 of `stale` is B's page) unmaps nothing.
    assert_eq!(h.unmap(A + 2 * PAGE, PAGE), 0);
    assert_eq!(pt.iova_to_phys(B + 2 * PAGE), Some(0x2_0000_2000));
    // Its map of A + 1 page lands in a table of A's own, not in B's.
    h.map(A + PAGE, 0x1_0000_1000, PAGE, rw()).unwrap();
    assert_ne!(pt.table_at(A, 3), Some(stale));
    assert_eq!(pt.iova_to_phys(A + PAGE), Some(0x1_0000_1000));
    assert_eq!(pt.iova_to_phys(B + PAGE), None, "B's table untouched");
    assert_eq!(pt.live_entries(B, 3), Some(2));
    // And everything goes back.
    assert_eq!(h.unmap(A + PAGE, PAGE), PAGE);
    assert_eq!(other.unmap(B, PAGE), PAGE);
    assert_eq!(other.unmap(B + 2 * PAGE, PAGE), PAGE);
    assert_eq!(pool.in_use(), 1, "only the root is left");
}

#[test]
fn a_handle_counts_and_retires_as_the_table_does() {
    let pool: StaticPool<Table4K, 8> = StaticPool::new();
    pool.set_phys_base(0x8000_0000);
    let pt: PageTable<S1G4K48Pages, _, _> = PageTable::new(&pool, NoTlb).unwrap();
    let mut h = pt.handle();
    for i in 0..8 {
        h.map(A + i * PAGE, 0x1_0000_0000 + i * PAGE, PAGE, rw())
            .unwrap();
    }
    assert_eq!(pt.live_entries(A, 3), Some(8));
    // A taken page is refused through the handle's cached walk too, and
    // leaves the count alone.
    assert_eq!(
        h.map(A + 3 * PAGE, 0x9000, PAGE, rw()),
        Err(crate::pgtable::MapError::Overlap)
    );
    assert_eq!(pt.live_entries(A, 3), Some(8));
    assert_eq!(h.unmap(A + 3 * PAGE, PAGE), PAGE);
    assert_eq!(h.unmap(A + 3 * PAGE, PAGE), 0, "already gone");
    assert_eq!(pt.live_entries(A, 3), Some(7));
    // Multi-page calls take the table's general path.
    assert_eq!(h.unmap(A, 3 * PAGE), 3 * PAGE);
    for i in 4..8 {
        assert_eq!(h.unmap(A + i * PAGE, PAGE), PAGE);
    }
    assert_eq!(pt.table_at(A, 3), None, "the emptied table was retired");
    assert_eq!(pool.in_use(), 1);
    // Refused arguments are the table's errors.
    assert_eq!(
        h.map(A + 1, 0, PAGE, rw()),
        Err(crate::pgtable::MapError::Misaligned)
    );
    assert_eq!(h.unmap(A, 0), 0);
}
