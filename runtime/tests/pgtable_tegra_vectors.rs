//! Tegra30-generation SMMU entries by hand: each value is derived in its
//! comment from the layout Linux's `drivers/iommu/tegra-smmu.c` defines:
//! bit 31 readable, 30 writable, 29 non-secure (on every entry Linux
//! writes), PDE bit 28 "next"; the page frame number (PA >> 12) in the low
//! 20 bits (32-bit memory controllers: Tegra30, Tegra114) or 22 bits
//! (34-bit: Tegra124, Tegra132, Tegra210). Then the engine writes them
//! where the reference walker reads them, refuses what the width cannot
//! hold, leaves memory untouched when a map fails and cleans what the
//! non-snooping walker reads.

mod formats;

use std::sync::Mutex;

use formats::{reader32 as reader, snapshot};
use iommugen_runtime::pgtable::formats::tegra_smmu::{self, TegraSmmuError};
use iommugen_runtime::pgtable::{
    Format, MapError, NoTlb, PageTable, StaticPool, Table4K, TablePool, TegraSmmu, TlbOps,
};
use iommugen_runtime::refwalk::tegra_smmu::{leaves, walk, Attrs, Fault, WalkConfig};
use iommugen_runtime::Prot;

type T30 = TegraSmmu<32>;
type T124 = TegraSmmu<34>;

const R: Prot = Prot::READ;
const W: Prot = Prot::WRITE;
const RW: Prot = Prot::READ.union(Prot::WRITE);
const EXTRAS: Prot = Prot::CACHE
    .union(Prot::MMIO)
    .union(Prot::NOEXEC)
    .union(Prot::PRIV);

/// (prot, pa, PTE) valid for both widths (PA below 4 GiB).
const PTES_32: &[(Prot, u64, u32)] = &[
    // Page 0 read-only: R 0x8000_0000 | NS 0x2000_0000, PFN 0.
    (R, 0x0000_0000, 0xa000_0000),
    // Write-only page 1: W 0x4000_0000 | NS, PFN 1.
    (W, 0x0000_1000, 0x6000_0001),
    // Read/write 0x1234_5000: 0xe000_0000 | PFN 0x12345.
    (RW, 0x1234_5000, 0xe001_2345),
    // The last page below 4 GiB: PFN 0xfffff.
    (RW, 0xffff_f000, 0xe00f_ffff),
    // Cache, MMIO, no-exec and privilege have no bits.
    (R.union(EXTRAS), 0x8000_0000, 0xa008_0000),
    (RW.union(Prot::NOEXEC), 0x9abc_d000, 0xe009_abcd),
];

/// (prot, pa, PTE) only the 34-bit format can hold.
const PTES_34: &[(Prot, u64, u32)] = &[
    // 4 GiB: PFN 0x10_0000 (bit 20).
    (RW, 0x1_0000_0000, 0xe010_0000),
    // 8 GiB + 0x5000: PFN 0x20_0005 (bit 21).
    (R, 0x2_0000_5000, 0xa020_0005),
    // The last page of 16 GiB: PFN 0x3f_ffff.
    (W, 0x3_ffff_f000, 0x603f_ffff),
];

/// (table pa, PDE): PFN | R | W | NS | NEXT = 0xf000_0000 | PFN.
const PDES: &[(u64, u32)] = &[
    (0x8000_1000, 0xf008_0001),
    (0x0000_0000, 0xf000_0000),
    (0xffff_f000, 0xf00f_ffff),
];
const PDES_34: &[(u64, u32)] = &[(0x3_ff00_0000, 0xf03f_f000), (0x1_0000_0000, 0xf010_0000)];

