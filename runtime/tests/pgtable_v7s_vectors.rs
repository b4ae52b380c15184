//! ARMv7 short descriptors by hand: descriptor values derived in the
//! comments from the ARM ARM bit layouts (first level: type [1:0], B 2, C 3,
//! XN 4, AP[0] 10, AP[1] 11, TEX 12..14, AP[2] 15, S 16, nG 17,
//! supersection 18; small page: XN 0, type 1, B 2, C 3, AP[0] 4, AP[1] 5,
//! TEX 6..8, AP[2] 9, S 10, nG 11; large page: type 01, B, C, AP[0] 4,
//! AP[1] 5, AP[2] 9, S 10, nG 11, TEX 12..14, XN 15) and the format's
//! documented prot mapping (S and nG always; TEX[0] unless MMIO; B for MMIO,
//! B|C for CACHE; AP[0] access flag; AP[1] unless PRIV; AP[2] unless WRITE;
//! XN for NOEXEC; MediaTek: PA[32] bit 9, PA[33] bit 4, PA[34] bit 5 and no
//! AP/XN bits). Then the engine writes them where the walk reads them.

mod formats;

use formats::reader32 as reader;
use iommugen_runtime::pgtable::{
    ArmV7s, Format, MapError, NoTlb, PageTable, StaticPool, Table1K, TablePool,
};
use iommugen_runtime::Prot;

/// Physical address of every test pool: 16 KiB aligned (the first-level
/// table is the pool's first allocation) and below 4 GiB.
const POOL_PA: u64 = 0x4000_0000;

type V7s = ArmV7s;
type Mtk = ArmV7s<true>;

const RW_CACHE: Prot = Prot::READ.union(Prot::WRITE).union(Prot::CACHE);
const RO_MMIO_NX_PRIV: Prot = Prot::READ
    .union(Prot::MMIO)
    .union(Prot::NOEXEC)
    .union(Prot::PRIV);
const RW: Prot = Prot::READ.union(Prot::WRITE);

/// (prot, level, contig, pa, descriptor), for the plain format.
const PLAIN: &[(Prot, u32, bool, u64, u32)] = &[
    // Block for RW|CACHE: S 0x40 | nG 0x80 | TEX0 0x04 | AF 0x01 | UNPRIV
    // 0x02 = 0xc7. Section: 0xc7 << 10 = 0x31c00, B|C = 0xc, type 0x2:
    // 0x31c0e, address [31:20].
    (RW_CACHE, 2, false, 0x2010_0000, 0x2013_1c0e),
    // Supersection: the same plus bit 18 (0x40000), address [31:24].
    (RW_CACHE, 2, true, 0x2100_0000, 0x2107_1c0e),
    // Small page: 0xc7 << 4 = 0xc70, B|C 0xc, type 0x2: 0xc7e.
    (RW_CACHE, 3, false, 0x2000_5000, 0x2000_5c7e),
    // Large page: AP and S/nG stay ([11:4] minus TEX: 0xc30), TEX 1 moves
    // to bit 12 (0x1000), B|C 0xc, type 0x1: 0x1c3d.
    (RW_CACHE, 3, true, 0x2001_0000, 0x2001_1c3d),
    // Block for RO|MMIO|NOEXEC|PRIV: S|nG 0xc0, AF 0x01, RDONLY 0x20 = 0xe1
    // (no TEX0, no UNPRIV). Section: 0xe1 << 10 = 0x38400, B 0x4, XN 0x10,
    // type 0x2: 0x38416.
    (RO_MMIO_NX_PRIV, 2, false, 0x0030_0000, 0x0033_8416),
    // Supersection: + bit 18.
    (RO_MMIO_NX_PRIV, 2, true, 0xff00_0000, 0xff07_8416),
    // Small page: 0xe10 | B 0x4 | type 0x2 | XN 0x1 = 0xe17.
    (RO_MMIO_NX_PRIV, 3, false, 0x1234_5000, 0x1234_5e17),
    // Large page: 0xe10 | B 0x4 | XN at 15 (0x8000) | type 0x1 = 0x8e15.
    (RO_MMIO_NX_PRIV, 3, true, 0xabcd_0000, 0xabcd_8e15),
    // RW normal non-cacheable: block 0xc7, no B/C. Section 0x31c02.
    (RW, 2, false, 0xfff0_0000, 0xfff3_1c02),
    // Small page 0xc72.
    (RW, 3, false, 0x0000_0000, 0x0000_0c72),
    // Large page: 0xc30 | 0x1000 | 0x1 = 0x1c31.
    (RW, 3, true, 0xffff_0000, 0xffff_1c31),
    // Write-only is not expressible: same as read/write.
    (Prot::WRITE, 3, false, 0x0000_1000, 0x0000_1c72),
    // Read-only normal: 0xc7 | RDONLY 0x20 = 0xe7; small page 0xe72.
    (Prot::READ, 3, false, 0x0000_2000, 0x0000_2e72),
    // Privileged RW: 0xc5; section 0xc5 << 10 = 0x31400 | 0x2 = 0x31402.
    (RW.union(Prot::PRIV), 2, false, 0x0040_0000, 0x0043_1402),
];

