//! Allwinner H6 (sun50i) IOMMU entries by hand: values derived in the
//! comments from the layouts Linux documents in `drivers/iommu/sun50i-iommu.c`.
//! DTE: PT address bits 31:10, bits 1:0 = 01 for valid. PTE: page address
//! bits 31:12, authority index (ACI) bits 7:4, bit 1 valid. ACIs as Linux
//! numbers its domains: none 1, read 2, write 3, read/write 4; so a PTE's
//! low byte is 0x22 (read), 0x32 (write) or 0x42 (both). No other bit is
//! written: cache, MMIO, no-exec and privilege requests leave no trace.
//! Then the engine writes them where a walk reads them, and tests through
//! the reference walker.

mod formats;
mod sun50i_common;

use iommugen_runtime::pgtable::formats::sun50i;
use iommugen_runtime::pgtable::{
    Format, MapError, NoTlb, PageTable, StaticPool, Sun50i, Table1K, TablePool, TlbOps,
};
use iommugen_runtime::refwalk::sun50i::{leaves, walk, Attrs, Fault};
use iommugen_runtime::Prot;
use std::sync::Mutex;
use sun50i_common::{check, expected_attrs, reader, snapshot, Model, CFG, POOL_PA};

type S = Sun50i;

const R: Prot = Prot::READ;
const W: Prot = Prot::WRITE;
const RW: Prot = Prot::READ.union(Prot::WRITE);
const ALL_EXTRAS: Prot = Prot::CACHE
    .union(Prot::MMIO)
    .union(Prot::NOEXEC)
    .union(Prot::PRIV);

/// (prot, pa, PTE).
const PTES: &[(Prot, u64, u32)] = &[
    // Read-only page 0: ACI 2 << 4 = 0x20 | valid 0x2.
    (R, 0x0000_0000, 0x0000_0022),
    // Write-only: ACI 3 << 4 = 0x30 | 0x2, address in place.
    (W, 0x0000_1000, 0x0000_1032),
    // Read/write: ACI 4 << 4 = 0x40 | 0x2.
    (RW, 0x1234_5000, 0x1234_5042),
    // The last page below 4 GiB.
    (RW, 0xffff_f000, 0xffff_f042),
    // Cache, MMIO, no-exec and privileged write nothing more.
    (R.union(ALL_EXTRAS), 0x8000_0000, 0x8000_0022),
    (RW.union(ALL_EXTRAS), 0x8000_1000, 0x8000_1042),
    (W.union(ALL_EXTRAS), 0x8000_2000, 0x8000_2032),
    (RW.union(Prot::PRIV), 0x4000_0000, 0x4000_0042),
    (RW.union(Prot::NOEXEC), 0x0010_0000, 0x0010_0042),
    (W.union(Prot::CACHE), 0xdead_b000, 0xdead_b032),
    (R.union(Prot::MMIO), 0x0fff_f000, 0x0fff_f022),
    (
        W.union(Prot::MMIO).union(Prot::PRIV),
        0x4321_0000,
        0x4321_0032,
    ),
    (
        R.union(Prot::NOEXEC).union(Prot::PRIV),
        0xaaaa_a000,
        0xaaaa_a022,
    ),
    // Alternating address bits: 0x5555_5000 | write 0x32.
    (W, 0x5555_5000, 0x5555_5032),
    // Address bit 12 alone.
    (RW, 0x0000_1000, 0x0000_1042),
    // Address bit 31 alone, read-only.
    (R, 0x8000_0000, 0x8000_0022),
];

/// (table pa, DTE): address bits 31:10 in place | valid 0x1.
const DTES: &[(u64, u32)] = &[
    (0x4000_0400, 0x4000_0401),
    (0x4000_4000, 0x4000_4001),
    // The last 1 KiB slot below 4 GiB.
    (0xffff_fc00, 0xffff_fc01),
    (0x0000_0000, 0x0000_0001),
    (0x1234_5c00, 0x1234_5c01),
    // Bit 10, the lowest address bit a DTE holds.
    (0x0000_0400, 0x0000_0401),
    (0xaaaa_a800, 0xaaaa_a801),
];