#[test]
fn codec_matches_hand_derived_entries() {
    fn run<F: Format>(ptes: &[(Prot, u64, u32)], pdes: &[(u64, u32)]) {
        for &(prot, pa, want) in ptes {
            let d = F::leaf(pa, F::attrs(prot), 3, false);
            assert_eq!(d, u64::from(want), "{prot:?} pa {pa:#x}: {d:#x}");
            assert_eq!(F::leaf_addr(d, 3), pa);
            assert!(!F::is_contig(d, 3));
            assert!(!F::is_table(d, 3), "a PTE is never a table");
            assert_eq!(F::leaf(pa, F::leaf_attrs(d, 3), 3, false), d);
        }
        for &(pa, want) in pdes {
            let d = F::table(pa, 2);
            assert_eq!(d, u64::from(want), "table {pa:#x}: {d:#x}");
            assert!(F::is_table(d, 2));
            assert_eq!(F::table_addr(d, 2), pa);
        }
    }
    run::<T30>(PTES_32, PDES);
    run::<T124>(PTES_32, PDES);
    run::<T124>(PTES_34, PDES_34);
    // A PDE without "next" is not a table (Linux never writes a section).
    assert!(!T124::is_table(0xe008_0001, 2));
    // On a 32-bit controller PFN bits 20 and 21 are not address bits.
    assert_eq!(T30::leaf_addr(0xe030_0001, 3), 0x1000);
}

/// The engine puts each vector where the walker looks: the PTE at index
/// (iova >> 12) & 0x3ff of the page table the PDE (iova >> 22) names.
#[test]
fn engine_writes_vectors_in_place() {
    fn run<const B: u32>(base: u64, v: &[(Prot, u64, u32)]) {
        static POOL: StaticPool<Table4K, 4> = StaticPool::new();
        POOL.set_phys_base(base);
        let pt: PageTable<TegraSmmu<B>, _, _> = PageTable::new(&POOL, NoTlb).unwrap();
        let read = reader(&POOL);
        let cfg = WalkConfig { pa_bits: B };
        for (k, &(prot, pa, want)) in v.iter().enumerate() {
            let iova = 0x8000_0000 + ((k as u64) << 22) + ((k as u64) << 12);
            pt.map(iova, pa, 0x1000, prot).unwrap();
            let pde = read(pt.root() + ((iova >> 22) << 2));
            assert_eq!(pde & 0xf000_0000, 0xf000_0000, "vector {k}: PDE {pde:#x}");
            let table = u64::from(pde & tegra_smmu::pfn_mask(B)) << 12;
            assert_eq!(table & !0xfff_ffff, base & !0xfff_ffff);
            assert_eq!(
                read(table + (((iova >> 12) & 0x3ff) << 2)),
                want,
                "vector {k}"
            );
            let t = walk(&cfg, pt.root(), iova as u32 + 0xabc, &read).unwrap();
            assert_eq!(t.pa, pa + 0xabc);
            let want_attrs = Attrs {
                read: prot.contains(R),
                write: prot.contains(W),
                nonsecure: true,
            };
            assert_eq!(t.attrs, want_attrs);
            assert_eq!(pt.iova_to_phys(iova + 0xfff), Some(pa + 0xfff));
            assert_eq!(pt.unmap(iova, 0x1000), 0x1000);
            assert_eq!(read(table + (((iova >> 12) & 0x3ff) << 2)), 0);
            // The table went with its only page, and its PDE with it.
            assert_eq!(read(pt.root() + ((iova >> 22) << 2)), 0);
        }
        assert_eq!(POOL.in_use(), 1);
    }
    run::<32>(0x4000_0000, PTES_32);
    // 34 bits: tables above 4 GiB (PDE PFN bits 20-21 set).
    let all: Vec<_> = PTES_32.iter().chain(PTES_34).copied().collect();
    run::<34>(0x3_ff00_0000, &all);
}

