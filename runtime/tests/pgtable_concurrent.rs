//! Several threads map and unmap disjoint, interleaved ranges of one table
//! at once (sharing its tables), each checking its own pages all the time;
//! afterwards the raw tables are checked against the union of their models.

mod refwalk;

use iommugen_runtime::pgtable::lpae::{S1G4K48, S2G16K48};
use iommugen_runtime::pgtable::{
    Handle, LpaeFormat, NoTlb, PageTable, StaticPool, Table16K, Table4K, TableMem, TablePool,
};
use iommugen_runtime::Prot;
use refwalk::harness::{check, config, expected_attrs, Model};
use std::sync::Mutex;

const THREADS: u64 = 4;
/// Under Miri (which explores thread interleavings and weak memory, about a
/// thousand times slower) a few dozen rounds per thread.
const ROUNDS: usize = if cfg!(miri) { 40 } else { 20_000 };

/// How a thread calls the shared table: through `&self` directly, or
/// through a handle of its own (with its own walk cache).
// One per thread, on its stack as a CPU keeps its handle: the size is the point.
#[allow(clippy::large_enum_variant)]
enum Caller<'t, F: LpaeFormat, P: TablePool> {
    Table(&'t PageTable<F, P, NoTlb>),
    Handle(Handle<'t, F, P, NoTlb>),
}

impl<'t, F: LpaeFormat, P: TablePool> Caller<'t, F, P> {
    fn new(pt: &'t PageTable<F, P, NoTlb>, handle: bool) -> Self {
        if handle {
            Caller::Handle(pt.handle())
        } else {
            Caller::Table(pt)
        }
    }
    fn map(
        &mut self,
        ia: u64,
        pa: u64,
        size: u64,
        prot: Prot,
    ) -> Result<(), iommugen_runtime::pgtable::MapError> {
        match self {
            Caller::Table(pt) => pt.map(ia, pa, size, prot),
            Caller::Handle(h) => h.map(ia, pa, size, prot),
        }
    }
    fn unmap(&mut self, ia: u64, size: u64) -> u64 {
        match self {
            Caller::Table(pt) => pt.unmap(ia, size),
            Caller::Handle(h) => h.unmap(ia, size),
        }
    }
}

/// xorshift: a fixed-seed generator per thread, so a failure repeats.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn stress<F: LpaeFormat, T: TableMem, const N: usize>(
    pool: &'static StaticPool<T, N>,
    handles: bool,
) {
    pool.set_phys_base(0x4000_0000);
    let g = 1u64 << F::GRANULE_SHIFT;
    let blk = 1u64 << (F::GRANULE_SHIFT + (F::GRANULE_SHIFT - 3));
    let stage2 = F::STAGE == iommugen_runtime::pgtable::Stage::Two;
    let cfg = config::<F>();
    let pt: PageTable<F, _, _> = PageTable::new(pool, NoTlb).unwrap();
    // Thread t owns the chunks c with c % THREADS == t; a chunk is 2 pages,
    // so neighbouring threads share every last-level table. Blocks: thread t
    // also owns the block-sized region `t` above `blocks`.
    let base = 1u64 << 36;
    let chunk = 2 * g;
    let chunks = 4 * (blk / chunk);
    let blocks = base + 8 * blk;
    let models = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for t in 0..THREADS {
            let pt = &pt;
            let models = &models;
            s.spawn(move || {
                let mut me = Caller::new(pt, handles);
                let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ (t + 1));
                let mut model = Model::default();
                let prot = Prot::READ
                    | Prot::WRITE
                    | if t % 2 == 0 {
                        Prot::CACHE
                    } else {
                        Prot::NOEXEC
                    };
                for _ in 0..ROUNDS {
                    let r = rng.next();
                    let (ia, size) = if r % 16 == 0 {
                        let b = blocks + t * blk;
                        // The whole block, or a page-aligned part of it.
                        if r % 32 == 0 {
                            (b, blk)
                        } else {
                            (b + (r >> 8) % (blk / g - 4) * g, g * (1 + (r >> 40) % 4))
                        }
                    } else {
                        let c = ((r >> 8) % (chunks / THREADS)) * THREADS + t;
                        let n = 1 + (r >> 40) % 2;
                        (base + c * chunk, if n == 2 { chunk } else { g })
                    };
                    let pa = (1u64 << 39) + (ia - base);
                    if r & 0x80 == 0 {
                        let res = me.map(ia, pa, size, prot);
                        if model.overlaps(ia, size) {
                            assert!(res.is_err(), "map over own mapping at {ia:#x}");
                        } else {
                            assert_eq!(res, Ok(()), "map {ia:#x}+{size:#x}");
                            model.map(ia, size, pa, expected_attrs(stage2, prot));
                        }
                    } else {
                        let want = model.unmap(ia, size);
                        assert_eq!(me.unmap(ia, size), want, "unmap {ia:#x}+{size:#x}");
                    }
                    // Our own pages are stable whatever the others do.
                    for s in model.spans.iter().take(4) {
                        assert_eq!(pt.iova_to_phys(s.ia + s.size - 1), Some(s.pa + s.size - 1));
                    }
                    let probe = ia + size / 2;
                    assert_eq!(
                        pt.iova_to_phys(probe),
                        model.lookup(probe).map(|(pa, _)| pa)
                    );
                }
                models.lock().unwrap().push(model);
            });
        }
    });
    let mut all = Model::default();
    for m in models.into_inner().unwrap() {
        all.spans.extend(m.spans);
    }
    check(&cfg, pt.root(), pool, cfg.concat as usize, &all, &|ia| {
        pt.iova_to_phys(ia)
    });
    // Each thread unmaps what it still has, concurrently.
    let spans = all.spans.clone();
    std::thread::scope(|s| {
        for t in 0..THREADS as usize {
            let pt = &pt;
            let mine: Vec<_> = spans
                .iter()
                .enumerate()
                .filter(|(i, _)| i % THREADS as usize == t)
                .map(|(_, s)| *s)
                .collect();
            s.spawn(move || {
                let mut me = Caller::new(pt, handles);
                for s in mine {
                    assert_eq!(me.unmap(s.ia, s.size), s.size);
                }
            });
        }
    });
    let empty = Model::default();
    // Tables still linked (an empty table can survive a lost race for its
    // retirement) are all reachable: `check` counts them.
    check(&cfg, pt.root(), pool, cfg.concat as usize, &empty, &|ia| {
        pt.iova_to_phys(ia)
    });
    assert_eq!(pt.unmap(0, 1 << F::IAS), 0);
    assert_eq!(
        pool.in_use(),
        cfg.concat as usize,
        "unmapping everything returns every table"
    );
}

