//! Exynos SysMMU entries by hand: values derived in the comments from the
//! layouts Linux's `exynos-iommu.c` builds (type bits [1:0]: section 10,
//! table 01, large page 01, small page 10; entries hold PA, or PA >> 4 from
//! v5 on; permissions from its protection tables: v1-v4 section bit 10
//! "access" and bit 15 "read-only", page bits 4 and 9, write-only as
//! read/write; v5+ section bits 5:4 and page bits 3:2 = write:read). Then
//! the engine writes them where a walk reads them, and whole map/unmap
//! sequences are checked through the reference walker.

mod exynos_common;
mod formats;

use exynos_common::{expected_attrs, pool_pa, reader, snapshot, Model, Sysmmu, POOL_PA_V1};
use iommugen_runtime::pgtable::legal::exynos_sysmmu;
use iommugen_runtime::pgtable::{
    Exynos, Format, MapError, NoTlb, PageTable, StaticPool, Table1K, TablePool,
};
use iommugen_runtime::refwalk::exynos::{leaves, walk, Attrs, Fault, WalkConfig};
use iommugen_runtime::Prot;

const R: Prot = Prot::READ;
const W: Prot = Prot::WRITE;
const RW: Prot = Prot::READ.union(Prot::WRITE);
/// What Linux masks away: no trace in any entry.
const EXTRAS: Prot = Prot::CACHE
    .union(Prot::MMIO)
    .union(Prot::NOEXEC)
    .union(Prot::PRIV);

type Vector = (Prot, u32, bool, u64, u32);

/// (prot, level, contig, pa, entry) for versions 1 to 4.
const V1: &[Vector] = &[
    // Section: PA[31:20] in place, access 0x400, type 0x2.
    (RW, 2, false, 0x2010_0000, 0x2010_0402),
    // Read-only adds bit 15 (0x8000).
    (R, 2, false, 0x2020_0000, 0x2020_8402),
    // Write-only cannot be said: read/write.
    (W, 2, false, 0x2030_0000, 0x2030_0402),
    // Cache, MMIO, no-exec and privileged leave no trace.
    (RW.union(EXTRAS), 2, false, 0xfff0_0000, 0xfff0_0402),
    // Small page: PA[31:12], access 0x10, type 0x2.
    (RW, 3, false, 0x2000_5000, 0x2000_5012),
    // Read-only adds bit 9 (0x200).
    (R, 3, false, 0x2000_6000, 0x2000_6212),
    (W, 3, false, 0x0000_0000, 0x0000_0012),
    (R.union(EXTRAS), 3, false, 0xffff_f000, 0xffff_f212),
    // Large page: PA[31:16], access 0x10, type 0x1.
    (RW, 3, true, 0x2001_0000, 0x2001_0011),
    (R, 3, true, 0xffff_0000, 0xffff_0211),
    (W.union(Prot::CACHE), 3, true, 0x0001_0000, 0x0001_0011),
];

/// The same for v5 and later: entry = PA >> 4 | perms | type.
const V5: &[Vector] = &[
    // Section at 0x8_2010_0000: >> 4 = 0x8201_0000, read|write 0x30, 0x2.
    (RW, 2, false, 0x8_2010_0000, 0x8201_0032),
    // 0x10_0000 >> 4 = 0x1_0000, read 0x10.
    (R, 2, false, 0x0010_0000, 0x0001_0012),
    // Write-only is expressible: 0x20. Top section 0xf_fff0_0000 >> 4.
    (W, 2, false, 0xf_fff0_0000, 0xffff_0022),
    (RW.union(EXTRAS), 2, false, 0x1_0000_0000, 0x1000_0032),
    // Small page 0xf_ffff_f000 >> 4 = 0xffff_ff00, read|write 0xc, 0x2.
    (RW, 3, false, 0xf_ffff_f000, 0xffff_ff0e),
    // 0x1_2345_6000 >> 4 = 0x1234_5600, read 0x4.
    (R, 3, false, 0x1_2345_6000, 0x1234_5606),
    // 0x1000 >> 4 = 0x100, write 0x8.
    (W, 3, false, 0x0000_1000, 0x0000_010a),
    (R.union(EXTRAS), 3, false, 0x4_0000_0000, 0x4000_0006),
    // Large page 0x9_abcd_0000 >> 4 = 0x9abc_d000, 0xc, type 0x1.
    (RW, 3, true, 0x9_abcd_0000, 0x9abc_d00d),
    (R, 3, true, 0x0001_0000, 0x0000_1005),
    (W, 3, true, 0xf_ffff_0000, 0xffff_f009),
];