#[test]
fn codec_matches_hand_derived_entries() {
    for &(prot, pa, want) in PTES {
        let d = S::leaf(pa, S::attrs(prot), 3, false);
        assert_eq!(d, u64::from(want), "{prot:?} pa {pa:#x}: {d:#x}");
        assert_eq!(S::leaf_addr(d, 3), pa);
        assert!(!S::is_contig(d, 3));
        assert!(!S::is_table(d, 3), "a PTE is never a table");
        // Bits 1:0 of a PTE are 10: read at the directory level it is not
        // a valid DTE either.
        assert!(!S::is_table(d, 2));
        assert_eq!(S::leaf(pa, S::leaf_attrs(d, 3), 3, false), d);
    }
    for &(pa, want) in DTES {
        let d = S::table(pa, 2);
        assert_eq!(d, u64::from(want), "table {pa:#x}: {d:#x}");
        assert!(S::is_table(d, 2));
        assert_eq!(S::table_addr(d, 2), pa);
    }
    // Bits 1:0 must be exactly 01: 11 and 10 are not table pointers.
    assert!(!S::is_table(0x4000_0403, 2));
    assert!(!S::is_table(0x4000_0402, 2));
    // Linux's "no access" PTE (ACI 1 << 4 = 0x10 | 0x2): the codec can
    // express it, though the engine refuses to map without read or write.
    assert_eq!(S::attrs(Prot::empty()), 0x12);
    assert_eq!(S::attrs(Prot::CACHE), 0x12);
}

#[test]
fn geometry_constants() {
    assert_eq!((S::IAS, S::OAS, S::TABLE_PA_BITS), (32, 32, 32));
    assert_eq!(S::PAGE_SIZES, 0x1000);
    assert_eq!(
        (S::COHERENT_WALK, Sun50i::<true>::COHERENT_WALK),
        (false, true)
    );
    // 4096 DTEs of 1 MiB, 256 PTEs of 4 KiB: Linux's NUM_DT_ENTRIES and
    // NUM_PT_ENTRIES.
    assert_eq!(1usize << S::INDEX_BITS[2], sun50i::DT_ENTRIES);
    assert_eq!(1usize << S::INDEX_BITS[3], sun50i::PT_ENTRIES);
    assert_eq!((S::SHIFT[2], S::SHIFT[3]), (20, 12));
    // legal.rs hands the checker the engine's own numbers.
    use iommugen_runtime::pgtable::legal;
    assert_eq!(legal::sun50i::IAS, S::IAS);
    assert_eq!(legal::sun50i::OAS, S::OAS);
    assert_eq!(legal::sun50i::SIZES, S::PAGE_SIZES);
    assert_eq!(legal::sun50i::GRANULE_SHIFT, S::GRANULE_SHIFT);
    assert_eq!(sun50i::COMPATIBLE, "allwinner,sun50i-h6-iommu");
}

/// The authority registers: domain d at 0xb0 + (d / 2) * 4, odd domains in
/// the upper half; master m read-deny at bit 2m, write-deny at 2m + 1.
/// Domain 1 denies both to masters 0-5: bits 16..27 = 0x0fff_0000. Domain
/// 2 denies writes: bits 1, 3, .., 11 = 0xaaa; domain 3 denies reads: bits
/// 16, 18, .., 26 = 0x0555_0000; both live in 0xb4.
#[test]
fn authority_registers() {
    assert_eq!(sun50i::AUT_CTRL, [(0xb0, 0x0fff_0000), (0xb4, 0x0555_0aaa)]);
    assert_eq!(sun50i::aut_ctrl_offset(sun50i::ACI_RD_WR), 0xb8);
    assert_eq!(sun50i::aut_ctrl_bits(sun50i::ACI_RD_WR, false, false), 0);
    assert_eq!(sun50i::aut_ctrl_bits(0, true, false), 0x555);
    assert_eq!(sun50i::aut_ctrl_bits(15, false, true), 0x0aaa_0000);
    assert_eq!(sun50i::aut_ctrl_offset(15), 0xcc);
}