/// The same for the MediaTek extension: block S|nG|TEX0 = 0xc4 (no AP
/// bits), B|C for CACHE.
const MTK: &[(Prot, u32, bool, u64, u32)] = &[
    // Small page, PA 0x5_2345_6000 (bits 32, 34): 0xc40 | 0xc | 0x2 |
    // PA32 0x200 | PA34 0x20 = 0xe6e.
    (RW_CACHE, 3, false, 0x5_2345_6000, 0x2345_6e6e),
    // Section, PA 0x6_0010_0000 (bits 33, 34): 0xc4 << 10 = 0x31000 | 0xc
    // | 0x2 | PA33 0x10 | PA34 0x20 = 0x3103e.
    (RW_CACHE, 2, false, 0x6_0010_0000, 0x0013_103e),
    // Supersection, PA 0x1_0100_0000 (bit 32): 0x31000 | 0x40000 | 0xe |
    // 0x200 = 0x7120e.
    (RW_CACHE, 2, true, 0x1_0100_0000, 0x0107_120e),
    // Large page, PA 0x7_0002_0000 (bits 32-34): 0xc0c (S, nG, B, C) |
    // TEX 0x1000 | type 0x1 | 0x200 | 0x10 | 0x20 = 0x1e3d.
    (RW_CACHE, 3, true, 0x7_0002_0000, 0x0002_1e3d),
    // NOEXEC and PRIV and read-only leave no trace; MMIO: TEX 0, B.
    // Small page: S|nG 0xc0 << 4 = 0xc00 | B 0x4 | 0x2 = 0xc06.
    (RO_MMIO_NX_PRIV, 3, false, 0x0000_3000, 0x0000_3c06),
];

#[test]
fn codec_matches_hand_derived_descriptors() {
    fn run<F: Format>(v: &[(Prot, u32, bool, u64, u32)]) {
        for &(prot, level, contig, pa, want) in v {
            let d = F::leaf(pa, F::attrs(prot), level, contig);
            assert_eq!(
                d,
                u64::from(want),
                "{prot:?} level {level} contig {contig} pa {pa:#x}: {d:#x}"
            );
            // Decoding gives back what splitting needs.
            assert_eq!(F::leaf_addr(d, level), pa);
            assert_eq!(F::is_contig(d, level), contig);
            assert!(!F::is_table(d, level));
            assert_eq!(F::leaf(pa, F::leaf_attrs(d, level), level, contig), d);
        }
    }
    run::<V7s>(PLAIN);
    run::<Mtk>(MTK);
    // A table descriptor: address [31:10], type 0b01.
    assert_eq!(V7s::table(0x4000_4400, 2), 0x4000_4401);
    assert!(V7s::is_table(0x4000_4401, 2));
    assert_eq!(V7s::table_addr(0x4000_4401, 2), 0x4000_4400);
    // 0b01 at the second level is a large page, never a table.
    assert!(!V7s::is_table(0x4000_4401, 3));
}