fn size_of(level: u32, contig: bool) -> u64 {
    match (level, contig) {
        (2, _) => 1 << 20,
        (_, true) => 1 << 16,
        _ => 1 << 12,
    }
}

#[test]
fn codec_matches_hand_derived_entries() {
    fn run<F: Format>(v: &[Vector]) {
        for &(prot, level, contig, pa, want) in v {
            let d = F::leaf(pa, F::attrs(prot), level, contig);
            assert_eq!(d, u64::from(want), "{prot:?} level {level} {pa:#x}: {d:#x}");
            // Decoding gives back what splitting needs.
            assert_eq!(F::leaf_addr(d, level), pa);
            assert_eq!(F::is_contig(d, level), contig);
            assert!(!F::is_table(d, level));
            assert_eq!(F::leaf(pa, F::leaf_attrs(d, level), level, contig), d);
        }
    }
    // Only "below 5 or not" changes the encoding.
    run::<Exynos<1>>(V1);
    run::<Exynos<3>>(V1);
    run::<Exynos<4>>(V1);
    run::<Exynos<5>>(V5);
    run::<Exynos<7>>(V5);
}

#[test]
fn table_pointers_by_hand() {
    // v1-v4: the 1 KiB-aligned address itself, type 0x1.
    for (pa, want) in [(0x4000_4400u64, 0x4000_4401u32), (0xffff_fc00, 0xffff_fc01)] {
        assert_eq!(Exynos::<1>::table(pa, 2), u64::from(want));
        assert!(Exynos::<1>::is_table(u64::from(want), 2));
        assert_eq!(Exynos::<1>::table_addr(u64::from(want), 2), pa);
    }
    // v5+: address >> 4 (0x7_c000_4400 -> 0x7c00_0440), type 0x1.
    for (pa, want) in [
        (0x7_c000_4400u64, 0x7c00_0441u32),
        (0xf_ffff_fc00, 0xffff_ffc1),
        (0x4000_0400, 0x0400_0041),
    ] {
        assert_eq!(Exynos::<5>::table(pa, 2), u64::from(want));
        assert!(Exynos::<5>::is_table(u64::from(want), 2));
        assert_eq!(Exynos::<5>::table_addr(u64::from(want), 2), pa);
    }
    // 01 at the second level is a large page, never a table.
    assert!(!Exynos::<1>::is_table(0x4000_4401, 3));
    assert!(Exynos::<1>::is_contig(0x4000_4401, 3));
}

#[test]
fn legality_is_shared_with_the_checker() {
    let oas: Vec<u32> = (0..=8).map(exynos_sysmmu::oas).collect();
    assert_eq!(oas, [0, 32, 32, 32, 32, 36, 36, 36, 0]);
    assert_eq!(exynos_sysmmu::oas(1 << 32 | 5), 0);
    assert_eq!((exynos_sysmmu::GRANULE_SHIFT, exynos_sysmmu::IAS), (12, 32));
    assert_eq!(exynos_sysmmu::SIZES, 0x11_1000);
    assert_eq!(<Exynos<4> as Format>::OAS, 32);
    assert_eq!(<Exynos<5> as Format>::TABLE_PA_BITS, 36);
}