/// The engine puts each vector where a walk looks for it. With the pool at
/// 0x4000_0000 the directory is slots 0-15 (0x4000_0000..0x4000_4000) and
/// the first page table slot 16 (0x4000_4000): DTE 0x4000_4001. Each
/// vector is unmapped before the next, so that slot is reused every time.
#[test]
fn engine_writes_vectors_in_place() {
    static POOL: StaticPool<Table1K, 20> = StaticPool::new();
    POOL.set_phys_base(POOL_PA);
    let pt: PageTable<S, _, _> = PageTable::new(&POOL, NoTlb).unwrap();
    assert_eq!(pt.root(), POOL_PA);
    let read = reader(&POOL);
    for (k, &(prot, pa, want)) in PTES.iter().enumerate() {
        // DTE 0x800 + k; PTE k of its table.
        let iova = 0x8000_0000 + ((k as u64) << 20) + ((k as u64) << 12);
        pt.map(iova, pa, 0x1000, prot).unwrap();
        let dte_at = POOL_PA + ((0x800 + k as u64) << 2);
        assert_eq!(read(dte_at), 0x4000_4001, "vector {k}");
        assert_eq!(read(0x4000_4000 + ((k as u64) << 2)), want, "vector {k}");
        assert_eq!(pt.iova_to_phys(iova + 0xfff), Some(pa + 0xfff));
        let t = walk(&CFG, pt.root(), iova as u32 + 0x123, &read).unwrap();
        assert_eq!((t.pa, t.attrs), (pa + 0x123, expected_attrs(prot)));
        assert_eq!(pt.unmap(iova, 0x1000), 0x1000);
        assert_eq!(read(0x4000_4000 + ((k as u64) << 2)), 0);
        // The emptied table went back and its DTE is cleared.
        assert_eq!(read(dte_at), 0);
    }
    assert_eq!(POOL.in_use(), 16);
}

/// Edges: the first entry of the first table and the last entry of the
/// last. IOVA 0: DTE 0 at 0x4000_0000, table slot 16 -> 0x4000_4001, PTE 0
/// at 0x4000_4000. IOVA 0xffff_f000: DTE 4095 at 0x4000_0000 + 4095 * 4 =
/// 0x4000_3ffc, table slot 17 (0x4000_4400) -> 0x4000_4401, PTE 255 at
/// 0x4000_4400 + 255 * 4 = 0x4000_47fc.
#[test]
fn first_and_last_entries() {
    static POOL: StaticPool<Table1K, 20> = StaticPool::new();
    POOL.set_phys_base(POOL_PA);
    let pt: PageTable<S, _, _> = PageTable::new(&POOL, NoTlb).unwrap();
    let read = reader(&POOL);
    pt.map(0, 0x7000_0000, 0x1000, R).unwrap();
    pt.map(0xffff_f000, 0xffff_f000, 0x1000, RW).unwrap();
    assert_eq!(read(0x4000_0000), 0x4000_4001);
    assert_eq!(read(0x4000_4000), 0x7000_0022);
    assert_eq!(read(0x4000_3ffc), 0x4000_4401);
    assert_eq!(read(0x4000_47fc), 0xffff_f042);
    assert_eq!(pt.iova_to_phys(0xffff_ffff), Some(0xffff_ffff));
    let t = walk(&CFG, pt.root(), 0xffff_ffff, &read).unwrap();
    assert_eq!(t.pa, 0xffff_ffff);
    assert_eq!(POOL.in_use(), 18);
}

/// A range across a directory boundary: IOVA 0x001f_e000, four pages, is
/// PTEs 254 and 255 of DTE 1 and PTEs 0 and 1 of DTE 2. PA 0x1000_0000 up:
/// 0x1000_0042, 0x1000_1042 in slot 16 (0x4000_4000 + 254 * 4 = 0x4000_43f8),
/// then 0x1000_2042, 0x1000_3042 in slot 17 (0x4000_4400).
#[test]
fn run_across_a_directory_boundary() {
    static POOL: StaticPool<Table1K, 20> = StaticPool::new();
    POOL.set_phys_base(POOL_PA);
    let mut pt: PageTable<S, _, _> = PageTable::new(&POOL, NoTlb).unwrap();
    pt.map_mut(0x001f_e000, 0x1000_0000, 0x4000, RW).unwrap();
    let read = reader(&POOL);
    assert_eq!(read(0x4000_0004), 0x4000_4001);
    assert_eq!(read(0x4000_0008), 0x4000_4401);
    assert_eq!(read(0x4000_43f8), 0x1000_0042);
    assert_eq!(read(0x4000_43fc), 0x1000_1042);
    assert_eq!(read(0x4000_4400), 0x1000_2042);
    assert_eq!(read(0x4000_4404), 0x1000_3042);
    assert_eq!(read(0x4000_4408), 0);
    assert_eq!(pt.unmap_mut(0x001f_f000, 0x2000), 0x2000);
    assert_eq!((read(0x4000_43fc), read(0x4000_4400)), (0, 0));
    assert_eq!(pt.iova_to_phys(0x0020_1000), Some(0x1000_3000));
}

