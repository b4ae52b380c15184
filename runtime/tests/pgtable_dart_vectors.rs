//! Apple DART entries by hand, derived in the comments from the bit layout
//! the Linux DART drivers document: bit 0 valid; sub-page window start
//! [63:52] = 0 and end [51:40] = 0xfff in every page entry (0xfff << 40 =
//! 0x000f_ff00_0000_0000, written W below); DART1: PA[35:12] in place,
//! bit 1 sub-page protection disable (always), bit 7 no-write, bit 8
//! no-read; DART2: PA[41:14] >> 4 in bits [37:10], bit 1 no-cache (unless
//! CACHE), bit 2 no-write, bit 3 no-read. Table pointers are the address
//! field and bit 0. Then the engine writes them where the walk reads them.

mod formats;

use formats::reader64 as reader;
use iommugen_runtime::pgtable::{
    AppleDart, Dart1, Dart2, Format, MapError, NoTlb, PageTable, StaticPool, Table16K, TablePool,
};
use iommugen_runtime::refwalk::apple_dart::{walk, WalkConfig};
use iommugen_runtime::Prot;

/// Physical address of every test pool: 16 KiB aligned, above 4 GiB (so
/// table pointers exercise the high address bits) and below 2^36.
const POOL_PA: u64 = 0x8_0000_0000;
/// Bytes of a page and of a table.
const PAGE: u64 = 1 << 14;

/// The TTBRs of a table whose contiguous root holds `n` first-level tables.
fn ttbrs(root: u64, n: u32) -> Vec<u64> {
    (0..u64::from(n)).map(|i| root + i * PAGE).collect()
}

const R: Prot = Prot::READ;
const W: Prot = Prot::WRITE;
const RW: Prot = R.union(W);
const C: Prot = Prot::CACHE;
/// Attributes the format cannot express.
const NONE_OF_THEM: Prot = Prot::MMIO.union(Prot::NOEXEC).union(Prot::PRIV);

/// (prot, pa, entry) for DART1.
const DART1: &[(Prot, u64, u64)] = &[
    // W | SP_DIS 0x2 | valid 0x1, PA 0.
    (RW, 0x0, 0x000f_ff00_0000_0003),
    // The top 16K page of the 36-bit output, in place.
    (RW, 0xf_ffff_c000, 0x000f_ff0f_ffff_c003),
    // CACHE has no bit in DART1.
    (RW.union(C), 0x8_0000_4000, 0x000f_ff08_0000_4003),
    // Read-only: no-write 0x80.
    (R, 0x1_2345_8000, 0x000f_ff01_2345_8083),
    // Write-only: no-read 0x100.
    (W, 0x4000, 0x000f_ff00_0000_4103),
    // MMIO, NOEXEC, PRIV leave no trace.
    (RW.union(NONE_OF_THEM), 0x2_0000_0000, 0x000f_ff02_0000_0003),
    (
        R.union(C).union(Prot::NOEXEC),
        0xa_bcde_c000,
        0x000f_ff0a_bcde_c083,
    ),
    (W.union(Prot::MMIO), 0x3_0000_0000, 0x000f_ff03_0000_0103),
    // Bits 12 and 13 of the field stay zero for 16K-aligned addresses.
    (RW, 0x5_5555_4000, 0x000f_ff05_5555_4003),
    (R, 0x0_0001_0000, 0x000f_ff00_0001_0083),
];