#[test]
fn disjoint_concurrent_stage1_4k() {
    static POOL: StaticPool<Table4K, 4096> = StaticPool::new();
    stress::<S1G4K48, _, 4096>(&POOL, false);
}

#[test]
fn disjoint_concurrent_stage1_4k_handles() {
    static POOL: StaticPool<Table4K, 4096> = StaticPool::new();
    stress::<S1G4K48, _, 4096>(&POOL, true);
}

#[test]
fn disjoint_concurrent_stage2_16k_concat() {
    static POOL: StaticPool<Table16K, 1024> = StaticPool::new();
    stress::<S2G16K48, _, 1024>(&POOL, false);
}

/// The retirement race, hammered: each thread owns one page, all in the same
/// last-level table, and maps and unmaps it in a loop. Whenever all four
/// are unmapped at once the last-level table and its ancestors are retired
/// while other threads are reserving entries in them; every thread must
/// still see exactly its own mapping after each step.
///
/// With `across`, each thread alternates between two regions 1 GiB apart,
/// so a table retired in one is reused in the other while slower threads
/// may still hold its old address: a reservation landing on the reused
/// table must be noticed and walked again.
fn hammer<F: LpaeFormat, T: TableMem, const N: usize>(
    pool: &'static StaticPool<T, N>,
    across: bool,
    handles: bool,
) {
    pool.set_phys_base(0x4000_0000);
    let g = 1u64 << F::GRANULE_SHIFT;
    let cfg = config::<F>();
    let pt: PageTable<F, _, _> = PageTable::new(pool, NoTlb).unwrap();
    let base = 1u64 << 36;
    std::thread::scope(|s| {
        for t in 0..THREADS {
            let pt = &pt;
            s.spawn(move || {
                let mut me = Caller::new(pt, handles);
                let ia = base + t * g;
                let pa = (1u64 << 38) + t * g;
                for round in 0..ROUNDS as u64 {
                    let ia = if across && round % 2 == 1 {
                        ia + (1 << 30)
                    } else {
                        ia
                    };
                    let prot = if round % 2 == 0 {
                        Prot::READ
                    } else {
                        Prot::READ | Prot::WRITE
                    };
                    assert_eq!(me.map(ia, pa, g, prot), Ok(()), "round {round}");
                    assert_eq!(pt.iova_to_phys(ia + 8), Some(pa + 8));
                    assert_eq!(me.unmap(ia, g), g, "round {round}");
                    assert_eq!(pt.iova_to_phys(ia), None);
                }
            });
        }
    });
    check(
        &cfg,
        pt.root(),
        pool,
        cfg.concat as usize,
        &Model::default(),
        &|ia| pt.iova_to_phys(ia),
    );
    pt.unmap(0, 1 << F::IAS);
    assert_eq!(pool.in_use(), cfg.concat as usize);
}