/// The engine puts each vector where a walk looks for it: the first-level
/// entry for (iova >> 20), and the second-level entry (iova >> 12) & 0xff
/// of the table the first-level entry names.
#[test]
fn engine_writes_vectors_in_place() {
    fn run<const M: bool>(v: &[(Prot, u32, bool, u64, u32)]) {
        static POOL: StaticPool<Table1K, 64> = StaticPool::new();
        POOL.set_phys_base(POOL_PA);
        let pt: PageTable<ArmV7s<M>, _, _> = PageTable::new(&POOL, NoTlb).unwrap();
        let read = reader(&POOL);
        for (k, &(prot, level, contig, pa, want)) in v.iter().enumerate() {
            let size: u64 = match (level, contig) {
                (2, false) => 1 << 20,
                (2, true) => 1 << 24,
                (_, false) => 1 << 12,
                (_, true) => 1 << 16,
            };
            // One 16M slot per vector, from 0x8000_0000.
            let iova = 0x8000_0000 + ((k as u64) << 24);
            pt.map(iova, pa, size, prot).unwrap();
            let l1 = read(pt.root() + ((iova >> 20) << 2));
            let got = if level == 2 {
                l1
            } else {
                assert_eq!(l1 & 0b11, 0b01, "a page needs a second-level table");
                read(u64::from(l1 & !0x3ff) + (((iova >> 12) & 0xff) << 2))
            };
            assert_eq!(got, want, "vector {k}");
            assert_eq!(pt.iova_to_phys(iova + size - 1), Some(pa + size - 1));
            assert_eq!(pt.unmap(iova, size), size);
        }
        assert_eq!(POOL.in_use(), 16);
    }
    run::<false>(PLAIN);
    run::<true>(MTK);
}

#[test]
fn geometry_and_limits() {
    static POOL: StaticPool<Table1K, 32> = StaticPool::new();
    POOL.set_phys_base(POOL_PA);
    let pt: PageTable<V7s, _, _> = PageTable::new(&POOL, NoTlb).unwrap();
    // The 16 KiB first level is 16 slots, 16 KiB aligned.
    assert_eq!(POOL.in_use(), 16);
    assert_eq!(pt.root() % (16 << 10), 0);
    assert_eq!((V7s::IAS, V7s::OAS, Mtk::OAS), (32, 32, 35));
    let rw = Prot::READ | Prot::WRITE;
    assert_eq!(
        pt.map(0xffff_f000, 0, 0x2000, rw),
        Err(MapError::IovaOutOfRange)
    );
    assert_eq!(
        pt.map(0, 0xffff_f000, 0x2000, rw),
        Err(MapError::PaddrOutOfRange)
    );
    assert_eq!(pt.map(0x800, 0, 0x1000, rw), Err(MapError::Misaligned));
    // 64K-aligned input but 4K-aligned output: small pages, not a large page.
    pt.map(0x10_0000, 0x1000, 0x1_0000, rw).unwrap();
    let read = reader(&POOL);
    let l2 = u64::from(read(pt.root() + 4) & !0x3ff);
    assert_eq!(read(l2) & 0b10, 0b10);
    assert_eq!(pt.iova_to_phys(0x10_ffff), Some(0x1_0fff));
    // A range that starts mid-group maps small pages up to the group
    // boundary, then a large page.
    pt.map(0x20_f000, 0x30_f000, 0x1_1000, rw).unwrap();
    let l2b = u64::from(read(pt.root() + 8) & !0x3ff);
    assert_eq!(read(l2b + 0xf * 4) & 0b11, 0b10);
    assert_eq!(read(l2b + 0x10 * 4) & 0b11, 0b01);
    assert_eq!(read(l2b + 0x1f * 4), read(l2b + 0x10 * 4));
}

/// Second-level tables must lie below 4 GiB (table descriptors hold 32
/// bits): a pool slot above is refused as if the pool were empty.
#[test]
fn tables_above_4g_are_refused() {
    static POOL: StaticPool<Table1K, 32> = StaticPool::new();
    // Root in [4G - 16K, 4G); every further slot is at or above 4 GiB.
    POOL.set_phys_base((1 << 32) - (16 << 10));
    let pt: PageTable<V7s, _, _> = PageTable::new(&POOL, NoTlb).unwrap();
    let rw = Prot::READ | Prot::WRITE;
    assert_eq!(pt.map(0x1000, 0x1000, 0x1000, rw), Err(MapError::NoMemory));
    assert_eq!(POOL.in_use(), 16);
    // Sections need no second-level table.
    pt.map(0x10_0000, 0x10_0000, 0x10_0000, rw).unwrap();
    assert_eq!(pt.iova_to_phys(0x10_0042), Some(0x10_0042));
    // Splitting that section needs one: unmap stops, nothing lost.
    assert_eq!(pt.unmap(0x10_0000, 0x1000), 0);
    assert_eq!(pt.iova_to_phys(0x10_0042), Some(0x10_0042));
}