/// (prot, pa, entry) for DART2.
const DART2: &[(Prot, u64, u64)] = &[
    // W | no-cache 0x2 | valid 0x1, PA 0.
    (RW, 0x0, 0x000f_ff00_0000_0003),
    // Cached: no bit 1.
    (RW.union(C), 0x0, 0x000f_ff00_0000_0001),
    // Top 16K page of 42 bits: 0x3ff_ffff_c000 >> 4 = 0x3f_ffff_fc00.
    (RW, 0x3ff_ffff_c000, 0x000f_ff3f_ffff_fc03),
    // PA bit 40 lands in entry bit 36: 0x10_0000_0000.
    (RW.union(C), 0x100_0000_0000, 0x000f_ff10_0000_0001),
    // Read-only: 0x1_2345_8000 >> 4 = 0x1234_5800, no-write 0x4, no-cache.
    (R, 0x1_2345_8000, 0x000f_ff00_1234_5807),
    // Write-only cached: 0x4000 >> 4 = 0x400, no-read 0x8.
    (W.union(C), 0x4000, 0x000f_ff00_0000_0409),
    // MMIO, NOEXEC, PRIV leave no trace: 0x8_0000_0000 >> 4 = 0x8000_0000.
    (RW.union(NONE_OF_THEM), 0x8_0000_0000, 0x000f_ff00_8000_0003),
    // 0x2a_aaaa_8000 >> 4 = 0x2_aaaa_a800; read-only cached: 0x4 | 0x1.
    (R.union(C), 0x2a_aaaa_8000, 0x000f_ff02_aaaa_a805),
    // 0x200_0000_4000 >> 4 = 0x20_0000_0400; write-only: 0x8 | 0x2 | 0x1.
    (W, 0x200_0000_4000, 0x000f_ff20_0000_040b),
    // 16K itself: 0x4000 >> 4 = 0x400 is the field's lowest bit (10).
    (RW, 0x4000, 0x000f_ff00_0000_0403),
];

/// (pa, table pointer) per generation.
const TABLES1: &[(u64, u64)] = &[(0x4000_c000, 0x4000_c001), (0xf_ffff_c000, 0xf_ffff_c001)];
const TABLES2: &[(u64, u64)] = &[
    // 0x4000_c000 >> 4 = 0x400_0c00.
    (0x4000_c000, 0x0400_0c01),
    (0x3ff_ffff_c000, 0x3f_ffff_fc01),
];

fn codec<F: Format>(pages: &[(Prot, u64, u64)], tables: &[(u64, u64)]) {
    for &(prot, pa, want) in pages {
        let d = F::leaf(pa, F::attrs(prot), 3, false);
        assert_eq!(d, want, "{prot:?} pa {pa:#x}: {d:#x}");
        assert_eq!(F::leaf_addr(d, 3), pa);
        assert!(!F::is_contig(d, 3));
        assert!(!F::is_table(d, 3));
        assert_eq!(F::leaf(pa, F::leaf_attrs(d, 3), 3, false), d);
    }
    for &(pa, want) in tables {
        assert_eq!(F::table(pa, 2), want);
        assert!(F::is_table(want, 2));
        assert_eq!(F::table_addr(want, 2), pa);
    }
}

#[test]
fn codec_matches_hand_derived_entries() {
    codec::<Dart1>(DART1, TABLES1);
    codec::<Dart2>(DART2, TABLES2);
}

/// The engine puts each vector where a walk looks for it: the first-level
/// entry (iova >> 25) & 0x7ff, and the second-level entry (iova >> 14) &
/// 0x7ff of the table it names (decoded here by hand per generation).
#[test]
fn engine_writes_vectors_in_place() {
    fn run<const G: u8>(v: &[(Prot, u64, u64)]) {
        static POOL: StaticPool<Table16K, 16> = StaticPool::new();
        POOL.set_phys_base(POOL_PA);
        let pt: PageTable<AppleDart<G, 32>, _, _> = PageTable::new(&POOL, NoTlb).unwrap();
        let read = reader(&POOL);
        for (k, &(prot, pa, want)) in v.iter().enumerate() {
            // One first-level slot per vector, and a page index of k.
            let iova = 0x8000_0000 + ((k as u64) << 25) + k as u64 * PAGE;
            pt.map(iova, pa, PAGE, prot).unwrap();
            let l1 = read(pt.root() + ((iova >> 25) & 0x7ff) * 8);
            assert_eq!(l1 & 1, 1, "a page needs a second-level table");
            let table = if G == 2 {
                (l1 & 0x3f_ffff_fc00) << 4
            } else {
                l1 & 0xf_ffff_f000
            };
            assert_eq!(read(table + ((iova >> 14) & 0x7ff) * 8), want, "vector {k}");
            assert_eq!(pt.iova_to_phys(iova + PAGE - 1), Some(pa + PAGE - 1));
            assert_eq!(pt.unmap(iova, PAGE), PAGE);
        }
        assert_eq!(POOL.in_use(), 1);
    }
    run::<1>(DART1);
    run::<2>(DART2);
}