#[test]
fn geometry_and_limits() {
    static POOL: StaticPool<Table4K, 4> = StaticPool::new();
    POOL.set_phys_base(0x4000_0000);
    let pt: PageTable<T30, _, _> = PageTable::new(&POOL, NoTlb).unwrap();
    // The 4 KiB directory is one pool slot.
    assert_eq!(POOL.in_use(), 1);
    assert_eq!(pt.root() % 4096, 0);
    assert_eq!((T30::IAS, T30::OAS, T124::OAS), (32, 32, 34));
    assert_eq!((T30::TABLE_PA_BITS, T124::TABLE_PA_BITS), (32, 34));
    const { assert!(!T30::LINEAR_OA, "the PFN is stored shifted") };
    assert_eq!(
        pt.map(0xffff_f000, 0, 0x2000, RW),
        Err(MapError::IovaOutOfRange)
    );
    assert_eq!(
        pt.map(0, 0xffff_f000, 0x2000, RW),
        Err(MapError::PaddrOutOfRange)
    );
    assert_eq!(pt.map(0x800, 0, 0x1000, RW), Err(MapError::Misaligned));
    assert_eq!(pt.map(0, 0, 0x1000, Prot::CACHE), Err(MapError::NoAccess));
    assert_eq!(POOL.in_use(), 1);
    // 4 MiB-aligned input and output still map 1024 PTEs (no sections).
    pt.map(0x40_0000, 0x80_0000, 0x40_0000, RW).unwrap();
    let read = reader(&POOL);
    let table = u64::from(read(pt.root() + 4) & 0xf_ffff) << 12;
    for i in [0u32, 1, 511, 1023] {
        assert_eq!(read(table + u64::from(i) * 4), 0xe000_0800 + i);
    }
    assert_eq!(POOL.in_use(), 2);
    drop(pt);
    // 34 bits: a page just below 16 GiB maps, one at 16 GiB does not.
    static P2: StaticPool<Table4K, 4> = StaticPool::new();
    P2.set_phys_base(0x4000_0000);
    let pt: PageTable<T124, _, _> = PageTable::new(&P2, NoTlb).unwrap();
    pt.map(0, 0x3_ffff_f000, 0x1000, RW).unwrap();
    assert_eq!(
        pt.map(0x1000, 0x4_0000_0000, 0x1000, RW),
        Err(MapError::PaddrOutOfRange)
    );
}

/// A 32-bit controller's tables must lie below 4 GiB and a 34-bit one's
/// below 16 GiB: a slot above is refused as if the pool were empty.
#[test]
fn tables_beyond_the_pfn_are_refused() {
    static P1: StaticPool<Table4K, 4> = StaticPool::new();
    P1.set_phys_base((1 << 32) - 0x1000);
    let pt: PageTable<T30, _, _> = PageTable::new(&P1, NoTlb).unwrap();
    assert_eq!(pt.map(0x1000, 0x1000, 0x1000, RW), Err(MapError::NoMemory));
    assert_eq!(P1.in_use(), 1);
    drop(pt);
    static P2: StaticPool<Table4K, 4> = StaticPool::new();
    P2.set_phys_base(1 << 32);
    assert!(PageTable::<T30, _, _>::new(&P2, NoTlb).is_err());
    let pt: PageTable<T124, _, _> = PageTable::new(&P2, NoTlb).unwrap();
    pt.map(0x1000, 0x2_0000_0000, 0x1000, RW).unwrap();
    assert_eq!(pt.iova_to_phys(0x1abc), Some(0x2_0000_0abc));
    drop(pt);
    static P3: StaticPool<Table4K, 4> = StaticPool::new();
    P3.set_phys_base((1 << 34) - 0x1000);
    let pt: PageTable<T124, _, _> = PageTable::new(&P3, NoTlb).unwrap();
    assert_eq!(pt.map(0, 0, 0x1000, RW), Err(MapError::NoMemory));
}