#[test]
fn limits_and_refusals() {
    static POOL: StaticPool<Table1K, 20> = StaticPool::new();
    POOL.set_phys_base(POOL_PA);
    let pt: PageTable<S, _, _> = PageTable::new(&POOL, NoTlb).unwrap();
    // The 16 KiB directory is 16 slots, 16 KiB aligned.
    assert_eq!(POOL.in_use(), 16);
    assert_eq!(pt.root() % (16 << 10), 0);
    assert_eq!(
        pt.map(0xffff_f000, 0, 0x2000, RW),
        Err(MapError::IovaOutOfRange)
    );
    assert_eq!(
        pt.map(0, 0xffff_f000, 0x2000, RW),
        Err(MapError::PaddrOutOfRange)
    );
    assert_eq!(pt.map(0x800, 0, 0x1000, RW), Err(MapError::Misaligned));
    assert_eq!(pt.map(0, 0x800, 0x1000, RW), Err(MapError::Misaligned));
    assert_eq!(pt.map(0, 0, 0x1000, ALL_EXTRAS), Err(MapError::NoAccess));
    assert_eq!(pt.map(0, 0, 0, RW), Err(MapError::Empty));
    assert_eq!(POOL.in_use(), 16);
    // A 1 MiB-aligned megabyte still maps 256 PTEs (no section leaf).
    pt.map(0x0010_0000, 0x0020_0000, 0x0010_0000, W).unwrap();
    let read = reader(&POOL);
    for i in [0u64, 1, 128, 255] {
        assert_eq!(read(0x4000_4000 + i * 4), 0x0020_0032 + ((i as u32) << 12));
    }
    assert_eq!(POOL.in_use(), 17);
    assert_eq!(pt.map(0x0010_0000, 0, 0x1000, R), Err(MapError::Overlap));
}

/// Page tables must lie below 4 GiB (DTEs hold 32 bits): a slot above is
/// refused as if the pool were empty, and a root above cannot be made.
#[test]
fn tables_above_4g_are_refused() {
    static P1: StaticPool<Table1K, 20> = StaticPool::new();
    P1.set_phys_base((1 << 32) - (16 << 10));
    let pt: PageTable<S, _, _> = PageTable::new(&P1, NoTlb).unwrap();
    assert_eq!(pt.map(0x1000, 0x1000, 0x1000, RW), Err(MapError::NoMemory));
    assert_eq!(P1.in_use(), 16);
    static P2: StaticPool<Table1K, 20> = StaticPool::new();
    P2.set_phys_base(1 << 32);
    assert!(PageTable::<S, _, _>::new(&P2, NoTlb).is_err());
    assert_eq!(P2.in_use(), 0);
}

/// The reference walker reads what the hardware would: each fault kind,
/// and malformed entries flagged while listing.
#[test]
fn walker_faults_and_malformed_entries() {
    // A tiny fake memory: directory at 0x10_0000, one table at 0x20_0000.
    let mem = Mutex::new(std::collections::HashMap::<u64, u32>::new());
    let set = |pa: u64, v: u32| {
        mem.lock().unwrap().insert(pa, v);
    };
    let read = |pa: u64| *mem.lock().unwrap().get(&pa).unwrap_or(&0);
    let ttb = 0x10_0000;
    assert_eq!(walk(&CFG, ttb, 0x0030_0000, &read), Err(Fault::Directory));
    set(ttb + 3 * 4, 0x0020_0001);
    assert_eq!(walk(&CFG, ttb, 0x0030_5000, &read), Err(Fault::Page));
    // PTE 5: page 0x9000_0000, read/write.
    set(0x20_0000 + 5 * 4, 0x9000_0042);
    let t = walk(&CFG, ttb, 0x0030_5abc, &read).unwrap();
    assert_eq!(t.pa, 0x9000_0abc);
    assert_eq!(
        t.attrs,
        Attrs {
            read: true,
            write: true
        }
    );
    let (l, tables) = leaves(&CFG, ttb, &read).unwrap();
    assert_eq!(
        (l.len(), tables, l[0].ia, l[0].pa),
        (1, 1, 0x0030_5000, 0x9000_0000)
    );
    // Linux's no-access domain: mapped, but grants nothing.
    set(0x20_0000 + 6 * 4, 0x9000_1012);
    let t = walk(&CFG, ttb, 0x0030_6000, &read).unwrap();
    assert_eq!((t.attrs.read, t.attrs.write), (false, false));
    // Domain 0 and 5: not set up, so the walk cannot say.
    set(0x20_0000 + 7 * 4, 0x9000_2002);
    assert_eq!(
        walk(&CFG, ttb, 0x0030_7000, &read),
        Err(Fault::Domain { aci: 0 })
    );
    assert_eq!(
        leaves(&CFG, ttb, &read),
        Err(Fault::Malformed { ia: 0x0030_7000 })
    );
    set(0x20_0000 + 7 * 4, 0x9000_2052);
    assert_eq!(
        walk(&CFG, ttb, 0x0030_7000, &read),
        Err(Fault::Domain { aci: 5 })
    );
    set(0x20_0000 + 7 * 4, 0);
    // Reserved PTE bits (0, 3:2, 11:8) and an invalid non-zero PTE.
    for bad in [0x9000_2043, 0x9000_2046, 0x9000_2142, 0x9000_2040] {
        set(0x20_0000 + 8 * 4, bad);
        assert_eq!(
            leaves(&CFG, ttb, &read),
            Err(Fault::Malformed { ia: 0x0030_8000 }),
            "{bad:#x}"
        );
    }
    set(0x20_0000 + 8 * 4, 0);
    assert!(leaves(&CFG, ttb, &read).is_ok());
    // DTE bits 1:0 = 11 is not valid (a directory fault); reserved DTE
    // bits 9:2 do not stop the walk (it reaches PTE 0 of the table at
    // 0x20_0000, which is empty) but are never written by the engine.
    for (bad, fault) in [
        (0x0020_0003, Fault::Directory),
        (0x0020_0005, Fault::Page),
        (0x0020_0201, Fault::Page),
    ] {
        set(ttb + 4 * 4, bad);
        assert_eq!(walk(&CFG, ttb, 0x0040_0000, &read), Err(fault));
        assert_eq!(
            leaves(&CFG, ttb, &read),
            Err(Fault::Malformed { ia: 0x0040_0000 }),
            "{bad:#x}"
        );
    }
}

