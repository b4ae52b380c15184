//! Hand-worked checks of the engine: descriptor values computed from the
//! Arm ARM bit layouts, geometry of each ready format, error cases, the
//! all-or-nothing rule, the TLB / cache-maintenance contract, and the
//! page-allocator pool.

mod refwalk;

use iommugen_runtime::pgtable::lpae::*;
use iommugen_runtime::pgtable::sizes::{SZ_2M, SZ_4K};
use iommugen_runtime::pgtable::{
    Geometry, LiveWord, LpaeFormat, MapError, NoTlb, PageAllocPool, PageAllocator, PageTable,
    Stage, StaticPool, Table4K, Table64K, TablePool, TlbOps,
};
use iommugen_runtime::Prot;
use refwalk::harness::reader;
use std::ptr::NonNull;
use std::sync::Mutex;

const PA_BASE: u64 = 0x4000_0000;

/// Follow table descriptors by hand: `indices` are the per-level indices
/// worked out from the address; returns the final descriptor.
fn raw(read: &dyn Fn(u64) -> u64, root: u64, indices: &[u64], addr_mask: u64) -> u64 {
    let mut table = root;
    for (i, idx) in indices.iter().enumerate() {
        let d = read(table + idx * 8);
        if i + 1 == indices.len() {
            return d;
        }
        assert_eq!(d & 3, 3, "expected a table descriptor at step {i}");
        table = d & addr_mask;
    }
    unreachable!()
}

#[test]
fn geometry_of_ready_formats() {
    // (start level, log2 concatenated roots, index bits at the start level),
    // from IAS - granule shift split into (granule shift - 3)-bit levels.
    assert_eq!(
        (
            Geometry::<S1G4K48>::START,
            Geometry::<S1G4K48>::ROOT_ORDER,
            Geometry::<S1G4K48>::ROOT_BITS
        ),
        (0, 0, 9)
    );
    assert_eq!(
        (
            Geometry::<S1G16K47>::START,
            Geometry::<S1G16K47>::ROOT_ORDER,
            Geometry::<S1G16K47>::ROOT_BITS
        ),
        (1, 0, 11)
    );
    assert_eq!(
        (
            Geometry::<S1G64K52>::START,
            Geometry::<S1G64K52>::ROOT_ORDER,
            Geometry::<S1G64K52>::ROOT_BITS
        ),
        (1, 0, 10)
    );
    assert_eq!(
        (
            Geometry::<S2G4K40>::START,
            Geometry::<S2G4K40>::ROOT_ORDER,
            Geometry::<S2G4K40>::ROOT_BITS
        ),
        (1, 1, 10)
    );
    assert_eq!(
        (
            Geometry::<S2G16K48>::START,
            Geometry::<S2G16K48>::ROOT_ORDER,
            Geometry::<S2G16K48>::ROOT_BITS
        ),
        (1, 1, 12)
    );
    assert_eq!(
        (
            Geometry::<S2G64K44>::START,
            Geometry::<S2G64K44>::ROOT_ORDER,
            Geometry::<S2G64K44>::ROOT_BITS
        ),
        (2, 2, 15)
    );
}

#[test]
fn stage1_4k_page_descriptor() {
    static POOL: StaticPool<Table4K, 8> = StaticPool::new();
    POOL.set_phys_base(PA_BASE);
    let pt: PageTable<S1G4K48, _, _> = PageTable::new(&POOL, NoTlb).unwrap();
    pt.map(
        0x1000,
        0x8000_0000,
        0x1000,
        Prot::READ | Prot::WRITE | Prot::CACHE,
    )
    .unwrap();
    // Page (0b11) | AttrIndx 1 (0x4) | AP[1] EL0 (0x40) | SH inner (0x300)
    // | AF (0x400) | nG (0x800).
    let d = raw(&reader(&POOL), pt.root(), &[0, 0, 0, 1], 0xffff_ffff_f000);
    assert_eq!(d, 0x8000_0000 | 0xf47);
    assert_eq!(pt.iova_to_phys(0x1abc), Some(0x8000_0abc));
    assert_eq!(pt.iova_to_phys(0x2000), None);
    // Read-only, privileged, device, no-exec: AP[2] 0x80, no AP[1],
    // AttrIndx 2 (0x8), SH outer (0x200), UXN|PXN (bits 54, 53).
    pt.map(
        0x2000,
        0x9000_0000,
        0x1000,
        Prot::READ | Prot::MMIO | Prot::PRIV | Prot::NOEXEC,
    )
    .unwrap();
    let d = raw(&reader(&POOL), pt.root(), &[0, 0, 0, 2], 0xffff_ffff_f000);
    assert_eq!(
        d,
        0x0060_0000_9000_0000 | 0x3 | 0x8 | 0x80 | 0x200 | 0x400 | 0x800
    );
}

