//! Rockchip IOMMU entries by hand: values derived in the comments from the
//! layouts Linux documents in `drivers/iommu/rockchip-iommu.c`: both
//! versions, bit 0 valid; PTE bit 1 readable and bit 2 writable (current
//! Linux, after the 2022 fix of v2's swapped bits); v1 address PA 31:12 in
//! bits 31:12; v2 additionally PA 35:32 in bits 11:8 and PA 39:36 in bits
//! 7:4, in DTEs and PTEs alike. No other bit is written, so cache, MMIO,
//! no-exec and privilege requests leave no trace. Then the engine writes
//! them where a walk reads them.

mod formats;

use formats::reader32 as reader;
use iommugen_runtime::pgtable::formats::rockchip::{self, RockchipError};
use iommugen_runtime::pgtable::{
    Format, MapError, NoTlb, PageTable, Rockchip, StaticPool, Table4K, TablePool,
};
use iommugen_runtime::Prot;

/// Physical base of the test pools: v1 below 4 GiB, as v1 requires; v2
/// above 4 GiB with both high fields of every table address non-zero
/// (PA 39:36 = 7, PA 35:32 = 0xf).
fn pool_pa(version: u32) -> u64 {
    if version == 2 {
        0x7f_c000_0000
    } else {
        0x4000_0000
    }
}

type V1 = Rockchip<1>;
type V2 = Rockchip<2>;

const R: Prot = Prot::READ;
const W: Prot = Prot::WRITE;
const RW: Prot = Prot::READ.union(Prot::WRITE);
const ALL_EXTRAS: Prot = Prot::CACHE
    .union(Prot::MMIO)
    .union(Prot::NOEXEC)
    .union(Prot::PRIV);

/// (prot, pa, PTE) for version 1.
const V1_PTES: &[(Prot, u64, u32)] = &[
    // Read-only page 0: valid 0x1 | readable 0x2.
    (R, 0x0000_0000, 0x0000_0003),
    // Write-only: valid 0x1 | writable 0x4, address in place.
    (W, 0x0000_1000, 0x0000_1005),
    // Read/write: 0x1 | 0x2 | 0x4 = 0x7.
    (RW, 0x1234_5000, 0x1234_5007),
    // The last page below 4 GiB.
    (RW, 0xffff_f000, 0xffff_f007),
    // Cache, MMIO, no-exec and privileged write nothing more.
    (R.union(ALL_EXTRAS), 0x8000_0000, 0x8000_0003),
    (RW.union(Prot::PRIV), 0x4000_0000, 0x4000_0007),
    (RW.union(Prot::NOEXEC), 0x0010_0000, 0x0010_0007),
    (W.union(Prot::CACHE), 0xdead_b000, 0xdead_b005),
    (R.union(Prot::MMIO), 0x0fff_f000, 0x0fff_f003),
];

/// (prot, pa, PTE) for version 2.
const V2_PTES: &[(Prot, u64, u32)] = &[
    // Below 4 GiB v2 is v1.
    (RW, 0x1234_5000, 0x1234_5007),
    (W, 0x8765_4000, 0x8765_4005),
    // PA 32 set: PA 35:32 = 1 -> bits 11:8 = 0x100; | 0x7.
    (RW, 0x1_0000_0000, 0x0000_0107),
    // PA 36 set: PA 39:36 = 1 -> bits 7:4 = 0x010; | 0x7.
    (RW, 0x10_0000_0000, 0x0000_0017),
    // Every address bit: 0xffff_f000 | 0xf00 | 0x0f0 | 0x7.
    (RW, 0xff_ffff_f000, 0xffff_fff7),
    // PA 39:32 = 0x12: 35:32 = 2 -> 0x200, 39:36 = 1 -> 0x010; | R 0x3.
    (R, 0x12_3456_7000, 0x3456_7213),
    // PA 39:32 = 0xa5: 35:32 = 5 -> 0x500, 39:36 = 0xa -> 0x0a0; extras
    // add nothing: 0x1000 | 0x5a0 | 0x7.
    (RW.union(ALL_EXTRAS), 0xa5_0000_1000, 0x0000_15a7),
    // PA 39:32 = 0x3c: 0xc00 | 0x030 | R 0x3.
    (R.union(Prot::NOEXEC), 0x3c_ffff_f000, 0xffff_fc33),
    // PA 39:32 = 0x0f: 0xf00 | W 0x5.
    (W.union(Prot::PRIV), 0x0f_0000_0000, 0x0000_0f05),
    // PA 39:32 = 0xf0: 0x0f0 | R 0x3.
    (R, 0xf0_0000_0000, 0x0000_00f3),
];