/// A deterministic mix of maps and unmaps of every permission, checked
/// after each step against the model through the reference walker.
#[test]
fn map_unmap_lookup_against_the_model() {
    static POOL: StaticPool<Table1K, { 16 + 64 }> = StaticPool::new();
    POOL.set_phys_base(POOL_PA);
    let mut pt: PageTable<S, _, _> = PageTable::new(&POOL, NoTlb).unwrap();
    let mut model = Model::default();
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = |n: u64| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % n
    };
    let prots = [R, W, RW, RW.union(Prot::CACHE), R.union(Prot::NOEXEC)];
    for step in 0..400 {
        // Inside 32 MiB (32 page tables), up to 600 pages per call.
        let ia = next(8192) << 12;
        let size = (1 + next(600)) << 12;
        let size = size.min((1 << 25) - ia);
        if next(3) != 0 {
            let pa = next(1 << 20) << 12;
            let pa = pa.min((1 << 32) - size);
            let prot = prots[next(prots.len() as u64) as usize];
            let r = pt.map_mut(ia, pa, size, prot);
            if model.overlaps(ia, size) {
                assert_eq!(r, Err(MapError::Overlap), "step {step}");
            } else {
                r.unwrap();
                model.map(ia, size, pa, expected_attrs(prot));
            }
        } else {
            assert_eq!(pt.unmap_mut(ia, size), model.unmap(ia, size), "step {step}");
        }
        check(pt.root(), &POOL, &model, &|ia| pt.iova_to_phys(ia));
    }
    assert_eq!(pt.unmap_mut(0, 1 << 32), model.unmap(0, 1 << 32));
    assert_eq!(POOL.in_use(), 16, "only the directory is left");
    drop(pt);
    assert_eq!(POOL.in_use(), 0);
}

/// A map that fails part way (an overlap at its end, then the pool running
/// dry) leaves table memory byte-identical and the pool as it was.
#[test]
fn failed_map_leaves_memory_identical() {
    static POOL: StaticPool<Table1K, { 16 + 3 }> = StaticPool::new();
    POOL.set_phys_base(POOL_PA);
    let pt: PageTable<S, _, _> = PageTable::new(&POOL, NoTlb).unwrap();
    pt.map(0x0050_0000, 0x5000_0000, 0x1000, R).unwrap();
    let before = snapshot(&POOL);
    let used = POOL.in_use();
    // From DTE 3 through DTE 5, whose page 0 is taken.
    assert_eq!(
        pt.map(0x0030_0000, 0x6000_0000, 0x0020_1000, RW),
        Err(MapError::Overlap)
    );
    assert_eq!(snapshot(&POOL), before);
    assert_eq!(POOL.in_use(), used);
    // Four new page tables wanted, two slots left.
    assert_eq!(
        pt.map(0x0100_0000, 0x6000_0000, 0x0040_0000, W),
        Err(MapError::NoMemory)
    );
    assert_eq!(snapshot(&POOL), before);
    assert_eq!(POOL.in_use(), used);
    let mut model = Model::default();
    model.map(0x0050_0000, 0x1000, 0x5000_0000, expected_attrs(R));
    check(pt.root(), &POOL, &model, &|ia| pt.iova_to_phys(ia));
}