/// The engine puts each vector where a walk looks: first-level entry
/// `iova >> 20` of the root, second-level entry `(iova >> 12) & 0xff` of
/// the table that entry names (bits [31:10], or [31:6] << 4 from v5 on).
#[test]
fn engine_writes_vectors_in_place() {
    fn run<const V: u32>(pool: &'static StaticPool<Table1K, 64>, v: &[Vector]) {
        pool.set_phys_base(pool_pa(V));
        let pt: PageTable<Exynos<V>, _, _> = PageTable::new(pool, NoTlb).unwrap();
        let read = reader(pool);
        for (k, &(prot, level, contig, pa, want)) in v.iter().enumerate() {
            let size = size_of(level, contig);
            let iova = 0x8000_0000 + ((k as u64) << 24);
            pt.map(iova, pa, size, prot).unwrap();
            let l1 = read(pt.root() + ((iova >> 20) << 2));
            let got = if level == 2 {
                l1
            } else {
                assert_eq!(l1 & 0b11, 0b01, "a page needs a second-level table");
                let table = if V >= 5 {
                    u64::from(l1 & !0x3f) << 4
                } else {
                    u64::from(l1 & !0x3ff)
                };
                // v5 pools lie above 4 GiB: the pointer needs the shift.
                assert_eq!(table >> 32, pool_pa(V) >> 32);
                read(table + (((iova >> 12) & 0xff) << 2))
            };
            assert_eq!(got, want, "vector {k}");
            assert_eq!(pt.iova_to_phys(iova + size - 1), Some(pa + size - 1));
            assert_eq!(pt.unmap(iova, size), size);
        }
        assert_eq!(pool.in_use(), 16);
    }
    static P1: StaticPool<Table1K, 64> = StaticPool::new();
    static P5: StaticPool<Table1K, 64> = StaticPool::new();
    run::<1>(&P1, V1);
    run::<5>(&P5, V5);
}

#[test]
fn geometry_and_limits() {
    static POOL: StaticPool<Table1K, 32> = StaticPool::new();
    POOL.set_phys_base(POOL_PA_V1);
    let pt: PageTable<Exynos<2>, _, _> = PageTable::new(&POOL, NoTlb).unwrap();
    // The 16 KiB first level is 16 slots, 16 KiB aligned.
    assert_eq!(POOL.in_use(), 16);
    assert_eq!(pt.root() % (16 << 10), 0);
    assert_eq!(
        pt.map(0, 0xffff_f000, 0x2000, RW),
        Err(MapError::PaddrOutOfRange)
    );
    assert_eq!(
        pt.map(0xffff_f000, 0, 0x2000, RW),
        Err(MapError::IovaOutOfRange)
    );
    assert_eq!(pt.map(0x800, 0, 0x1000, RW), Err(MapError::Misaligned));
    assert_eq!(pt.map(0, 0, 0x1000, Prot::CACHE), Err(MapError::NoAccess));
    // 64K-aligned input, 4K-aligned output: sixteen small pages.
    pt.map(0x10_0000, 0x1000, 0x1_0000, RW).unwrap();
    let read = reader(&POOL);
    let l2 = u64::from(read(pt.root() + 4) & !0x3ff);
    assert!((0..16).all(|k| read(l2 + k * 4) & 0b11 == 0b10));
    // 2 MiB aligned both sides: two sections, no table.
    pt.map(0x20_0000, 0x20_0000, 0x20_0000, R).unwrap();
    assert_eq!(read(pt.root() + 8), 0x0020_8402);
    assert_eq!(read(pt.root() + 12), 0x0030_8402);
    assert_eq!(POOL.in_use(), 17);

    static P5: StaticPool<Table1K, 32> = StaticPool::new();
    P5.set_phys_base(pool_pa(5));
    let pt5: PageTable<Exynos<6>, _, _> = PageTable::new(&P5, NoTlb).unwrap();
    let top = 1u64 << 36;
    pt5.map(0, top - 0x1000, 0x1000, RW).unwrap();
    assert_eq!(pt5.iova_to_phys(0xfff), Some(top - 1));
    assert_eq!(
        pt5.map(0x1000, top - 0x1000, 0x2000, RW),
        Err(MapError::PaddrOutOfRange)
    );
}