#[test]
fn geometry_and_limits() {
    static POOL: StaticPool<Table16K, 8> = StaticPool::new();
    POOL.set_phys_base(POOL_PA);
    let pt: PageTable<Dart1, _, _> = PageTable::new(&POOL, NoTlb).unwrap();
    assert_eq!(POOL.in_use(), 1);
    assert_eq!((Dart1::IAS, Dart1::OAS, Dart2::OAS), (32, 36, 42));
    assert_eq!(
        (Dart1::ROOT_TABLES, AppleDart::<2, 38>::ROOT_TABLES),
        (1, 4)
    );
    assert_eq!(pt.root_table(0), Some(pt.root()));
    assert_eq!(pt.root_table(1), None);
    assert_eq!(
        pt.map(0xffff_c000, 0, 2 * PAGE, RW),
        Err(MapError::IovaOutOfRange)
    );
    assert_eq!(
        pt.map(0, 0xf_ffff_c000, 2 * PAGE, RW),
        Err(MapError::PaddrOutOfRange)
    );
    assert_eq!(pt.map(0x1000, 0, PAGE, RW), Err(MapError::Misaligned));
    assert_eq!(pt.map(0, 0x2000, PAGE, RW), Err(MapError::Misaligned));
    assert_eq!(pt.map(0, 0, PAGE, Prot::CACHE), Err(MapError::NoAccess));
    // A 32 MiB-aligned 32 MiB range is still 2048 pages: no blocks exist.
    pt.map(0x200_0000, 0x400_0000, 0x200_0000, RW).unwrap();
    let read = reader(&POOL);
    let l1 = read(pt.root() + 8);
    let table = l1 & 0xf_ffff_f000;
    assert_eq!(read(table) & 0xf_ffff_f000, 0x400_0000);
    assert_eq!(read(table + 2047 * 8) & 0xf_ffff_f000, 0x5ff_c000);
    // Cutting one page out of it unmaps exactly that page.
    assert_eq!(pt.unmap(0x300_0000, PAGE), PAGE);
    assert_eq!(pt.iova_to_phys(0x300_0000), None);
    assert_eq!(pt.iova_to_phys(0x300_4000), Some(0x500_4000));
    assert_eq!(pt.unmap(0, 1 << 32), 0x200_0000 - PAGE);
    assert_eq!(POOL.in_use(), 1);
}