#[test]
fn stage2_4k_concatenated_block_descriptor() {
    static POOL: StaticPool<Table4K, 8> = StaticPool::new();
    POOL.set_phys_base(PA_BASE);
    let pt: PageTable<S2G4K40, _, _> = PageTable::new(&POOL, NoTlb).unwrap();
    assert_eq!(POOL.in_use(), 2, "two concatenated level-1 tables");
    // 1 GiB + 2 MiB: level-1 index 1, level-2 index 1, a 2M block.
    pt.map(
        0x4020_0000,
        0x80_0020_0000,
        0x20_0000,
        Prot::READ | Prot::MMIO | Prot::NOEXEC,
    )
    .unwrap();
    // Block (0b01) | MemAttr Device-nGnRE (0b0001 << 2) | S2AP read (0x40)
    // | SH outer (0x200) | AF (0x400) | XN (bit 54).
    let d = raw(&reader(&POOL), pt.root(), &[1, 1], 0xff_ffff_f000);
    assert_eq!(
        d,
        0x0040_0000_0000_0000 | 0x80_0020_0000 | 0x1 | 0x4 | 0x40 | 0x200 | 0x400
    );
    // 512 GiB lands in the second concatenated table: root index 512.
    pt.map(0x80_0000_0000, 0x1000, 0x1000, Prot::WRITE | Prot::CACHE)
        .unwrap();
    let read = reader(&POOL);
    assert_eq!(read(pt.root() + 512 * 8) & 3, 3);
    // Page | MemAttr WB (0b1111 << 2) | S2AP write only (0x80) | SH inner | AF.
    let d = raw(&read, pt.root(), &[512, 0, 0], 0xff_ffff_f000);
    assert_eq!(d, 0x1000 | 0x3 | 0x3c | 0x80 | 0x300 | 0x400);
}

#[test]
fn stage1_64k_52bit_output_address() {
    static POOL: StaticPool<Table64K, 4> = StaticPool::new();
    POOL.set_phys_base(PA_BASE);
    let pt: PageTable<S1G64K52, _, _> = PageTable::new(&POOL, NoTlb).unwrap();
    let pa = 0xf_0000_0001_0000;
    pt.map(0x1_0000, pa, 0x1_0000, Prot::READ).unwrap();
    // OA[47:16] in place, OA[51:48] = 0xf in bits [15:12]; page | SH outer
    // | AP[1] | AP[2] | AF | nG = 0xec3.
    let d = raw(&reader(&POOL), pt.root(), &[0, 0, 1], 0xffff_ffff_0000);
    assert_eq!(d, 0x1_0000 | 0xf000 | 0xec3);
    assert_eq!(pt.iova_to_phys(0x1_0010), Some(pa + 0x10));
}

#[test]
fn errors_leave_tables_unchanged() {
    static POOL: StaticPool<Table4K, 16> = StaticPool::new();
    POOL.set_phys_base(PA_BASE);
    let pt: PageTable<S1G4K48, _, _> = PageTable::new(&POOL, NoTlb).unwrap();
    let rw = Prot::READ | Prot::WRITE;
    assert_eq!(pt.map(0x1000, 0x1000, 0, rw), Err(MapError::Empty));
    assert_eq!(
        pt.map(0x1800, 0x1000, 0x1000, rw),
        Err(MapError::Misaligned)
    );
    assert_eq!(
        pt.map(0x1000, 0x1000, 0x1800, rw),
        Err(MapError::Misaligned)
    );
    assert_eq!(
        pt.map((1 << 48) - 0x1000, 0, 0x2000, rw),
        Err(MapError::IovaOutOfRange)
    );
    assert_eq!(
        pt.map(0, (1 << 48) - 0x1000, 0x2000, rw),
        Err(MapError::PaddrOutOfRange)
    );
    assert_eq!(pt.map(0, 0, 0x1000, Prot::CACHE), Err(MapError::NoAccess));
    assert_eq!(POOL.in_use(), 1, "nothing allocated by rejected calls");
    // Overlap at the end of a range: the first pages must not stay mapped.
    pt.map(0x10_0000, 0x10_0000, 0x1000, rw).unwrap();
    let before = POOL.in_use();
    assert_eq!(
        pt.map(0xf_e000, 0xf_e000, 0x3000, rw),
        Err(MapError::Overlap)
    );
    assert_eq!(pt.iova_to_phys(0xf_e000), None);
    assert_eq!(pt.iova_to_phys(0xf_f000), None);
    assert_eq!(POOL.in_use(), before);
    // Misaligned or out-of-range unmaps do nothing.
    assert_eq!(pt.unmap(0x10_0800, 0x1000), 0);
    assert_eq!(pt.unmap(0x10_0000, 1 << 48), 0);
    assert_eq!(pt.unmap(0x10_0000, 0x1000), 0x1000);
    assert_eq!(POOL.in_use(), 1, "emptied tables returned");
}