/// v1-v4 table pointers hold 32 bits: a pool slot above 4 GiB is refused as
/// if the pool were empty, and so is a root there. v5 pointers reach 64 GiB.
#[test]
fn table_placement_by_version() {
    static ROOT_HIGH: StaticPool<Table1K, 16> = StaticPool::new();
    ROOT_HIGH.set_phys_base(1 << 32);
    assert!(PageTable::<Exynos<3>, _, _>::new(&ROOT_HIGH, NoTlb).is_err());
    assert_eq!(ROOT_HIGH.in_use(), 0);

    static EDGE: StaticPool<Table1K, 32> = StaticPool::new();
    // Root in [4G - 16K, 4G); every further slot is at or above 4 GiB.
    EDGE.set_phys_base((1 << 32) - (16 << 10));
    let pt: PageTable<Exynos<1>, _, _> = PageTable::new(&EDGE, NoTlb).unwrap();
    assert_eq!(pt.map(0x1000, 0x1000, 0x1000, RW), Err(MapError::NoMemory));
    assert_eq!(EDGE.in_use(), 16);
    // Sections need no second-level table; splitting one does.
    pt.map(0x10_0000, 0x10_0000, 0x10_0000, RW).unwrap();
    assert_eq!(pt.unmap(0x10_0000, 0x1000), 0);
    assert_eq!(pt.iova_to_phys(0x10_0042), Some(0x10_0042));

    // The same placement is fine for v5, and the walker follows it.
    static EDGE5: StaticPool<Table1K, 32> = StaticPool::new();
    EDGE5.set_phys_base((1 << 32) - (16 << 10));
    let pt5: PageTable<Exynos<5>, _, _> = PageTable::new(&EDGE5, NoTlb).unwrap();
    pt5.map(0x1000, 0x9_0000_1000, 0x1000, RW).unwrap();
    let read = reader(&EDGE5);
    // The table is the slot right after the root: 4 GiB, >> 4 = 0x1000_0000.
    assert_eq!(read(pt5.root()), 0x1000_0001);
    let cfg = WalkConfig { version: 5 };
    let t = walk(&cfg, pt5.root(), 0x1234, &read).unwrap();
    assert_eq!((t.pa, t.size), (0x9_0000_1234, 0x1000));

    // Beyond 64 GiB nothing is addressable, not even for v5.
    static BEYOND: StaticPool<Table1K, 16> = StaticPool::new();
    BEYOND.set_phys_base(1 << 36);
    assert!(PageTable::<Exynos<7>, _, _>::new(&BEYOND, NoTlb).is_err());
}