/// (table pa, DTE) per version: address as for PTEs, | valid 0x1.
const V1_DTES: &[(u64, u32)] = &[
    (0x4000_1000, 0x4000_1001),
    (0xffff_f000, 0xffff_f001),
    (0x0000_0000, 0x0000_0001),
];
const V2_DTES: &[(u64, u32)] = &[
    // PA 39:32 = 0x7f: 0xf00 | 0x070 | 0x1.
    (0x7f_c000_3000, 0xc000_3f71),
    (0x1_0000_0000, 0x0000_0101),
    (0xff_ffff_f000, 0xffff_fff1),
    (0x20_0000_0000, 0x0000_0021),
    (0x0000_2000, 0x0000_2001),
];

#[test]
fn codec_matches_hand_derived_entries() {
    fn run<F: Format>(ptes: &[(Prot, u64, u32)], dtes: &[(u64, u32)]) {
        for &(prot, pa, want) in ptes {
            let d = F::leaf(pa, F::attrs(prot), 3, false);
            assert_eq!(d, u64::from(want), "{prot:?} pa {pa:#x}: {d:#x}");
            assert_eq!(F::leaf_addr(d, 3), pa);
            assert!(!F::is_contig(d, 3));
            assert!(!F::is_table(d, 3), "a PTE is never a table");
            assert_eq!(F::leaf(pa, F::leaf_attrs(d, 3), 3, false), d);
        }
        for &(pa, want) in dtes {
            let d = F::table(pa, 2);
            assert_eq!(d, u64::from(want), "table {pa:#x}: {d:#x}");
            assert!(F::is_table(d, 2));
            assert_eq!(F::table_addr(d, 2), pa);
        }
    }
    run::<V1>(V1_PTES, V1_DTES);
    run::<V2>(V2_PTES, V2_DTES);
    // The high fields mean nothing in v1: the same bits decode to PA 31:12.
    assert_eq!(V1::leaf_addr(0x0000_15a7, 3), 0x1000);
}

/// The engine puts each vector where a walk looks for it: the PTE at index
/// (iova >> 12) & 0x3ff of the page table the DTE (iova >> 22) names.
#[test]
fn engine_writes_vectors_in_place() {
    fn run<const V: u32>(v: &[(Prot, u64, u32)]) {
        static POOL: StaticPool<Table4K, 4> = StaticPool::new();
        POOL.set_phys_base(pool_pa(V));
        let pt: PageTable<Rockchip<V>, _, _> = PageTable::new(&POOL, NoTlb).unwrap();
        let read = reader(&POOL);
        for (k, &(prot, pa, want)) in v.iter().enumerate() {
            // One directory entry per vector, from 0x8000_0000; a page at
            // index k of its table.
            let iova = 0x8000_0000 + ((k as u64) << 22) + ((k as u64) << 12);
            pt.map(iova, pa, 0x1000, prot).unwrap();
            let dte = read(pt.root() + ((iova >> 22) << 2));
            // Every pool slot lies in the pool's first MiB: the DTE's low
            // bits are the pool base's high fields and the valid bit.
            let low = if V == 2 { 0xf71 } else { 0x001 };
            assert_eq!(dte & 0xfff, low, "vector {k}: DTE {dte:#x}");
            let table = pool_pa(V) & !0xfff_ffff | u64::from(dte & 0xffff_f000);
            let got = read(table + (((iova >> 12) & 0x3ff) << 2));
            assert_eq!(got, want, "vector {k}");
            assert_eq!(pt.iova_to_phys(iova + 0xfff), Some(pa + 0xfff));
            assert_eq!(pt.unmap(iova, 0x1000), 0x1000);
            assert_eq!(read(table + (((iova >> 12) & 0x3ff) << 2)), 0);
        }
        assert_eq!(POOL.in_use(), 1);
    }
    run::<1>(V1_PTES);
    run::<2>(V2_PTES);
}