#[test]
fn pool_exhaustion_rolls_back() {
    // Root + one table per level = 4 tables map one 2M region of pages; a
    // second 2M region needs a fifth.
    static POOL: StaticPool<Table4K, 4> = StaticPool::new();
    POOL.set_phys_base(PA_BASE);
    let pt: PageTable<S1G4K48Pages, _, _> = PageTable::new(&POOL, NoTlb).unwrap();
    assert_eq!(pt.map(0, 0, 0x40_0000, Prot::READ), Err(MapError::NoMemory));
    assert_eq!(pt.iova_to_phys(0), None);
    assert_eq!(POOL.in_use(), 1);
    pt.map(0, 0, 0x20_0000, Prot::READ).unwrap();
    assert_eq!(POOL.in_use(), 4);
    // Splitting needs no table for pages, so unmapping one page works.
    assert_eq!(pt.unmap(0x1000, 0x1000), 0x1000);
}

/// Everything the engine asked of the driver and the page allocator, in order.
#[derive(Debug, Clone, PartialEq)]
enum Ev {
    Range(u64, u64, u64, bool),
    Walk(u64, u64),
    Sync,
    Clean(usize),
    Free(u64),
}

#[derive(Default)]
struct Log(Mutex<Vec<Ev>>);
impl Log {
    fn take(&self) -> Vec<Ev> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}
impl TlbOps for Log {
    fn inv_range(&self, iova: u64, size: u64, granule: u64, leaf: bool) {
        self.0
            .lock()
            .unwrap()
            .push(Ev::Range(iova, size, granule, leaf));
    }
    fn inv_walk(&self, iova: u64, size: u64, _granule: u64) {
        self.0.lock().unwrap().push(Ev::Walk(iova, size));
    }
    fn sync(&self) {
        self.0.lock().unwrap().push(Ev::Sync);
    }
    fn clean(&self, _first: *const u8, bytes: usize) {
        self.0.lock().unwrap().push(Ev::Clean(bytes / 8));
    }
}

/// A page allocator over a heap arena placed at physical `BASE`, logging frees.
struct Arena<'a> {
    mem: *mut u8,
    len: usize,
    next: Mutex<(usize, Vec<usize>)>,
    log: &'a Log,
}
const BASE: u64 = 0x8000_0000;
// SAFETY: hands out disjoint 4K-aligned 4K pieces of one live allocation.
unsafe impl PageAllocator for Arena<'_> {
    fn alloc_pages(&self, bytes: usize) -> Option<(NonNull<u8>, u64)> {
        assert_eq!(bytes, 4096);
        let mut n = self.next.lock().unwrap();
        let off = match n.1.pop() {
            Some(off) => off,
            None if n.0 + bytes <= self.len => {
                n.0 += bytes;
                n.0 - bytes
            }
            None => return None,
        };
        // SAFETY: off < len.
        Some((
            NonNull::new(unsafe { self.mem.add(off) })?,
            BASE + off as u64,
        ))
    }
    fn free_pages(&self, pa: u64, _bytes: usize) {
        self.log.0.lock().unwrap().push(Ev::Free(pa));
        self.next.lock().unwrap().1.push((pa - BASE) as usize);
    }
    fn phys_to_virt(&self, pa: u64) -> *mut u8 {
        // SAFETY: only called with addresses we handed out.
        unsafe { self.mem.add((pa - BASE) as usize) }
    }
}

/// A non-coherent stage-1 4K format, to see the cache-clean hook.
struct NonCoherent;
impl LpaeFormat for NonCoherent {
    const STAGE: Stage = Stage::One;
    const GRANULE_SHIFT: u32 = 12;
    const IAS: u32 = 48;
    const OAS: u32 = 48;
    const PAGE_SIZES: u64 = SZ_4K | SZ_2M;
    const COHERENT_WALK: bool = false;
}