/// DART2 with a 38-bit input: four contiguous first-level tables, one per
/// TTBR; IOVA bits 37:36 choose the TTBR.
#[test]
fn four_ttbrs_split_the_iova_space() {
    static POOL: StaticPool<Table16K, 16> = StaticPool::new();
    POOL.set_phys_base(POOL_PA);
    type F = AppleDart<2, 38>;
    let pt: PageTable<F, _, _> = PageTable::new(&POOL, NoTlb).unwrap();
    assert_eq!(POOL.in_use(), 4);
    let t = ttbrs(pt.root(), F::ROOT_TABLES);
    for (i, &ttbr) in t.iter().enumerate() {
        assert_eq!(pt.root_table(i as u32), Some(ttbr));
    }
    let cfg = WalkConfig {
        generation: 2,
        ias: 38,
    };
    let read = reader(&POOL);
    for i in 0..4u64 {
        let iova = (i << 36) | 0xf_fe00_0000 | (i * PAGE);
        let pa = 0x100_0000_0000 + i * 0x10_0000;
        pt.map(iova, pa, PAGE, RW).unwrap();
        // The first-level entry is in TTBR i's table, at index 0x7ff.
        assert_eq!(read(t[i as usize] + 0x7ff * 8) & 1, 1);
        let tr = walk(&cfg, &t, iova + 0x42, &read).unwrap();
        assert_eq!(tr.pa, pa + 0x42);
        assert_eq!(pt.iova_to_phys(iova + 0x42), Some(pa + 0x42));
    }
    assert_eq!(POOL.in_use(), 8);
    // A range across the TTBR 0/1 boundary.
    pt.map((1 << 36) - PAGE, 0x4000_0000, 3 * PAGE, RW).unwrap();
    let tr = walk(&cfg, &t, (1 << 36) + PAGE, &read).unwrap();
    assert_eq!(tr.pa, 0x4000_0000 + 2 * PAGE);
    assert_eq!(pt.map(1 << 38, 0, PAGE, RW), Err(MapError::IovaOutOfRange));
    assert_eq!(pt.unmap(0, 1 << 38), 7 * PAGE);
    assert_eq!(POOL.in_use(), 4);
}

/// Table pointers hold 36 bits on DART1: a pool slot above is refused as
/// if the pool were empty, and nothing is written.
#[test]
fn tables_above_the_output_size_are_refused() {
    static POOL: StaticPool<Table16K, 4> = StaticPool::new();
    // Root in [2^36 - 16K, 2^36); every further slot is at or above 2^36.
    POOL.set_phys_base((1 << 36) - PAGE);
    let pt: PageTable<Dart1, _, _> = PageTable::new(&POOL, NoTlb).unwrap();
    assert_eq!(pt.map(0, 0, PAGE, RW), Err(MapError::NoMemory));
    assert_eq!(POOL.in_use(), 1);
    assert_eq!(pt.iova_to_phys(0), None);
    // DART2 addresses 42 bits: the same pool serves it.
    drop(pt);
    let pt: PageTable<Dart2, _, _> = PageTable::new(&POOL, NoTlb).unwrap();
    pt.map(0, 0, PAGE, RW).unwrap();
    assert_eq!(pt.iova_to_phys(0x3fff), Some(0x3fff));
}

/// A million pages (16 GiB, IAS 36) in one call, then unmapped page by
/// page over the first table (which then goes back to the pool) and in
/// one call for the rest. Miri runs two tables' worth, a few pages singly.
#[test]
fn a_million_pages() {
    const PAGES: u64 = if cfg!(miri) { 4096 } else { 1 << 20 };
    const SINGLY: u64 = if cfg!(miri) { 16 } else { 2048 };
    const TABLES: u64 = PAGES / 2048;
    static POOL: StaticPool<Table16K, { 1 + TABLES as usize }> = StaticPool::new();
    POOL.set_phys_base(POOL_PA);
    let mut pt: PageTable<AppleDart<1, 36>, _, _> = PageTable::new(&POOL, NoTlb).unwrap();
    pt.map_mut(0, 0, PAGES * PAGE, RW).unwrap();
    assert_eq!(POOL.in_use() as u64, 1 + TABLES);
    assert_eq!(pt.iova_to_phys(PAGES * PAGE - 1), Some(PAGES * PAGE - 1));
    for p in 0..SINGLY {
        assert_eq!(pt.unmap_mut(p * PAGE, PAGE), PAGE);
    }
    assert_eq!(POOL.in_use() as u64, 1 + TABLES - u64::from(SINGLY == 2048));
    assert_eq!(pt.unmap(0, PAGES * PAGE), (PAGES - SINGLY) * PAGE);
    assert_eq!(POOL.in_use(), 1);
}