#[test]
fn geometry_and_limits() {
    static POOL: StaticPool<Table4K, 4> = StaticPool::new();
    POOL.set_phys_base(pool_pa(1));
    let pt: PageTable<V1, _, _> = PageTable::new(&POOL, NoTlb).unwrap();
    // The 4 KiB directory is one pool slot.
    assert_eq!(POOL.in_use(), 1);
    assert_eq!(pt.root() % 4096, 0);
    assert_eq!((V1::IAS, V1::OAS, V2::OAS), (32, 32, 40));
    assert_eq!((V1::TABLE_PA_BITS, V2::TABLE_PA_BITS), (32, 40));
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
    assert_eq!(
        pt.map(0, 0, 0x1000, Prot::CACHE | Prot::NOEXEC),
        Err(MapError::NoAccess)
    );
    assert_eq!(POOL.in_use(), 1);
    // 4 MiB-aligned input and output still map 1024 PTEs (no larger leaf).
    pt.map(0x40_0000, 0x80_0000, 0x40_0000, RW).unwrap();
    let read = reader(&POOL);
    let table = u64::from(read(pt.root() + 4) & 0xffff_f000);
    for i in [0u64, 1, 511, 1023] {
        assert_eq!(read(table + i * 4), 0x80_0007 + ((i as u32) << 12));
    }
    assert_eq!(POOL.in_use(), 2);
}

/// v1 entries hold 32 bits: a directory or page table at or above 4 GiB is
/// refused as if the pool were empty; v2 refuses only at or above 1 TiB.
#[test]
fn tables_beyond_the_entry_are_refused() {
    static P1: StaticPool<Table4K, 4> = StaticPool::new();
    P1.set_phys_base((1 << 32) - 0x1000);
    let pt: PageTable<V1, _, _> = PageTable::new(&P1, NoTlb).unwrap();
    assert_eq!(pt.map(0x1000, 0x1000, 0x1000, RW), Err(MapError::NoMemory));
    assert_eq!(P1.in_use(), 1);
    drop(pt);
    static P2: StaticPool<Table4K, 4> = StaticPool::new();
    P2.set_phys_base(1 << 32);
    assert!(PageTable::<V1, _, _>::new(&P2, NoTlb).is_err());
    assert_eq!(P2.in_use(), 0);
    // v2 takes that pool, and a page above 4 GiB.
    let pt: PageTable<V2, _, _> = PageTable::new(&P2, NoTlb).unwrap();
    pt.map(0x1000, 0x5_0000_0000, 0x1000, RW).unwrap();
    assert_eq!(pt.iova_to_phys(0x1abc), Some(0x5_0000_0abc));
    drop(pt);
    static P3: StaticPool<Table4K, 4> = StaticPool::new();
    P3.set_phys_base((1 << 40) - 0x1000);
    let pt: PageTable<V2, _, _> = PageTable::new(&P3, NoTlb).unwrap();
    assert_eq!(pt.map(0, 0, 0x1000, RW), Err(MapError::NoMemory));
    assert_eq!(
        pt.map(0, (1 << 40) - 0x1000, 0x2000, RW),
        Err(MapError::PaddrOutOfRange)
    );
}