/// The walker, alone, on hand-written tables: decoding and the entries it
/// must flag.
#[test]
fn walker_on_hand_written_tables() {
    use std::collections::HashMap;
    let run = |version: u32, mem: &HashMap<u64, u32>| {
        let read = |pa: u64| mem.get(&pa).copied().unwrap_or(0);
        leaves(&WalkConfig { version }, 0x1_0000, &read)
    };
    let root = 0x1_0000u64;
    // v1: a read-only section at IOVA 3M and a table at 0x2_0400 with one
    // read/write small page at index 5.
    let mut m = HashMap::from([(root + 12, 0x2030_8402), (root + 16, 0x0002_0401)]);
    m.insert(0x2_0400 + 5 * 4, 0x7000_5012);
    let (l, tables) = run(1, &m).unwrap();
    assert_eq!(tables, 1);
    let ro = Attrs {
        read: true,
        write: false,
    };
    let rw = Attrs {
        read: true,
        write: true,
    };
    assert_eq!(
        l.iter()
            .map(|l| (l.ia, l.size, l.pa, l.attrs))
            .collect::<Vec<_>>(),
        [
            (0x30_0000, 1 << 20, 0x2030_0000, ro),
            (0x40_5000, 1 << 12, 0x7000_5000, rw)
        ]
    );
    // Malformed: a fault entry with stray bits, type 11, stray attribute
    // bits (C and B), a small page of type 11, a no-access leaf, and a
    // large page with only 15 copies.
    for (at, bad) in [
        (root + 4, 0x0010_0000u32),
        (root + 4, 0x0010_0003),
        (root + 4, 0x0010_040e),
        (0x2_0400 + 6 * 4, 0x7000_6013),
        (0x2_0400 + 6 * 4, 0x7000_6002),
    ] {
        let mut bad_mem = m.clone();
        bad_mem.insert(at, bad);
        assert!(
            matches!(run(1, &bad_mem), Err(Fault::Malformed { .. })),
            "{bad:#x}"
        );
    }
    let mut large = m.clone();
    for k in 16..31 {
        large.insert(0x2_0400 + k * 4, 0x7001_0011);
    }
    assert!(matches!(
        run(1, &large),
        Err(Fault::Malformed { ia: 0x41_0000 })
    ));
    large.insert(0x2_0400 + 31 * 4, 0x7001_0011);
    assert_eq!(run(1, &large).unwrap().0[2].size, 1 << 16);

    // v5: a write-only section and a table above 4 GiB, read directly.
    let read5 = |pa: u64| match pa {
        0x1_0000 => 0x8201_0022,
        0x1_0004 => 0x7c00_0441,
        0x7_c000_4400 => 0xffff_ff0e,
        _ => 0,
    };
    let cfg = WalkConfig { version: 5 };
    let s = walk(&cfg, root, 0x000a_bcde, &read5).unwrap();
    assert_eq!((s.pa, s.size), (0x8_201a_bcde, 1 << 20));
    assert_eq!(
        s.attrs,
        Attrs {
            read: false,
            write: true
        }
    );
    let p = walk(&cfg, root, 0x0010_0fff, &read5).unwrap();
    assert_eq!((p.pa, p.attrs), (0xf_ffff_ffff, rw));
    assert_eq!(walk(&cfg, root, 0x0010_1000, &read5), Err(Fault::Level2));
    assert_eq!(walk(&cfg, root, 0x0020_0000, &read5), Err(Fault::Level1));
}

/// Mixed sizes and permissions through both entry points, checked against
/// a model through the walker after every step, then taken apart again.
#[test]
fn map_unmap_lookup_through_the_walker() {
    fn run<const V: u32>(pool: &'static StaticPool<Table1K, 64>) {
        pool.set_phys_base(pool_pa(V));
        let pa0 = if V >= 5 { 0x8_0000_0000 } else { 0x1000_0000 };
        let mut pt: PageTable<Exynos<V>, _, _> = PageTable::new(pool, NoTlb).unwrap();
        let mut model = Model::default();
        // (iova, size, pa offset, prot): a section run, large pages, small
        // pages before a group boundary, one page, write-only.
        let ops = [
            (0x0020_0000u64, 0x0030_0000u64, 0x0020_0000u64, RW),
            (0x0100_0000, 0x0004_0000, 0x0100_0000, R),
            (0x0200_f000, 0x0001_1000, 0x0300_f000, RW.union(EXTRAS)),
            (0x0400_0000, 0x1000, 0x1234_5000, R),
            (0xfff0_0000, 0x0010_0000, 0x0400_0000, W),
        ];
        for (k, &(ia, size, off, prot)) in ops.iter().enumerate() {
            if k % 2 == 0 {
                pt.map(ia, pa0 + off, size, prot).unwrap();
            } else {
                pt.map_mut(ia, pa0 + off, size, prot).unwrap();
            }
            model.map(ia, size, pa0 + off, expected_attrs(V, prot));
            Sysmmu::<V>::check(pt.root(), pool, &model, &|ia| pt.iova_to_phys(ia));
        }
        // A map over something mapped is refused.
        assert_eq!(pt.map(0x0100_f000, 0, 0x2000, RW), Err(MapError::Overlap));
        // Unmaps that span holes and several leaf kinds.
        for &(ia, size) in &[(0x0010_0000u64, 0x0030_0000u64), (0x0100_0000, 0x0300_2000)] {
            let want = model.unmap(ia, size);
            assert_eq!(pt.unmap(ia, size), want);
            Sysmmu::<V>::check(pt.root(), pool, &model, &|ia| pt.iova_to_phys(ia));
        }
        let want = model.unmap(0, 1 << 32);
        assert_eq!(pt.unmap_mut(0, 1 << 32), want);
        Sysmmu::<V>::check(pt.root(), pool, &model, &|ia| pt.iova_to_phys(ia));
        assert_eq!(pool.in_use(), 16, "only the root is left");
    }
    static P1: StaticPool<Table1K, 64> = StaticPool::new();
    static P5: StaticPool<Table1K, 64> = StaticPool::new();
    run::<1>(&P1);
    run::<5>(&P5);
}