#[test]
fn legality_rule_and_generations() {
    assert_eq!(tegra_smmu::check(32), Ok(()));
    assert_eq!(tegra_smmu::check(34), Ok(()));
    for b in [0, 31, 33, 35, 40] {
        assert_eq!(tegra_smmu::check(b), Err(TegraSmmuError::PaBits));
    }
    // Linux's tegra*_mc_soc: num_address_bits 32 (Tegra30, Tegra114), 34
    // (Tegra124, Tegra132, Tegra210); atom_size 16, 32, 32, 32, 64.
    let by_name = |c: &str| tegra_smmu::generation_of_compatible(c);
    let gen = |c| by_name(c).map(|g| tegra_smmu::GENERATION_PA_BITS[g]);
    assert_eq!(gen("nvidia,tegra30-mc"), Some(32));
    assert_eq!(gen("nvidia,tegra114-mc"), Some(32));
    assert_eq!(gen("nvidia,tegra124-mc"), Some(34));
    assert_eq!(gen("nvidia,tegra132-mc"), Some(34));
    assert_eq!(gen("nvidia,tegra210-mc"), Some(34));
    assert_eq!(gen("nvidia,tegra20-mc-gart"), None);
    assert_eq!(tegra_smmu::PTC_ATOM, [16, 32, 32, 32, 64]);
}

/// The walker alone on hand-written tables: a table PDE, a PDE without
/// "next", a PTE with no access, and malformed entries while listing.
#[test]
fn walker_on_hand_written_tables() {
    let cfg = WalkConfig { pa_bits: 34 };
    // PD at 0x1000, PT at 0x2000.
    let mem = |pa: u64| -> u32 {
        match pa {
            // PDE 0 -> PT at 0x2000; PDE 1: section-like (no NEXT).
            0x1000 => 0xf000_0002,
            0x1004 => 0xe000_0400,
            // PTE 0: R | NS, PFN 0x20_0003 (8 GiB + 0x3000); PTE 1: NS only.
            0x2000 => 0xa020_0003,
            0x2004 => 0x2000_0005,
            _ => 0,
        }
    };
    let t = walk(&cfg, 0x1000, 0x0000_0123, &mem).unwrap();
    assert_eq!(t.pa, 0x2_0000_3123);
    assert_eq!(
        t.attrs,
        Attrs {
            read: true,
            write: false,
            nonsecure: true
        }
    );
    assert_eq!(walk(&cfg, 0x1000, 0x0000_1000, &mem), Err(Fault::Page));
    assert_eq!(walk(&cfg, 0x1000, 0x0040_0000, &mem), Err(Fault::Directory));
    assert_eq!(walk(&cfg, 0x1000, 0x0080_0000, &mem), Err(Fault::Directory));
    assert_eq!(
        leaves(&cfg, 0x1000, &mem),
        Err(Fault::Malformed { ia: 0x1000 })
    );
    // 32 bits: the same PTE has reserved bits (20-21) set.
    let t30 = WalkConfig { pa_bits: 32 };
    let one = |pa: u64| -> u32 {
        match pa {
            0x1000 => 0xf000_0002,
            0x2000 => 0xa020_0003,
            _ => 0,
        }
    };
    assert_eq!(leaves(&t30, 0x1000, &one), Err(Fault::Malformed { ia: 0 }));
    assert_eq!(
        leaves(&cfg, 0x1000, &one).map(|(l, n)| (l.len(), n)),
        Ok((1, 1))
    );
}

/// A map that cannot finish leaves every byte of table memory as it was.
#[test]
fn failed_maps_leave_memory_unchanged() {
    static POOL: StaticPool<Table4K, 3> = StaticPool::new();
    POOL.set_phys_base(0x4000_0000);
    let pt: PageTable<T124, _, _> = PageTable::new(&POOL, NoTlb).unwrap();
    pt.map(0x0050_0000, 0x5000_0000, 0x1000, R).unwrap();
    let before = snapshot::<u32, _, 3>(&POOL);
    let used = POOL.in_use();
    // Overlapping the page already mapped.
    assert_eq!(
        pt.map(0x004f_f000, 0x6000_0000, 0x3000, RW),
        Err(MapError::Overlap)
    );
    assert_eq!(snapshot::<u32, _, 3>(&POOL), before);
    // Three new page tables wanted, one slot left.
    assert_eq!(
        pt.map(0x0100_0000, 0x6000_0000, 0x00c0_0000, W),
        Err(MapError::NoMemory)
    );
    assert_eq!(snapshot::<u32, _, 3>(&POOL), before);
    assert_eq!(POOL.in_use(), used);
}