#[test]
fn tlb_and_cache_contract() {
    let log = Log::default();
    let layout = std::alloc::Layout::from_size_align(64 * 4096, 4096).unwrap();
    // SAFETY: non-zero size.
    let mem = unsafe { std::alloc::alloc(layout) };
    let arena = Arena {
        mem,
        len: 64 * 4096,
        next: Mutex::new((0, Vec::new())),
        log: &log,
    };
    let live: Vec<LiveWord> = (0..64).map(|_| LiveWord::new()).collect();
    let pool: PageAllocPool<_, 12> = PageAllocPool::new(&arena, BASE, &live);
    let pt: PageTable<NonCoherent, _, _> = PageTable::new(&pool, &log).unwrap();
    assert_eq!(log.take(), vec![Ev::Clean(512)], "root cleaned once");

    // First page at 1 GiB: three new tables (each cleaned whole, then its
    // pointer cleaned), then one clean for the page.
    let g1 = 1 << 30;
    pt.map(g1, 0, 0x1000, Prot::READ).unwrap();
    let c = [Ev::Clean(512), Ev::Clean(1)];
    assert_eq!(
        log.take(),
        [&c[..], &c[..], &c[..], &[Ev::Clean(1)]].concat()
    );
    // 16 more pages in the same table: one run, one clean, no TLB work.
    pt.map(g1 + 0x1000, 0x1000, 0x10000, Prot::READ).unwrap();
    assert_eq!(log.take(), vec![Ev::Clean(16)]);

    // Unmapping all 17 pages: one run cleared (one clean), the emptied
    // level-3, level-2 and level-1 tables unlinked (one walk invalidation
    // each, parents cleaned), then one leaf range, one sync, then the frees.
    assert_eq!(pt.unmap(g1, 0x11000), 0x11000);
    let ev = log.take();
    let sync_at = ev.iter().position(|e| *e == Ev::Sync).unwrap();
    assert_eq!(ev.iter().filter(|e| **e == Ev::Sync).count(), 1);
    assert_eq!(ev[0], Ev::Clean(17));
    let walks: Vec<_> = ev
        .iter()
        .filter(|e| matches!(e, Ev::Walk(..)))
        .cloned()
        .collect();
    assert_eq!(
        walks,
        vec![
            Ev::Walk(g1, 2 << 20),
            Ev::Walk(g1, 1 << 30),
            Ev::Walk(0, 512 << 30)
        ]
    );
    assert_eq!(ev[sync_at - 1], Ev::Range(g1, 0x11000, 0x1000, true));
    let frees = ev.iter().filter(|e| matches!(e, Ev::Free(_))).count();
    assert_eq!(frees, 3);
    assert!(
        ev.iter().position(|e| matches!(e, Ev::Free(_))).unwrap() > sync_at,
        "free only after sync"
    );
    assert_eq!(pool.in_use(), 1);

    // A 2M block, then a page cut out of it: break-before-make invalidates
    // and syncs the block before the new table appears, then the page is
    // invalidated and synced once.
    pt.map(2 << 20, 2 << 20, 2 << 20, Prot::READ).unwrap();
    log.take();
    assert_eq!(pt.unmap((2 << 20) + 0x5000, 0x1000), 0x1000);
    let ev: Vec<_> = log
        .take()
        .into_iter()
        .filter(|e| !matches!(e, Ev::Clean(_)))
        .collect();
    assert_eq!(
        ev,
        vec![
            Ev::Range(2 << 20, 2 << 20, 2 << 20, true),
            Ev::Sync,
            Ev::Range((2 << 20) + 0x5000, 0x1000, 0x1000, true),
            Ev::Sync,
        ]
    );
    assert_eq!(
        pt.iova_to_phys((2 << 20) + 0x4fff),
        Some((2 << 20) + 0x4fff)
    );
    assert_eq!(
        pt.iova_to_phys((2 << 20) + 0x6000),
        Some((2 << 20) + 0x6000)
    );
    drop(pt);
    assert_eq!(pool.in_use(), 0);
    // SAFETY: allocated above with this layout; the table is dropped.
    unsafe { std::alloc::dealloc(mem, layout) };
}