/// Cleans recorded as physical (address, bytes), through the pool's offset.
#[derive(Default)]
struct Cleans(Mutex<Vec<(usize, usize)>>);
impl TlbOps for Cleans {
    fn inv_range(&self, _: u64, _: u64, _: u64, _: bool) {}
    fn inv_walk(&self, _: u64, _: u64, _: u64) {}
    fn sync(&self) {}
    fn clean(&self, first: *const u8, bytes: usize) {
        self.0.lock().unwrap().push((first as usize, bytes));
    }
}

/// The H6 walker does not snoop: the default format cleans the new table,
/// the DTE and the PTEs it writes; the coherent variant cleans nothing.
#[test]
fn non_coherent_walker_gets_cleans() {
    static POOL: StaticPool<Table1K, 20> = StaticPool::new();
    POOL.set_phys_base(POOL_PA);
    let (mem, _) = POOL.memory();
    let cleans = Cleans::default();
    let pt: PageTable<S, _, _> = PageTable::new(&POOL, &cleans).unwrap();
    pt.map(0x0070_2000, 0x1000_0000, 0x3000, RW).unwrap();
    let got = cleans.0.lock().unwrap().clone();
    let covered = |pa: u64| {
        let p = mem as usize + (pa - POOL_PA) as usize;
        got.iter().any(|&(a, n)| a <= p && p + 4 <= a + n)
    };
    // DTE 7 at 0x4000_001c; PTEs 2-4 of slot 16 at 0x4000_4008..0x4000_4014.
    for pa in [0x4000_001c, 0x4000_4008, 0x4000_400c, 0x4000_4010] {
        assert!(covered(pa), "{pa:#x} not cleaned: {got:x?}");
    }
    drop(pt);
    static P2: StaticPool<Table1K, 20> = StaticPool::new();
    P2.set_phys_base(POOL_PA);
    let none = Cleans::default();
    let pt: PageTable<Sun50i<true>, _, _> = PageTable::new(&P2, &none).unwrap();
    pt.map(0x0070_2000, 0x1000_0000, 0x3000, RW).unwrap();
    assert!(none.0.lock().unwrap().is_empty());
}

/// The whole 4 GiB as a million pages in one call (4096 page tables),
/// listed by the walker, then unmapped page by page over part of it and
/// at once for the rest.
#[test]
fn a_million_pages() {
    const PAGES: u64 = if cfg!(miri) { 512 } else { 1 << 20 };
    static POOL: StaticPool<Table1K, { 16 + PAGES.div_ceil(256) as usize }> = StaticPool::new();
    POOL.set_phys_base(POOL_PA);
    let mut pt: PageTable<S, _, _> = PageTable::new(&POOL, NoTlb).unwrap();
    pt.map_mut(0, 0, PAGES << 12, RW).unwrap();
    assert_eq!(POOL.in_use() as u64, 16 + PAGES.div_ceil(256));
    let read = reader(&POOL);
    let (l, tables) = leaves(&CFG, pt.root(), &read).unwrap();
    assert_eq!(
        (l.len() as u64, tables as u64),
        (PAGES, PAGES.div_ceil(256))
    );
    assert!(l
        .iter()
        .enumerate()
        .all(|(i, p)| p.ia == (i as u64) << 12 && p.pa == p.ia && p.attrs == expected_attrs(RW)));
    let last = (PAGES << 12) - 1;
    assert_eq!(pt.iova_to_phys(last), Some(last));
    assert_eq!(walk(&CFG, pt.root(), last as u32, &read).unwrap().pa, last);
    for p in 0..256 {
        assert_eq!(pt.unmap_mut(p << 12, 1 << 12), 1 << 12);
    }
    assert_eq!(POOL.in_use() as u64, 16 + PAGES.div_ceil(256) - 1);
    assert_eq!(pt.unmap(0, PAGES << 12), (PAGES - 256) << 12);
    assert_eq!(POOL.in_use(), 16);
    assert_eq!(leaves(&CFG, pt.root(), &read).unwrap(), (vec![], 0));
}