/// Cleans recorded as host (address, bytes).
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

/// The walker does not snoop: the default format cleans the PDE and the
/// PTEs it writes (as Linux's `dma_sync_single_range_for_device` does);
/// the coherent variant cleans nothing.
#[test]
fn non_coherent_walker_gets_cleans() {
    const BASE: u64 = 0x4000_0000;
    static POOL: StaticPool<Table4K, 4> = StaticPool::new();
    POOL.set_phys_base(BASE);
    let (mem, _) = POOL.memory();
    let cleans = Cleans::default();
    let pt: PageTable<T124, _, _> = PageTable::new(&POOL, &cleans).unwrap();
    pt.map(0x00c0_2000, 0x1000_0000, 0x3000, RW).unwrap();
    let got = cleans.0.lock().unwrap().clone();
    let covered = |pa: u64| {
        let p = mem as usize + (pa - BASE) as usize;
        got.iter().any(|&(a, n)| a <= p && p + 4 <= a + n)
    };
    // PDE 3 at root + 0xc; PTEs 2-4 of the page table.
    let read = reader(&POOL);
    let pde = read(pt.root() + 0xc);
    let table = u64::from(pde & 0x3f_ffff) << 12;
    for pa in [pt.root() + 0xc, table + 8, table + 12, table + 16] {
        assert!(covered(pa), "{pa:#x} not cleaned: {got:x?}");
    }
    drop(pt);
    static P2: StaticPool<Table4K, 4> = StaticPool::new();
    P2.set_phys_base(BASE);
    let none = Cleans::default();
    let pt: PageTable<TegraSmmu<34, true>, _, _> = PageTable::new(&P2, &none).unwrap();
    pt.map(0x00c0_2000, 0x1000_0000, 0x3000, RW).unwrap();
    assert!(none.0.lock().unwrap().is_empty());
}

/// The whole 4 GiB as a million pages in one call (1024 page tables) with
/// outputs crossing 4 GiB, listed by the walker, then unmapped.
#[test]
fn a_million_pages() {
    const PAGES: u64 = if cfg!(miri) { 2048 } else { 1 << 20 };
    static POOL: StaticPool<Table4K, { 1 + PAGES.div_ceil(1024) as usize }> = StaticPool::new();
    POOL.set_phys_base(0x4000_0000);
    let mut pt: PageTable<T124, _, _> = PageTable::new(&POOL, NoTlb).unwrap();
    let pa = 0x8000_0000;
    pt.map_mut(0, pa, PAGES << 12, RW).unwrap();
    assert_eq!(POOL.in_use() as u64, 1 + PAGES.div_ceil(1024));
    let read = reader(&POOL);
    let cfg = WalkConfig { pa_bits: 34 };
    let (l, tables) = leaves(&cfg, pt.root(), &read).unwrap();
    assert_eq!(
        (l.len() as u64, tables as u64),
        (PAGES, PAGES.div_ceil(1024))
    );
    assert!(l
        .iter()
        .enumerate()
        .all(|(i, p)| p.ia == (i as u64) << 12 && p.pa == pa + p.ia));
    let last = (PAGES << 12) - 1;
    assert_eq!(pt.iova_to_phys(last), Some(pa + last));
    for p in 0..1024 {
        assert_eq!(pt.unmap_mut(p << 12, 1 << 12), 1 << 12);
    }
    assert_eq!(pt.unmap(0, PAGES << 12), (PAGES - 1024) << 12);
    assert_eq!(POOL.in_use(), 1);
}