/// Empty tables translate nothing anywhere (the engine asks the format
/// whether an empty first-level entry is a table: it must say no).
#[test]
fn empty_tables_translate_nothing() {
    static POOL: StaticPool<Table16K, 8> = StaticPool::new();
    POOL.set_phys_base(POOL_PA);
    let pt: PageTable<Dart1, _, _> = PageTable::new(&POOL, NoTlb).unwrap();
    for ia in [0, PAGE, 0x8000_0000, (1 << 32) - 1] {
        assert_eq!(pt.iova_to_phys(ia), None, "{ia:#x}");
    }
    assert_eq!(pt.unmap(0, 1 << 32), 0);
    drop(pt);
    let pt: PageTable<AppleDart<2, 38>, _, _> = PageTable::new(&POOL, NoTlb).unwrap();
    for ia in (0..4u64).map(|t| (t << 36) | 0x7_ffff_c000) {
        assert_eq!(pt.iova_to_phys(ia), None, "{ia:#x}");
    }
    assert_eq!(pt.iova_to_phys(1 << 38), None);
    assert_eq!(pt.unmap(0, 1 << 38), 0);
    assert_eq!(POOL.in_use(), 4);
}

/// The walker over hand-built memory (two tables at 0x10_0000 and
/// 0x10_4000): good entries translate, entries the engine must never
/// write are reported, out-of-range addresses fault.
#[test]
fn walker_reports_malformed_entries() {
    use iommugen_runtime::refwalk::apple_dart::{leaves, Fault};
    use std::cell::RefCell;
    let mem = RefCell::new(vec![0u64; 2 * 2048]);
    let read = |pa: u64| mem.borrow()[((pa - 0x10_0000) / 8) as usize];
    let cfg = WalkConfig {
        generation: 1,
        ias: 32,
    };
    let root = [0x10_0000u64];
    // First-level entry 1 names the table at 0x10_4000; its entry 3 maps
    // PA 0x1234_8000 read-only (DART1 bits from the vectors above).
    mem.borrow_mut()[1] = 0x10_4001;
    mem.borrow_mut()[2048 + 3] = 0x000f_ff00_1234_8083;
    let ia = (1 << 25) | (3 << 14) | 0x10;
    let t = walk(&cfg, &root, ia, &read).unwrap();
    assert_eq!(t.pa, 0x1234_8010);
    assert!(t.attrs.read && !t.attrs.write && t.attrs.subpage_disabled);
    assert_eq!(leaves(&cfg, &root, &read).unwrap().0.len(), 1);
    assert_eq!(walk(&cfg, &root, 1 << 32, &read), Err(Fault::Range));
    assert_eq!(walk(&cfg, &root, 0, &read), Err(Fault::Level1));
    assert_eq!(walk(&cfg, &root, 1 << 25, &read), Err(Fault::Level2));
    // A sub-page window that is not the whole page.
    mem.borrow_mut()[2048 + 3] = 0x0000_0f00_1234_8083;
    assert_eq!(
        leaves(&cfg, &root, &read),
        Err(Fault::Malformed { ia: ia & !0x3fff })
    );
    // Stray bits in an invalid page entry.
    mem.borrow_mut()[2048 + 3] = 0x80;
    assert!(matches!(
        leaves(&cfg, &root, &read),
        Err(Fault::Malformed { .. })
    ));
    assert_eq!(walk(&cfg, &root, ia, &read), Err(Fault::Level2));
    // Attribute bits in a table pointer.
    mem.borrow_mut()[2048 + 3] = 0;
    mem.borrow_mut()[1] = 0x10_4081;
    assert_eq!(
        leaves(&cfg, &root, &read),
        Err(Fault::Malformed { ia: 1 << 25 })
    );
    // A first-level entry beyond the 32-bit input size.
    mem.borrow_mut()[1] = 0;
    mem.borrow_mut()[128] = 0x10_4001;
    assert_eq!(
        leaves(&cfg, &root, &read),
        Err(Fault::Malformed { ia: 1 << 32 })
    );
}