/// Linux refuses to unmap part of a section or large page (a warning, 0
/// bytes). Our engine splits: a section into a table of 256 small pages,
/// a large page in place into 16 small ones, each keeping the permissions.
#[test]
fn partial_unmaps_split() {
    fn run<const V: u32>(pool: &'static StaticPool<Table1K, 32>, small_ro: u32) {
        pool.set_phys_base(pool_pa(V));
        let pt: PageTable<Exynos<V>, _, _> = PageTable::new(pool, NoTlb).unwrap();
        let read = reader(pool);
        let mut model = Model::default();
        pt.map(0x10_0000, 0x3000_0000, 0x10_0000, R).unwrap();
        pt.map(0x40_0000, 0x5000_0000, 0x1_0000, RW).unwrap();
        model.map(0x10_0000, 0x10_0000, 0x3000_0000, expected_attrs(V, R));
        model.map(0x40_0000, 0x1_0000, 0x5000_0000, expected_attrs(V, RW));
        assert_eq!(pool.in_use(), 17);
        // Cut 4 KiB out of the section: it becomes a table.
        assert_eq!(pt.unmap(0x10_4000, 0x1000), 0x1000);
        model.unmap(0x10_4000, 0x1000);
        Sysmmu::<V>::check(pt.root(), pool, &model, &|ia| pt.iova_to_phys(ia));
        assert_eq!(pool.in_use(), 18);
        let l1 = read(pt.root() + 4);
        assert_eq!(l1 & 0b11, 0b01);
        let table = if V >= 5 {
            u64::from(l1 & !0x3f) << 4
        } else {
            u64::from(l1 & !0x3ff)
        };
        // Entry 0 is the read-only small page at 0x3000_0000, entry 4 gone.
        assert_eq!(read(table), small_ro);
        assert_eq!(read(table + 16), 0);
        // Cut one page out of the large page: split in place, no new table.
        assert_eq!(pt.unmap(0x40_3000, 0x1000), 0x1000);
        model.unmap(0x40_3000, 0x1000);
        Sysmmu::<V>::check(pt.root(), pool, &model, &|ia| pt.iova_to_phys(ia));
        assert_eq!(pool.in_use(), 18);
        // Unmapping the rest gives every table back.
        assert_eq!(pt.unmap(0, 1 << 32), 0x10_0000 - 0x1000 + 0x1_0000 - 0x1000);
        assert_eq!(pool.in_use(), 16);
    }
    static P1: StaticPool<Table1K, 32> = StaticPool::new();
    static P5: StaticPool<Table1K, 32> = StaticPool::new();
    // v1: 0x3000_0000 | read-only 0x200 | access 0x10 | small 0x2.
    run::<1>(&P1, 0x3000_0212);
    // v5: 0x3000_0000 >> 4 = 0x0300_0000 | read 0x4 | small 0x2.
    run::<5>(&P5, 0x0300_0006);
}