#[test]
fn legality_rule_and_compatibles() {
    assert_eq!(rockchip::check(1), Ok(()));
    assert_eq!(rockchip::check(2), Ok(()));
    for v in [0, 3, u32::MAX] {
        assert_eq!(rockchip::check(v), Err(RockchipError::Version));
    }
    assert_eq!(rockchip::version_of_compatible("rockchip,iommu"), Some(1));
    assert_eq!(
        rockchip::version_of_compatible("rockchip,rk3568-iommu"),
        Some(2)
    );
    assert_eq!(
        rockchip::version_of_compatible("rockchip,rk3588-iommu"),
        None
    );
    assert_eq!(rockchip::version_of_compatible(""), None);
    // rk3588 lists its own string first, then the rk3568 fallback.
    let rk3588 = ["rockchip,rk3588-iommu", "rockchip,rk3568-iommu"];
    assert_eq!(rockchip::version_of_compatibles(rk3588), Some(2));
    assert_eq!(
        rockchip::version_of_compatibles(["rockchip,iommu"]),
        Some(1)
    );
    assert_eq!(rockchip::version_of_compatibles(["arm,smmu-v3"]), None);
}

/// The whole 4 GiB as a million pages in one call (1024 page tables), then
/// unmapped page by page over part of it and at once for the rest.
#[test]
fn a_million_pages() {
    const PAGES: u64 = if cfg!(miri) { 2048 } else { 1 << 20 };
    // Under miri a 4 MiB static is itself slow: only the tables needed.
    static POOL: StaticPool<Table4K, { 1 + PAGES.div_ceil(1024) as usize }> = StaticPool::new();
    POOL.set_phys_base(pool_pa(2));
    let mut pt: PageTable<V2, _, _> = PageTable::new(&POOL, NoTlb).unwrap();
    // Outputs from 62 GiB, crossing 64 GiB at the middle (PA 39:36 goes
    // 0 -> 1, PA 35:32 goes 0xf -> 0) when the whole range is mapped.
    let pa = 0xf_8000_0000;
    pt.map_mut(0, pa, PAGES << 12, RW).unwrap();
    assert_eq!(POOL.in_use() as u64, 1 + PAGES.div_ceil(1024));
    let last = (PAGES << 12) - 1;
    assert_eq!(pt.iova_to_phys(last), Some(pa + last));
    let mid = (PAGES << 11) + 0x123;
    assert_eq!(pt.iova_to_phys(mid), Some(pa + mid));
    let singles = if cfg!(miri) { 16 } else { 1024 };
    for p in 0..singles {
        assert_eq!(pt.unmap_mut(p << 12, 1 << 12), 1 << 12);
    }
    assert_eq!(pt.unmap(0, PAGES << 12), (PAGES - singles) << 12);
    assert_eq!(POOL.in_use(), 1);
}

/// v2 fills runs inside one 4 GiB output block with one add per entry; a
/// run crossing a boundary must not carry into the high fields wrongly.
/// Eight pages from PA 0x8f_ffff_c000: the first four have PA 39:36 = 8
/// and 35:32 = 0xf (bits 7:4 = 0x80, 11:8 = 0xf00), the rest PA 39:36 = 9
/// and 35:32 = 0 (0x090).
#[test]
fn v2_run_across_a_4g_boundary() {
    static POOL: StaticPool<Table4K, 4> = StaticPool::new();
    POOL.set_phys_base(pool_pa(2));
    let mut pt: PageTable<V2, _, _> = PageTable::new(&POOL, NoTlb).unwrap();
    let iova = 0x0040_3000;
    pt.map_mut(iova, 0x8f_ffff_c000, 8 << 12, RW).unwrap();
    let want: [u32; 8] = [
        0xffff_cf87,
        0xffff_df87,
        0xffff_ef87,
        0xffff_ff87,
        0x0000_0097,
        0x0000_1097,
        0x0000_2097,
        0x0000_3097,
    ];
    let read = reader(&POOL);
    let dte = read(pt.root() + ((iova >> 22) << 2));
    let table = pool_pa(2) & !0xfff_ffff | u64::from(dte & 0xffff_f000);
    for (i, w) in want.iter().enumerate() {
        let got = read(table + (((iova >> 12) & 0x3ff) + i as u64) * 4);
        assert_eq!(got, *w, "page {i}: {got:#x}");
    }
    assert_eq!(pt.iova_to_phys(iova + 0x4000), Some(0x90_0000_0000));
}
