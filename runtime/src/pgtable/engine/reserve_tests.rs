//! The shared mode's reservation must notice a table that was retired and
//! reused elsewhere between the walk that found it and the reservation.
//! The race is too narrow for the threaded tests to hit reliably, so it is
//! built here step by step on one thread.

use super::PageTable;
use crate::pgtable::formats::lpae::S1G4K48Pages;
use crate::pgtable::pool::TablePool;
use crate::pgtable::{NoTlb, StaticPool, Table4K};
use crate::Prot;

const PAGE: u64 = 4096;
const A: u64 = 0x4000_0000;
/// Another level-1 entry's span, so its tables are other tables.
const B: u64 = A + (1 << 30);

#[test]
fn a_reservation_on_a_table_reused_elsewhere_walks_again() {
    let pool: StaticPool<Table4K, 8> = StaticPool::new();
    pool.set_phys_base(0x8000_0000);
    let pt: PageTable<S1G4K48Pages, _, _> = PageTable::new(&pool, NoTlb).unwrap();
    let rw = Prot::READ | Prot::WRITE;
    pt.map(A, 0x1_0000_0000, PAGE, rw).unwrap();
    pt.map(A + PAGE, 0x1_0000_1000, PAGE, rw).unwrap();
    // A slow CPU's walk for A + 2 pages: the epoch, then the table.
    let epoch = pt.retirements::<true>();
    let stale = pt.table_at(A, 3).unwrap();
    // Meanwhile A's pages go, their tables retire, and B's map reuses the
    // last-level table's slot (the pool hands slots back last in, first out).
    assert_eq!(pt.unmap(A, 2 * PAGE), 2 * PAGE);
    pt.map(B, 0x2_0000_0000, PAGE, rw).unwrap();
    assert_eq!(pt.table_at(B, 3), Some(stale), "the slot is B's table now");
    let live = |pa| pool.live(pa).load(core::sync::atomic::Ordering::Relaxed);
    let before = live(stale);
    // The slow CPU reserves on the table it found: refused, and undone.
    let ptr = pt.ptr(stale);
    assert!(!pt.reserve::<true>(stale, ptr, 3, A + 2 * PAGE, 1, epoch));
    assert_eq!(live(stale), before);
    // Its retry walks afresh and maps A + 2 pages in a table of A's own.
    pt.map(A + 2 * PAGE, 0x1_0000_2000, PAGE, rw).unwrap();
    assert_ne!(pt.table_at(A, 3), Some(stale));
    assert_eq!(pt.iova_to_phys(B), Some(0x2_0000_0000));
    assert_eq!(pt.iova_to_phys(A + 2 * PAGE), Some(0x1_0000_2000));
    // With no retirement since its walk, a reservation on the table it
    // found stands without a walk from the root, and counts.
    let epoch = pt.retirements::<true>();
    assert!(pt.reserve::<true>(stale, ptr, 3, B + PAGE, 1, epoch));
    assert_eq!(live(stale), before + 1);
    // Give it back, as a map that wrote nothing would.
    pool.live(stale)
        .fetch_sub(1, core::sync::atomic::Ordering::Relaxed);
}