/// A map that fails (overlap found late, or the pool running dry) leaves
/// table memory byte for byte as it was, and the pool's count too.
#[test]
fn failed_maps_leave_memory_identical() {
    static POOL: StaticPool<Table1K, { 16 + 3 }> = StaticPool::new();
    POOL.set_phys_base(pool_pa(5));
    let pt: PageTable<Exynos<5>, _, _> = PageTable::new(&POOL, NoTlb).unwrap();
    pt.map(0x40_0000, 0x7_0040_0000, 0x1000, RW).unwrap();
    let before = snapshot(&POOL);
    let used = POOL.in_use();
    // Small pages into a fresh table at 2M, a section at 3M, then the page
    // already at 4M.
    assert_eq!(
        pt.map(0x20_f000, 0x7_0020_f000, 0x1f_2000, RW),
        Err(MapError::Overlap)
    );
    assert_eq!((snapshot(&POOL) == before, POOL.in_use()), (true, used));
    // Input and output 4K apart: small pages only, in three new tables (5M,
    // 6M, 7M) where two are left.
    assert_eq!(
        pt.map(0x50_f000, 0x7_0051_0000, 0x20_2000, R),
        Err(MapError::NoMemory)
    );
    assert_eq!((snapshot(&POOL) == before, POOL.in_use()), (true, used));
    assert_eq!(pt.iova_to_phys(0x50_f000), None);
}

/// 64 MiB as sections in one call, and a million small pages (input and
/// output misaligned to each other, so no larger leaf fits) mapped and
/// unmapped both at once and page by page, for both encodings.
#[test]
fn large_round_trips() {
    const PAGES: u64 = if cfg!(miri) { 512 } else { (1 << 20) - 1 };
    fn run<const V: u32>(pool: &'static StaticPool<Table1K, { 16 + 4096 }>, pa0: u64) {
        pool.set_phys_base(pool_pa(V));
        let mut pt: PageTable<Exynos<V>, _, _> = PageTable::new(pool, NoTlb).unwrap();
        let cfg = WalkConfig { version: V };
        pt.map_mut(0x1000_0000, pa0 + 0x1000_0000, 64 << 20, RW)
            .unwrap();
        let (l, tables) = leaves(&cfg, pt.root(), &reader(pool)).unwrap();
        assert_eq!((l.len(), tables), (64, 0));
        assert_eq!(pt.unmap_mut(0, 1 << 32), 64 << 20);

        pt.map_mut(0, pa0 + 0x1000, PAGES << 12, RW).unwrap();
        assert_eq!(pool.in_use() as u64, 16 + PAGES.div_ceil(256));
        let mut model = Model::default();
        model.map(0, PAGES << 12, pa0 + 0x1000, expected_attrs(V, RW));
        if !cfg!(debug_assertions) || V == 5 {
            Sysmmu::<V>::check(pt.root(), pool, &model, &|ia| pt.iova_to_phys(ia));
        }
        let last = (PAGES << 12) - 1;
        assert_eq!(pt.iova_to_phys(last), Some(pa0 + 0x1000 + last));
        for p in 0..256 {
            assert_eq!(pt.unmap_mut(p << 12, 1 << 12), 1 << 12);
        }
        assert_eq!(pt.unmap(0, PAGES << 12), (PAGES - 256) << 12);
        assert_eq!(pool.in_use(), 16);
    }
    static P1: StaticPool<Table1K, { 16 + 4096 }> = StaticPool::new();
    static P5: StaticPool<Table1K, { 16 + 4096 }> = StaticPool::new();
    run::<1>(&P1, 0);
    run::<5>(&P5, 0x8_0000_0000);
}