#[test]
fn behind_the_domain_boundary() {
    use iommugen_runtime::domain::{MapError as DomainError, PageTableOps};
    static POOL: StaticPool<Table4K, 8> = StaticPool::new();
    POOL.set_phys_base(PA_BASE);
    let mut pt: PageTable<S1G4K48, _, _> = PageTable::new(&POOL, NoTlb).unwrap();
    let ops: &mut dyn PageTableOps = &mut pt;
    ops.map(0x20_0000, 0x4020_0000, 0x20_0000, Prot::READ)
        .unwrap();
    assert_eq!(ops.iova_to_phys(0x20_1234), Some(0x4020_1234));
    assert_eq!(
        ops.map(0x20_1000, 0, 0x1000, Prot::READ),
        Err(DomainError::AlreadyMapped)
    );
    assert_eq!(
        ops.map(0x800, 0, 0x1000, Prot::READ),
        Err(DomainError::Unaligned)
    );
    assert_eq!(
        ops.map(1 << 48, 0, 0x1000, Prot::READ),
        Err(DomainError::OutOfRange)
    );
    // A page out of the middle of the 2M block, then the rest.
    assert_eq!(ops.unmap(0x20_1000, 0x1000), Ok(0x1000));
    assert_eq!(ops.unmap(0x20_1000, 0x1000), Err(DomainError::NotMapped));
    assert_eq!(ops.unmap(0x20_0000, 0x20_0000), Ok(0x1f_f000));
    assert_eq!(ops.iova_to_phys(0x20_0000), None);
    assert_eq!(POOL.in_use(), 1);
}

#[test]
fn split_without_a_free_table_unmaps_nothing() {
    // Root, level 1 and level 2 tables hold one 2M block; cutting a page out
    // of it needs a fourth table, which this pool does not have.
    static POOL: StaticPool<Table4K, 3> = StaticPool::new();
    POOL.set_phys_base(PA_BASE);
    let pt: PageTable<S1G4K48, _, _> = PageTable::new(&POOL, NoTlb).unwrap();
    pt.map(0x20_0000, 0x20_0000, 0x20_0000, Prot::READ).unwrap();
    assert_eq!(POOL.in_use(), 3);
    assert_eq!(pt.unmap(0x20_1000, 0x1000), 0);
    // The block is intact, every byte of it.
    assert_eq!(pt.iova_to_phys(0x20_0000), Some(0x20_0000));
    assert_eq!(pt.iova_to_phys(0x20_1000), Some(0x20_1000));
    assert_eq!(pt.iova_to_phys(0x3f_ffff), Some(0x3f_ffff));
    // Unmapping the whole block needs no table.
    assert_eq!(pt.unmap(0x20_0000, 0x20_0000), 0x20_0000);
    assert_eq!(POOL.in_use(), 1);
}

/// 64K granule, 52-bit output: level-1 blocks map 4T (FEAT_LPA). The DSL
/// checker accepted this and the generated code failed to compile (E0080);
/// both now use `lpae::leaf_level_allowed`.
struct S1G64K52Blocks4T;
impl LpaeFormat for S1G64K52Blocks4T {
    const STAGE: Stage = Stage::One;
    const GRANULE_SHIFT: u32 = 16;
    const IAS: u32 = 52;
    const OAS: u32 = 52;
    const PAGE_SIZES: u64 = (1 << 16) | (1 << 29) | (1 << 42);
    const COHERENT_WALK: bool = true;
}

#[test]
fn lpa_4t_blocks_map_and_split() {
    static POOL: StaticPool<Table64K, 4> = StaticPool::new();
    POOL.set_phys_base(PA_BASE);
    let pt: PageTable<S1G64K52Blocks4T, _, _> = PageTable::new(&POOL, NoTlb).unwrap();
    let (tb, ia, pa) = (1u64 << 42, 3u64 << 42, 0xf_0000_0000_0000u64);
    let rw = Prot::READ | Prot::WRITE;
    pt.map(ia, pa, tb, rw).unwrap();
    // One level-1 block: no table besides the root.
    assert_eq!(POOL.in_use(), 1);
    assert_eq!(pt.iova_to_phys(ia + tb - 1), Some(pa + tb - 1));
    // Cutting one 64K page out splits to 512M blocks, then one of those
    // to pages.
    assert_eq!(pt.unmap(ia + (1 << 29), 1 << 16), 1 << 16);
    assert_eq!(POOL.in_use(), 3);
    assert_eq!(pt.iova_to_phys(ia + (1 << 29)), None);
    assert_eq!(
        pt.iova_to_phys(ia + (1 << 29) + (1 << 16)),
        Some(pa + (1 << 29) + (1 << 16))
    );
    assert_eq!(pt.unmap(ia, tb), tb - (1 << 16));
    assert_eq!(POOL.in_use(), 1);
}