#[test]
fn retire_races_stage1_4k() {
    static POOL: StaticPool<Table4K, 64> = StaticPool::new();
    hammer::<S1G4K48, _, 64>(&POOL, false, false);
}

#[test]
fn retire_races_stage1_4k_handles() {
    static POOL: StaticPool<Table4K, 64> = StaticPool::new();
    hammer::<S1G4K48, _, 64>(&POOL, false, true);
}

#[test]
fn retire_and_reuse_elsewhere_stage1_4k() {
    static POOL: StaticPool<Table4K, 64> = StaticPool::new();
    hammer::<S1G4K48, _, 64>(&POOL, true, false);
}

#[test]
fn retire_and_reuse_elsewhere_stage1_4k_handles() {
    static POOL: StaticPool<Table4K, 64> = StaticPool::new();
    hammer::<S1G4K48, _, 64>(&POOL, true, true);
}

#[test]
fn retire_races_stage2_16k_concat() {
    static POOL: StaticPool<Table16K, 64> = StaticPool::new();
    hammer::<S2G16K48, _, 64>(&POOL, false, false);
}

/// A non-coherent 4K stage-1 format, so the engine calls `TlbOps::clean`
/// right after each descriptor write: the hook below runs there.
#[derive(Clone, Copy, Debug)]
struct NonCoherent4K;
impl LpaeFormat for NonCoherent4K {
    const STAGE: iommugen_runtime::pgtable::Stage = iommugen_runtime::pgtable::Stage::One;
    const GRANULE_SHIFT: u32 = 12;
    const IAS: u32 = 48;
    const OAS: u32 = 48;
    const PAGE_SIZES: u64 = 1 << 12;
    const COHERENT_WALK: bool = false;
}

type Hook = std::sync::Arc<std::sync::OnceLock<Box<dyn Fn() + Send + Sync>>>;

/// Runs its callback once, at the first one-descriptor clean: the moment
/// between a CPU installing a fresh table and reading its next entry.
struct NeighbourMaps {
    hook: Hook,
    armed: std::sync::atomic::AtomicBool,
}
impl iommugen_runtime::pgtable::TlbOps for NeighbourMaps {
    fn inv_range(&self, _: u64, _: u64, _: u64, _: bool) {}
    fn inv_walk(&self, _: u64, _: u64, _: u64) {}
    fn sync(&self) {}
    fn clean(&self, _: *const u8, bytes: usize) {
        use std::sync::atomic::Ordering::SeqCst;
        if bytes == 8 && self.armed.swap(false, SeqCst) {
            if let Some(f) = self.hook.get() {
                f();
            }
        }
    }
}

/// The interleaving the hammer above only hits now and then, forced: CPU A
/// installs a level-1 table for its page, and before A reads the entry it
/// needs in it, CPU B (mapping the next page) installs the level-2 table
/// there. A must give back the reservation it took with its fresh table,
/// walk B's tables, and leave every count right: both pages translate, and
/// unmapping both returns every table.
#[test]
fn neighbour_fills_a_fresh_table_before_its_installer_reads_it() {
    static POOL: StaticPool<Table4K, 16> = StaticPool::new();
    POOL.set_phys_base(0x4000_0000);
    let hook: Hook = Default::default();
    let tlb = NeighbourMaps {
        hook: hook.clone(),
        armed: true.into(),
    };
    let pt: &'static PageTable<NonCoherent4K, _, _> =
        Box::leak(Box::new(PageTable::new(&POOL, tlb).unwrap()));
    let (a, b) = (1u64 << 36, (1u64 << 36) + 0x1000);
    let ran = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let ran2 = ran.clone();
    let _ = hook.set(Box::new(move || {
        assert_eq!(pt.map(b, 0x8000_1000, 0x1000, Prot::READ), Ok(()));
        ran2.store(true, std::sync::atomic::Ordering::SeqCst);
    }));
    let root_tables = POOL.in_use();
    assert_eq!(pt.map(a, 0x8000_0000, 0x1000, Prot::READ), Ok(()));
    assert!(
        ran.load(std::sync::atomic::Ordering::SeqCst),
        "B ran inside A's walk"
    );
    assert_eq!(pt.iova_to_phys(a + 8), Some(0x8000_0008));
    assert_eq!(pt.iova_to_phys(b + 8), Some(0x8000_1008));
    // Root + one table per level below it, shared by both pages.
    assert_eq!(POOL.in_use(), root_tables + 3);
    assert_eq!(pt.unmap(a, 0x1000), 0x1000);
    assert_eq!(pt.unmap(b, 0x1000), 0x1000);
    assert_eq!(POOL.in_use(), root_tables, "every table given back");
}