/// The whole 4 GiB as a million small pages in one call, then unmapped
/// both at once and page by page over part of it.
#[test]
fn a_million_pages() {
    const PAGES: u64 = if cfg!(miri) { 512 } else { 1 << 20 };
    static POOL: StaticPool<Table1K, { 16 + 4096 }> = StaticPool::new();
    POOL.set_phys_base(POOL_PA);
    let mut pt: PageTable<ArmV7s<false, { 1 << 12 }>, _, _> = PageTable::new(&POOL, NoTlb).unwrap();
    let rw = Prot::READ | Prot::WRITE;
    pt.map_mut(0, 0, PAGES << 12, rw).unwrap();
    assert_eq!(POOL.in_use() as u64, 16 + PAGES.div_ceil(256));
    assert_eq!(pt.iova_to_phys((PAGES << 12) - 1), Some((PAGES << 12) - 1));
    for p in 0..256 {
        assert_eq!(pt.unmap_mut(p << 12, 1 << 12), 1 << 12);
    }
    assert_eq!(pt.unmap(0, PAGES << 12), (PAGES - 256) << 12);
    assert_eq!(POOL.in_use(), 16);
}

/// MediaTek's 34-bit input (IOVA_34_EN): io-pgtable-arm-v7s widens only
/// the first level, to `ias - 20` = 14 index bits, so the root is 16384
/// words (64 KiB, 64 pool slots, 64 KiB aligned) and an IOVA's bits 33:20
/// index it. mt8192's CCU0 region starts at 0x2_4000_0000: first-level
/// index 0x2400.
#[test]
fn mediatek_34_bit_input() {
    type Mtk34 = ArmV7s<true, { iommugen_runtime::pgtable::legal::arm_v7s::SIZES }, true, 34>;
    static POOL: StaticPool<Table1K, 80> = StaticPool::new();
    POOL.set_phys_base(POOL_PA);
    let pt: PageTable<Mtk34, _, _> = PageTable::new(&POOL, NoTlb).unwrap();
    assert_eq!((Mtk34::IAS, Mtk34::OAS), (34, 35));
    assert_eq!(POOL.in_use(), 64);
    assert_eq!(pt.root() % (64 << 10), 0);
    let rw = Prot::READ | Prot::WRITE;
    let read = reader(&POOL);
    // A small page in the CCU0 region: a table at first-level word 0x2400.
    pt.map(0x2_4000_3000, 0x1_2345_6000, 0x1000, rw).unwrap();
    let l1 = read(pt.root() + 0x2400 * 4);
    assert_eq!(l1 & 0b11, 0b01);
    let l2 = u64::from(l1 & !0x3ff);
    // Small page, PA[32] in bit 9, no permission bits: S|nG|TEX0 = 0xc4 at
    // bit 4 (0xc40) | type 0x2 | PA[32] 0x200 -> 0x2345_6e42.
    assert_eq!(read(l2 + 3 * 4), 0x2345_6e42);
    assert_eq!(pt.iova_to_phys(0x2_4000_3abc), Some(0x1_2345_6abc));
    // Word 0x400 (0x4000_0000 and up, 4 GiB lower) stays empty.
    assert_eq!(read(pt.root() + 0x400 * 4), 0);
    // A section at the top of the 16 GiB input; the input ends there.
    pt.map(0x3_fff0_0000, 0x10_0000, 0x10_0000, rw).unwrap();
    assert_eq!(read(pt.root() + 0x3fff * 4) & 0b11, 0b10);
    assert_eq!(
        pt.map(0x4_0000_0000, 0, 0x1000, rw),
        Err(MapError::IovaOutOfRange)
    );
}
